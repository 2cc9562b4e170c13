#pragma once

/// \file
/// A node's shared-memory object store (Ray's Plasma is the model): one
/// segment per node, created and owned by the raylet and mapped by every
/// worker and driver of the node. An object is created, written in place,
/// sealed (immutable from then on) and read by any process of the node as a
/// view into the segment: no copy. A view pins its object; an unpinned
/// object that is a secondary copy (evictable) goes first, least recently
/// used first, when room is needed. A primary copy stays until it is
/// deleted (its owner freed it). Each view is recorded with the process
/// that holds it, and each unsealed object with its writer, so that what a
/// killed process held is given back (ReleaseDeadProcesses).
///
/// The allocator is Boost.Interprocess's managed segment (a best-fit
/// allocator over the mapping, with its own named-object directory, so every
/// process finds the index by name). The index and the lock live in the
/// segment; the lock is a robust process-shared mutex (the allocator has no
/// lock of its own: it is used under this one), so a process killed while
/// it holds it does not hang the others. What such a process was changing
/// at that moment (an index insert, a free) may be left half done: the
/// critical sections are short and run no user code, but they are not
/// transactions.
///
/// Spilling (StoreOptions::spill_dir): when a create cannot find room once
/// the secondary copies are evicted, unpinned primary copies are written to
/// files in the spill folder, least recently used first, and their memory
/// freed; a Get restores one transparently (it becomes a primary copy in
/// memory again, its file removed). SpillAbove keeps the store under a
/// threshold ahead of need (the raylet calls it in the background). A
/// spilled object's file goes with Delete, with the store (its creator's
/// destructor) and, for a raylet that was killed, with the sweep of dead
/// segments. SpillAbove writes each file outside the store's lock (the
/// object pinned meanwhile), so the node's other store calls go on; a spill
/// that a create needs at once, and a restore, still hold the lock while
/// they write or read the file.
///
/// Thread-safe and process-safe.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "raycc/runtime/common/id.h"

namespace raycc::object_store {

/// A sealed object, read in place. Holding it pins the object (it is
/// neither evicted nor freed); the pin goes with the last copy.
class ObjectView {
 public:
  const char* data() const { return data_; }
  uint64_t size() const { return size_; }
  std::string_view bytes() const { return {data_, static_cast<size_t>(size_)}; }

 private:
  friend class SharedObjectStore;
  ObjectView(const char* data, uint64_t size) : data_(data), size_(size) {}
  const char* data_;
  uint64_t size_;
};

struct StoreStats {
  uint64_t capacity = 0;         // bytes the segment holds for objects
  uint64_t used = 0;             // bytes of the objects in memory
  uint64_t objects = 0;          // objects (created, sealed or spilled)
  uint64_t pinned = 0;           // objects with at least one view
  uint64_t evictions = 0;        // objects evicted to make room, ever
  uint64_t reads = 0;            // views handed out (Get), ever, by every process
  uint64_t spilled_objects = 0;  // objects on disk now
  uint64_t spilled_bytes = 0;    // their bytes
  uint64_t spills = 0;           // objects written to disk, ever
  uint64_t restores = 0;         // objects read back from disk, ever
  uint64_t creates_refused = 0;  // creates refused for want of room, ever
  // Given back for processes that died (ReleaseDeadProcesses), ever: the
  // views they held, and the objects they were writing (never sealed).
  uint64_t dead_pins_released = 0;
  uint64_t dead_writes_freed = 0;
};

struct StoreOptions {
  /// Fault every page in at creation: the memory is taken up front, and
  /// objects are then written at memory speed instead of page-fault speed.
  bool pretouch = false;
  /// Where primary copies are spilled when the store needs room; empty: no
  /// spilling (a full store is an error). The store makes its own folder
  /// inside (named as the segment) and removes it when it goes.
  std::string spill_dir;
  /// At most this many bytes on disk at once (0: as many as the disk holds).
  uint64_t spill_max_bytes = 0;
};

class SharedObjectStore {
 public:
  /// Creates the segment `name` (a POSIX shared-memory name, no slash) of
  /// `capacity` bytes, replacing a stale one of the same name. The creator
  /// removes it (and its spill folder) when it is destroyed.
  static absl::StatusOr<std::unique_ptr<SharedObjectStore>> Create(const std::string& name, uint64_t capacity,
                                                                   const StoreOptions& options = {});
  /// Maps the segment `name` another process created.
  static absl::StatusOr<std::unique_ptr<SharedObjectStore>> Open(const std::string& name);

