//===- FormPlacementGroups.cpp - ray-form-placement-groups ----------------===//
//
// Groups are components of a union-find over candidate ops, built in one walk
// of each graph: O(V + E) per graph.
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

/// Work the pass may move into a group: not in a group, not pinned.
bool isFree(Value pg, SchedulingStrategyAttr strategy) {
  return !pg && (!strategy || strategy.getKind() == SchedulingKind::default_ ||
                 strategy.getKind() == SchedulingKind::spread);
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
    for (GraphOp graph : getOperation().getOps<GraphOp>()) {
      formActorGangs(graph, *strategy, counter);
      formLargeObjectGroups(graph, counter);
    }
  }

  /// Actors whose calls consume each other's results.
  void formActorGangs(GraphOp graph, PlacementStrategy strategy,
                      unsigned &counter) {
    llvm::EquivalenceClasses<Operation *> gangs;
    for (ActorCallOp call : graph.getBodyBlock().getOps<ActorCallOp>()) {
      auto consumer = call.getActor().getDefiningOp<ActorCreateOp>();
      if (!consumer || !isFree(consumer.getPg(), consumer.getStrategyAttr()))
        continue;
      for (Value arg : call.getArgs()) {
        auto producerCall = arg.getDefiningOp<ActorCallOp>();
        if (!producerCall)
          continue;
        auto producer = producerCall.getActor().getDefiningOp<ActorCreateOp>();
        if (producer && producer != consumer &&
            isFree(producer.getPg(), producer.getStrategyAttr()))
          gangs.unionSets(producer, consumer);
      }
    }
    formGroups(gangs, strategy, "gang", counter, [](Operation *m) {
      return actorPlacementResources(cast<ActorCreateOp>(m));
    });
  }

  /// Producers of large objects with their consumers.
  void formLargeObjectGroups(GraphOp graph, unsigned &counter) {
    llvm::EquivalenceClasses<Operation *> groups;
    auto free = [](TaskOp t) { return isFree(t.getPg(), t.getStrategyAttr()); };
    for (TaskOp producer : graph.getBodyBlock().getOps<TaskOp>()) {
      if (!free(producer) || estimatedResultBytes(producer) < largeObjectBytes)
        continue;
      for (Operation *user : producer->getUsers())
        if (auto consumer = dyn_cast<TaskOp>(user); consumer && free(consumer))
          groups.unionSets(producer, consumer);
    }
    formGroups(groups, PlacementStrategy::pack, "data", counter,
               [](Operation *m) { return taskResources(cast<TaskOp>(m)); });
  }

  /// A synthesized group for every component of two or more ops: a bundle
  /// per op (`bundleOf`), each op pinned to its bundle. Tasks also take the
  /// bundle's resources as their own, so they fit it exactly.
  void formGroups(llvm::EquivalenceClasses<Operation *> &components,
                  PlacementStrategy strategy, const std::string &prefix,
                  unsigned &counter,
                  llvm::function_ref<ResourcesAttr(Operation *)> bundleOf) {
    for (auto it = components.begin(); it != components.end(); ++it) {
      if (!(*it)->isLeader())
        continue;
      SmallVector<Operation *> members(components.member_begin(**it),
                                       components.member_end());
      if (members.size() < 2)
        continue;
      llvm::sort(members, [](Operation *a, Operation *b) {
        return a->isBeforeInBlock(b);
      });
      SmallVector<ResourcesAttr> bundles;
      for (Operation *m : members)
        bundles.push_back(bundleOf(m));
      Value pg = createGroup(members.front(), strategy, bundles,
                             prefix + std::to_string(counter++));
      for (auto [i, m] : llvm::enumerate(members)) {
        auto inBundle = SchedulingStrategyAttr::getPlacementGroup(
            m->getContext(), static_cast<int64_t>(i));
        if (auto create = dyn_cast<ActorCreateOp>(m)) {
          create.getPgMutable().assign(pg);
          create.setStrategyAttr(inBundle);
        } else {
          auto task = cast<TaskOp>(m);
          task.setResourcesAttr(bundles[i]);
          task.getPgMutable().assign(pg);
          task.setStrategyAttr(inBundle);
        }
      }
    }
  }

  /// A synthesized group before `first`. Empty bundles (actors that hold
  /// nothing) reserve a token CPU share so the group stays well formed.
  Value createGroup(Operation *first, PlacementStrategy strategy,
                    SmallVectorImpl<ResourcesAttr> &bundles,
                    const std::string &name) {
    OpBuilder b(first);
    for (ResourcesAttr &bundle : bundles)
      if (bundle.empty())
        bundle = ResourcesAttr::getFromUnits(b.getContext(), {{"CPU", 1}});
    auto pg = PlacementGroupOp::create(b, first->getLoc(), strategy, bundles);
    pg.setNameAttr(b.getStringAttr(name));
    pg->setAttr("ray.synthesized", b.getUnitAttr());
    return pg.getPg();
  }
};

} // namespace

} // namespace raycc::passes
