// Simulated logical nodes (Config.nodes): the default hybrid policy, spread,
// node affinity from compiled plans, and the four placement-group
// strategies behave as on a cluster of those nodes.

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// Tasks that must hold their CPUs at the same moment meet here.
raycc_test::Rendezvous together;
/// Says where it ran.
std::string WhereNow() { return raycc::CurrentNodeName(); }
/// Holds its CPU until every task expected at `together` holds its own,
/// then says where it ran ("never together" when they did not within
/// kPatience).
std::string WhereTogether() { return together.ArriveAndWait() ? raycc::CurrentNodeName() : "never together"; }
/// Says which GPUs it holds.
std::vector<int> GpusNow() { return raycc::GetGpuIds(); }
/// Holds its resources until every task expected at `together` holds its
/// own, then says which GPUs it held (none when they never met).
std::vector<int> GpusTogether() { return together.ArriveAndWait() ? raycc::GetGpuIds() : std::vector<int>{}; }

class GpuUser {
 public:
  static GpuUser* Create() { return new GpuUser(); }
  std::vector<int> Gpus() { return raycc::GetGpuIds(); }
};

RAYCC_REMOTE(WhereNow, WhereTogether, GpusNow, GpusTogether, GpuUser::Create, &GpuUser::Gpus);

class SimulatedNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    raycc::Init(
        raycc::Config{.nodes = {{"a", {{"CPU", 2}}}, {"b", {{"CPU", 2}}}, {"c", {{"CPU", 2}, {"GPU", 1}}}}});
  }
  void TearDown() override { raycc::Shutdown(); }

  /// The nodes of one task per bundle of `pg`, all holding their CPUs at once.
  std::vector<std::string> NodesOfBundles(const raycc::PlacementGroup& pg) {
    EXPECT_TRUE(pg.Wait(10));
    together.Reset(pg.BundleCount());
    std::vector<raycc::ObjectRef<std::string>> refs;
    for (int i = 0; i < pg.BundleCount(); ++i)
      refs.push_back(raycc::Task(WhereTogether).SetPlacementGroup(pg, i).Remote());
    std::vector<std::string> nodes;
    for (auto& r : refs) nodes.push_back(*r.Get());
    return nodes;
  }
};

TEST_F(SimulatedNodesTest, TasksFillTheClusterWhenBusy) {
  // Six tasks that each hold one of the six CPUs at once (none returns
  // before all six run) must use all three nodes (two CPUs each).
  together.Reset(6);
  std::vector<raycc::ObjectRef<std::string>> refs;
  for (int i = 0; i < 6; ++i) refs.push_back(raycc::Task(WhereTogether).Remote());
  std::multiset<std::string> nodes;
  for (auto& r : refs) nodes.insert(*r.Get());
  EXPECT_EQ(nodes, (std::multiset<std::string>{"a", "a", "b", "b", "c", "c"}));
  EXPECT_EQ(raycc::CurrentNodeName(), "");  // the driver is on no node
}

TEST_F(SimulatedNodesTest, AResourceOnlyOneNodeHasSendsTheTaskThere) {
  EXPECT_EQ(*raycc::Task(WhereNow).SetResources({{"CPU", 1}, {"GPU", 1}}).Remote().Get(), "c");
  try {
    raycc::Task(WhereNow).SetResources({{"CPU", 3}}).Remote();
    FAIL() << "expected InfeasibleError";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("CPU"));  // no node has 3 CPUs, though the cluster has 6
  }
}

