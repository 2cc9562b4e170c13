//===- Plan.h - lowering a graph to its ExecPlan ----------------*- C++ -*-===//

#ifndef RAYCC_PASSES_PLAN_H
#define RAYCC_PASSES_PLAN_H

#include "mlir/Support/LLVM.h"

#include <string>

namespace raycc {
namespace proto {
class ExecPlan;
} // namespace proto
namespace ray {
class GraphOp;
} // namespace ray

namespace passes {

/// The ExecPlan of `graph` (see proto/raycc/proto/exec_plan.proto); fails
/// with a diagnostic on the op that cannot be lowered.
mlir::FailureOr<proto::ExecPlan> lowerGraphToPlan(ray::GraphOp graph,
                                                  llvm::StringRef clusterName,
                                                  unsigned optLevel);

/// The protobuf text form of `plan`, as `raycc compile --emit=plan` prints it.
std::string planToText(const proto::ExecPlan &plan);

} // namespace passes
} // namespace raycc

#endif // RAYCC_PASSES_PLAN_H
