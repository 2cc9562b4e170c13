//===- DeadTaskElim.cpp - ray-dead-task-elim ------------------------------===//

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/STLExtras.h"

#include "raycc/ir/RayOps.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYDEADTASKELIM
#include "raycc/passes/Passes.h.inc"

namespace {
struct DeadTaskElim : impl::RayDeadTaskElimBase<DeadTaskElim> {
  void runOnOperation() override {
    // Users come after their producers in a graph body, so one walk from the
    // end removes whole dead chains.
    for (GraphOp graph : getOperation().getOps<GraphOp>()) {
      Operation *op = graph.getBodyBlock().getTerminator()->getPrevNode();
      while (op) {
        Operation *previous = op->getPrevNode();
        if (isOpTriviallyDead(op))
          op->erase();
        op = previous;
      }
    }
  }
};
} // namespace

} // namespace raycc::passes
