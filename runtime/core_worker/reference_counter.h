#pragma once

/// \file
/// Reference counts and ownership across processes (Ray's ReferenceCounter).
///
/// For each object this process *owns*: how many ObjectRef handles hold it
/// here, how many submitted tasks still need it as an argument, and which
/// other processes *borrow* it (hold a reference that came to them inside a
/// value). It is freed when all three are gone, once it has had a
/// reference (a batch's result that nobody referred to yet stays until
/// someone does, unless it was marked to go as soon as its consumers are
/// done).
///
/// For each object this process *borrows* (owned elsewhere): the owner's
/// address, the handles here and the pins (tasks here that take it, and
/// results here whose value mentions it). When they are gone the entry
/// goes, and the runtime tells the owner this process no longer borrows it.
/// Thread-safe; callbacks run outside the lock.

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "raycc/runtime/common/id.h"

namespace raycc::core_worker {

class ReferenceCounter {
 public:
  /// Runs (outside the counter's lock) for each object that became free
  /// here: `owner` is empty for an object this process owned, else the
  /// owner's address (a borrowed reference this process no longer holds).
  using OnFree = std::function<void(const ObjectId& id, const std::string& owner)>;
  explicit ReferenceCounter(OnFree on_free) : on_free_(std::move(on_free)) {}

  /// A new object this process owns, with `local_refs` references held by
  /// the caller already (1 for a Put or a submitted task's result; 0 for a
  /// batch result). `release_when_unused`: free it when no task needs it,
  /// even if it never had a reference.
  void AddOwned(const ObjectId& id, int local_refs, bool release_when_unused = false);
  bool Owns(const ObjectId& id) const;
  /// Owned or borrowed.
  bool Knows(const ObjectId& id) const;
  /// The owner's address of a borrowed object; "" for one this process
  /// owns; nullopt when unknown here.
  std::optional<std::string> OwnerOf(const ObjectId& id) const;

  /// A reference owned by `owner` (an address, not ours) arrived here.
  /// True when it is new here: then the caller registers this process as
  /// a borrower with the owner. (An entry with no handle and no pin goes
  /// at the next RemoveLocalRef/RemoveTaskUse that leaves it unused.)
  bool AddBorrowed(const ObjectId& id, const std::string& owner);

  /// Another process borrows (or no longer borrows) an object this process
  /// owns; `borrower` names it (its worker id). False when the object is
  /// not owned here (freed already, or never ours).
  bool AddBorrower(const ObjectId& id, const std::string& borrower);
  void RemoveBorrower(const ObjectId& id, const std::string& borrower);
  /// Every borrower goes (it died): the objects it alone kept are freed.
  void RemoveBorrowerEverywhere(const std::string& borrower);

  /// An ObjectRef handle was made or dropped. Unknown ids are ignored (an
  /// object freed already).
  void AddLocalRef(const ObjectId& id);
  void RemoveLocalRef(const ObjectId& id);

  /// A submitted task takes `id` as an argument until it is done (or a
  /// result here mentions it, for a borrowed one).
  void AddTaskUse(const ObjectId& id);
  void RemoveTaskUse(const ObjectId& id);

  /// Entries (owned and borrowed).
  size_t size() const;
  /// Processes borrowing an object this process owns (tests).
  size_t borrowers(const ObjectId& id) const;

 private:
  struct Entry {
    int local = 0;
    int task_uses = 0;
    bool had_ref = false;
    bool release_when_unused = false;
    std::string owner;                           // empty: ours
    absl::flat_hash_set<std::string> borrowers;  // (ours) who borrows it
  };
  using Map = absl::flat_hash_map<ObjectId, Entry>;
  /// Erases `it` if free; its owner (moved out) in `*owner` when it did.
  bool EraseIfFreeLocked(Map::iterator it, std::string* owner);

  OnFree on_free_;
  mutable std::mutex mu_;
  Map objects_;
};

}  // namespace raycc::core_worker
