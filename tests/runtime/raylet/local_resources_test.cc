// The local resource manager on its own: demands are checked and interned
// (one per distinct demand, a request asked again is a lookup), placement is
// resolved against the nodes with the cause named when it can never hold,
// a group's demand is renamed the way bundles are committed, and the node
// chosen has room; what is taken is given back exactly.

#include "raylet/local_resources.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/runtime/common/status.h"

namespace raycc::raylet {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kCpu = FixedPoint::kScale;

class LocalResourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(resources_.AddNode("a", *ResourceSet::Create({{"CPU", 2.0}}), {{"zone", "x"}}, a_).ok());
    ASSERT_TRUE(
        resources_.AddNode("b", *ResourceSet::Create({{"CPU", 1.0}, {"GPU", 1.0}}), {{"zone", "y"}}, b_)
            .ok());
  }
  int64_t Free(int node, const std::string& name) {
    const auto& available = resources_.nodes().node(node).available;
    auto it = available.find(name);
    return it == available.end() ? 0 : it->second;
  }
  LocalResources resources_;
  NodeId a_ = NodeId::FromRandom(), b_ = NodeId::FromRandom();
};

TEST_F(LocalResourcesTest, NodesAreIndexedWithTheirGcsIds) {
  EXPECT_EQ(resources_.size(), 2);
  EXPECT_EQ(resources_.name(1), "b");
  EXPECT_EQ(resources_.id(0), a_);
  EXPECT_EQ(resources_.id(1), b_);
  EXPECT_FALSE(resources_.AddNode("a", *ResourceSet::Create({{"CPU", 1.0}}), {}, NodeId::FromRandom()).ok())
      << "a repeated name";
  EXPECT_EQ(resources_.size(), 2);
}

TEST_F(LocalResourcesTest, DemandsAreCheckedAndInternedOncePerDistinctDemand) {
  EXPECT_TRUE(resources_.task_default_feasible());
  EXPECT_EQ(resources_.task_default()->units.at("CPU"), kCpu);
  EXPECT_TRUE(resources_.none()->units.empty());

  absl::StatusOr<const Demand*> one = resources_.DemandOf({{"CPU", 1}});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, resources_.task_default()) << "the same demand is the same object";
  absl::StatusOr<const Demand*> gpu = resources_.DemandOf({{"GPU", 0.5}, {"CPU", 0.5}});
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  EXPECT_EQ((*gpu)->gpu, kCpu / 2);
  EXPECT_EQ((*gpu)->cpu.at("CPU"), kCpu / 2) << "the part a task lends while it waits";
  EXPECT_EQ(*resources_.DemandOf({{"GPU", 0.5}, {"CPU", 0.5}}), *gpu);

  absl::StatusOr<const Demand*> too_big = resources_.DemandOf({{"CPU", 3}});
  EXPECT_TRUE(IsInfeasible(too_big.status())) << too_big.status();
  absl::StatusOr<const Demand*> unknown = resources_.DemandOf({{"TPU", 1}});
  EXPECT_TRUE(IsInfeasible(unknown.status()));
  EXPECT_THAT(unknown.status().message(), HasSubstr("TPU"));
  absl::StatusOr<const Demand*> negative = resources_.DemandOf({{"CPU", -1}});
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LocalResourcesTest, ATaskWithNoResourcesIsInfeasibleWhereNoNodeHasAWholeCpu) {
  LocalResources small;
  ASSERT_TRUE(small.AddNode("half", *ResourceSet::Create({{"CPU", 0.5}}), {}, NodeId::FromRandom()).ok());
  EXPECT_FALSE(small.task_default_feasible());
}

TEST_F(LocalResourcesTest, PlacementIsResolvedOrRefusedWithItsCause) {
  const Demand* cpu = resources_.task_default();
  const Demand* gpu = *resources_.DemandOf({{"GPU", 1}});
  struct Case {
    PlacementRequest request;
    const Demand* demand;
    int affinity;         // expected, when it is accepted
    const char* refused;  // the cause, when it is not
  };
  const Case cases[] = {
      {{}, cpu, -1, nullptr},
      {{.node_name = "b", .node_soft = false}, cpu, 1, nullptr},
      {{.node_name = "gone", .node_soft = true}, cpu, -1, nullptr},  // soft: anywhere
      {{.node_name = "gone", .node_soft = false}, cpu, -1, "must run on node 'gone', which does not exist"},
      {{.node_name = "a", .node_soft = false}, gpu, -1, "must run on node 'a', which has"},
      {{.node_name = "a", .node_soft = true}, gpu, 0, nullptr},  // soft: may go to b
      {{.label_selector = {{"zone", "y"}}}, gpu, -1, nullptr},
      {{.label_selector = {{"zone", "x"}}}, gpu, -1, "among nodes matching"},
      {{.label_selector = {{"zone", "z"}}}, cpu, -1, "no node has labels matching"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<scheduling::PolicyOptions> where = resources_.PlacementOf(c.request, *c.demand);
    if (c.refused != nullptr) {
      EXPECT_TRUE(IsInfeasible(where.status())) << c.request.node_name << ": " << where.status();
      EXPECT_THAT(where.status().message(), HasSubstr(c.refused));
      continue;
    }
    ASSERT_TRUE(where.ok()) << c.request.node_name << ": " << where.status();
    EXPECT_EQ(where->affinity, c.affinity) << c.request.node_name;
  }
  absl::StatusOr<scheduling::PolicyOptions> malformed =
      resources_.PlacementOf({.label_selector = {{"", "x"}}}, *cpu);
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument) << malformed.status();
}

