#pragma once

/// \file
/// The core worker's in-process objects (Ray's CoreWorkerMemoryStore): each
/// object this process owns is pending, holds its bytes, or holds the error
/// that made it (Get rethrows it). Readers wait on a condition; a callback
/// can be told when an object is ready (dependency resolution).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "raycc/runtime/common/id.h"

namespace raycc::object_store {
class ObjectView;
}  // namespace raycc::object_store

namespace raycc::core_worker {

/// Why an object holds no value.
struct ObjectError {
  enum class Kind {
    kTask,
    kWorkerDied,
    kActorDied,
    kCancelled,
    kInfeasible,
    kSystem,
    kLost
  };  // (as proto::ObjectFailure::Kind)
  Kind kind = Kind::kSystem;
  std::string function;  // kTask: the function that raised
  std::string type;      // kTask: the exception's type
  std::string message;
  std::string where;  // where it ran
};

/// A ready object: its bytes or its error.
struct ObjectValue {
  std::shared_ptr<const std::string> bytes;  // null when `error` or `shm` is set
  std::shared_ptr<const ObjectError> error;
  /// Instead of `bytes`: the object in the node's shared-memory store, read
  /// in place (the view pins it).
  std::shared_ptr<const object_store::ObjectView> shm;
  /// Instead of all three: a primary copy this owner keeps in the node's
  /// store, unpinned (so the store may spill it); a reader gets a view
  /// (ClusterRuntime::Localize), which restores it when it was spilled.
  bool in_local_store = false;
  /// Instead of both: the object is in another node's store (its raylet,
  /// "host:port"); a reader here has this node's raylet pull it first.
  std::string remote_raylet;
  std::string remote_node;
  /// The bytes, wherever they are (empty for an error).
  std::string_view Bytes() const;
};

class MemoryStore {
 public:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;

  /// Makes `id` known, pending (a task's result before it returns).
  void AddPending(const ObjectId& id);
  /// Makes `id` ready; the ready callbacks run (outside the lock). A second
  /// Put of a ready object is ignored (a retried task's late reply).
  void Put(const ObjectId& id, ObjectValue value);
  /// Forgets `id` (freed).
  void Delete(const ObjectId& id);
  bool Contains(const ObjectId& id) const;
  size_t size() const;

  /// The object once ready; nullopt at `deadline`, or at once when `id` is
  /// unknown (`*unknown` set).
  std::optional<ObjectValue> Get(const ObjectId& id, Deadline deadline, bool* unknown);
  /// Which of `ids` are ready, once `num_ready` are or `deadline` passes;
  /// unknown ids count as never ready.
  std::vector<bool> Wait(const std::vector<ObjectId>& ids, size_t num_ready, Deadline deadline);
  /// Runs `callback` once `id` is ready (at once, on this thread, if it is;
  /// with the error "unknown" kind kSystem if `id` is not known).
  void OnReady(const ObjectId& id, std::function<void(const ObjectValue&)> callback);

 private:
  struct Entry {
    std::optional<ObjectValue> value;
    std::vector<std::function<void(const ObjectValue&)>> waiters;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  absl::flat_hash_map<ObjectId, Entry> objects_;
};

}  // namespace raycc::core_worker
