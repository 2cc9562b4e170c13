#pragma once

/// \file
/// The raylets' side of placement-group reservation, as the GCS sees it:
/// two-phase, so a group gets all of its bundles or none. In one process
/// this is the embedded raylet's accounting (raylet::LocalBundleReserver);
/// in a cluster, a prepare/commit RPC per raylet.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "raycc/runtime/common/id.h"
#include "scheduling/cluster_resources.h"

namespace raycc::gcs {

/// The suffix of the resources a group's bundles become on their nodes
/// ("CPU_group_<i>_<hex id>", "CPU_group_<hex id>"): "_<hex id>".
std::string GroupResourceSuffix(const PlacementGroupId& id);

/// What work in bundle `index` of a group asks for, and what a committed
/// bundle `index` provides on its node: each of `demand`'s resources as
/// "<name>_group<suffix>" (any bundle) and, when `index` >= 0, also as
/// "<name>_group_<index><suffix>". `index` -1: any bundle (only the first
/// form).
ResourceSet GroupResources(const ResourceSet& demand, int index, const std::string& suffix);

/// What a call demanding `demand` takes when it runs in bundle `index`
/// (-1: any bundle) of `group`, whose bundles are `bundles`: `demand` as
/// the group's resources (GroupResources). InvalidArgument when the group
/// has no bundle `index`; ResourceExhausted (infeasible: it can never run)
/// when that bundle, or every bundle, holds less. Both runtimes' rule.
absl::StatusOr<ResourceSet> DemandInGroup(const ResourceSet& demand, const std::vector<ResourceSet>& bundles,
                                          int index, const PlacementGroupId& group);

/// A bundle of a group and the node it goes to (or is on).
struct BundleAt {
  int index = 0;
  scheduling::Units bundle;
  NodeId node;
};

class BundleReserverInterface {
 public:
  virtual ~BundleReserverInterface() = default;
  /// Every live node and what it has free now, for choosing where bundles go.
  virtual std::vector<std::pair<NodeId, scheduling::Units>> AvailableResources() = 0;
  /// Phase 1: holds bundle `index` of `group` on `node` so nothing else
  /// takes it; false when it does not fit there now.
  virtual bool PrepareBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                             const NodeId& node) = 0;
  /// Phase 2: a prepared bundle becomes the group's resources on `node`.
  virtual void CommitBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                            const NodeId& node) = 0;
  /// Rolls back a prepared, uncommitted bundle.
  virtual void CancelBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                            const NodeId& node) = 0;
  /// Gives a committed bundle back to `node` (its group was removed).
  virtual void ReturnBundle(const PlacementGroupId& group, int index, const scheduling::Units& bundle,
                            const NodeId& node) = 0;

  /// Reserves several groups, each all or nothing (prepared everywhere,
  /// then committed; a group a node refuses is rolled back): `groups[g]`
  /// is group g's id and its bundles where they go. Which were reserved.
  /// The default does it bundle by bundle; a reserver whose calls are
  /// costly (the raylets, over gRPC) makes one call per node and phase.
  virtual std::vector<bool> ReserveGroups(
      const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups);
  /// Gives back the committed bundles of removed groups (the default: one
  /// by one).
  virtual void ReturnGroups(const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups);
};

}  // namespace raycc::gcs
