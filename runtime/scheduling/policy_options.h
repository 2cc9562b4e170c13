#pragma once

/// \file
/// Where a task or actor may run, as the policies read it: one struct so
/// every policy takes the same inputs.

#include "scheduling/cluster_resources.h"
#include "scheduling/label_selector.h"

namespace raycc::scheduling {

struct PolicyOptions {
  /// Spread over nodes (SpreadPolicy) instead of the hybrid default.
  bool spread = false;
  /// Node affinity: run on node `affinity` (an index; -1: none); when
  /// `affinity_soft`, elsewhere if it has no room.
  int affinity = -1;
  bool affinity_soft = true;
  /// Spread over the eligible nodes that could ever hold the request, room
  /// now or not: for a scheduler that sees the other nodes only as of their
  /// last report (a raylet), where a node's room is a guess and a busy node
  /// queues what it is sent.
  bool spread_by_total = false;
  /// The hybrid policy packs onto a node until it is this used. (A float,
  /// placed here: every queued task holds a PolicyOptions, in 24 bytes.)
  float spread_threshold = 0.5f;
  /// Only nodes whose labels match (null or empty: any node).
  const LabelSelector* labels = nullptr;
};

/// `node` is one the options allow at all (labels).
inline bool Eligible(const ClusterResources& cluster, int node, const PolicyOptions& options) {
  return options.labels == nullptr || options.labels->empty() ||
         MatchesLabels(cluster.node(node).labels, *options.labels);
}

}  // namespace raycc::scheduling
