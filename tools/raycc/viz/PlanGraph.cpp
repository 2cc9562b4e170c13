//===- PlanGraph.cpp - an ExecPlan as the visualizer draws it -------------===//

#include "viz/PlanGraph.h"

#include <algorithm>
#include <map>
#include <utility>

namespace raycc::tools::viz {

std::vector<PlanEdge> planEdges(const proto::ExecPlan &plan) {
  // (to, from) -> control only.
  std::map<std::pair<uint32_t, uint32_t>, bool> edges;
  for (int i = 0; i < plan.nodes_size(); ++i) {
    const proto::PlanNode &node = plan.nodes(i);
    uint32_t to = static_cast<uint32_t>(i);
    for (const proto::PlanOperand &operand : node.operands()) {
      if (!operand.has_node_result() || operand.node_result().node() >= to)
        continue;
      edges[{to, operand.node_result().node()}] = false;
    }
    for (uint32_t from : node.control_deps())
      if (from < to)
        edges.emplace(std::make_pair(to, from), true);
  }
  std::vector<PlanEdge> out;
  out.reserve(edges.size());
  for (const auto &[key, control] : edges)
    out.push_back({key.second, key.first, control});
  return out;
}

std::vector<int> planRanks(const proto::ExecPlan &plan,
                           const std::vector<PlanEdge> &edges) {
  std::vector<int> rank(plan.nodes_size(), 0);
  // Sorted by `to`, and from < to: every predecessor is final when read.
  for (const PlanEdge &e : edges)
    rank[e.to] = std::max(rank[e.to], rank[e.from] + 1);
  return rank;
}

int placementGroupOf(const proto::ExecPlan &plan, const proto::PlanNode &node) {
  if (!node.scheduling().has_placement_group())
    return -1;
  uint32_t group = node.scheduling().placement_group().placement_group();
  return group < static_cast<uint32_t>(plan.placement_groups_size())
             ? static_cast<int>(group)
             : -1;
}

int bundleOf(const proto::ExecPlan &plan, const proto::PlanNode &node) {
  int group = placementGroupOf(plan, node);
  if (group < 0)
    return -1;
  int bundles = plan.placement_groups(group).bundles_size();
  int bundle = node.scheduling().placement_group().bundle_index();
  // "Any bundle" in the program; the placement pass may have picked one.
  if (bundle < 0)
    bundle = node.placement().bundle_index();
  return bundle >= 0 && bundle < bundles ? bundle : -1;
}

} // namespace raycc::tools::viz
