//===- pipeline_fuzzer.cpp - fuzz the compile pipeline and cluster files --===//
//
// Two entry points a malformed input must never crash:
//  - RayccFuzzPipeline: IR text, parsed and verified, then the -O0, -O1 and
//    -O2 pipelines against a cluster description, and the lowering to
//    plans (what `raycc compile` runs on a program);
//  - RayccFuzzCluster: a cluster description (JSON), parsed, and when it
//    parses, used by the placement check and assignment on a small graph.
// Errors must end as diagnostics or a failed pass, never as a crash, an
// assertion or a hang. The driver (mutate_main.cpp) mutates seeds.
//
//===----------------------------------------------------------------------===//

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "raycc/ir/RayOps.h"
#include "raycc/passes/ClusterDescription.h"
#include "raycc/passes/Passes.h"

using namespace mlir;

namespace {

MLIRContext& context() {
  static MLIRContext* ctx = [] {
    DialectRegistry registry;
    registry.insert<raycc::ray::RayDialect, arith::ArithDialect>();
    auto* c = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

/// A path under the temp dir holding `text` (rewritten per call).
std::string writeTemp(const char* name, const std::string& text) {
  llvm::SmallString<128> path;
  llvm::sys::path::system_temp_directory(true, path);
  llvm::sys::path::append(path, "raycc-fuzz-" + std::to_string(::getpid()) + "-" + name);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  out << text;
  return path.str().str();
}

const char* kCluster = R"({"name": "fuzz", "nodes": [
  {"name": "a", "resources": {"CPU": 4, "GPU": 1}, "labels": {"zone": "x"}},
  {"name": "b", "resources": {"CPU": 2}},
  {"name": "c", "resources": {"CPU": 8, "memory": 1e9}}]})";

const char* kGraph = R"(
ray.remote_func @F : (i64) -> i64
ray.remote_func @G : (i64) -> i64 resources {CPU = 2}
ray.actor_class @A : () -> () attributes {resources = #ray.resources<{CPU = 1}>} {
  ray.actor_method @m : (i64) -> i64
}
ray.graph @g(%x: i64) -> !ray.ref<i64> {
  %pg = ray.placement_group strict_spread "p" { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  %a = ray.task @F(%x) : (i64) -> !ray.ref<i64>
  %b = ray.task @G(%a) in %pg {strategy = #ray.strategy<placement_group bundle 1>} : (!ray.ref<i64>) -> !ray.ref<i64>
  %c = ray.actor.create @A() : () -> !ray.actor<"A">
  %d = ray.actor.call %c @m(%b) : !ray.actor<"A">, (!ray.ref<i64>) -> !ray.ref<i64>
  ray.output %d : !ray.ref<i64>
}
)";

long lowered = 0;  // inputs some -O level compiled and lowered to plans

/// Runs the pipelines on `module` (a fresh copy per level).
void runPipelines(ModuleOp module, const std::string& cluster) {
  for (unsigned level = 0; level <= 2; ++level) {
    OwningOpRef<ModuleOp> copy(module.clone());
    PassManager pm(&context());
    raycc::passes::buildCompilePipeline(pm, {level, cluster});
    if (failed(pm.run(*copy))) continue;
    PassManager lower(&context());
    raycc::passes::RayLowerToPlanOptions options;
    options.output = "/dev/null";
    options.optLevel = level;
    lower.addPass(raycc::passes::createRayLowerToPlan(options));
    lowered += succeeded(lower.run(*copy));
  }
}

}  // namespace

/// How many inputs reached the pipelines (IR that verified, clusters that
/// parsed): the driver reports them, so a run that exercised nothing shows.
extern "C" long rayccFuzzReachedPipelines = 0;
extern "C" long rayccFuzzLowered() { return lowered; }

extern "C" int RayccFuzzPipeline(const uint8_t* data, size_t size) {
  static const std::string cluster = writeTemp("cluster.json", kCluster);
  ScopedDiagnosticHandler silence(&context(), [](Diagnostic&) { return success(); });
  llvm::StringRef text(reinterpret_cast<const char*>(data), size);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context());
  if (!module || failed(verify(*module))) return 0;
  ++rayccFuzzReachedPipelines;
  runPipelines(*module, cluster);
  return 0;
}

extern "C" int RayccFuzzCluster(const uint8_t* data, size_t size) {
  ScopedDiagnosticHandler silence(&context(), [](Diagnostic&) { return success(); });
  std::string json(reinterpret_cast<const char*>(data), size);
  llvm::Expected<raycc::passes::ClusterDescription> parsed = raycc::passes::ClusterDescription::parse(json);
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return 0;
  }
  static OwningOpRef<ModuleOp> graph = parseSourceString<ModuleOp>(kGraph, &context());
  if (!graph) return 0;
  ++rayccFuzzReachedPipelines;
  runPipelines(*graph, writeTemp("fuzzed.json", json));
  return 0;
}
