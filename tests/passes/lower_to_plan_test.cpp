//===- lower_to_plan_test.cpp - the plan carries every decision -----------===//
//
// Runs the -O2 pipeline with a cluster on a graph that exercises every
// decision the passes make, lowers it, sends the plan through its binary wire
// form, and checks each plan node against the op it came from.
//
//===----------------------------------------------------------------------===//

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "raycc/ir/RayOps.h"
#include "raycc/passes/Passes.h"
#include "raycc/passes/Plan.h"
#include "raycc/proto/exec_plan.pb.h"

using namespace mlir;
using namespace raycc::ray;
using ::testing::HasSubstr;

namespace {

constexpr const char* kProgram = R"mlir(
ray.remote_func pure @Load : (i64) -> f64 resources {CPU = 2} {cost = #ray.cost<duration_us = 300, result_bytes = 1000000>}
ray.remote_func pure @Scale : (f64) -> f64
ray.remote_func pure @Clip : (f64) -> f64
ray.remote_func @Train : (f64, f64) -> f64 resources {CPU = 1, GPU = 1}
ray.actor_class @PS : (i64) -> () { ray.actor_method @Apply : (f64) -> f64 }
ray.graph @step(%w: !ray.ref<f64> {ray.name = "w"}, %lr: f64 {ray.name = "lr"})
    -> (!ray.ref<f64> {ray.name = "w_next"}, !ray.token {ray.name = "done"}) {
  %pg = ray.placement_group strict_spread "gpus" {
    ray.bundle {CPU = 1, GPU = 1}
    ray.bundle {CPU = 1, GPU = 1}
  }
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %ps = ray.actor.create @PS(%c0) {max_restarts = 3 : i64, name = "ps"} : (i64) -> !ray.actor<"PS">
  %d0 = ray.task @Load(%c0) {max_retries = 2 : i64} : (i64) -> !ray.ref<f64> loc("train.cc":10:5)
  %d1 = ray.task @Load(%c1) : (i64) -> !ray.ref<f64> loc("train.cc":11:5)
  %s = ray.task @Scale(%d1) : (!ray.ref<f64>) -> !ray.ref<f64>
  %k = ray.task @Clip(%s) : (!ray.ref<f64>) -> !ray.ref<f64>
  %g0 = ray.task @Train(%d0, %lr) in %pg {strategy = #ray.strategy<placement_group bundle 0>, retry_exceptions} : (!ray.ref<f64>, f64) -> !ray.ref<f64>
  %g1 = ray.task @Train(%k, %lr) in %pg {strategy = #ray.strategy<placement_group bundle 1>} : (!ray.ref<f64>, f64) -> !ray.ref<f64>
  %a0 = ray.actor.call %ps @Apply(%g0) : !ray.actor<"PS">, (!ray.ref<f64>) -> !ray.ref<f64>
  %a1 = ray.actor.call %ps @Apply(%g1) : !ray.actor<"PS">, (!ray.ref<f64>) -> !ray.ref<f64>
  %ready = ray.wait %a0, %a1 {num_returns = 2 : i64} : !ray.ref<f64>, !ray.ref<f64>
  ray.output %a1, %ready : !ray.ref<f64>, !ray.token
}
)mlir";

constexpr const char* kCluster = R"json({"name": "lab", "nodes": [
  {"name": "gpu-1", "resources": {"CPU": 8, "GPU": 1}},
  {"name": "gpu-2", "resources": {"CPU": 8, "GPU": 1}},
  {"name": "cpu-1", "resources": {"CPU": 16}}]})json";

class LowerToPlanTest : public ::testing::Test {
 protected:
  LowerToPlanTest() {
    DialectRegistry registry;
    registry.insert<RayDialect, arith::ArithDialect>();
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    llvm::sys::fs::createTemporaryFile("cluster", "json", clusterPath);
    std::error_code ec;
    llvm::raw_fd_ostream os(clusterPath, ec);
    os << kCluster;
  }
  ~LowerToPlanTest() override { llvm::sys::fs::remove(clusterPath); }

  MLIRContext ctx;
  llvm::SmallString<128> clusterPath;
};

