#pragma once

/// \file
/// The owner's reference counts (Ray's ReferenceCounter, the local part):
/// for each object this process owns, how many ObjectRef handles hold it
/// here and how many submitted tasks still need it as an argument. An
/// object is freed when both reach zero, once it has had a reference (a
/// batch's result that nobody referred to yet stays until someone does,
/// unless it was marked to go as soon as its consumers are done).
///
/// Borrowers in other processes are not counted yet (issue #14: ownership
/// on the wire); until then a reference never leaves its owner's process.

#include <cstddef>
#include <functional>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "raycc/runtime/common/id.h"

namespace raycc::core_worker {

class ReferenceCounter {
 public:
  /// Runs (outside the counter's lock) for each object that became free.
  explicit ReferenceCounter(std::function<void(const ObjectId&)> on_free) : on_free_(std::move(on_free)) {}

  /// A new object this process owns, with `local_refs` references held by
  /// the caller already (1 for a Put or a submitted task's result; 0 for a
  /// batch result). `release_when_unused`: free it when no task needs it,
  /// even if it never had a reference.
  void AddOwned(const ObjectId& id, int local_refs, bool release_when_unused = false);
  bool Owns(const ObjectId& id) const;

  /// An ObjectRef handle was made or dropped. Unknown ids are ignored (an
  /// object freed already, or not ours).
  void AddLocalRef(const ObjectId& id);
  void RemoveLocalRef(const ObjectId& id);

  /// A submitted task takes `id` as an argument until it is done.
  void AddTaskUse(const ObjectId& id);
  void RemoveTaskUse(const ObjectId& id);

  size_t size() const;

 private:
  struct Entry {
    int local = 0;
    int task_uses = 0;
    bool had_ref = false;
    bool release_when_unused = false;
  };
  /// Erases `id` if free; true if it did (then call on_free_ unlocked).
  bool EraseIfFreeLocked(absl::flat_hash_map<ObjectId, Entry>::iterator it);

  std::function<void(const ObjectId&)> on_free_;
  mutable std::mutex mu_;
  absl::flat_hash_map<ObjectId, Entry> objects_;
};

}  // namespace raycc::core_worker
