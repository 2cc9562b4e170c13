#pragma once

/// \file
/// Where Init() gets its runtime: a factory per kind of runtime
/// ("embedded": everything in this process; "cluster": a core worker that
/// joins a cluster over gRPC), registered by the library that implements
/// it. The API names no implementation.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "raycc/runtime/api/config.h"
#include "raycc/runtime/api/runtime_interface.h"

namespace raycc::internal {

/// A runtime as its owner (Init, Shutdown) and the calling thread see it:
/// RuntimeInterface plus its life cycle and the worker context of the
/// thread that asks (WorkerContext in Ray's core worker).
class ManagedRuntime : public RuntimeInterface {
 public:
  /// Stops: running tasks finish, queued ones are dropped, actors stop; an
  /// error (e.g. the timeline could not be written) is returned, not
  /// thrown. Idempotent.
  virtual absl::Status Finish() = 0;

  /// Runs after Init() made this the current runtime, outside Init's lock.
  /// A cluster worker process serves its raylet here and never returns (it
  /// exits when the raylet lets it go); a driver returns at once.
  virtual void Serve() {}

  /// True when called from one of this runtime's task or actor threads.
  virtual bool InWorkerThread() const = 0;
  /// The node the calling task or actor runs on; "" elsewhere.
  virtual std::string CurrentNodeName() const = 0;
  /// The GPUs the calling task or actor holds.
  virtual std::vector<int> CurrentGpuIds() const = 0;
  /// True inside a task whose result was cancelled while it ran.
  virtual bool CurrentTaskCancelled() const = 0;
  /// In an actor's constructor or method: how often the actor was restarted
  /// (0 for its first instance); -1 outside of an actor.
  virtual int CurrentActorRestarts() const = 0;

  /// Which Init() made it (references remember it, so one that outlives
  /// its runtime is ignored).
  uint64_t generation() const { return generation_; }
  void set_generation(uint64_t g) { generation_ = g; }

 private:
  uint64_t generation_ = 0;
};

/// Makes a runtime for `config`; throws RayccError for a bad config.
using RuntimeFactory = std::unique_ptr<ManagedRuntime> (*)(const Config& config);

/// Registers the factory for `kind` (a later registration of the same kind
/// replaces it). Returns true, so it can initialize a static.
bool RegisterRuntimeFactory(const std::string& kind, RuntimeFactory factory);

/// The factory registered for `kind`, or null.
RuntimeFactory FindRuntimeFactory(const std::string& kind);

}  // namespace raycc::internal
