#pragma once

/// \file
/// The embedded runtime's objects, as a component: what each object holds
/// (bytes, a value stored as is, or an error), who waits for it, and the
/// counts that decide when it is freed. It is the in-process core worker's
/// memory store and reference counter in one table (Ray's
/// CoreWorkerMemoryStore and ReferenceCounter), because in one process a
/// task's completion both stores its result and counts its arguments down,
/// and doing both under one lock is what makes a task cheap.
///
/// So the table has no lock of its own: its owner (EmbeddedRuntime) guards
/// it with the runtime's lock, and every method below requires that lock,
/// except PostRef, which any thread may call at any time (ObjectRef handles
/// are made and dropped on user threads that must not wait for a busy
/// scheduler: their count changes queue in a mailbox, applied by the next
/// lock holder, DrainRefEvents).
///
/// An object is freed when nothing holds it or will read it: it has been
/// referenced at all (`counted`: a batch result nobody referred to yet
/// stays), no ObjectRef handle holds it (`refs`), no pending task, actor
/// call or graph node takes it (`uses`), its value is final (`ready`) and
/// no task waits for it. What it held is destroyed after the runtime's lock
/// is released (a large value's free() is slow and others wait for the
/// lock): it is parked in the calling thread's Garbage until then.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "embedded/mailbox.h"
#include "embedded/node_pool.h"
#include "raycc/runtime/api/runtime_interface.h"
#include "raycc/runtime/common/id.h"

namespace raycc::internal::embedded {

struct Task;      // embedded/task.h
struct GraphRun;  // embedded/graph_run.cc

/// Why an object holds no value (the error Get rethrows).
struct ErrorInfo {
  bool actor_died = false;
  bool exit_actor = false;  // the code called ExitActor
  bool cancelled = false;
  std::string function, type, message, where;
};

/// What an object holds once it is ready: bytes, a value, or an error.
struct Contents {
  std::shared_ptr<const std::string> data;  // null until needed for a PutValue object
  // A value stored as is (PutValue), its type, and how to make its bytes.
  std::shared_ptr<const void> value;
  const std::type_info* type = nullptr;
  std::string (*serialize)(const void*) = nullptr;
  std::shared_ptr<const ErrorInfo> error;
};

struct Object : Contents {
  bool ready = false;
  absl::InlinedVector<std::shared_ptr<Task>, 2> dependents;  // tasks waiting for it
  // The task that makes this object, until it completes (Cancel and an
  // inline Get find it here).
  std::shared_ptr<Task> pending;
  // Reference counting: ObjectRef handles, and pending tasks and actors
  // that take it as an argument. Freed when both are 0 and it has been
  // referenced at all (`counted`).
  int64_t refs = 0;
  int64_t uses = 0;
  bool counted = false;
  int waiters = 0;  // threads blocked on this object alone
  // Made by node `run_node` of a graph run, until that node is settled
  // (CancelTask finds the node here).
  std::shared_ptr<GraphRun> run;
  int run_node = -1;
  // Nodes of graph runs that wait for it (counted down when it completes).
  using RunReaders = std::vector<std::pair<std::shared_ptr<GraphRun>, int32_t>>;
  std::unique_ptr<RunReaders> run_readers;
};

/// What freeing objects and finishing tasks under the runtime's lock left
/// to destroy, per thread: destroyed once the thread's hold of the lock
/// ends (Flush), outside it.
struct Garbage {
  // What a freed object held that may run user code when destroyed (the
  // rest of an unused Object is empty or plain).
  struct FreedObject {
    std::shared_ptr<const void> value;
    std::shared_ptr<const std::string> data;
    std::shared_ptr<const ErrorInfo> error;
    std::shared_ptr<Task> pending;
    std::shared_ptr<GraphRun> run;
  };
  std::vector<FreedObject> objects;
  std::vector<std::shared_ptr<Task>> tasks;
  void Flush() {
    Clear(objects);
    Clear(tasks);
  }
  // Emptied, keeping a modest capacity (a burst of frees would otherwise
  // stay allocated for the thread's life).
  template <typename T>
  static void Clear(std::vector<T>& v) {
    if (v.capacity() > 4096) {
      std::vector<T>().swap(v);
    } else {
      v.clear();
    }
  }
};

/// The calling thread's garbage.
extern thread_local Garbage garbage;

class ObjectTable {
 public:
  // Node-based: a slot is one pointer (a million queued results would
  // otherwise cost 2-3x their size in empty slots and rehash copies), and an
  // Object stays put while the map grows. Its nodes come from a NodePool.
  using Map = absl::node_hash_map<
      ObjectId, Object, absl::Hash<ObjectId>, std::equal_to<ObjectId>,
      NodePoolAllocator<std::pair<const ObjectId, Object>, std::pair<const ObjectId, Object>>>;
  using iterator = Map::iterator;
  // Freed object nodes kept for reuse (about 200 B each: 128 K is ~27 MB).
  static constexpr size_t kMaxFreeNodes = 1 << 17;
  // How far ahead a run of lookups prefetches (the table is larger than the
  // cache).
  static constexpr size_t kPrefetchAhead = 8;

