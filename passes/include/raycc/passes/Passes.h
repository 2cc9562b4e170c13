//===- Passes.h - raycc compiler passes -------------------------*- C++ -*-===//
//
// The passes declared in Passes.td, and the -O0/-O1/-O2 pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_PASSES_PASSES_H
#define RAYCC_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <memory>
#include <string>

namespace raycc::passes {

#define GEN_PASS_DECL
#include "raycc/passes/Passes.h.inc"

/// What the compile pipeline is asked to do.
struct PipelineOptions {
  /// 0: verify, infer resources, lower. 1: + placement checks, priorities,
  /// dead-task elimination and CSE. 2: + fusion and, with a cluster,
  /// placement.
  unsigned optLevel = 2;
  /// Cluster description (JSON); empty for none.
  std::string clusterFile;
  /// A measured timeline (raycc run --timeline) to take durations from;
  /// empty for none.
  std::string profileFile;
};

/// Adds the passes of `options.optLevel` (not the lowering) to `pm`.
void buildCompilePipeline(mlir::OpPassManager &pm,
                          const PipelineOptions &options);

/// Registers every pass and the `ray-compile` pipeline
/// (`--ray-compile="opt-level=2 cluster=FILE"`).
void registerAllRayccPasses();

#define GEN_PASS_REGISTRATION
#include "raycc/passes/Passes.h.inc"

} // namespace raycc::passes

#endif // RAYCC_PASSES_PASSES_H
