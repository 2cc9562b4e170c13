#include "scheduling/cluster_resources.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduling_test_util.h"

namespace raycc::scheduling {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeCluster;
using testing::R;
using testing::U;

TEST(ClusterResourcesTest, NodesNeedDistinctNames) {
  ClusterResources cluster;
  EXPECT_TRUE(cluster.AddNode("a", ResourceSet()).ok());
  absl::StatusOr<int> again = cluster.AddNode("a", ResourceSet());
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), HasSubstr("two nodes are named 'a'"));
  EXPECT_FALSE(cluster.AddNode("", ResourceSet()).ok());
  EXPECT_EQ(cluster.Find("a"), 0);
  EXPECT_EQ(cluster.Find("b"), -1);
}

TEST(ClusterResourcesTest, FitsTreatsMissingNamesAsZero) {
  struct Case {
    std::map<std::string, double> demand, available;
    bool fits;
  };
  const Case cases[] = {
      {{}, {}, true},
      {{{"CPU", 1}}, {{"CPU", 1}}, true},
      {{{"CPU", 1.5}}, {{"CPU", 1}}, false},
      {{{"GPU", 0.5}}, {{"CPU", 4}}, false},
      {{{"CPU", 0.0001}}, {{"CPU", 0.0001}}, true},
      {{{"CPU", 1}, {"mem", 2}}, {{"CPU", 1}, {"mem", 1.9999}}, false},
  };
  for (const Case& c : cases) EXPECT_EQ(Fits(U(c.demand), U(c.available)), c.fits);
}

TEST(ClusterResourcesTest, AcquireAndReleaseBalance) {
  ClusterResources cluster = MakeCluster({{"a", {{"CPU", 2}}}});
  EXPECT_TRUE(cluster.CanRun(R({{"CPU", 2}}), 0));
  cluster.Acquire(U({{"CPU", 1.5}}), 0);
  EXPECT_FALSE(cluster.CanRun(R({{"CPU", 1}}), 0));
  EXPECT_TRUE(cluster.CanEverRun(R({{"CPU", 1}}), 0));
  EXPECT_DOUBLE_EQ(cluster.Utilization(R({{"CPU", 1}}), 0), 0.75);
  cluster.Release(U({{"CPU", 1.5}}), 0);
  EXPECT_EQ(cluster.node(0).available, cluster.node(0).total);
}

TEST(ClusterResourcesTest, FractionalGpusPackOntoTheFullestDevice) {
  ClusterResources cluster = MakeCluster({{"a", {{"GPU", 2}}}});
  ResourceRequest half = R({{"GPU", 0.5}});
  EXPECT_EQ(half.gpu, 5000);
  EXPECT_THAT(cluster.TakeGpus(half, 0), ElementsAre(0));
  EXPECT_THAT(cluster.TakeGpus(half, 0), ElementsAre(0));  // device 0 again: it is fuller
  EXPECT_THAT(cluster.TakeGpus(half, 0), ElementsAre(1));
  // One and a half devices' worth takes two whole devices: none is whole now.
  EXPECT_FALSE(cluster.CanRun(R({{"GPU", 1.5}}), 0));
  EXPECT_TRUE(cluster.CanRun(R({{"GPU", 0.5}}), 0));
  cluster.ReleaseGpus(half, 0, {1});
  EXPECT_THAT(cluster.TakeGpus(R({{"GPU", 1}}), 0), ElementsAre(1));
}

TEST(ClusterResourcesTest, GroupGpuDemandCountsOnce) {
  // A task in bundle 0 of a group asks GPU under two renamed names; it
  // needs its devices once, not twice.
  ResourceRequest r = ResourceRequest::Of(U({{"GPU_group_0_ab", 1}, {"GPU_group_ab", 1}}));
  EXPECT_EQ(r.gpu, FixedPoint::kScale);
}

TEST(ClusterResourcesTest, BundlesMoveResourcesToGroupNamesAndBack) {
  ClusterResources cluster = MakeCluster({{"a", {{"CPU", 4}}}});
  Units bundle = U({{"CPU", 2}});
  cluster.CommitBundle(bundle, 0, "_ff", 0);
  const Units& on = cluster.node(0).available;
  EXPECT_EQ(on.at("CPU"), 20000);
  EXPECT_EQ(on.at("CPU_group_ff"), 20000);
  EXPECT_EQ(on.at("CPU_group_0_ff"), 20000);
  cluster.ReturnBundle(bundle, 0);
  cluster.DropGroupResources("_ff");
  EXPECT_EQ(cluster.node(0).available, cluster.node(0).total);
}

TEST(ClusterResourcesTest, CapacityComesAndGoesAndWhatIsHeldIsNeverFreedTwice) {
  // A raylet's committed bundle: its renamed resources join the node's
  // total and free resources, and leave again when it is cancelled, even
  // while work holds some of them (what is free is cut, never negative).
  ClusterResources cluster = MakeCluster({{"a", {{"CPU", 2}}}});
  const Units group = U({{"CPU_group_x", 2}});
  cluster.AddCapacity(group, 0);
  EXPECT_TRUE(cluster.CanEverRun(R({{"CPU_group_x", 2}}), 0));
  EXPECT_EQ(cluster.totals()[0].ToString(), "{CPU: 2, CPU_group_x: 2}");
  cluster.Acquire(U({{"CPU_group_x", 1.5}}), 0);
  cluster.RemoveCapacity(U({{"CPU_group_x", 1}}), 0);
  EXPECT_EQ(cluster.node(0).total.at("CPU_group_x"), 10000);
  EXPECT_EQ(cluster.node(0).available.at("CPU_group_x"), 0);  // (0.5 free less 1: cut to 0)
  cluster.RemoveCapacity(U({{"CPU_group_x", 1}}), 0);
  EXPECT_FALSE(cluster.node(0).total.contains("CPU_group_x"));
  EXPECT_FALSE(cluster.node(0).available.contains("CPU_group_x"));
  EXPECT_EQ(cluster.totals()[0].ToString(), "{CPU: 2}");
}

TEST(ClusterResourcesTest, AViewKeepsItsFirstNodesWhenTheOthersAreReplaced) {
  ClusterResources cluster = MakeCluster({{"here", {{"CPU", 2}}}, {"b", {{"CPU", 4}}}});
  cluster.Acquire(U({{"CPU", 1}}), 0);
  cluster.DropNodesFrom(1);
  ASSERT_EQ(cluster.size(), 1);
  EXPECT_EQ(cluster.totals().size(), 1u);
  EXPECT_EQ(cluster.Find("b"), -1);
  ASSERT_TRUE(cluster.AddNode("b", *ResourceSet::Create({{"CPU", 4}})).ok());
  cluster.SetAvailable(1, U({{"CPU", 1}}));
  EXPECT_EQ(cluster.node(0).available.at("CPU"), 10000);  // (kept)
  EXPECT_FALSE(cluster.CanRun(R({{"CPU", 2}}), 1));
  EXPECT_TRUE(cluster.CanEverRun(R({{"CPU", 2}}), 1));
}

}  // namespace
}  // namespace raycc::scheduling
