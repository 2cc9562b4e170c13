#pragma once

/// \file
/// Node-to-node object transfer, the receiving side: copies an object from
/// the store of another node (its raylet streams it, RayletService.PullObject)
/// into this node's store as a secondary copy (evictable once unread). Pulls
/// of one object are done once however many ask at the same time (a
/// broadcast reads each object once per node). The holders are tried in
/// turn: one that is gone, lacks the object or fails mid-transfer is passed
/// over (its partial copy removed) for the next; when none can give it, the
/// error names each and why.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "raycc/runtime/common/id.h"

namespace raycc::object_store {
class SharedObjectStore;
}  // namespace raycc::object_store

namespace raycc::raylet {

class ObjectPuller {
 public:
  /// Chunks asked of the holder (Ray's object manager uses 5 MiB).
  static constexpr uint64_t kChunkBytes = 5 << 20;

  ObjectPuller(object_store::SharedObjectStore& store, std::string token)
      : store_(store), token_(std::move(token)) {}

  /// Makes `id` readable in this node's store, pulling it from the raylet at
  /// `from` unless it is here already; its size. Waits for a pull of the same
  /// object already under way. Errors name the holder and how far it got.
  absl::StatusOr<uint64_t> Pull(const ObjectId& id, const std::string& from);
  /// Pull from the first of `holders` ("host:port" raylets, in order) that
  /// can give it.
  absl::StatusOr<uint64_t> Pull(const ObjectId& id, const std::vector<std::string>& holders);
  /// Waits, until `deadline`, for a pull of `id` under way here to end (a
  /// node asked for a copy it is still receiving); false at the deadline.
  bool WaitForPull(const ObjectId& id, std::chrono::steady_clock::time_point deadline);

  /// Objects pulled and bytes received so far (GetNodeStats, tests).
  uint64_t pulls() const;
  uint64_t bytes_pulled() const;

 private:
  struct InFlight {
    bool done = false;
    absl::StatusOr<uint64_t> result = uint64_t{0};
  };
  /// One holder's transfer; `*here`: it failed for a reason of this node
  /// (no room), which another holder would not change.
  absl::StatusOr<uint64_t> Transfer(const ObjectId& id, const std::string& from, bool* here);

  object_store::SharedObjectStore& store_;
  const std::string token_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  absl::flat_hash_map<ObjectId, std::shared_ptr<InFlight>> in_flight_;
  uint64_t pulls_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace raycc::raylet
