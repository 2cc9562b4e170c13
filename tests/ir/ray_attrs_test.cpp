//===- ray_attrs_test.cpp - ray dialect attributes from C++ ---------------===//

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "raycc/ir/RayOps.h"

using namespace mlir;
using namespace raycc::ray;
using ::testing::HasSubstr;

namespace {

class RayAttrsTest : public ::testing::Test {
 protected:
  RayAttrsTest() { ctx.loadDialect<RayDialect>(); }
  MLIRContext ctx;
};

TEST_F(RayAttrsTest, ResourcesAreFixedPointAndSorted) {
  auto r = ResourcesAttr::getFromUnits(&ctx, {{"GPU", 5000}, {"CPU", 10000}, {"x", 0}});
  EXPECT_EQ(r.str(), "{CPU = 1.0, GPU = 0.5}");
  EXPECT_EQ(r.getUnitsOf("GPU"), 5000);
  EXPECT_EQ(r.getUnitsOf("x"), 0);
  // Uniqued: the same set is the same attribute.
  EXPECT_EQ(r, ResourcesAttr::getFromUnits(&ctx, {{"CPU", 10000}, {"GPU", 5000}}));
}

TEST_F(RayAttrsTest, FitsInAndPlus) {
  auto small = ResourcesAttr::getFromUnits(&ctx, {{"CPU", 10000}});
  auto big = ResourcesAttr::getFromUnits(&ctx, {{"CPU", 20000}, {"GPU", 10000}});
  EXPECT_TRUE(small.fitsIn(big));
  EXPECT_FALSE(big.fitsIn(small));
  EXPECT_EQ(small.plus(big).str(), "{CPU = 3.0, GPU = 1.0}");
  EXPECT_TRUE(ResourcesAttr::getFromUnits(&ctx, {}).fitsIn(small));
}

TEST_F(RayAttrsTest, ToUnitsRejectsBadQuantities) {
  std::string error;
  EXPECT_EQ(*ResourcesAttr::toUnits(0.5, error), 5000);
  EXPECT_TRUE(failed(ResourcesAttr::toUnits(-1, error)));
  EXPECT_THAT(error, HasSubstr("negative quantity"));
  EXPECT_TRUE(failed(ResourcesAttr::toUnits(std::nan(""), error)));
  EXPECT_EQ(error, "quantity is NaN");
  EXPECT_TRUE(failed(ResourcesAttr::toUnits(0.00001, error)));
  EXPECT_THAT(error, HasSubstr("below the resolution"));
}

TEST_F(RayAttrsTest, CheckNameMatchesTheRuntimeRules) {
  EXPECT_FALSE(ResourcesAttr::checkName("CPU"));
  EXPECT_FALSE(ResourcesAttr::checkName("accelerator_type:H100"));
  EXPECT_EQ(*ResourcesAttr::checkName(""), "resource name is empty");
  EXPECT_THAT(*ResourcesAttr::checkName("9lives"), HasSubstr("is invalid"));
  EXPECT_THAT(*ResourcesAttr::checkName(std::string(300, 'a')), HasSubstr("longer than 256"));
}

TEST_F(RayAttrsTest, VerifierRejectsHandBuiltBadDictionaries) {
  // Only reachable from C++: the parser never builds these.
  Builder b(&ctx);
  std::string diag;
  auto emit = [&] { return emitError(UnknownLoc::get(&ctx)); };
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic& d) {
    diag = d.str();
    return success();
  });
  auto zero = b.getDictionaryAttr({b.getNamedAttr("CPU", b.getI64IntegerAttr(0))});
  EXPECT_FALSE(ResourcesAttr::getChecked(emit, &ctx, zero));
  EXPECT_THAT(diag, HasSubstr("resource 'CPU' must be positive in #ray.resources, got 0 units"));
  auto notInt = b.getDictionaryAttr({b.getNamedAttr("CPU", b.getF64FloatAttr(1.0))});
  EXPECT_FALSE(ResourcesAttr::getChecked(emit, &ctx, notInt));
  EXPECT_THAT(diag, HasSubstr("must be an i64 count of 1/10000 units"));
}

TEST_F(RayAttrsTest, StrategyVerifierRules) {
  std::string diag;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic& d) {
    diag = d.str();
    return success();
  });
  auto emit = [&] { return emitError(UnknownLoc::get(&ctx)); };
  EXPECT_FALSE(SchedulingStrategyAttr::getChecked(emit, &ctx, SchedulingKind::spread,
                                                  StringAttr::get(&ctx, "n"), false, int64_t{-1}));
  EXPECT_THAT(diag, HasSubstr("only node_affinity names a node or is soft"));
  EXPECT_FALSE(SchedulingStrategyAttr::getChecked(emit, &ctx, SchedulingKind::default_, StringAttr(), false,
                                                  int64_t{3}));
  EXPECT_THAT(diag, HasSubstr("only placement_group has a bundle index"));
  EXPECT_TRUE(SchedulingStrategyAttr::getChecked(emit, &ctx, SchedulingKind::placement_group, StringAttr(),
                                                 false, int64_t{3}));
}

}  // namespace
