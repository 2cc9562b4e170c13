#pragma once

/// \file
/// The raylet's side of placement-group reservation for the nodes whose
/// resources this process accounts for (the embedded runtime's logical
/// nodes; one node in a raylet process): prepare holds a bundle's
/// resources, commit moves them to the group's renamed resources, cancel
/// and return give them back. Not thread-safe: it shares its owner's lock
/// over the ClusterResources.

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gcs/bundle_reserver_interface.h"
#include "scheduling/cluster_resources.h"

namespace raycc::raylet {

class LocalBundleReserver final : public gcs::BundleReserverInterface {
 public:
  /// Node `i` of `resources` is `node_ids[i]` (both outlive this).
  LocalBundleReserver(scheduling::ClusterResources& resources, const std::vector<NodeId>& node_ids)
      : resources_(resources), node_ids_(node_ids) {}

  std::vector<std::pair<NodeId, scheduling::Units>> AvailableResources() override;
  bool PrepareBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                     const NodeId& node) override;
  void CommitBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                    const NodeId& node) override;
  void CancelBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                    const NodeId& node) override;
  void ReturnBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                    const NodeId& node) override;

  /// Bundles prepared and neither committed nor cancelled (tests: a failed
  /// reservation leaves none).
  size_t prepared() const { return prepared_.size(); }
  /// The index of `node` in the ClusterResources, or -1.
  int IndexOf(const NodeId& node) const;

 private:
  scheduling::ClusterResources& resources_;
  const std::vector<NodeId>& node_ids_;
  absl::flat_hash_map<std::pair<PlacementGroupId, int>, int> prepared_;  // -> node index
};

}  // namespace raycc::raylet
