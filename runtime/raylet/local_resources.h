#pragma once

/// \file
/// The local resource manager of the nodes one process accounts for (the
/// embedded runtime's logical nodes, wired in one process): what each node
/// has and has free, the demand of every call checked against them and
/// interned, where a call may run (node affinity, labels, spread) and which
/// node runs it now, and the placement-group bundles the GCS reserves on
/// them (through the LocalBundleReserver it holds).
///
/// Errors are statuses without the caller's name ("task f"): the caller
/// prefixes it (core_worker::ThrowStatus). An infeasible demand, one no node
/// could ever hold, is IsInfeasible.
///
/// Not thread-safe: its owner serializes every call (the embedded runtime
/// does, under its lock). Interned demands and selectors live as long as it.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "raycc/runtime/common/id.h"
#include "raylet/local_bundle_reserver.h"
#include "scheduling/cluster_resources.h"
#include "scheduling/label_selector.h"
#include "scheduling/policy_options.h"

namespace raycc::raylet {

/// What a call asks of a node, checked and interned: calls with the same
/// demand share one (its address is stable), so a submission copies no map.
struct Demand : scheduling::ResourceRequest {
  /// Its CPUs ("CPU", and "CPU_group..." in a placement group): the part a
  /// task lends while it waits in Get.
  scheduling::Units cpu;
  /// Whether it asks for a placement group's resources (whose names end in
  /// the group's `suffix`, gcs::PlacementGroupRecord).
  bool InGroup(absl::string_view suffix) const {
    for (const auto& [name, q] : units)
      if (absl::EndsWith(name, suffix)) return true;
    return false;
  }
};

/// Where a call may go, as its options say (before they are checked).
struct PlacementRequest {
  bool spread = false;
  /// Node affinity by name ("": none); soft: elsewhere when it has no room.
  std::string node_name;
  bool node_soft = true;
  /// Only nodes with these labels (empty: any).
  std::map<std::string, std::string> label_selector;
};

class LocalResources {
 public:
  LocalResources();
  LocalResources(const LocalResources&) = delete;
  LocalResources& operator=(const LocalResources&) = delete;

  /// Adds a node known to the GCS as `id`, all of `total` free. Fails on an
  /// empty or repeated name. Returns its index.
  absl::StatusOr<int> AddNode(const std::string& name, const ResourceSet& total,
                              const std::map<std::string, std::string>& labels, const NodeId& id);

  int size() const { return nodes_.size(); }
  const scheduling::ClusterResources& nodes() const { return nodes_; }
  const std::string& name(int node) const { return nodes_.node(node).name; }
  const NodeId& id(int node) const { return ids_[node]; }
  /// The bundle reserver the GCS drives for these nodes.
  LocalBundleReserver& bundle_reserver() { return reserver_; }

  /// A task's demand when it names none (one CPU) and an actor's (nothing).
  const Demand* task_default() const { return task_default_; }
  const Demand* none() const { return none_; }
  /// Some node has a whole CPU: a task that names no resources can run.
  bool task_default_feasible() const { return task_default_feasible_; }

  /// The demand of a call that asks for `resources` (InvalidArgument for a
  /// malformed set, infeasible when no node could ever hold it); cached by
  /// the request, so asking again is a lookup.
  absl::StatusOr<const Demand*> DemandOf(const std::vector<std::pair<std::string, double>>& resources);
  /// The demand of the same call in bundle `index` (-1: any) of `group`,
  /// whose bundles are `bundles` (gcs::DemandInGroup's rule and errors);
  /// cached by (demand, group, index): a group's bundles never change.
  absl::StatusOr<const Demand*> InGroup(const Demand& demand, const PlacementGroupId& group, int index,
                                        const std::vector<scheduling::Units>& bundles);
  /// `units`, interned.
  const Demand* Intern(scheduling::Units units);

  /// Where a call with `demand` may run. A hard affinity to a node that
  /// does not exist, or one too small, a label selector no node matches or
  /// whose nodes are all too small: infeasible. A malformed selector:
  /// InvalidArgument. A soft affinity to an unknown node is no affinity.
  absl::StatusOr<scheduling::PolicyOptions> PlacementOf(const PlacementRequest& request,
                                                        const Demand& demand);

  /// The node to run `demand` on now, by `where` (null: the default hybrid
  /// policy), or -1 when none has room.
  int PickNode(const Demand& demand, const scheduling::PolicyOptions* where);
  /// How many calls of `demand` the nodes `where` allows could run at once
  /// when idle (whole copies of it in each node's total; a group's resources
  /// by what is free of them now), at most `cap` and at least 1.
  int Capacity(const Demand& demand, const scheduling::PolicyOptions& where, int cap) const;
  /// `units` fit in what `node` has free now.
  bool FitsNow(const scheduling::Units& units, int node) const {
    return scheduling::Fits(units, nodes_.node(node).available);
  }
  /// Takes `units` on `node` (only what PickNode or FitsNow said fits);
  /// Release gives them back.
  void Acquire(const scheduling::Units& units, int node) { nodes_.Acquire(units, node); }
  void Release(const scheduling::Units& units, int node) { nodes_.Release(units, node); }
  /// GPU devices on `node` for `demand` (empty when it asks none), and back.
  std::vector<int> TakeGpus(const Demand& demand, int node) { return nodes_.TakeGpus(demand, node); }
  void ReleaseGpus(const Demand& demand, int node, const std::vector<int>& ids) {
    nodes_.ReleaseGpus(demand, node, ids);
  }

 private:
  scheduling::ClusterResources nodes_;
  std::vector<NodeId> ids_;  // of nodes_, by index
  LocalBundleReserver reserver_{nodes_, ids_};
  uint64_t spread_cursor_ = 0;

  std::deque<Demand> demands_;  // (stable addresses)
  absl::flat_hash_map<std::vector<std::pair<std::string, int64_t>>, const Demand*> interned_;
  absl::flat_hash_map<std::vector<std::pair<std::string, double>>, const Demand*> by_request_;
  absl::flat_hash_map<std::tuple<const Demand*, PlacementGroupId, int>, const Demand*> in_group_;
  std::map<std::map<std::string, std::string>, std::unique_ptr<scheduling::LabelSelector>> selectors_;
  const Demand* task_default_ = nullptr;
  const Demand* none_ = nullptr;
  bool task_default_feasible_ = false;
};

}  // namespace raycc::raylet