TEST_F(LocalResourcesTest, TheNodeChosenHasRoomAndWhatIsTakenComesBackExactly) {
  const Demand* gpu = *resources_.DemandOf({{"GPU", 1}});
  scheduling::PolicyOptions on_a =
      *resources_.PlacementOf({.node_name = "a", .node_soft = false}, *resources_.task_default());
  ASSERT_EQ(resources_.PickNode(*gpu, nullptr), 1) << "only b has a GPU";
  std::vector<int> devices = resources_.TakeGpus(*gpu, 1);
  resources_.Acquire(gpu->units, 1);
  EXPECT_EQ(devices, std::vector<int>{0});
  EXPECT_EQ(resources_.PickNode(*gpu, nullptr), -1) << "its one GPU is taken";
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(resources_.PickNode(*resources_.task_default(), &on_a), 0);
    resources_.Acquire(resources_.task_default()->units, 0);
  }
  EXPECT_EQ(resources_.PickNode(*resources_.task_default(), &on_a), -1) << "a hard pin waits for its node";
  EXPECT_FALSE(resources_.FitsNow(resources_.task_default()->units, 0));
  for (int i = 0; i < 2; ++i) resources_.Release(resources_.task_default()->units, 0);
  resources_.ReleaseGpus(*gpu, 1, devices);
  resources_.Release(gpu->units, 1);
  EXPECT_EQ(Free(0, "CPU"), 2 * kCpu);
  EXPECT_EQ(Free(1, "GPU"), kCpu);
  EXPECT_EQ(resources_.PickNode(*gpu, nullptr), 1);
}

TEST_F(LocalResourcesTest, CapacityCountsWholeCopiesOnTheNodesAPlacementAllows) {
  const Demand* one = resources_.task_default();
  const Demand* two = *resources_.DemandOf({{"CPU", 2}});
  const Demand* gpu = *resources_.DemandOf({{"GPU", 0.5}});
  const scheduling::PolicyOptions anywhere;
  const scheduling::PolicyOptions on_b =
      *resources_.PlacementOf({.node_name = "b", .node_soft = false}, *one);
  const scheduling::PolicyOptions zone_x = *resources_.PlacementOf({.label_selector = {{"zone", "x"}}}, *one);
  EXPECT_EQ(resources_.Capacity(*one, anywhere, 100), 3);  // 2 on a, 1 on b
  EXPECT_EQ(resources_.Capacity(*one, anywhere, 2), 2) << "capped";
  EXPECT_EQ(resources_.Capacity(*two, anywhere, 100), 1);  // only a holds two
  EXPECT_EQ(resources_.Capacity(*gpu, anywhere, 100), 2);  // halves of b's GPU
  EXPECT_EQ(resources_.Capacity(*one, on_b, 100), 1);
  EXPECT_EQ(resources_.Capacity(*one, zone_x, 100), 2);
  EXPECT_EQ(resources_.Capacity(*resources_.none(), anywhere, 7), 7) << "nothing asked: the cap";
  // Taken now or not, a node's own resources count by its total.
  resources_.Acquire(one->units, 0);
  EXPECT_EQ(resources_.Capacity(*one, anywhere, 100), 3);
  resources_.Release(one->units, 0);
}

TEST_F(LocalResourcesTest, AGroupsDemandIsRenamedLikeItsCommittedBundlesAndChecked) {
  const PlacementGroupId group = PlacementGroupId::Of(JobId::FromInt(1));
  const std::vector<scheduling::Units> bundles = {{{"CPU", kCpu}}, {{"CPU", 2 * kCpu}}};
  const Demand* two = *resources_.DemandOf({{"CPU", 2}});
  // A committed bundle is what such a demand runs in: bundle 1 on node a.
  ASSERT_TRUE(resources_.bundle_reserver().PrepareBundle(group, 1, bundles[1], a_));
  resources_.bundle_reserver().CommitBundle(group, 1, bundles[1], a_);

  absl::StatusOr<const Demand*> in_one = resources_.InGroup(*two, group, 1, bundles);
  ASSERT_TRUE(in_one.ok()) << in_one.status();
  EXPECT_EQ(resources_.InGroup(*two, group, 1, bundles).value(), *in_one) << "cached";
  EXPECT_EQ(resources_.PickNode(**in_one, nullptr), 0) << "it runs where its bundle is";
  EXPECT_EQ((*in_one)->cpu.size(), 2u) << "both group names count as its CPUs";
  EXPECT_EQ(resources_.Capacity(**in_one, {}, 100), 1) << "the bundle holds one copy";
  absl::StatusOr<const Demand*> any = resources_.InGroup(*two, group, -1, bundles);
  ASSERT_TRUE(any.ok());
  EXPECT_EQ((*any)->units.size(), 1u) << "any bundle: the group-wide name only";

  absl::StatusOr<const Demand*> too_big = resources_.InGroup(*two, group, 0, bundles);
  EXPECT_TRUE(IsInfeasible(too_big.status()));
  EXPECT_THAT(too_big.status().message(), HasSubstr("more than bundle 0 of its placement group holds"));
  absl::StatusOr<const Demand*> no_such = resources_.InGroup(*two, group, 2, bundles);
  EXPECT_EQ(no_such.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_such.status().message(), HasSubstr("bundle 2 of placement group"));
}

}  // namespace
}  // namespace raycc::raylet
