//===- DependencyGraph.cpp - who waits for whom in a graph ----------------===//

#include "DependencyGraph.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {

DependencyGraph DependencyGraph::build(GraphOp graph) {
  DependencyGraph g;
  for (Operation &op : graph.getBodyBlock()) {
    if (isa<OutputOp>(op) || matchPattern(&op, m_Constant()))
      continue;
    g.index[&op] = g.nodes.size();
    g.nodes.push_back(&op);
  }
  g.preds.resize(g.nodes.size());
  g.predKinds.resize(g.nodes.size());
  g.succs.resize(g.nodes.size());
  auto addEdge = [&](unsigned from, unsigned to, EdgeKind kind) {
    if (llvm::is_contained(g.preds[to], from))
      return;
    g.preds[to].push_back(from);
    g.predKinds[to].push_back(kind);
    g.succs[from].push_back(to);
    g.edges.push_back({from, to, kind});
  };
  llvm::DenseMap<Value, unsigned> lastOnActor;
  for (auto [i, op] : llvm::enumerate(g.nodes)) {
    for (Value operand : op->getOperands()) {
      int p = g.producer(operand);
      if (p >= 0)
        addEdge(p, i, EdgeKind::Data);
    }
    Value actor;
    if (auto call = dyn_cast<ActorCallOp>(op))
      actor = call.getActor();
    else if (auto kill = dyn_cast<ActorKillOp>(op))
      actor = kill.getActor();
    if (actor) {
      auto [it, first] = lastOnActor.try_emplace(actor, i);
      if (!first) {
        addEdge(it->second, i, EdgeKind::ActorOrder);
        it->second = i;
      }
    }
  }
  return g;
}

SmallVector<uint64_t>
DependencyGraph::bottomLevels(ArrayRef<uint64_t> weight) const {
  SmallVector<uint64_t> bottom(nodes.size(), 0);
  for (size_t v = nodes.size(); v-- > 0;) {
    uint64_t longest = 0;
    for (unsigned s : succs[v])
      longest = std::max(longest, bottom[s]);
    bottom[v] = llvm::SaturatingAdd(weight[v], longest);
  }
  return bottom;
}

uint64_t workWeight(Operation *op) {
  // (A map's shards run side by side where there is room: its weight is
  // one shard's.)
  if (isa<TaskOp, MapOp, ActorCreateOp, ActorCallOp>(op))
    return estimatedDurationUs(op, /*fallback=*/1);
  return 0;
}

int DependencyGraph::producer(Value value) const {
  Operation *def = value.getDefiningOp();
  if (!def)
    return -1;
  auto it = index.find(def);
  return it == index.end() ? -1 : static_cast<int>(it->second);
}

static CostAttr costOf(Operation *op) {
  if (auto cost = op->getAttrOfType<CostAttr>("cost"))
    return cost;
  FlatSymbolRefAttr name;
  if (auto task = dyn_cast<TaskOp>(op))
    name = task.getCalleeAttr();
  else if (auto map = dyn_cast<MapOp>(op))
    name = map.getCalleeAttr();
  if (name)
    if (auto callee =
            SymbolTable::lookupNearestSymbolFrom<RemoteFuncOp>(op, name))
      return callee.getCostAttr();
  return {};
}

uint64_t estimatedDurationUs(Operation *op, uint64_t fallback) {
  CostAttr cost = costOf(op);
  return cost && cost.getDurationUs() ? cost.getDurationUs() : fallback;
}

uint64_t estimatedResultBytes(Operation *op) {
  CostAttr cost = costOf(op);
  return cost ? cost.getResultBytes() : 0;
}

} // namespace raycc::passes
