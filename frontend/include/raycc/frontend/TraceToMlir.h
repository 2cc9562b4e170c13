//===- TraceToMlir.h - traced graphs to the ray dialect ---------*- C++ -*-===//
//
// Turns what the graph builder recorded (raycc/frontend/trace.h) into a
// module of the `ray` dialect: one ray.remote_func or ray.actor_class per
// function the graphs call, one ray.graph per graph, every op located at the
// user's source line.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_FRONTEND_TRACETOMLIR_H
#define RAYCC_FRONTEND_TRACETOMLIR_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"

#include "raycc/frontend/trace.h"

namespace raycc::frontend {

/// Builds the module. Errors recorded while tracing, and inconsistencies
/// between graphs (one function name with two signatures), are emitted as
/// diagnostics at the user's locations; the result is then null.
mlir::OwningOpRef<mlir::ModuleOp>
buildModule(mlir::MLIRContext &context, llvm::ArrayRef<trace::Graph> graphs);

} // namespace raycc::frontend

#endif // RAYCC_FRONTEND_TRACETOMLIR_H
