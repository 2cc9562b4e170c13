//===- ResourceDefaults.h - what a call site asks for -----------*- C++ -*-===//
//
// The resources a task or actor asks for once defaults apply, shared by
// ray-infer-resources and the placement passes (which also run on IR that was
// not through inference).
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_PASSES_RESOURCEDEFAULTS_H
#define RAYCC_PASSES_RESOURCEDEFAULTS_H

#include "raycc/ir/RayOps.h"
#include "raycc/passes/ClusterDescription.h"

namespace raycc::passes {

/// 1 CPU.
ray::ResourcesAttr oneCpu(mlir::MLIRContext *ctx);
/// The task's resources: its own, else its callee's, else 1 CPU.
ray::ResourcesAttr taskResources(ray::TaskOp task);
/// What each shard of a map asks for: as taskResources.
ray::ResourcesAttr shardResources(ray::MapOp map);
/// What placing the actor needs: its placement_resources, else its
/// resources, else its class's, else 1 CPU.
ray::ResourcesAttr actorPlacementResources(ray::ActorCreateOp create);
/// What the actor holds while alive: its resources, else its class's, else
/// nothing.
ray::ResourcesAttr actorRunningResources(ray::ActorCreateOp create);
/// The attribute as a map.
ResourceUnits toUnits(ray::ResourcesAttr attr);

} // namespace raycc::passes

#endif // RAYCC_PASSES_RESOURCEDEFAULTS_H
