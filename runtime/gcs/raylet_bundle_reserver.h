#pragma once

/// \file
/// The GCS's side of placement-group reservation in a cluster: the raylets
/// as BundleReserverInterface, over RayletService's PrepareBundleResources,
/// CommitBundleResources and CancelResourceReserve (each call with the
/// cluster token and a deadline). It knows the live nodes (told by the GCS
/// server as they register and die) and what each had free at its last
/// report (heartbeats and the replies to bundle operations, ordered by
/// version, so a late heartbeat cannot undo a fresher reply); the raylet's
/// own accounting is the truth (a prepare that no longer fits is refused,
/// and the group waits for the next try). Thread-safe (a leaf lock; no RPC is
/// made under it).

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gcs/bundle_reserver_interface.h"
#include "raycc/proto/gcs_service.pb.h"
#include "raycc/proto/raylet_service.grpc.pb.h"

namespace raycc::gcs {

class RayletBundleReserver final : public BundleReserverInterface {
 public:
  explicit RayletBundleReserver(std::string token,
                                std::chrono::milliseconds deadline = std::chrono::seconds(5));

  /// A node joined (its raylet's address and totals).
  void AddNode(const proto::NodeInfo& node);
  /// A node died: nothing is reserved on it any more.
  void RemoveNode(const NodeId& node);
  /// The node's free resources as it reported them (heartbeat or bundle
  /// reply); a report older than the last one applied is ignored.
  void Update(const NodeId& node, const proto::NodeResourcesReport& report);

  std::vector<std::pair<NodeId, scheduling::Units>> AvailableResources() override;
  bool PrepareBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                     const NodeId& node) override;
  void CommitBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                    const NodeId& node) override;
  void CancelBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                    const NodeId& node) override;
  void ReturnBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                    const NodeId& node) override;
  /// One PrepareBundlesBatch per node (a group whose bundles are all on
  /// one node is committed there at once: one phase), then one
  /// CommitBundlesBatch and one CancelBundlesBatch per node for the groups
  /// spread over several.
  std::vector<bool> ReserveGroups(
      const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups) override;
  /// One CancelBundlesBatch per node.
  void ReturnGroups(const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups) override;

 private:
  struct Node {
    std::string address;  // "host:port"
    scheduling::Units available;
    uint64_t version = 0;  // of the report `available` comes from
    std::shared_ptr<proto::RayletService::Stub> stub;
  };
  /// The raylet of `node`, or null when it is not live.
  std::shared_ptr<proto::RayletService::Stub> StubOf(const NodeId& node, std::string* address);
  /// CancelResourceReserve for one bundle (prepared or committed).
  void Cancel(const PlacementGroupId& group, int index, const NodeId& node);
  template <typename Request, typename Reply, typename Method>
  bool Call(const NodeId& node, const char* name, Method method, const Request& request, Reply* reply);

  const std::string token_;
  const std::chrono::milliseconds deadline_;
  std::mutex mu_;
  std::vector<NodeId> order_;  // registration order (placement is deterministic)
  absl::flat_hash_map<NodeId, Node> nodes_;
};

}  // namespace raycc::gcs