  /// `bring_in` runs inside DrainRefEvents, between the events for objects
  /// that exist and those that do not yet: the owner makes the objects of
  /// work posted since its last look there (an ObjectRef to a posted task's
  /// result can be dropped before the task is in).
  explicit ObjectTable(std::function<void()> bring_in) : bring_in_(std::move(bring_in)) {}
  ObjectTable(const ObjectTable&) = delete;
  ObjectTable& operator=(const ObjectTable&) = delete;

  // The map (requires the owner's lock).
  iterator find(const ObjectId& id) { return map_.find(id); }
  iterator begin() { return map_.begin(); }
  iterator end() { return map_.end(); }
  Map::const_iterator begin() const { return map_.begin(); }
  Map::const_iterator end() const { return map_.end(); }
  bool contains(const ObjectId& id) const { return map_.contains(id); }
  /// The object, made (pending, uncounted) if it is not there.
  Object& operator[](const ObjectId& id) { return map_[id]; }
  size_t size() const { return map_.size(); }
  void prefetch(const ObjectId& id) const { map_.prefetch(id); }

  /// An ObjectRef handle to `id` was made (+1) or dropped (-1). Any thread,
  /// no lock: applied by the next DrainRefEvents. An id not in the table by
  /// then is ignored (freed already, or never this runtime's).
  void PostRef(const ObjectId& id, int delta) { ref_events_.Post({id, delta}); }
  bool RefEventsPending() const { return ref_events_.pending(); }
  /// Applies the posted reference events (and those that freeing a value
  /// posts meanwhile: a value may hold references), freeing what they leave
  /// unused.
  void DrainRefEvents();

  /// Nothing holds it or will read it (see the file comment).
  static bool Unused(const Object& o) {
    return o.counted && o.refs <= 0 && o.uses <= 0 && o.ready && o.dependents.empty();
  }
  /// The one reference a new object's creator holds (a Put, a submitted
  /// task's result).
  static void CountCallerRef(Object& object) {
    object.refs = 1;
    object.counted = true;
  }
  /// Frees `id` if it is unused; `known`, when given, is its object (the
  /// common case, a used one, then costs no lookup).
  void MaybeFree(const ObjectId& id, const Object* known = nullptr) {
    if (known != nullptr && !Unused(*known)) return;
    auto it = map_.find(id);
    if (it != map_.end()) FreeIfUnused(it);
  }
  /// Frees the object at `it` if it is unused: its node goes back to the
  /// pool now, what it held to the calling thread's Garbage.
  void FreeIfUnused(iterator it);

  /// Pins (one use each) the objects `args` take by reference and those
  /// their values mention. When one does not exist, pins nothing and
  /// returns its id.
  std::optional<ObjectId> PinArgs(const std::vector<TaskArgument>& args);
  /// Pins only the objects the values of `args` mention; as PinArgs.
  std::optional<ObjectId> PinContained(const std::vector<TaskArgument>& args);
  /// Undoes PinArgs (objects gone already are skipped), freeing what it
  /// leaves unused.
  void UnpinArgs(const std::vector<TaskArgument>& args);
  /// Undoes PinContained for one argument.
  void UnpinContained(const TaskArgument& arg);

 private:
  const std::function<void()> bring_in_;
  NodePool pool_{sizeof(Map::value_type), kMaxFreeNodes};
  Map map_{Map::allocator_type(&pool_)};
  Mailbox<std::pair<ObjectId, int>> ref_events_;
  std::vector<std::pair<ObjectId, int>> spare_ref_events_;  // reused
};

}  // namespace raycc::internal::embedded
