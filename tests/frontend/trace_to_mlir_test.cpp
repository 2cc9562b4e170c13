// Traced graphs become verified `ray` IR located at the user's lines; trace
// errors and cross-graph inconsistencies become diagnostics there.

#include <chrono>
#include <source_location>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "raycc/frontend/TraceToMlir.h"
#include "raycc/graph.h"

namespace {

using ::testing::HasSubstr;

int64_t Inc(int64_t x) { return x + 1; }
RAYCC_REMOTE(Inc);

struct Diagnostics {
  explicit Diagnostics(mlir::MLIRContext& ctx)
      : handler(&ctx, [this](mlir::Diagnostic& d) {
          std::string where;
          if (auto fl = llvm::dyn_cast<mlir::FileLineColLoc>(d.getLocation())) {
            where = fl.getFilename().str() + ":" + std::to_string(fl.getLine()) + ": ";
          }
          text += where + d.str() + "\n";
          return mlir::success();
        }) {}
  std::string text;
  mlir::ScopedDiagnosticHandler handler;
};

std::string Print(mlir::ModuleOp module) {
  std::string out;
  llvm::raw_string_ostream os(out);
  mlir::OpPrintingFlags flags;
  flags.enableDebugInfo(true, /*prettyForm=*/false).useLocalScope();
  module.print(os, flags);
  return out;
}

// The module of `graph`, verified, as text ("" and a test failure naming
// the diagnostics when it does not build or verify).
std::string BuildVerified(const raycc::trace::Graph& graph) {
  mlir::MLIRContext ctx;
  Diagnostics diags(ctx);
  auto module = raycc::frontend::buildModule(ctx, {graph});
  if (!module || mlir::failed(mlir::verify(*module))) {
    ADD_FAILURE() << "the module does not build or verify: " << diags.text;
    return "";
  }
  return Print(*module);
}

TEST(TraceToMlirTest, BuildsAVerifiedModuleAtTheUsersLines) {
  raycc::trace::Graph graph;
  graph.name = "inc";
  uint32_t line;
  {
    raycc::GraphBuilder g(&graph);
    auto x = g.Input<int64_t>("x");
    line = std::source_location::current().line() + 1;
    auto y = g.Task(Inc).SetResources({{"CPU", 0.5}}).Call(x);
    g.Output("y", y);
  }
  std::string text = BuildVerified(graph);
  EXPECT_THAT(text, HasSubstr("ray.remote_func @Inc : (i64) -> i64"));
  EXPECT_THAT(text, HasSubstr("ray.graph @inc(%arg0: !ray.ref<i64> {ray.name = \"x\"}"));
  EXPECT_THAT(
      text,
      HasSubstr("ray.task @Inc(%arg0) {resources = #ray.resources<{CPU = 0.5}>} : (!ray.ref<i64>) "
                "-> !ray.ref<i64> loc(\"" +
                std::string(std::source_location::current().file_name()) + "\":" + std::to_string(line)));
}

TEST(TraceToMlirTest, PriorityAndCostReachTheIr) {
  raycc::trace::Graph graph;
  graph.name = "hinted";
  {
    raycc::GraphBuilder g(&graph);
    auto x = g.Input<int64_t>("x");
    auto slow = g.Task(Inc).SetCost(std::chrono::milliseconds(2), 4096).SetPriority(7).Call(x);
    auto quick = g.Task(Inc).SetCost(std::chrono::microseconds(10)).Call(slow);
    g.Output("y", quick);
  }
  std::string text = BuildVerified(graph);
  EXPECT_THAT(text, HasSubstr("cost = #ray.cost<duration_us = 2000, result_bytes = 4096>"));
  EXPECT_THAT(text, HasSubstr("priority = 7 : i64"));
  EXPECT_THAT(text, HasSubstr("cost = #ray.cost<duration_us = 10"));
}

TEST(TraceToMlirTest, ANegativeCostIsAnErrorAtItsLine) {
  raycc::trace::Graph graph;
  graph.name = "bad_cost";
  uint32_t line;
  {
    raycc::GraphBuilder g(&graph);
    auto x = g.Input<int64_t>("x");
    line = std::source_location::current().line() + 1;
    auto y = g.Task(Inc).SetCost(std::chrono::microseconds(-5)).Call(x);
    g.Output("y", y);
  }
  mlir::MLIRContext ctx;
  Diagnostics diags(ctx);
  auto module = raycc::frontend::buildModule(ctx, {graph});
  EXPECT_FALSE(module);
  EXPECT_THAT(diags.text,
              HasSubstr(":" + std::to_string(line) + ": SetCost: the duration must not be negative"));
}

TEST(TraceToMlirTest, TraceErrorsAreDiagnosticsAndNoModule) {
  raycc::trace::Graph graph;
  graph.name = "bad";
  graph.errors.push_back({{"prog.cc", 12, 5}, "something is wrong"});
  mlir::MLIRContext ctx;
  Diagnostics diags(ctx);
  EXPECT_FALSE(raycc::frontend::buildModule(ctx, {graph}));
  EXPECT_EQ(diags.text, "prog.cc:12: something is wrong\n");
}

TEST(TraceToMlirTest, OneNameWithTwoSignaturesAcrossGraphsIsAnError) {
  auto makeGraph = [](const std::string& name, raycc::trace::Type param, uint32_t line) {
    raycc::trace::Graph g;
    g.name = name;
    raycc::trace::Function f;
    f.registered_name = "F";
    f.params = {param};
    f.result = param;
    g.functions.push_back(f);
    raycc::trace::Value constant{.kind = raycc::trace::ValueKind::kConstant, .type = param};
    g.values.push_back(constant);
    g.values.push_back(raycc::trace::Value{.kind = raycc::trace::ValueKind::kRef, .type = param});
    raycc::trace::Op c;
    c.kind = raycc::trace::OpKind::kConstant;
    c.result = 0;
    c.loc = {"prog.cc", line, 1};
    raycc::trace::Op t;
    t.kind = raycc::trace::OpKind::kTask;
    t.operands = {0};
    t.result = 1;
    t.loc = {"prog.cc", line, 3};
    g.ops = {c, t};
    return g;
  };
  raycc::trace::Type i64{raycc::trace::Type::Kind::kInteger, 64, ""};
  raycc::trace::Type f64{raycc::trace::Type::Kind::kFloat, 64, ""};
  mlir::MLIRContext ctx;
  Diagnostics diags(ctx);
  EXPECT_FALSE(raycc::frontend::buildModule(ctx, {makeGraph("a", i64, 3), makeGraph("b", f64, 9)}));
  EXPECT_THAT(diags.text,
              HasSubstr("prog.cc:9: 'F' is used with two signatures: '(i64) -> i64' and '(f64) -> f64'"));
}

}  // namespace
