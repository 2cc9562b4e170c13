//===- ir_parse_fuzzer.cpp - fuzz the ray dialect's parser and verifier ---===//
//
// Feeds arbitrary text to the MLIR parser with the ray dialect loaded,
// verifies what parses, and runs the canonicalizer and CSE (the folds) over
// what verifies. Malformed input must end in a diagnostic, never a crash.
//
// Built with libFuzzer (clang) as raycc-ir-fuzzer, and with the project's
// compiler as raycc-ir-fuzz-replay, which runs the same entry point over files.
//
//===----------------------------------------------------------------------===//

#include <cstddef>
#include <cstdint>

#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "raycc/ir/RayOps.h"

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static MLIRContext* ctx = [] {
    DialectRegistry registry;
    registry.insert<raycc::ray::RayDialect, arith::ArithDialect>();
    auto* context = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    context->loadAllAvailableDialects();
    return context;
  }();
  ScopedDiagnosticHandler silence(ctx, [](Diagnostic&) { return success(); });
  StringRef text(reinterpret_cast<const char*>(data), size);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, ctx);
  if (!module) return 0;
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  PassManager pm(ctx);
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (succeeded(pm.run(*module))) module->print(os);
  return 0;
}
