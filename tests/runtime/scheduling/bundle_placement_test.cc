#include "scheduling/bundle_placement.h"

#include "gtest/gtest.h"
#include "scheduling_test_util.h"

namespace raycc::scheduling {
namespace {

using testing::U;

struct Case {
  const char* what;
  std::vector<double> bundle_cpus;
  BundleStrategy strategy;
  std::vector<double> node_cpus;  // free CPUs per node
  std::vector<int> where;         // empty: does not fit
};

std::vector<Units> Cpus(const std::vector<double>& v) {
  std::vector<Units> out;
  for (double q : v) out.push_back(U({{"CPU", q}}));
  return out;
}

TEST(BundlePlacementTest, EachStrategyKeepsItsPromise) {
  using S = BundleStrategy;
  const Case cases[] = {
      {"pack: one node holds all", {1, 1}, S::kPack, {4, 4}, {0, 0}},
      {"pack: the first node that holds all", {2, 2}, S::kPack, {3, 4}, {1, 1}},
      {"pack: as few nodes as it takes", {2, 2, 2}, S::kPack, {4, 2}, {0, 0, 1}},
      {"pack: too big altogether", {3, 3}, S::kPack, {2, 2}, {}},
      {"strict_pack: one node or nothing", {2, 2}, S::kStrictPack, {3, 3}, {}},
      {"strict_pack: fits", {1, 2}, S::kStrictPack, {2, 3}, {1, 1}},
      {"spread: distinct nodes", {1, 1, 1}, S::kSpread, {4, 4, 4}, {0, 1, 2}},
      {"spread: more bundles than nodes", {1, 1, 1}, S::kSpread, {4, 4}, {0, 1, 0}},
      {"spread: skips a full node", {1, 1}, S::kSpread, {0, 1, 1}, {1, 2}},
      {"strict_spread: distinct nodes", {1, 1}, S::kStrictSpread, {1, 1}, {0, 1}},
      {"strict_spread: too few nodes", {1, 1, 1}, S::kStrictSpread, {4, 4}, {}},
      // Greedy would put the small bundle on the big node first and fail.
      {"strict_spread: backtracks", {1, 3}, S::kStrictSpread, {3, 1}, {1, 0}},
      {"strict_spread: no node for the big one", {3, 3}, S::kStrictSpread, {3, 2}, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PlaceBundles(Cpus(c.bundle_cpus), c.strategy, Cpus(c.node_cpus)), c.where) << c.what;
  }
}

TEST(BundlePlacementTest, MixedResourcesMustAllFit) {
  std::vector<Units> bundles = {U({{"CPU", 1}, {"GPU", 1}})};
  std::vector<Units> nodes = {U({{"CPU", 8}}), U({{"CPU", 1}, {"GPU", 1}})};
  EXPECT_EQ(PlaceBundles(bundles, BundleStrategy::kPack, nodes), (std::vector<int>{1}));
}

TEST(BundlePlacementTest, PinnedBundlesGoWhereTheyArePinnedOrWait) {
  struct Case {
    const char* what;
    std::vector<double> bundle_cpus;
    std::vector<int> pinned;
    std::vector<double> node_cpus;
    std::vector<int> where;
  };
  const std::vector<Case> cases = {
      {"each on its node", {1, 2}, {1, 0}, {2, 2}, {1, 0}},
      {"two on one node that holds both", {1, 1}, {0, 0}, {2, 0}, {0, 0}},
      {"two on one node that holds one: wait", {2, 1}, {0, 0}, {2, 4}, {}},
      {"no room where pinned, though another node has some: wait", {1}, {0}, {0, 8}, {}},
      {"a pin to no node", {1}, {2}, {1, 1}, {}},
      {"a pin missing", {1, 1}, {0}, {4}, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PlacePinnedBundles(Cpus(c.bundle_cpus), c.pinned, Cpus(c.node_cpus)), c.where) << c.what;
  }
}

}  // namespace
}  // namespace raycc::scheduling
