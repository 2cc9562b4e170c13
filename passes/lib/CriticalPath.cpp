//===- CriticalPath.cpp - ray-critical-path -------------------------------===//
//
// Priorities from the longest path to the end of the graph (the b-level of
// list scheduling): the work that has the most work behind it starts first.
// O(V + E) per graph.
//
//===----------------------------------------------------------------------===//

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>

#include "mlir/IR/Builders.h"

#include "DependencyGraph.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYCRITICALPATH
#include "raycc/passes/Passes.h.inc"

namespace {

/// Work that takes time; everything else weighs nothing.
uint64_t weightOf(Operation *op) {
  if (isa<TaskOp, ActorCreateOp, ActorCallOp>(op))
    return estimatedDurationUs(op, /*fallback=*/1);
  return 0;
}

struct CriticalPath : impl::RayCriticalPathBase<CriticalPath> {
  void runOnOperation() override {
    for (GraphOp graph : getOperation().getOps<GraphOp>())
      prioritise(graph);
  }

  static void prioritise(GraphOp graph) {
    DependencyGraph deps = DependencyGraph::build(graph);
    size_t n = deps.nodes.size();
    using Graph =
        boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
    Graph g(n);
    for (const DependencyEdge &e : deps.edges)
      boost::add_edge(e.from, e.to, g);
    // topological_sort emits vertices in reverse topological order: sinks
    // first, which is the order b-levels need.
    std::vector<Graph::vertex_descriptor> order;
    order.reserve(n);
    boost::topological_sort(g, std::back_inserter(order));

    std::vector<uint64_t> weight(n), bottom(n, 0), top(n, 0);
    for (size_t i = 0; i < n; ++i)
      weight[i] = weightOf(deps.nodes[i]);
    for (auto v : order) {
      uint64_t longest = 0;
      for (unsigned s : deps.succs[v])
        longest = std::max(longest, bottom[s]);
      bottom[v] = weight[v] + longest;
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it)
      for (unsigned s : deps.succs[*it])
        top[s] = std::max(top[s], top[*it] + weight[*it]);
    uint64_t length = 0;
    for (size_t i = 0; i < n; ++i)
      length = std::max(length, top[i] + bottom[i]);

    Builder b(graph.getContext());
    for (size_t i = 0; i < n; ++i) {
      Operation *op = deps.nodes[i];
      if (!isa<TaskOp, ActorCreateOp, ActorCallOp>(op))
        continue;
      if (!op->hasAttr("priority"))
        op->setAttr("priority",
                    b.getI64IntegerAttr(static_cast<int64_t>(bottom[i])));
      if (weight[i] > 0 && top[i] + bottom[i] == length)
        op->setAttr("ray.critical", b.getUnitAttr());
      else
        op->removeAttr("ray.critical");
    }
  }
};

} // namespace

} // namespace raycc::passes
