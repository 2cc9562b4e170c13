//===- CriticalPath.cpp - ray-critical-path -------------------------------===//
//
// Priorities from the longest path to the end of the graph (the b-level of
// list scheduling): the work that has the most work behind it starts first.
// O(V + E) per graph.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"

#include "DependencyGraph.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYCRITICALPATH
#include "raycc/passes/Passes.h.inc"

namespace {

struct CriticalPath : impl::RayCriticalPathBase<CriticalPath> {
  void runOnOperation() override {
    for (GraphOp graph : getOperation().getOps<GraphOp>())
      prioritise(graph);
  }

  static void prioritise(GraphOp graph) {
    DependencyGraph deps = DependencyGraph::build(graph);
    size_t n = deps.nodes.size();
    SmallVector<uint64_t> weight(n), top(n, 0);
    for (size_t i = 0; i < n; ++i)
      weight[i] = workWeight(deps.nodes[i]);
    SmallVector<uint64_t> bottom = deps.bottomLevels(weight);
    // Block order is a topological order: every edge points forwards.
    for (size_t v = 0; v < n; ++v)
      for (unsigned s : deps.succs[v])
        top[s] = std::max(top[s], top[v] + weight[v]);
    uint64_t length = 0;
    for (size_t i = 0; i < n; ++i)
      length = std::max(length, top[i] + bottom[i]);

    Builder b(graph.getContext());
    for (size_t i = 0; i < n; ++i) {
      Operation *op = deps.nodes[i];
      if (!isa<TaskOp, MapOp, ActorCreateOp, ActorCallOp>(op))
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
