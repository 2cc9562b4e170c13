// The node-choosing policies (hybrid, spread, node affinity, labels) and
// CheckFeasible, as tables: a cluster state and a request in, a node out.

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/runtime/common/status.h"
#include "scheduling/hybrid_policy.h"
#include "scheduling/node_affinity_policy.h"
#include "scheduling/pick_node.h"
#include "scheduling/spread_policy.h"
#include "scheduling_test_util.h"

namespace raycc::scheduling {
namespace {

using ::testing::HasSubstr;
using testing::MakeCluster;
using testing::R;
using testing::U;

// Three 4-CPU nodes; `used` CPUs taken on each.
ClusterResources ThreeNodes(std::vector<double> used) {
  ClusterResources c = MakeCluster({{"a", {{"CPU", 4}}, {{"zone", "x"}}},
                                    {"b", {{"CPU", 4}, {"GPU", 1}}, {{"zone", "y"}}},
                                    {"c", {{"CPU", 4}}, {{"zone", "y"}}}});
  for (int i = 0; i < 3; ++i) c.Acquire(U({{"CPU", used[i]}}), i);
  return c;
}

TEST(HybridPolicyTest, PacksUntilHalfUsedThenLeastUsed) {
  struct Case {
    std::vector<double> used;
    double cpus;
    int node;
  };
  const Case cases[] = {
      {{0, 0, 0}, 1, 0},   // first node, idle
      {{1, 0, 0}, 1, 0},   // 25% used: still below half after? measure is before: 0.25 < 0.5
      {{2, 0, 0}, 1, 1},   // a is half used: the next node below half
      {{2, 2, 2}, 1, 0},   // all half used: the least used (tie: lowest index)
      {{3, 2, 2}, 1, 1},   // a is fuller
      {{4, 4, 3}, 1, 2},   // only c has room
      {{4, 4, 4}, 1, -1},  // none has room: wait
      {{0, 0, 0}, 5, -1},  // bigger than any node
  };
  for (const Case& c : cases) {
    ClusterResources cluster = ThreeNodes(c.used);
    EXPECT_EQ(HybridPolicy(cluster, R({{"CPU", c.cpus}}), {}), c.node)
        << "used " << c.used[0] << "," << c.used[1] << "," << c.used[2];
  }
}

TEST(HybridPolicyTest, OnlyNodesWithTheResource) {
  ClusterResources cluster = ThreeNodes({0, 0, 0});
  EXPECT_EQ(HybridPolicy(cluster, R({{"GPU", 1}}), {}), 1);
}

TEST(SpreadPolicyTest, RoundRobinsOverNodesWithRoom) {
  ClusterResources cluster = ThreeNodes({0, 4, 0});
  uint64_t cursor = 0;
  std::vector<int> got;
  for (int i = 0; i < 4; ++i) got.push_back(SpreadPolicy(cluster, R({{"CPU", 1}}), {}, &cursor));
  EXPECT_EQ(got, (std::vector<int>{0, 2, 0, 2}));  // b is full
  ClusterResources full = ThreeNodes({4, 4, 4});
  EXPECT_EQ(SpreadPolicy(full, R({{"CPU", 1}}), {}, &cursor), -1);
  // By total (a raylet's view): full nodes take their turn; one that could
  // never hold the request does not.
  got.clear();
  cursor = 0;
  for (int i = 0; i < 3; ++i) {
    got.push_back(SpreadPolicy(full, R({{"CPU", 4}}), {.spread = true, .spread_by_total = true}, &cursor));
  }
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(SpreadPolicy(full, R({{"CPU", 5}}), {.spread = true, .spread_by_total = true}, &cursor), -1);
}

TEST(NodeAffinityPolicyTest, HardWaitsSoftFallsBack) {
  struct Case {
    std::vector<double> used;
    int affinity;
    bool soft;
    int node;
    bool fall_back;
  };
  const Case cases[] = {
      {{0, 0, 0}, -1, false, -1, true},  // no affinity: the others decide
      {{0, 0, 0}, 2, false, 2, false},   // room there
      {{0, 0, 4}, 2, false, -1, false},  // hard, no room: wait
      {{0, 0, 4}, 2, true, -1, true},    // soft, no room: elsewhere
  };
  for (const Case& c : cases) {
    ClusterResources cluster = ThreeNodes(c.used);
    PolicyOptions o{.affinity = c.affinity, .affinity_soft = c.soft};
    AffinityDecision d = NodeAffinityPolicy(cluster, R({{"CPU", 1}}), o);
    EXPECT_EQ(d.node, c.node);
    EXPECT_EQ(d.fall_back, c.fall_back);
  }
}

TEST(PickNodeTest, CombinesAffinityLabelsAndStrategy) {
  auto zone_y = ParseLabelSelector({{"zone", "y"}});
  auto zone_x = ParseLabelSelector({{"zone", "x"}});
  ASSERT_TRUE(zone_y.ok() && zone_x.ok());
  struct Case {
    std::vector<double> used;
    PolicyOptions options;
    int node;
  };
  const Case cases[] = {
      {{0, 0, 0}, {}, 0},
      {{0, 0, 0}, {.labels = &*zone_y}, 1},
      {{0, 4, 0}, {.labels = &*zone_y}, 2},
      {{0, 4, 4}, {.labels = &*zone_y}, -1},  // room only where labels forbid
      {{0, 4, 4}, {.affinity = 2, .affinity_soft = true}, 0},
      {{0, 0, 0}, {.affinity = 0, .affinity_soft = false, .labels = &*zone_y}, -1},  // labels still hold
      {{0, 0, 0}, {.spread = true, .labels = &*zone_x}, 0},
  };
  for (const Case& c : cases) {
    ClusterResources cluster = ThreeNodes(c.used);
    uint64_t cursor = 0;
    EXPECT_EQ(PickNode(cluster, R({{"CPU", 1}}), c.options, &cursor), c.node);
  }
}

TEST(CheckFeasibleTest, NamesTheCause) {
  ClusterResources cluster = ThreeNodes({4, 4, 4});  // full now: still feasible
  EXPECT_TRUE(CheckFeasible(cluster, R({{"CPU", 4}}), {}).ok());
  auto zone_x = ParseLabelSelector({{"zone", "x"}});
  auto zone_z = ParseLabelSelector({{"zone", "z"}});
  ASSERT_TRUE(zone_x.ok() && zone_z.ok());
  struct Case {
    std::map<std::string, double> request;
    PolicyOptions options;
    const char* message;
  };
  const Case cases[] = {
      {{{"CPU", 8}}, {}, "CPU"},
      {{{"TPU", 1}}, {}, "TPU"},
      {{{"CPU", 8}},
       {.affinity = 1, .affinity_soft = false},
       "must run on node 'b', which has {CPU: 4, GPU: 1}"},
      {{{"CPU", 1}}, {.labels = &*zone_z}, "no node has labels matching {zone = z}"},
      {{{"GPU", 1}}, {.labels = &*zone_x}, "among nodes matching {zone = x}"},
      {{{"CPU", 1}},
       {.affinity = 1, .affinity_soft = false, .labels = &*zone_x},
       "whose labels do not match"},
  };
  for (const Case& c : cases) {
    absl::Status s = CheckFeasible(cluster, R(c.request), c.options);
    EXPECT_TRUE(IsInfeasible(s)) << s;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
  // A soft affinity to a small node is feasible elsewhere.
  EXPECT_TRUE(CheckFeasible(cluster, R({{"GPU", 1}}), {.affinity = 0, .affinity_soft = true}).ok());
}

}  // namespace
}  // namespace raycc::scheduling
