//===- PlanGraph.h - an ExecPlan as the visualizer draws it -----*- C++ -*-===//
//
// The edges, ranks and placement-group membership of a plan. A plan read from
// a file may break its own invariants; these functions skip what does not
// make sense (an operand naming a later node, a group index out of range)
// instead of trusting it.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_TOOLS_RAYCC_VIZ_PLANGRAPH_H
#define RAYCC_TOOLS_RAYCC_VIZ_PLANGRAPH_H

#include <cstdint>
#include <vector>

#include "raycc/proto/exec_plan.pb.h"

namespace raycc::tools::viz {

/// One drawn edge: `from` precedes `to` (from < to).
struct PlanEdge {
  uint32_t from = 0;
  uint32_t to = 0;
  /// True when the edge carries no data (a control dependency only).
  bool control = false;
};

/// The plan's edges, one per (from, to) pair: a data edge when any operand of
/// `to` reads a result of `from`, else a control edge. Sorted by (to, from).
std::vector<PlanEdge> planEdges(const proto::ExecPlan &plan);

/// Per node, the length of the longest path from a node without
/// predecessors (0 for those).
std::vector<int> planRanks(const proto::ExecPlan &plan,
                           const std::vector<PlanEdge> &edges);

/// The placement group (index into plan.placement_groups) node `node` runs
/// in, or -1.
int placementGroupOf(const proto::ExecPlan &plan, const proto::PlanNode &node);

/// The bundle of its placement group node `node` runs in, or -1 for none or
/// any bundle.
int bundleOf(const proto::ExecPlan &plan, const proto::PlanNode &node);

} // namespace raycc::tools::viz

#endif // RAYCC_TOOLS_RAYCC_VIZ_PLANGRAPH_H