TEST_F(SimulatedNodesTest, SpreadAndNodeAffinityChooseTheNode) {
  std::vector<std::string> spread;
  for (int i = 0; i < 3; ++i) {
    spread.push_back(
        *raycc::Task(WhereNow).SetSchedulingStrategy(raycc::SchedulingStrategy::kSpread).Remote().Get());
  }
  EXPECT_EQ(std::set<std::string>(spread.begin(), spread.end()).size(), 3u);  // round robin over a, b, c
  EXPECT_EQ(*raycc::Task(WhereNow).SetNodeAffinity("b").Remote().Get(), "b");
  EXPECT_THROW(raycc::Task(WhereNow).SetNodeAffinity("nowhere").Remote(), raycc::InfeasibleError);
  EXPECT_NE(*raycc::Task(WhereNow).SetNodeAffinity("nowhere", /*soft=*/true).Remote().Get(), "");
}

TEST_F(SimulatedNodesTest, StrictSpreadPutsEachBundleOnItsOwnNode) {
  auto pg = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}},
                                         .strategy = raycc::PlacementStrategy::kStrictSpread});
  std::vector<std::string> nodes = NodesOfBundles(pg);
  EXPECT_EQ(std::set<std::string>(nodes.begin(), nodes.end()).size(), 3u);
  try {
    raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}},
                                 .strategy = raycc::PlacementStrategy::kStrictSpread});
    FAIL() << "expected InfeasibleError";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("strict_spread needs 4 distinct nodes that each hold a bundle; the runtime has 3"));
  }
}

TEST_F(SimulatedNodesTest, StrictPackPutsEveryBundleOnOneNode) {
  auto pg = raycc::CreatePlacementGroup(
      {.bundles = {{{"CPU", 1}}, {{"CPU", 1}}}, .strategy = raycc::PlacementStrategy::kStrictPack});
  std::vector<std::string> nodes = NodesOfBundles(pg);
  EXPECT_EQ(nodes[0], nodes[1]);
  try {
    raycc::CreatePlacementGroup(
        {.bundles = {{{"CPU", 2}}, {{"CPU", 1}}}, .strategy = raycc::PlacementStrategy::kStrictPack});
    FAIL() << "expected InfeasibleError";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no node can hold all bundles"));
  }
}

TEST_F(SimulatedNodesTest, PackAndSpreadGroupsLargerThanTheClusterNameTheirStrategy) {
  // Each bundle fits a node; the four together (8 CPUs) exceed the cluster (6).
  for (auto [strategy, name] : {std::pair{raycc::PlacementStrategy::kPack, "(pack)"},
                                std::pair{raycc::PlacementStrategy::kSpread, "(spread)"}}) {
    try {
      raycc::CreatePlacementGroup(
          {.bundles = {{{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}}, .strategy = strategy});
      FAIL() << "expected InfeasibleError for " << name;
    } catch (const raycc::InfeasibleError& e) {
      EXPECT_THAT(e.what(), HasSubstr("the runtime's 3 node(s) cannot hold all bundles {CPU: 8} at once"));
      EXPECT_THAT(e.what(), HasSubstr(name));
      EXPECT_THAT(e.what(), Not(HasSubstr("strict_pack")));
    }
  }
}

TEST_F(SimulatedNodesTest, PackPrefersOneNodeAndSpreadPrefersMany) {
  auto packed = raycc::CreatePlacementGroup(
      {.bundles = {{{"CPU", 1}}, {{"CPU", 1}}}, .strategy = raycc::PlacementStrategy::kPack});
  std::vector<std::string> p = NodesOfBundles(packed);
  EXPECT_EQ(p[0], p[1]);
  raycc::RemovePlacementGroup(packed.GetID());
  auto spread = raycc::CreatePlacementGroup(
      {.bundles = {{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}}, .strategy = raycc::PlacementStrategy::kSpread});
  std::vector<std::string> s = NodesOfBundles(spread);
  EXPECT_EQ(std::set<std::string>(s.begin(), s.end()).size(), 3u);
  // Pack that no single node can hold still fits across nodes (best effort).
  raycc::RemovePlacementGroup(spread.GetID());
  auto wide = raycc::CreatePlacementGroup(
      {.bundles = {{{"CPU", 2}}, {{"CPU", 2}}}, .strategy = raycc::PlacementStrategy::kPack});
  std::vector<std::string> w = NodesOfBundles(wide);
  EXPECT_NE(w[0], w[1]);
}

TEST_F(SimulatedNodesTest, AGroupWaitsForRoomThenReserves) {
  // Occupy node capacity with a strict_spread group of 2-CPU bundles.
  auto full = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}},
                                           .strategy = raycc::PlacementStrategy::kStrictSpread});
  ASSERT_TRUE(full.Wait(10));
  auto waiting = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}}});
  EXPECT_FALSE(waiting.Wait(0));
  raycc::RemovePlacementGroup(full.GetID());
  EXPECT_TRUE(waiting.Wait(10));
}

