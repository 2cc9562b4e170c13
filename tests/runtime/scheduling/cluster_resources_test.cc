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

}  // namespace
}  // namespace raycc::scheduling
