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

ResourcesAttr taskResources(TaskOp task) {
  if (ResourcesAttr own = task.getResourcesAttr())
    return own;
  if (auto callee = SymbolTable::lookupNearestSymbolFrom<RemoteFuncOp>(
          task, task.getCalleeAttr()))
    if (ResourcesAttr declared = callee.getResourcesAttr())
      return declared;
  return oneCpu(task.getContext());
}

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
