//===- PlacementSupport.h - shared by the placement passes ------*- C++ -*-===//

#ifndef RAYCC_PASSES_PLACEMENTSUPPORT_H
#define RAYCC_PASSES_PLACEMENTSUPPORT_H

#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

#include "raycc/ir/LabelSelector.h"
#include "raycc/ir/RayOps.h"
#include "raycc/passes/ClusterDescription.h"

namespace raycc::passes {

/// One distinct node per bundle, each node holding its bundle within
/// `capacity`, found by maximum bipartite matching (Boost); the node index
/// per bundle, or nullopt when no such assignment exists. Among the nodes a
/// bundle may take, those earlier in `preference` are tried first.
std::optional<llvm::SmallVector<int>>
matchDistinctNodes(llvm::ArrayRef<ResourceUnits> bundles,
                   llvm::ArrayRef<ResourceUnits> capacity);

/// How diagnostics name a placement group: `"name"` or `#index`.
std::string describeGroup(ray::PlacementGroupOp pg, unsigned index);

/// `", the closest is "node" with {...}"`, or "" without nodes.
std::string closestNodeText(const ClusterDescription &cluster,
                            const ResourceUnits &demand);

/// A verified op's label selector (the attribute parses: the verifier said
/// so); empty without one.
ray::LabelSelector labelSelectorOf(mlir::DictionaryAttr attr);

/// Whether node `node` of `cluster` satisfies `selector`.
bool nodeMatches(const ClusterDescription &cluster, int node,
                 const ray::LabelSelector &selector);

/// Loads the cluster description named by a pass option, or emits an error
/// on `module`.
std::optional<ClusterDescription> loadCluster(mlir::ModuleOp module,
                                              llvm::StringRef path);

} // namespace raycc::passes

#endif // RAYCC_PASSES_PLACEMENTSUPPORT_H
