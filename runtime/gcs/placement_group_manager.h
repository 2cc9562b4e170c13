#pragma once

/// \file
/// The GCS's placement groups: created PENDING, checked against the nodes'
/// totals (a group no cluster of these nodes could ever hold is refused as
/// infeasible, naming why), reserved all-or-nothing by two-phase
/// prepare/commit over the raylets (BundleReserverInterface) in creation
/// order whenever resources free up, and removed with their bundles given
/// back. Not thread-safe (the Gcs serializes); every change is written to
/// storage as a proto::PlacementGroupInfo.

#include <atomic>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "gcs/bundle_reserver_interface.h"
#include "gcs/gcs_storage_interface.h"
#include "raycc/proto/gcs_service.pb.h"
#include "raycc/runtime/common/id.h"
#include "raycc/runtime/common/resource_set.h"
#include "scheduling/bundle_placement.h"

namespace raycc::gcs {

struct PlacementGroupRecord {
  PlacementGroupId id;
  std::string name;
  scheduling::BundleStrategy strategy = scheduling::BundleStrategy::kPack;
  std::vector<scheduling::Units> bundles;
  proto::PlacementGroupState state = proto::PG_PENDING;
  /// The node of each bundle, once CREATED; while RESCHEDULING, nil for
  /// the bundles lost with their node.
  std::vector<NodeId> bundle_nodes;
  /// Empty, or the node each bundle must go on (a compiler placed it).
  std::vector<NodeId> pinned;
  /// GroupResourceSuffix(id).
  std::string suffix;
};

/// "placement group 'name'" (or "placement group"): how errors name it.
std::string DescribePlacementGroup(const std::string& name);
/// The bundles a user asked for as resource sets; InvalidArgument naming
/// the group and the bundle when one is malformed.
absl::StatusOr<std::vector<ResourceSet>> BundleResourceSets(
    const std::vector<std::vector<std::pair<std::string, double>>>& bundles, const std::string& name);

/// A group's spec on the wire: its bundles indexed in order, `bundle_nodes`
/// (by name, or none) as the creation's pins.
proto::PlacementGroupSpec PlacementGroupSpecOf(const PlacementGroupId& id, const std::string& name,
                                               scheduling::BundleStrategy strategy,
                                               const std::vector<ResourceSet>& bundles,
                                               const std::vector<std::string>& bundle_nodes);

/// Whether a group of `bundles` could ever be placed by `strategy` on idle
/// nodes of `node_totals` (on its `pinned` nodes, when given): OK, or the
/// error Create gives (InvalidArgument for no bundle or an empty one;
/// infeasible, raycc::IsInfeasible, naming why). Messages start with `what`.
/// A driver checks a group with it before it sends the group on.
absl::Status CheckGroupFeasible(const std::vector<ResourceSet>& bundles, scheduling::BundleStrategy strategy,
                                const std::vector<std::pair<NodeId, ResourceSet>>& node_totals,
                                const std::string& what, const std::vector<NodeId>& pinned);

class PlacementGroupManager {
 public:
  explicit PlacementGroupManager(GcsStorageInterface& storage) : storage_(storage) {}

  /// Registers a PENDING group. InvalidArgument: no bundles, an empty
  /// bundle, an id seen before. Infeasible (raycc::IsInfeasible): a bundle
  /// no node's total holds, strict_spread with fewer nodes than bundles,
  /// strict_pack with no node holding their sum, pack/spread with the nodes
  /// together too small. Messages start with `what` ("placement group 'x'").
  /// `pinned`, when not empty, is the node of each bundle: InvalidArgument
  /// when it is not one per bundle or breaks a strict strategy, Infeasible
  /// when a node is not among `node_totals` or cannot hold what is pinned
  /// to it; such a group is reserved only there.
  absl::Status Create(const PlacementGroupId& id, const std::string& name,
                      scheduling::BundleStrategy strategy, const std::vector<ResourceSet>& bundles,
                      const std::vector<std::pair<NodeId, ResourceSet>>& node_totals, const std::string& what,
                      const std::vector<NodeId>& pinned = {});

