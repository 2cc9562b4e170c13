//===- ray_builder_test.cpp - the C++ builder API of the dialect ----------===//
//
// What the frontend does: build a module with OpBuilder, verify it, print it,
// parse it back.
//
//===----------------------------------------------------------------------===//

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "raycc/ir/RayOps.h"

using namespace mlir;
using namespace raycc::ray;
using ::testing::HasSubstr;

namespace {

class RayBuilderTest : public ::testing::Test {
 protected:
  RayBuilderTest() : builder(&ctx) {
    ctx.loadDialect<RayDialect, arith::ArithDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// Verifies the module, collecting diagnostics into `diagnostics`.
  LogicalResult verifyModule() {
    diagnostics.clear();
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic& d) {
      diagnostics += d.str() + "\n";
      return success();
    });
    return verify(*module);
  }

  std::string print() {
    std::string out;
    llvm::raw_string_ostream os(out);
    module->print(os);
    return out;
  }

  Location loc(StringRef file, unsigned line, unsigned col) {
    return FileLineColLoc::get(&ctx, file, line, col);
  }

  MLIRContext ctx;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  std::string diagnostics;
};

TEST_F(RayBuilderTest, BuildsVerifiesPrintsAndReparsesAGraph) {
  Type vec = CppType::get(&ctx, "std::vector<double>");
  Type i64 = builder.getI64Type();
  auto load =
      RemoteFuncOp::create(builder, loc("prog.cc", 3, 1), "LoadShard", builder.getFunctionType({i64}, {vec}));
  load.setPure(true);
  auto grad = RemoteFuncOp::create(builder, loc("prog.cc", 4, 1), "Gradient",
                                   builder.getFunctionType({vec, vec}, {vec}));
  auto cls =
      ActorClassOp::create(builder, loc("prog.cc", 6, 1), "ParamServer", builder.getFunctionType({i64}, {}));
  ActorMethodOp apply;
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToEnd(&cls.getBody().front());
    apply =
        ActorMethodOp::create(builder, loc("prog.cc", 9, 3), "Apply", builder.getFunctionType({vec}, {vec}));
  }

  Type ref = RefType::get(vec);
  auto graph =
      GraphOp::create(builder, loc("prog.cc", 12, 1), "train_step", builder.getFunctionType({ref}, {ref}));
  builder.setInsertionPointToEnd(&graph.getBodyBlock());
  ResourcesAttr cpu1 = ResourcesAttr::getFromUnits(&ctx, {{"CPU", 10000}});
  auto pg = PlacementGroupOp::create(builder, loc("prog.cc", 13, 13), PlacementStrategy::spread,
                                     ArrayRef<ResourcesAttr>{cpu1, cpu1});
  Value c8 = arith::ConstantIntOp::create(builder, loc("prog.cc", 14, 13), 8, 64);
  auto ps = ActorCreateOp::create(builder, loc("prog.cc", 14, 13), cls, ValueRange{c8});
  Value w = graph.getBodyBlock().getArgument(0);
  for (int64_t i = 0; i < 2; ++i) {
    Value idx = arith::ConstantIntOp::create(builder, loc("prog.cc", 17, 5), i, 64);
    auto data = TaskOp::create(builder, loc("prog.cc", 17, 17), load, ValueRange{idx});
    data.getPgMutable().assign(pg);
    data.setStrategyAttr(SchedulingStrategyAttr::getPlacementGroup(&ctx, i));
    auto g = TaskOp::create(builder, loc("prog.cc", 18, 17), grad, ValueRange{w, data.getResult(0)});
    auto call =
        ActorCallOp::create(builder, loc("prog.cc", 19, 9), ps.getActor(), apply, ValueRange{g.getResult(0)});
    w = call.getResult(0);
  }
  OutputOp::create(builder, loc("prog.cc", 21, 3), ValueRange{w});

  ASSERT_TRUE(succeeded(verifyModule())) << diagnostics;
  std::string text = print();
  EXPECT_THAT(text, HasSubstr("ray.placement_group spread {"));
  EXPECT_THAT(text, HasSubstr("ray.task @LoadShard(%c0_i64) in %0 {strategy = "
                              "#ray.strategy<placement_group bundle 0>}"));
  EXPECT_THAT(text, HasSubstr("ray.actor.call %1 @Apply("));

  // The printed form parses back to an equal module.
  OwningOpRef<ModuleOp> reparsed = parseSourceString<ModuleOp>(text, &ctx);
  ASSERT_TRUE(reparsed);
  std::string again;
  llvm::raw_string_ostream os(again);
  reparsed->print(os);
  EXPECT_EQ(again, text);
}

