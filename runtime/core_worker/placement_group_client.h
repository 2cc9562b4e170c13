#pragma once

/// \file
/// A core worker's placement groups on a cluster, created and removed
/// without a round trip each. Create checks a group against the cluster's
/// live nodes as the GCS will (gcs::CheckGroupFeasible, with a view of the
/// nodes at most a second old, looked at again before an error), so an
/// infeasible group is still an error at once, and queues it; Remove
/// queues. One sender thread sends what queued while its last call was out
/// as one ApplyPlacementGroupOps call, in order, and the GCS reserves those
/// groups together. Wait for a group the GCS answered CREATED needs no call.
/// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "gcs/gcs_client_interface.h"
#include "raycc/runtime/common/id.h"
#include "raycc/runtime/common/resource_set.h"
#include "scheduling/bundle_placement.h"

namespace raycc::core_worker {

class PlacementGroupClient {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PlacementGroupClient(gcs::GcsClientInterface& gcs,
                                std::chrono::milliseconds view_max_age = std::chrono::seconds(1));
  /// Sends what is queued, then stops.
  ~PlacementGroupClient();
  PlacementGroupClient(const PlacementGroupClient&) = delete;
  PlacementGroupClient& operator=(const PlacementGroupClient&) = delete;

  /// Checks the group (InvalidArgument for a malformed one; infeasible,
  /// raycc::IsInfeasible, when no live nodes could ever hold it) and
  /// queues its creation.
  absl::Status Create(const PlacementGroupId& id, const std::string& name,
                      scheduling::BundleStrategy strategy, const std::vector<ResourceSet>& bundles,
                      const std::vector<std::string>& bundle_nodes);
  /// Queues its removal (an error the GCS gives is written to stderr: the
  /// caller has moved on).
  void Remove(const PlacementGroupId& id);

  /// How the GCS answered the creation of `id`: the error it gave, or the
  /// group's state once that call's reservations were made.
  struct Answer {
    absl::Status status;
    proto::PlacementGroupState state = proto::PG_PENDING;
  };
  /// Waits for the answer to `id`'s creation until `deadline` (none:
  /// however long it takes). nullopt: `id` was not created here (or was
  /// removed here since), or no answer came by the deadline (then
  /// `*timed_out`, when given, is set).
  std::optional<Answer> AnswerFor(const PlacementGroupId& id, std::optional<Clock::time_point> deadline,
                                  bool* timed_out = nullptr);
  /// Waits until every op queued so far is answered.
  void Flush();
  /// Its removal was queued here and has not reached the GCS yet.
  bool Removing(const PlacementGroupId& id);
  /// Some op is queued or on its way.
  bool busy() const {
    return answered_.load(std::memory_order_acquire) != queued_.load(std::memory_order_acquire);
  }
  /// Calls made to the GCS so far (for tests: ops are batched).
  uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }

 private:
  void Send();
  /// The live nodes' totals, and their ids by name (refreshed when older
  /// than view_max_age_, or when `refresh`).
  void LookAtNodesLocked(bool refresh);

  gcs::GcsClientInterface& gcs_;
  const std::chrono::milliseconds view_max_age_;

  std::mutex view_mu_;  // (taken before mu_ when both are)
  Clock::time_point view_time_{};
  std::vector<std::pair<NodeId, ResourceSet>> totals_;
  absl::flat_hash_map<std::string, NodeId> by_name_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::pair<uint64_t, proto::PlacementGroupOp>> queue_;  // (sequence, op)
  std::atomic<uint64_t> queued_{0};    // ops queued so far (the last one's sequence)
  std::atomic<uint64_t> answered_{0};  // ops answered so far (in order)
  std::atomic<uint64_t> calls_{0};
  absl::flat_hash_map<PlacementGroupId, uint64_t> creations_;  // sequence of each group's creation here
  absl::flat_hash_map<PlacementGroupId, Answer> answers_;
  absl::flat_hash_map<PlacementGroupId, uint64_t> removals_;  // sequence of each removal not answered yet
  std::thread sender_;
};

}  // namespace raycc::core_worker
