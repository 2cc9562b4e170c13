//===- cluster_description_test.cpp - the cluster JSON format -------------===//

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/passes/ClusterDescription.h"

using namespace raycc::passes;
using ::testing::HasSubstr;

namespace {

std::string errorOf(llvm::StringRef json) {
  auto parsed = ClusterDescription::parse(json);
  if (parsed) return "";
  return llvm::toString(parsed.takeError());
}

TEST(ClusterDescriptionTest, ParsesNodesResourcesAndLabels) {
  auto cluster = ClusterDescription::parse(R"({"name": "c", "nodes": [
      {"name": "a", "resources": {"CPU": 4, "GPU": 0.5}, "labels": {"zone": "x"}},
      {"name": "b", "resources": {"CPU": 0}}]})");
  ASSERT_TRUE(static_cast<bool>(cluster)) << llvm::toString(cluster.takeError());
  EXPECT_EQ(cluster->name, "c");
  ASSERT_EQ(cluster->nodes.size(), 2u);
  EXPECT_EQ(cluster->nodes[0].resources.lookup("CPU"), 40000);
  EXPECT_EQ(cluster->nodes[0].resources.lookup("GPU"), 5000);
  EXPECT_EQ(cluster->nodes[0].labels.at("zone"), "x");
  EXPECT_TRUE(cluster->nodes[1].resources.empty()) << "zero quantities are dropped";
  EXPECT_EQ(cluster->find("b"), 1);
  EXPECT_EQ(cluster->find("z"), -1);
}

TEST(ClusterDescriptionTest, ErrorsNameTheField) {
  EXPECT_THAT(errorOf("{"), HasSubstr("not valid JSON"));
  EXPECT_THAT(errorOf("[]"), HasSubstr("top level: must be an object"));
  EXPECT_THAT(errorOf(R"({"nodes": []})"), HasSubstr("nodes: must be a non-empty array"));
  EXPECT_THAT(errorOf(R"({"nodes": [{"resources": {}}]})"),
              HasSubstr("nodes[0].name: must be a non-empty string"));
  EXPECT_THAT(errorOf(R"({"nodes": [{"name": "a", "resources": {"CPU": "4"}}]})"),
              HasSubstr("nodes[0].resources.CPU: must be a number"));
  EXPECT_THAT(errorOf(R"({"nodes": [{"name": "a", "resources": {"bad name": 1}}]})"),
              HasSubstr("nodes[0].resources.bad name: resource name 'bad name' is invalid"));
  EXPECT_THAT(errorOf(R"({"nodes": [{"name": "a", "resources": {"CPU": 0.00001}}]})"),
              HasSubstr("below the resolution"));
  EXPECT_THAT(errorOf(R"({"nodes": [{"name": "a", "resources": {}}], "extra": 1})"),
              HasSubstr("extra: unknown field"));
  EXPECT_THAT(errorOf(R"({"nodes": [{"name": "a", "resources": {}, "labels": {"k": 1}}]})"),
              HasSubstr("nodes[0].labels.k: must be a string"));
}

TEST(ClusterDescriptionTest, PricesAreCheckedAndPriceTheWholeCluster) {
  auto cluster = ClusterDescription::parse(R"({"prices": {"CPU": 0.05, "GPU": 2},
      "nodes": [{"name": "a", "resources": {"CPU": 8, "GPU": 1}},
                {"name": "b", "resources": {"CPU": 0.5, "memory": 100}}]})");
  ASSERT_TRUE(static_cast<bool>(cluster)) << llvm::toString(cluster.takeError());
  // 8.5 CPUs at 0.05 and a GPU at 2; memory has no price.
  EXPECT_DOUBLE_EQ(cluster->pricePerHour(), 8.5 * 0.05 + 2);
  EXPECT_THAT(errorOf(R"({"prices": [], "nodes": [{"name": "a", "resources": {}}]})"),
              HasSubstr("prices: must be an object"));
  EXPECT_THAT(errorOf(R"({"prices": {"CPU": -1}, "nodes": [{"name": "a", "resources": {}}]})"),
              HasSubstr("prices.CPU: must be a number >= 0"));
  EXPECT_THAT(errorOf(R"({"prices": {"bad name": 1}, "nodes": [{"name": "a", "resources": {}}]})"),
              HasSubstr("prices.bad name: resource name 'bad name' is invalid"));
  EXPECT_THAT(errorOf(R"({"prices": {"cpu": 1}, "nodes": [{"name": "a", "resources": {"CPU": 1}}]})"),
              HasSubstr("prices.cpu: no node has resource 'cpu'"));
}

TEST(ClusterDescriptionTest, ClosestNodeAndUnitHelpers) {
  auto cluster = ClusterDescription::parse(R"({"nodes": [
      {"name": "small", "resources": {"CPU": 2, "GPU": 1}},
      {"name": "big", "resources": {"CPU": 16}}]})");
  ASSERT_TRUE(static_cast<bool>(cluster));
  ResourceUnits demand;
  demand["CPU"] = 80000;
  EXPECT_EQ(cluster->closest(demand), 1);
  demand["GPU"] = 10000;
  EXPECT_EQ(cluster->closest(demand), 0);  // big has no GPU at all
  EXPECT_FALSE(fits(demand, cluster->nodes[0].resources));
  EXPECT_EQ(formatUnits(demand), "{CPU = 8.0, GPU = 1.0}");
  ResourceUnits sum;
  addUnits(sum, demand);
  addUnits(sum, demand, -1);
  EXPECT_TRUE(fits(sum, ResourceUnits{}));
  EXPECT_THAT(llvm::toString(ClusterDescription::load("/nonexistent.json").takeError()),
              HasSubstr("cannot read cluster description '/nonexistent.json'"));
}

}  // namespace