TEST_F(RayBuilderTest, SourceLocationsReachDiagnostics) {
  Type i64 = builder.getI64Type();
  RemoteFuncOp::create(builder, loc("prog.cc", 3, 1), "F", builder.getFunctionType({i64}, {i64}));
  auto graph = GraphOp::create(builder, loc("prog.cc", 10, 1), "g", builder.getFunctionType({}, {}));
  builder.setInsertionPointToEnd(&graph.getBodyBlock());
  // Two arguments for a one-argument function, at the user's line 11.
  Value c = arith::ConstantIntOp::create(builder, loc("prog.cc", 11, 5), 1, 64);
  TaskOp::create(builder, loc("prog.cc", 11, 20), TypeRange{RefType::get(i64)}, "F", ValueRange{c, c});
  OutputOp::create(builder, loc("prog.cc", 12, 3));

  diagnostics.clear();
  std::string where;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic& d) {
    diagnostics += d.str();
    if (auto fl = dyn_cast<FileLineColLoc>(d.getLocation()))
      where = (fl.getFilename().str() + ":" + std::to_string(fl.getLine()) + ":" +
               std::to_string(fl.getColumn()));
    return success();
  });
  ASSERT_TRUE(failed(verify(*module)));
  EXPECT_THAT(diagnostics, HasSubstr("@F takes 1 argument(s) but 2 were given"));
  EXPECT_EQ(where, "prog.cc:11:20");
}

TEST_F(RayBuilderTest, AValueFromAnotherGraphIsRejected) {
  Type i64 = builder.getI64Type();
  RemoteFuncOp::create(builder, builder.getUnknownLoc(), "F", builder.getFunctionType({i64}, {i64}));
  auto a = GraphOp::create(builder, builder.getUnknownLoc(), "a", builder.getFunctionType({i64}, {}));
  auto b = GraphOp::create(builder, builder.getUnknownLoc(), "b", builder.getFunctionType({}, {}));
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToEnd(&a.getBodyBlock());
    OutputOp::create(builder, builder.getUnknownLoc());
  }
  builder.setInsertionPointToEnd(&b.getBodyBlock());
  // A value of graph @a used in graph @b.
  TaskOp::create(builder, builder.getUnknownLoc(), TypeRange{RefType::get(i64)}, "F",
                 ValueRange{a.getBodyBlock().getArgument(0)});
  OutputOp::create(builder, builder.getUnknownLoc());
  ASSERT_TRUE(failed(verifyModule()));
  EXPECT_THAT(diagnostics, HasSubstr("using value defined outside the region"));
}

TEST_F(RayBuilderTest, TaskBuilderInfersRefResultsFromTheCallee) {
  Type i64 = builder.getI64Type(), f32 = builder.getF32Type();
  auto f =
      RemoteFuncOp::create(builder, builder.getUnknownLoc(), "F", builder.getFunctionType({i64}, {i64, f32}));
  auto graph = GraphOp::create(builder, builder.getUnknownLoc(), "g", builder.getFunctionType({i64}, {}));
  builder.setInsertionPointToEnd(&graph.getBodyBlock());
  auto task =
      TaskOp::create(builder, builder.getUnknownLoc(), f, ValueRange{graph.getBodyBlock().getArgument(0)});
  OutputOp::create(builder, builder.getUnknownLoc());
  ASSERT_EQ(task.getNumResults(), 2u);
  EXPECT_EQ(task.getResult(0).getType(), RefType::get(i64));
  EXPECT_EQ(task.getResult(1).getType(), RefType::get(f32));
  EXPECT_TRUE(succeeded(verifyModule())) << diagnostics;
}

TEST_F(RayBuilderTest, PureTasksHaveNoEffectsImpureOnesDo) {
  Type i64 = builder.getI64Type();
  auto pure =
      RemoteFuncOp::create(builder, builder.getUnknownLoc(), "P", builder.getFunctionType({i64}, {i64}));
  pure.setPure(true);
  auto impure =
      RemoteFuncOp::create(builder, builder.getUnknownLoc(), "I", builder.getFunctionType({i64}, {i64}));
  auto graph = GraphOp::create(builder, builder.getUnknownLoc(), "g", builder.getFunctionType({i64}, {}));
  builder.setInsertionPointToEnd(&graph.getBodyBlock());
  Value x = graph.getBodyBlock().getArgument(0);
  auto p = TaskOp::create(builder, builder.getUnknownLoc(), pure, ValueRange{x});
  auto i = TaskOp::create(builder, builder.getUnknownLoc(), impure, ValueRange{x});
  OutputOp::create(builder, builder.getUnknownLoc());
  EXPECT_TRUE(isMemoryEffectFree(p));
  EXPECT_FALSE(isMemoryEffectFree(i));
}

}  // namespace
