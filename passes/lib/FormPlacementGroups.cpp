//===- FormPlacementGroups.cpp - ray-form-placement-groups ----------------===//
//
// Gangs are components of a union-find over the actors whose calls pass each
// other data, built in one walk of each graph: O(V + E) per graph.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"

#include "DependencyGraph.h"
#include "ResourceDefaults.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYFORMPLACEMENTGROUPS
#include "raycc/passes/Passes.h.inc"

namespace {

/// Work the pass may move into a group: not in a group, and placed as the
/// scheduler likes (work the user asked to spread, pinned, or limited to
/// nodes by their labels, stays so).
bool isFree(Value pg, SchedulingStrategyAttr strategy) {
  return !pg && (!strategy || strategy.getKind() == SchedulingKind::default_);
}

struct FormPlacementGroups
    : impl::RayFormPlacementGroupsBase<FormPlacementGroups> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<PlacementStrategy> strategy =
        symbolizePlacementStrategy(gangStrategy);
    if (!strategy) {
      getOperation().emitError()
          << "ray-form-placement-groups: unknown gang-strategy '"
          << gangStrategy
          << "'; expected pack, spread, strict_pack or strict_spread";
      return signalPassFailure();
    }
    unsigned counter = 0;
    for (GraphOp graph : getOperation().getOps<GraphOp>())
      formActorGangs(graph, *strategy, counter);
  }

  /// Actors whose calls consume each other's results, among those that hold
  /// resources while they live: a group reserves exactly what they hold
  /// anyway, so grouping them never makes a program infeasible. (An actor
  /// that holds nothing would make the group reserve something it does not
  /// need; a task's resources are transient, so tasks are never grouped:
  /// the locality of large objects is ray-assign-placement's, a preference.)
  void formActorGangs(GraphOp graph, PlacementStrategy strategy,
                      unsigned &counter) {
    auto candidate = [](ActorCreateOp create) {
      return create && isFree(create.getPg(), create.getStrategyAttr()) &&
             !create.getLabelSelectorAttr() &&
             !actorRunningResources(create).empty();
    };
    llvm::EquivalenceClasses<Operation *> gangs;
    for (ActorCallOp call : graph.getBodyBlock().getOps<ActorCallOp>()) {
      auto consumer = call.getActor().getDefiningOp<ActorCreateOp>();
      if (!candidate(consumer))
        continue;
      for (Value arg : call.getArgs()) {
        auto producerCall = arg.getDefiningOp<ActorCallOp>();
        if (!producerCall)
          continue;
        auto producer = producerCall.getActor().getDefiningOp<ActorCreateOp>();
        if (producer != consumer && candidate(producer))
          gangs.unionSets(producer, consumer);
      }
    }
    for (auto it = gangs.begin(); it != gangs.end(); ++it) {
      if (!(*it)->isLeader())
        continue;
      SmallVector<ActorCreateOp> members;
      for (auto m = gangs.member_begin(**it); m != gangs.member_end(); ++m)
        members.push_back(cast<ActorCreateOp>(*m));
      if (members.size() < 2)
        continue;
      llvm::sort(members, [](ActorCreateOp a, ActorCreateOp b) {
        return a->isBeforeInBlock(b);
      });
      SmallVector<ResourcesAttr> bundles;
      for (ActorCreateOp m : members)
        bundles.push_back(actorRunningResources(m));
      OpBuilder b(members.front());
      auto pg = PlacementGroupOp::create(b, members.front().getLoc(), strategy,
                                         bundles);
      pg.setNameAttr(b.getStringAttr("gang" + std::to_string(counter++)));
      pg->setAttr("ray.synthesized", b.getUnitAttr());
      for (auto [i, m] : llvm::enumerate(members)) {
        m.getPgMutable().assign(pg.getPg());
        m.setStrategyAttr(SchedulingStrategyAttr::getPlacementGroup(
            m->getContext(), static_cast<int64_t>(i)));
        // Its bundle's reservation is what places it.
        m.setPlacementResourcesAttr(bundles[i]);
      }
    }
  }
};

} // namespace

} // namespace raycc::passes
