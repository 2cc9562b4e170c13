//===- Pipeline.cpp - the -O0/-O1/-O2 pipelines ---------------------------===//

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include "raycc/passes/Passes.h"

using namespace mlir;

namespace raycc::passes {

void buildCompilePipeline(OpPassManager &pm, const PipelineOptions &options) {
  pm.addPass(createRayVerifyGraph());
  pm.addPass(createRayInferResources());
  // Measured durations first: fusion, placement and priorities weigh them.
  if (!options.profileFile.empty())
    pm.addPass(createRayApplyProfile({options.profileFile}));
  if (options.optLevel >= 1) {
    pm.addPass(createRayDeadTaskElim());
    // The dialect's folds and canonicalizations (get(put(x)) -> x, repeated
    // waits, single-token joins), then CSE of what they exposed.
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  if (options.optLevel >= 2) {
    pm.addPass(createRayFuseTasks());
    pm.addPass(createRayFormPlacementGroups());
  }
  // Checks see the groups -O2 formed; placement needs checked groups.
  if (options.optLevel >= 1)
    pm.addPass(createRayCheckPlacement({options.clusterFile}));
  if (options.optLevel >= 2)
    pm.addPass(createRayAssignPlacement({options.clusterFile}));
  if (options.optLevel >= 1)
    pm.addPass(createRayCriticalPath());
}

namespace {
struct CompilePipelineOptions
    : public PassPipelineOptions<CompilePipelineOptions> {
  Option<unsigned> optLevel{*this, "opt-level", llvm::cl::desc("0, 1 or 2"),
                            llvm::cl::init(2)};
  Option<std::string> cluster{*this, "cluster",
                              llvm::cl::desc("cluster description (JSON)"),
                              llvm::cl::init("")};
  Option<std::string> profile{
      *this, "profile",
      llvm::cl::desc("a raycc run --timeline output to take durations from"),
      llvm::cl::init("")};
};
} // namespace

void registerAllRayccPasses() {
  registerRayccPasses();
  PassPipelineRegistration<CompilePipelineOptions>(
      "ray-compile", "the raycc compile pipeline (-O0/-O1/-O2)",
      [](OpPassManager &pm, const CompilePipelineOptions &options) {
        buildCompilePipeline(
            pm, {options.optLevel, options.cluster, options.profile});
      });
}

} // namespace raycc::passes