  /// Reserves the pending groups that fit now, oldest first, each all or
  /// nothing (a failed prepare rolls back the bundles prepared before it),
  /// and the lost bundles of RESCHEDULING groups. Returns the groups CREATED
  /// by this call.
  std::vector<PlacementGroupId> ReservePending(BundleReserverInterface& raylets);

  /// `node` died: every group with a bundle there is RESCHEDULING, its other
  /// bundles kept where they are, the lost ones reserved again (by
  /// ReservePending) where they fit and the strategy allows: strict_spread
  /// away from the group's other nodes, strict_pack (all lost together)
  /// anywhere one node holds them all. A bundle the compiler pinned to the
  /// dead node may go elsewhere (that cluster is gone). Returns the groups
  /// that lost bundles.
  std::vector<PlacementGroupId> OnNodeDead(const NodeId& node);

  /// Marks the group REMOVED, giving its bundles back when it held them
  /// (the last kRemovedKept removed groups stay known).
  /// True when it did (resources freed); false when it was pending or
  /// removed already. NotFound when unknown.
  absl::StatusOr<bool> Remove(const PlacementGroupId& id, BundleReserverInterface& raylets);
  /// The same, leaving the bundles to give back in `returns` (for one
  /// ReturnGroups call over many removals).
  absl::StatusOr<bool> Remove(const PlacementGroupId& id,
                              std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>* returns);

  const PlacementGroupRecord* Find(const PlacementGroupId& id) const;
  /// Reads the groups back from storage (a restarted GCS over Redis), in
  /// id order; call once, on an empty manager. Pending and rescheduling
  /// groups wait for a reservation again (a compiler's pins are not
  /// stored: they reserve where the strategy says). DataLoss naming the
  /// record that does not parse.
  absl::Status Load();
  /// The group as the wire and storage see it (spec, bundle nodes, state).
  static proto::PlacementGroupInfo ToInfo(const PlacementGroupRecord& group);
  /// Calls `visit` for every group not forgotten, oldest first.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (const PlacementGroupId& id : removed_) visit(groups_.at(id));
    for (const PlacementGroupId& id : order_) visit(groups_.at(id));
  }
  /// The newest group named `name` that is not removed, or null.
  const PlacementGroupRecord* FindByName(const std::string& name) const;
  /// Groups waiting for their reservation, RESCHEDULING ones included
  /// (readable without the Gcs lock, so a raylet can skip asking when there
  /// are none).
  size_t pending() const { return pending_.load(std::memory_order_relaxed); }

 private:
  absl::Status Persist(const PlacementGroupRecord& group);
  /// A pending or rescheduled group is reserved: CREATED, and persisted.
  void MarkCreated(PlacementGroupRecord& group);
  /// Reserves the lost bundles of a RESCHEDULING group; true when done.
  bool Reschedule(PlacementGroupRecord& group, BundleReserverInterface& raylets);
  /// Reservation of the group's bundles `indices`, the k-th on node
  /// available[where[k]] (BundleReserverInterface::ReserveGroups): all
  /// held, or none. Once all are committed the group is CREATED.
  bool Reserve(PlacementGroupRecord& group, const std::vector<size_t>& indices, const std::vector<int>& where,
               const std::vector<std::pair<NodeId, scheduling::Units>>& available,
               BundleReserverInterface& raylets);

  GcsStorageInterface& storage_;
  absl::flat_hash_map<PlacementGroupId, PlacementGroupRecord> groups_;
  std::deque<PlacementGroupId> order_;  // creation order of those not removed
  // Removed groups are remembered (Find says REMOVED) up to this many, the
  // oldest forgotten first: a compiled graph executed a million times
  // creates and removes a group per execution.
  static constexpr size_t kRemovedKept = 1024;
  std::deque<PlacementGroupId> removed_;
  std::atomic<size_t> pending_{0};
};

}  // namespace raycc::gcs