std::string functionOf(Operation* op) {
  if (auto t = dyn_cast<TaskOp>(op)) return t.getCallee().str();
  if (auto c = dyn_cast<ActorCallOp>(op))
    return (c.getActor().getType().getClassName() + "::" + c.getMethod()).str();
  if (isa<ActorCreateOp>(op)) return "PS::Create";
  return "";
}

int64_t unitsOf(ResourcesAttr attr, StringRef name) { return attr ? attr.getUnitsOf(name) : 0; }

TEST_F(LowerToPlanTest, EveryDecisionSurvivesTheWire) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(kProgram, &ctx);
  ASSERT_TRUE(module);
  PassManager pm(&ctx);
  raycc::passes::buildCompilePipeline(pm, {2, clusterPath.str().str()});
  ASSERT_TRUE(succeeded(pm.run(*module)));
  GraphOp graph = *module->getOps<GraphOp>().begin();

  FailureOr<raycc::proto::ExecPlan> lowered = raycc::passes::lowerGraphToPlan(graph, "lab", 2);
  ASSERT_TRUE(succeeded(lowered));
  raycc::proto::ExecPlan plan;
  ASSERT_TRUE(plan.ParseFromString(lowered->SerializeAsString()));

  EXPECT_EQ(plan.format_version(), 1u);
  EXPECT_EQ(plan.graph_name(), "step");
  EXPECT_EQ(plan.cluster_name(), "lab");
  EXPECT_EQ(plan.opt_level(), 2u);
  ASSERT_EQ(plan.inputs_size(), 2);
  EXPECT_EQ(plan.inputs(0).name(), "w");
  EXPECT_EQ(plan.inputs(1).type().ir_type(), "f64");
  ASSERT_EQ(plan.outputs_size(), 2);
  EXPECT_EQ(plan.outputs(0).name(), "w_next");
  EXPECT_EQ(plan.outputs(1).name(), "done");

  // The placement group and where its bundles went.
  ASSERT_EQ(plan.placement_groups_size(), 1);
  const auto& group = plan.placement_groups(0);
  auto pgOp = *graph.getBodyBlock().getOps<PlacementGroupOp>().begin();
  EXPECT_EQ(group.name(), "gpus");
  EXPECT_EQ(group.strategy(), raycc::proto::STRICT_SPREAD);
  ASSERT_EQ(group.bundles_size(), 2);
  EXPECT_EQ(group.bundles(0).quantities().at("GPU"), 10000);
  auto nodes = pgOp->getAttrOfType<ArrayAttr>("bundle_nodes");
  ASSERT_TRUE(nodes);
  ASSERT_EQ(group.bundle_nodes_size(), 2);
  EXPECT_NE(group.bundle_nodes(0), group.bundle_nodes(1));
  for (int i = 0; i < 2; ++i) EXPECT_EQ(group.bundle_nodes(i), cast<StringAttr>(nodes[i]).str());

  // Node by node, against the op it came from.
  SmallVector<Operation*> ops;
  for (Operation& op : graph.getBodyBlock())
    if (!isa<OutputOp, PlacementGroupOp>(op) && !matchPattern(&op, m_Constant())) ops.push_back(&op);
  ASSERT_EQ(plan.nodes_size(), static_cast<int>(ops.size()));
  bool sawFused = false, sawPlacement = false, sawCritical = false;
  for (auto [i, op] : llvm::enumerate(ops)) {
    SCOPED_TRACE(op->getName().getStringRef().str() + " " + functionOf(op));
    const auto& node = plan.nodes(i);
    EXPECT_EQ(node.id(), i);
    EXPECT_EQ(node.num_results(), op->getNumResults());
    if (!functionOf(op).empty()) {
      EXPECT_EQ(node.function().name(), functionOf(op));
    }
    if (auto p = op->getAttrOfType<IntegerAttr>("priority")) {
      EXPECT_EQ(node.priority(), p.getInt());
    }
    EXPECT_EQ(node.on_critical_path(), op->hasAttr("ray.critical"));
    sawCritical |= node.on_critical_path();
    if (auto placement = op->getAttrOfType<PlacementAttr>("placement")) {
      sawPlacement = true;
      EXPECT_EQ(node.placement().node_name(), placement.getNode());
      EXPECT_EQ(node.placement().bundle_index(), placement.getBundle());
    }
    if (auto r = op->getAttrOfType<IntegerAttr>("max_retries")) {
      EXPECT_EQ(node.max_retries(), r.getInt());
    }
    if (auto task = dyn_cast<TaskOp>(op)) {
      EXPECT_EQ(node.kind(), raycc::proto::TASK);
      ResourcesAttr res = task.getResourcesAttr();
      ASSERT_TRUE(res) << "resources were inferred";
      for (const char* name : {"CPU", "GPU"}) {
        auto it = node.resources().quantities().find(name);
        int64_t have = it == node.resources().quantities().end() ? 0 : it->second;
        EXPECT_EQ(have, unitsOf(res, name)) << name;
      }
      EXPECT_EQ(node.retry_exceptions(), task.getRetryExceptions());
      if (ArrayAttr fused = task.getFusedAttr()) {
        sawFused = true;
        ASSERT_EQ(node.fused_functions_size(), static_cast<int>(fused.size()));
        for (auto [j, f] : llvm::enumerate(fused))
          EXPECT_EQ(node.fused_functions(j).name(), cast<FlatSymbolRefAttr>(f).getValue());
      }
      if (task.getPg()) {
        EXPECT_EQ(node.scheduling().placement_group().placement_group(), 0u);
        EXPECT_EQ(node.scheduling().placement_group().bundle_index(),
                  task.getStrategyAttr().getBundleIndex());
      }
      if (auto loc = dyn_cast<FileLineColLoc>(op->getLoc())) {
        EXPECT_EQ(node.location().file(), loc.getFilename().str());
        EXPECT_EQ(node.location().line(), loc.getLine());
        EXPECT_EQ(node.location().column(), loc.getColumn());
      }
    }
    if (auto create = dyn_cast<ActorCreateOp>(op)) {
      EXPECT_EQ(node.kind(), raycc::proto::ACTOR_CREATE);
      EXPECT_EQ(node.actor().class_name(), "PS");
      EXPECT_EQ(node.actor().max_restarts(), 3);
      EXPECT_EQ(node.actor().name(), "ps");
      EXPECT_EQ(node.actor().placement_resources().quantities().at("CPU"), 10000);
    }
    if (auto wait = dyn_cast<WaitOp>(op)) {
      EXPECT_EQ(node.kind(), raycc::proto::WAIT);
      EXPECT_EQ(node.wait().num_returns(), 2u);
      EXPECT_EQ(node.wait().timeout_ms(), -1);
    }
  }
  // The second Apply waits for the first through the actor.
  const auto& secondApply = plan.nodes(plan.nodes_size() - 2);
  EXPECT_EQ(secondApply.kind(), raycc::proto::ACTOR_CALL);
  ASSERT_EQ(secondApply.control_deps_size(), 1);
  EXPECT_EQ(secondApply.control_deps(0), static_cast<uint32_t>(plan.nodes_size() - 3));
  // The program was built so that every kind of decision appears.
  EXPECT_TRUE(sawFused) << "Scale -> Clip should fuse";
  EXPECT_TRUE(sawPlacement);
  EXPECT_TRUE(sawCritical);
  // Operands are wired: every node result refers to an earlier node.
  for (const auto& node : plan.nodes())
    for (const auto& operand : node.operands())
      if (operand.has_node_result()) {
        EXPECT_LT(operand.node_result().node(), node.id());
      }
}

TEST_F(LowerToPlanTest, AnUnsupportedConstantIsADiagnostic) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(R"mlir(
    ray.remote_func @F : (tensor<2xf32>) -> f32
    ray.graph @g() -> !ray.ref<f32> {
      %t = arith.constant dense<1.0> : tensor<2xf32>
      %r = ray.task @F(%t) : (tensor<2xf32>) -> !ray.ref<f32>
      ray.output %r : !ray.ref<f32>
    })mlir",
                                                             &ctx);
  ASSERT_TRUE(module);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic& d) {
    diagnostics += d.str();
    return success();
  });
  GraphOp graph = *module->getOps<GraphOp>().begin();
  EXPECT_TRUE(failed(raycc::passes::lowerGraphToPlan(graph, "", 0)));
  EXPECT_THAT(diagnostics, HasSubstr("cannot lower this constant to the plan"));
}

}  // namespace
