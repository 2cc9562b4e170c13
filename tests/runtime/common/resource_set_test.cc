#include "raycc/runtime/common/resource_set.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/proto/common.pb.h"
#include "raycc/runtime/common/status.h"

namespace raycc {
namespace {

using ::testing::HasSubstr;

ResourceSet Make(std::map<std::string, double> m) {
  auto s = ResourceSet::Create(m);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : ResourceSet();
}

TEST(FixedPointTest, ResolutionIsOneTenThousandth) {
  EXPECT_EQ(FixedPoint::FromDouble(0.5)->units(), 5000);
  EXPECT_EQ(FixedPoint::FromDouble(1)->units(), 10000);
  EXPECT_EQ(FixedPoint::FromDouble(0.00014)->units(), 1);
  EXPECT_EQ(FixedPoint::FromDouble(0.00016)->units(), 2);
}

TEST(FixedPointTest, RepeatedFractionsDoNotDrift) {
  FixedPoint total;
  FixedPoint tenth = *FixedPoint::FromDouble(0.1);
  for (int i = 0; i < 10; ++i) total += tenth;
  EXPECT_EQ(total, *FixedPoint::FromDouble(1.0));  // 0.1 * 10 != 1.0 in double
  for (int i = 0; i < 10; ++i) total -= tenth;
  EXPECT_EQ(total.units(), 0);
}

TEST(FixedPointTest, ToStringIsShortestExact) {
  EXPECT_EQ(FixedPoint::FromUnits(20000).ToString(), "2");
  EXPECT_EQ(FixedPoint::FromUnits(5000).ToString(), "0.5");
  EXPECT_EQ(FixedPoint::FromUnits(1).ToString(), "0.0001");
  EXPECT_EQ(FixedPoint::FromUnits(-12500).ToString(), "-1.25");
  EXPECT_EQ(FixedPoint::FromUnits(-5000).ToString(), "-0.5");
  EXPECT_EQ(FixedPoint().ToString(), "0");
}

TEST(FixedPointTest, RejectsNaNInfinityAndHugeValues) {
  EXPECT_THAT(FixedPoint::FromDouble(std::nan("")).status().message(), HasSubstr("NaN"));
  EXPECT_THAT(FixedPoint::FromDouble(std::numeric_limits<double>::infinity()).status().message(),
              HasSubstr("infinite"));
  EXPECT_THAT(FixedPoint::FromDouble(1e15).status().message(), HasSubstr("exceeds the maximum"));
}

TEST(ResourceSetTest, CreateDropsZerosAndKeepsTheRest) {
  ResourceSet s = Make({{"CPU", 2}, {"GPU", 0}, {"memory", 1e9}});
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.Get("CPU"), *FixedPoint::FromDouble(2));
  EXPECT_EQ(s.Get("GPU"), FixedPoint());
  EXPECT_FALSE(s.Contains("GPU"));
  EXPECT_EQ(s.ToString(), "{CPU: 2, memory: 1000000000}");
}

TEST(ResourceSetTest, RejectsNegativeQuantity) {
  auto s = ResourceSet::Create({{"CPU", -1}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("resource 'CPU' has a negative quantity -1"));
}

TEST(ResourceSetTest, RejectsNaNAndInfinity) {
  auto nan = ResourceSet::Create({{"GPU", std::nan("")}});
  ASSERT_FALSE(nan.ok());
  EXPECT_THAT(nan.status().message(), HasSubstr("resource 'GPU': quantity is NaN"));
  auto inf = ResourceSet::Create({{"GPU", std::numeric_limits<double>::infinity()}});
  EXPECT_THAT(inf.status().message(), HasSubstr("resource 'GPU': quantity is infinite"));
}

TEST(ResourceSetTest, RejectsQuantitiesBelowResolution) {
  auto s = ResourceSet::Create({{"CPU", 0.00001}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("below the resolution of 0.0001"));
}

TEST(ResourceSetTest, RejectsEmptyAndMalformedNames) {
  EXPECT_THAT(ResourceSet::Create({{"", 1}}).status().message(), HasSubstr("resource name is empty"));
  EXPECT_THAT(ResourceSet::Create({{"1CPU", 1}}).status().message(),
              HasSubstr("resource name '1CPU' is invalid"));
  EXPECT_THAT(ResourceSet::Create({{"C PU", 1}}).status().message(), HasSubstr("'C PU' is invalid"));
  EXPECT_THAT(ResourceSet::Create({{std::string(300, 'a'), 1}}).status().message(),
              HasSubstr("longer than 256"));
  EXPECT_TRUE(ResourceSet::Create({{"accelerator_type:H100", 1}, {"node/x-1.y", 1}}).ok());
}

TEST(ResourceSetTest, RejectsDuplicateNames) {
  std::vector<std::pair<std::string, double>> pairs = {{"CPU", 1}, {"CPU", 2}};
  EXPECT_THAT(ResourceSet::Create(pairs).status().message(), HasSubstr("resource 'CPU' is given twice"));
}

TEST(ResourceSetTest, SetValidatesAndZeroRemoves) {
  ResourceSet s;
  EXPECT_TRUE(s.Set("GPU", FixedPoint::FromUnits(5000)).ok());
  EXPECT_EQ(s.ToString(), "{GPU: 0.5}");
  EXPECT_FALSE(s.Set("GPU", FixedPoint::FromUnits(-1)).ok());
  EXPECT_FALSE(s.Set("", FixedPoint::FromUnits(1)).ok());
  EXPECT_TRUE(s.Set("GPU", FixedPoint()).ok());
  EXPECT_TRUE(s.IsEmpty());
}

TEST(ResourceSetTest, AddAndSubtractAreExact) {
  ResourceSet node = Make({{"CPU", 4}, {"GPU", 1}});
  ResourceSet req = Make({{"CPU", 1}, {"GPU", 0.25}});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(node.Subtract(req).ok());
  EXPECT_EQ(node.ToString(), "{}");
  for (int i = 0; i < 4; ++i) node.Add(req);
  EXPECT_EQ(node, Make({{"CPU", 4}, {"GPU", 1}}));
}

TEST(ResourceSetTest, SubtractBeyondAvailableFailsAndChangesNothing) {
  ResourceSet node = Make({{"CPU", 4}, {"GPU", 1}});
  ResourceSet req = Make({{"CPU", 1}, {"GPU", 2}});
  absl::Status s = node.Subtract(req);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("not enough 'GPU': requested 2, available 1"));
  EXPECT_EQ(node, Make({{"CPU", 4}, {"GPU", 1}}));
}

TEST(ResourceSetTest, SubsetAndFits) {
  ResourceSet node = Make({{"CPU", 4}, {"GPU", 1}});
  EXPECT_TRUE(Make({{"CPU", 4}}).IsSubsetOf(node));
  EXPECT_TRUE(ResourceSet().IsSubsetOf(node));
  EXPECT_FALSE(Make({{"CPU", 4.0001}}).IsSubsetOf(node));
  EXPECT_FALSE(Make({{"TPU", 1}}).IsSubsetOf(node));
  EXPECT_THAT(Make({{"TPU", 1}}).CheckFits(node).message(),
              HasSubstr("not enough 'TPU': requested 1, available 0"));
}

TEST(ResourceSetTest, FeasibleWhenSomeNodeFits) {
  std::vector<ResourceSet> nodes = {Make({{"CPU", 2}}), Make({{"CPU", 8}, {"GPU", 2}})};
  EXPECT_TRUE(Make({{"CPU", 4}, {"GPU", 1}}).CheckFeasible(nodes).ok());
}

TEST(ResourceSetTest, UnknownResourceIsInfeasibleAndNamed) {
  std::vector<ResourceSet> nodes = {Make({{"CPU", 2}}), Make({{"CPU", 8}})};
  absl::Status s = Make({{"CPU", 1}, {"TPU", 1}}).CheckFeasible(nodes);
  EXPECT_TRUE(IsInfeasible(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("request {CPU: 1, TPU: 1} is infeasible: no node has resource 'TPU'"));
}

TEST(ResourceSetTest, TooLargeIsInfeasibleAndNamesClosestNode) {
  std::vector<ResourceSet> nodes = {Make({{"CPU", 2}, {"GPU", 1}}), Make({{"CPU", 8}, {"GPU", 1}})};
  absl::Status s = Make({{"CPU", 16}, {"GPU", 1}}).CheckFeasible(nodes);
  EXPECT_TRUE(IsInfeasible(s));
  EXPECT_THAT(s.message(), HasSubstr("exceeds every node; the closest node has {CPU: 8, GPU: 1}"));
}

TEST(ResourceSetTest, NoNodesIsInfeasible) {
  absl::Status s = Make({{"CPU", 1}}).CheckFeasible({});
  EXPECT_TRUE(IsInfeasible(s));
  EXPECT_THAT(s.message(), HasSubstr("the cluster has no nodes"));
}

TEST(ResourceSetTest, ProtoRoundTrip) {
  ResourceSet s = Make({{"CPU", 1.5}, {"GPU", 0.25}, {"custom", 3}});
  proto::ResourceSet message;
  s.ToProto(&message);
  EXPECT_EQ(message.quantities().at("CPU"), 15000);
  std::string wire = message.SerializeAsString();
  proto::ResourceSet parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_EQ(*ResourceSet::FromProto(parsed), s);
}

TEST(ResourceSetTest, FromProtoRejectsBadWireData) {
  proto::ResourceSet message;
  (*message.mutable_quantities())["CPU"] = -5;
  EXPECT_THAT(ResourceSet::FromProto(message).status().message(), HasSubstr("non-positive quantity"));
  message.Clear();
  (*message.mutable_quantities())[""] = 5;
  EXPECT_THAT(ResourceSet::FromProto(message).status().message(), HasSubstr("resource name is empty"));
}

}  // namespace
}  // namespace raycc
