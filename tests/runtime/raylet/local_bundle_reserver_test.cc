// The raylet's two-phase bundle reservation over real ClusterResources:
// a prepare holds the bundle (nothing else can take it), commit renames it
// to the group's resources, cancel and return give it back exactly.

#include "raylet/local_bundle_reserver.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raycc::raylet {
namespace {

constexpr int64_t kCpu = FixedPoint::kScale;

class LocalBundleReserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(resources_.AddNode("a", *ResourceSet::Create({{"CPU", 2.0}})).ok());
    ASSERT_TRUE(resources_.AddNode("b", *ResourceSet::Create({{"CPU", 1.0}})).ok());
    ids_ = {NodeId::FromRandom(), NodeId::FromRandom()};
  }
  int64_t Free(int node, const std::string& name) {
    const auto& available = resources_.node(node).available;
    auto it = available.find(name);
    return it == available.end() ? 0 : it->second;
  }
  scheduling::ClusterResources resources_;
  std::vector<NodeId> ids_;
  LocalBundleReserver reserver_{resources_, ids_};
  PlacementGroupId group_ = PlacementGroupId::Of(JobId::FromInt(1));
  scheduling::Units cpu_{{"CPU", kCpu}};
};

TEST_F(LocalBundleReserverTest, APreparedBundleIsHeldUntilCommittedUnderTheGroupsNames) {
  auto available = reserver_.AvailableResources();
  ASSERT_EQ(available.size(), 2u);
  EXPECT_EQ(available[1].first, ids_[1]);
  EXPECT_EQ(available[0].second.at("CPU"), 2 * kCpu);

  ASSERT_TRUE(reserver_.PrepareBundle(group_, 0, cpu_, ids_[1]));
  EXPECT_EQ(Free(1, "CPU"), 0) << "held";
  EXPECT_FALSE(reserver_.PrepareBundle(group_, 1, cpu_, ids_[1])) << "no room left on b";
  EXPECT_FALSE(reserver_.PrepareBundle(group_, 0, cpu_, ids_[0])) << "bundle 0 is prepared already";
  EXPECT_FALSE(reserver_.PrepareBundle(group_, 2, cpu_, NodeId::FromRandom())) << "not a node here";
  EXPECT_EQ(reserver_.prepared(), 1u);

  reserver_.CommitBundle(group_, 0, cpu_, ids_[1]);
  std::string suffix = gcs::GroupResourceSuffix(group_);
  EXPECT_EQ(Free(1, "CPU"), 0);
  EXPECT_EQ(Free(1, "CPU_group" + suffix), kCpu);
  EXPECT_EQ(Free(1, "CPU_group_0" + suffix), kCpu);
  EXPECT_EQ(reserver_.prepared(), 0u);

  reserver_.ReturnBundle(group_, 0, cpu_, ids_[1]);
  EXPECT_EQ(Free(1, "CPU"), kCpu);
  EXPECT_EQ(Free(1, "CPU_group" + suffix), 0);
  EXPECT_FALSE(resources_.node(1).available.contains("CPU_group_0" + suffix)) << "the group's names are gone";
}

TEST_F(LocalBundleReserverTest, ACancelledPrepareGivesBackExactlyWhatItHeld) {
  ASSERT_TRUE(reserver_.PrepareBundle(group_, 0, cpu_, ids_[0]));
  ASSERT_TRUE(reserver_.PrepareBundle(group_, 1, cpu_, ids_[0]));
  EXPECT_EQ(Free(0, "CPU"), 0);
  reserver_.CancelBundle(group_, 0, cpu_, ids_[0]);
  reserver_.CancelBundle(group_, 0, cpu_, ids_[0]);  // twice: the second changes nothing
  reserver_.CancelBundle(group_, 1, cpu_, ids_[1]);  // the wrong node: nothing
  EXPECT_EQ(Free(0, "CPU"), kCpu);
  EXPECT_EQ(reserver_.prepared(), 1u);
  reserver_.CancelBundle(group_, 1, cpu_, ids_[0]);
  EXPECT_EQ(Free(0, "CPU"), 2 * kCpu);
  EXPECT_EQ(reserver_.prepared(), 0u);
  reserver_.CommitBundle(group_, 1, cpu_, ids_[0]);  // not prepared: no effect
  EXPECT_EQ(Free(0, "CPU"), 2 * kCpu);
  EXPECT_EQ(Free(0, "CPU_group" + gcs::GroupResourceSuffix(group_)), 0);
}

}  // namespace
}  // namespace raycc::raylet