TEST(GpuIdsTest, TasksLearnWhichDevicesTheyHold) {
  raycc::Init(raycc::Config{.num_cpus = 4, .resources = {{"GPU", 2}}});
  EXPECT_TRUE(raycc::GetGpuIds().empty());                    // the driver holds none
  EXPECT_TRUE(raycc::Task(GpusNow).Remote().Get()->empty());  // asked for none
  // Two whole-GPU tasks at once get the two devices.
  together.Reset(2);
  auto a = raycc::Task(GpusTogether).SetResources({{"CPU", 1}, {"GPU", 1}}).Remote();
  auto b = raycc::Task(GpusTogether).SetResources({{"CPU", 1}, {"GPU", 1}}).Remote();
  std::vector<int> ga = *a.Get(), gb = *b.Get();
  ASSERT_EQ(ga.size(), 1u);
  ASSERT_EQ(gb.size(), 1u);
  EXPECT_EQ(std::set<int>({ga[0], gb[0]}), (std::set<int>{0, 1}));
  // Both devices at once, and halves that share one device.
  EXPECT_EQ(*raycc::Task(GpusNow).SetResources({{"CPU", 1}, {"GPU", 2}}).Remote().Get(),
            (std::vector<int>{0, 1}));
  together.Reset(2);
  auto h1 = raycc::Task(GpusTogether).SetResources({{"CPU", 1}, {"GPU", 0.5}}).Remote();
  auto h2 = raycc::Task(GpusTogether).SetResources({{"CPU", 1}, {"GPU", 0.5}}).Remote();
  std::vector<int> g1 = *h1.Get(), g2 = *h2.Get();
  ASSERT_EQ(g1.size(), 1u);
  EXPECT_EQ(g1, g2);
  // An actor holds its device for its life.
  auto user = raycc::Actor(GpuUser::Create).SetResources({{"GPU", 1}}).Remote();
  EXPECT_EQ(user.Task(&GpuUser::Gpus).Remote().Get()->size(), 1u);
  raycc::Shutdown();
}

TEST_F(SimulatedNodesTest, GpuIdsAreTheNodesDevices) {
  EXPECT_EQ(*raycc::Task(GpusNow).SetResources({{"CPU", 1}, {"GPU", 1}}).Remote().Get(),
            (std::vector<int>{0}));
}

TEST(SimulatedNodesConfigTest, BadNodesAreClearErrors) {
  EXPECT_THROW(raycc::Init(raycc::Config{.nodes = {{"", {{"CPU", 1}}}}}), raycc::RayccError);
  try {
    raycc::Init(raycc::Config{.nodes = {{"a", {{"CPU", 1}}}, {"a", {{"CPU", 1}}}}});
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("two nodes are named 'a'"));
  }
  try {
    raycc::Init(raycc::Config{.resources = {{"GPU", 1}}, .nodes = {{"a", {{"CPU", 1}}}}});
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("leave Config.resources empty"));
  }
  try {
    raycc::Init(raycc::Config{.nodes = {{"a", {{"CPU", -1}}}}});
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Config.nodes 'a'"));
  }
  EXPECT_FALSE(raycc::IsInitialized());
}

}  // namespace
