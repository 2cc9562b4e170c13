//===- raycc-opt.cpp - the mlir-opt of the ray dialect ----------*- C++ -*-===//
//
// Parses, verifies, transforms and prints `ray` dialect IR. Used by the lit
// tests and by anyone inspecting what the compiler does.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

#include "raycc/ir/RayOps.h"
#include "raycc/passes/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  // arith holds the constants a traced graph passes by value.
  registry.insert<raycc::ray::RayDialect, mlir::arith::ArithDialect>();
  // The upstream passes that make sense on task graphs.
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  mlir::registerInlinerPass();
  raycc::passes::registerAllRayccPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "raycc-opt: optimizer driver for the ray dialect\n",
      registry));
}