  /// The name of the segment a raylet of process `pid` makes for `node`:
  /// "raycc-<pid>-<node>", so that a segment left by a raylet that was
  /// killed is known by its dead pid.
  static std::string SegmentName(int pid, const std::string& node);
  /// Removes the segments (SegmentName) of raylets whose process is gone
  /// (killed: a raylet that stops removes its own), and their spill
  /// folders; how many segments it removed.
  static int RemoveSegmentsOfDeadRaylets();
  ~SharedObjectStore();
  SharedObjectStore(const SharedObjectStore&) = delete;
  SharedObjectStore& operator=(const SharedObjectStore&) = delete;

  /// Room for `size` bytes of object `id`, to be written and then sealed.
  /// Evicts unpinned secondary copies, least recently used first, when
  /// needed, then spills unpinned primary copies (when spilling is on).
  /// AlreadyExists when the store has `id`; ResourceExhausted ("object store
  /// full", naming the sizes, and why spilling could not help) when it
  /// cannot make room.
  /// `evictable`: a secondary copy (a primary copy stays until Delete).
  absl::StatusOr<absl::Span<char>> CreateObject(const ObjectId& id, uint64_t size, bool evictable = false);
  /// Makes a created object readable (and immutable). NotFound, or
  /// FailedPrecondition when sealed already.
  absl::Status Seal(const ObjectId& id);
  /// Removes a created object that was never sealed (a failed write).
  absl::Status Abort(const ObjectId& id);
  /// The sealed object, pinned while the view lives, restored from its
  /// spill file first when it was spilled; NotFound when the store does not
  /// have it sealed; ResourceExhausted when there is no room to restore it,
  /// DataLoss when its file cannot be read.
  absl::StatusOr<std::shared_ptr<const ObjectView>> Get(const ObjectId& id);
  /// Whether `id` is here and sealed (in memory or spilled).
  bool Contains(const ObjectId& id);
  /// Frees the object now, or once its last view goes (a spilled one's
  /// file goes now). NotFound.
  absl::Status Delete(const ObjectId& id);
  /// Gives back what processes that died left in the store: the views they
  /// held (a killed reader's pins would otherwise keep its objects in
  /// memory for good, and a deleted one never freed) and the objects they
  /// created and never sealed. The raylet calls it when one of its workers
  /// exits and now and then (for drivers). A process id reused by a new
  /// process before this runs keeps the dead one's pins (the safe side).
  /// Returns how many pins and objects it gave back.
  int ReleaseDeadProcesses();
  /// Spills unpinned primary copies, least recently used first, until at
  /// most `fraction` of the capacity is in use; how many it spilled. Does
  /// nothing without a spill folder.
  int SpillAbove(double fraction);
  /// The store's spill folder (empty: no spilling).
  std::string spill_dir();

  StoreStats Stats();
  /// The bytes the segment holds for objects (fixed at creation; no lock).
  uint64_t capacity() const;
  const std::string& name() const { return name_; }
  /// Whether `p` lies in this process's mapping of the segment.
  bool InSegment(const void* p) const;

 private:
  struct Impl;  // the mapping; views share it, so it outlives the last one
  explicit SharedObjectStore(std::shared_ptr<Impl> impl, std::string name, bool owner);

  std::shared_ptr<Impl> impl_;
  std::string name_;
  bool owner_;
};

}  // namespace raycc::object_store
