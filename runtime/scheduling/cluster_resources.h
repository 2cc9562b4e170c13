#pragma once

/// \file
/// What every node of a cluster has and has free, in fixed-point units: the
/// one resource model the scheduling policies, placement-group reservation
/// and the embedded runtime's accounting share (a raylet keeps its own
/// node's part, the GCS the whole view).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "raycc/runtime/common/resource_set.h"

namespace raycc::scheduling {

/// Resource name -> quantity in FixedPoint units (1 CPU = FixedPoint::kScale).
using Units = absl::flat_hash_map<std::string, int64_t>;

/// The units of `set`, and back.
Units ToUnits(const ResourceSet& set);
ResourceSet ToSet(const Units& units);

/// The CPUs of `units` ("CPU", and "CPU_group..." in a placement group):
/// what a task lends while it waits in Get (its GPUs and the rest it keeps).
Units CpuPart(const Units& units);

/// True when every quantity of `demand` is at most the same quantity of
/// `available` (a name `available` lacks holds 0).
bool Fits(const Units& demand, const Units& available);

/// What a task, actor or bundle asks of one node.
struct ResourceRequest {
  Units units;
  /// Its GPU units under any name ("GPU", "GPU_group_..."): they also need
  /// devices (a fraction packs onto one device; more takes whole devices).
  int64_t gpu = 0;

  /// A request for `units`, its GPU part counted.
  static ResourceRequest Of(Units units);
};

/// One node: its name, labels, total and free resources, and which of its
/// GPU devices have room.
struct NodeResources {
  std::string name;
  std::map<std::string, std::string> labels;
  Units total;
  Units available;
  /// Per device: GPU units not held by running work.
  std::vector<int64_t> gpu_free;
};

/// The nodes of a cluster, by index (indices are stable: nodes are only
/// added). Not thread-safe: its owner serializes access.
class ClusterResources {
 public:
  /// Adds a node whose resources are `total` (all free); fails on an empty
  /// or repeated name. Returns its index.
  absl::StatusOr<int> AddNode(std::string name, const ResourceSet& total,
                              std::map<std::string, std::string> labels = {});

  int size() const { return static_cast<int>(nodes_.size()); }
  const NodeResources& node(int i) const { return nodes_[i]; }
  /// The index of the node named `name`, or -1.
  int Find(const std::string& name) const;
  /// Each node's total, for feasibility messages (ResourceSet::CheckFeasible).
  const std::vector<ResourceSet>& totals() const { return totals_; }

  /// `request` fits in what `node` has free now, devices included.
  bool CanRun(const ResourceRequest& request, int node) const;
  /// `request` fits in `node`'s total (it could run there once it is idle).
  bool CanEverRun(const ResourceRequest& request, int node) const;
  /// The largest fraction of a resource `request` asks for that is in use on
  /// `node` (0: idle, 1: full), the hybrid policy's measure.
  double Utilization(const ResourceRequest& request, int node) const;

  /// What `node` has free is `available`, as its own report says (a
  /// raylet's view of its peers).
  void SetAvailable(int node, Units available) { nodes_[node].available = std::move(available); }
  /// Forgets the nodes from index `first` on (a view rebuilt from a newer
  /// node list keeps the nodes before).
  void DropNodesFrom(int first);
  /// `node` gains `units` (total and free), or loses them: what is free of
  /// a lost resource is cut to what is left of its total (work holding some
  /// keeps it), never below zero. A raylet's committed bundles come and go
  /// this way.
  void AddCapacity(const Units& units, int node);
  void RemoveCapacity(const Units& units, int node);

  /// Takes `units` on `node` (Release gives them back). No check: callers
  /// take only what CanRun said fits.
  void Acquire(const Units& units, int node);
  void Release(const Units& units, int node);
  /// Devices on `node` for `request`'s GPUs (empty when it asks none).
  std::vector<int> TakeGpus(const ResourceRequest& request, int node);
  void ReleaseGpus(const ResourceRequest& request, int node, const std::vector<int>& ids);

  /// Placement-group bundles, reserved the way Ray does: bundle `index`'s
  /// quantities on `node` move from their own names to
  /// "<name>_group_<index><suffix>" and "<name>_group<suffix>", which work
  /// in the group asks for.
  void CommitBundle(const Units& bundle, int index, const std::string& suffix, int node);
  /// Gives a bundle committed with `suffix` back to `node`'s own names.
  void ReturnBundle(const Units& bundle, int node);
  /// Drops every renamed resource ending in `suffix` (a removed group's).
  void DropGroupResources(const std::string& suffix);

 private:
  std::vector<NodeResources> nodes_;
  std::vector<ResourceSet> totals_;
};

}  // namespace raycc::scheduling
