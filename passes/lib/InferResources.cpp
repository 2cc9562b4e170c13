//===- InferResources.cpp - ray-infer-resources ---------------------------===//

#include "ResourceDefaults.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYINFERRESOURCES
#include "raycc/passes/Passes.h.inc"

ResourcesAttr oneCpu(MLIRContext *ctx) {
  return ResourcesAttr::getFromUnits(ctx, {{"CPU", ResourcesAttr::kScale}});
}

/// A call's resources: its own, else its callee's, else 1 CPU.
template <typename CallOp> static ResourcesAttr callResources(CallOp call) {
  if (ResourcesAttr own = call.getResourcesAttr())
    return own;
  if (auto callee = SymbolTable::lookupNearestSymbolFrom<RemoteFuncOp>(
          call, call.getCalleeAttr()))
    if (ResourcesAttr declared = callee.getResourcesAttr())
      return declared;
  return oneCpu(call.getContext());
}

ResourcesAttr taskResources(TaskOp task) { return callResources(task); }

ResourcesAttr shardResources(MapOp map) { return callResources(map); }

static ResourcesAttr classResources(ActorCreateOp create) {
  if (auto cls = SymbolTable::lookupNearestSymbolFrom<ActorClassOp>(
          create, create.getActorClassAttr()))
    return cls.getResourcesAttr();
  return {};
}

ResourcesAttr actorPlacementResources(ActorCreateOp create) {
  if (ResourcesAttr own = create.getPlacementResourcesAttr())
    return own;
  if (ResourcesAttr own = create.getResourcesAttr())
    return own;
  if (ResourcesAttr declared = classResources(create))
    return declared;
  return oneCpu(create.getContext());
}

ResourcesAttr actorRunningResources(ActorCreateOp create) {
  if (ResourcesAttr own = create.getResourcesAttr())
    return own;
  if (ResourcesAttr declared = classResources(create))
    return declared;
  return ResourcesAttr::getFromUnits(create.getContext(), {});
}

ResourceUnits toUnits(ResourcesAttr attr) {
  ResourceUnits units;
  if (attr)
    for (NamedAttribute e : attr.getUnits())
      units[e.getName()] = cast<IntegerAttr>(e.getValue()).getInt();
  return units;
}

namespace {
struct InferResources : impl::RayInferResourcesBase<InferResources> {
  void runOnOperation() override {
    getOperation().walk([](Operation *op) {
      if (auto task = dyn_cast<TaskOp>(op)) {
        task.setResourcesAttr(taskResources(task));
      } else if (auto map = dyn_cast<MapOp>(op)) {
        map.setResourcesAttr(shardResources(map));
      } else if (auto create = dyn_cast<ActorCreateOp>(op)) {
        // Order matters: both defaults look at the explicit settings.
        ResourcesAttr placing = actorPlacementResources(create);
        ResourcesAttr running = actorRunningResources(create);
        create.setPlacementResourcesAttr(placing);
        create.setResourcesAttr(running);
      }
    });
  }
};
} // namespace

} // namespace raycc::passes
