// What a runtime thread is doing, for the code that runs tasks (the
// embedded runtime and its graph runs). Internal to runtime/core.

#ifndef RAYCC_RUNTIME_CORE_WORKER_CONTEXT_H
#define RAYCC_RUNTIME_CORE_WORKER_CONTEXT_H

#include <atomic>
#include <typeinfo>
#include <vector>

#include "raycc/runtime/common/id.h"

namespace raycc::internal {

class EmbeddedRuntime;

// The task a worker thread is running: its resources are given back while it
// blocks in Get or Wait.
struct ThreadContext {
  EmbeddedRuntime* runtime = nullptr;
  const void* demand = nullptr;  // const Units*: what the task lends while it waits
  TaskId task;
  int index = -1;
  bool actor = false;
  int timeline_tid = 0;
  int node = -1;  // index into the runtime's nodes_
  int inline_depth = 0;
  const std::vector<int>* gpu_ids = nullptr;
  void* batch = nullptr;                             // the worker's EmbeddedRuntime::Batch, while it runs one
  const std::atomic<bool>* cancelled = nullptr;      // the running task's flag
  const std::atomic<int>* actor_restarts = nullptr;  // on an actor's threads: its restarts so far
};

/// The calling thread's context.
extern thread_local ThreadContext tls;

/// Does parameter `i` of a callee taking `types` take `object`'s value as
/// it is (the very type), with no bytes made?
inline bool TakesValue(const std::vector<const std::type_info*>& types, size_t i, const void* value,
                       const std::type_info* type) {
  return value != nullptr && i < types.size() && *types[i] == *type;
}

/// The timeline's word for an attempt.
inline const char* AttemptStatus(bool failed, bool retry) {
  return retry ? "retried" : failed ? "failed" : "finished";
}

}  // namespace raycc::internal

#endif  // RAYCC_RUNTIME_CORE_WORKER_CONTEXT_H
