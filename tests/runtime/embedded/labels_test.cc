// Node labels (NodeConfig.labels) and label selectors (SetLabelSelector) on
// the embedded runtime's simulated nodes: tasks and actors run only where
// the selector matches; a selector no node satisfies is infeasible.

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"

namespace {

using ::testing::HasSubstr;

std::string Where() { return raycc::CurrentNodeName(); }

class Pinned {
 public:
  static Pinned* Create() { return new Pinned(); }
  std::string Where() { return raycc::CurrentNodeName(); }
};

RAYCC_REMOTE(Where, Pinned::Create, &Pinned::Where);

class LabelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    raycc::Init(
        raycc::Config{.nodes = {{"a", {{"CPU", 2}}, {{"zone", "east"}, {"accel", "none"}}},
                                {"b", {{"CPU", 2}}, {{"zone", "west"}}},
                                {"c", {{"CPU", 2}, {"GPU", 1}}, {{"zone", "west"}, {"accel", "h100"}}}}});
  }
  void TearDown() override { raycc::Shutdown(); }

  std::set<std::string> NodesOf(const std::map<std::string, std::string>& selector, int n = 12) {
    std::vector<raycc::ObjectRef<std::string>> refs;
    for (int i = 0; i < n; ++i) refs.push_back(raycc::Task(Where).SetLabelSelector(selector).Remote());
    std::set<std::string> nodes;
    for (auto& r : refs) nodes.insert(*r.Get(30000));
    return nodes;
  }
};

TEST_F(LabelsTest, TasksRunOnlyWhereTheSelectorMatches) {
  EXPECT_EQ(NodesOf({{"zone", "east"}}), (std::set<std::string>{"a"}));
  std::set<std::string> west = NodesOf({{"zone", "west"}});
  EXPECT_TRUE(west.count("a") == 0 && !west.empty());
  EXPECT_EQ(NodesOf({{"accel", "!in(none,h100)"}}), (std::set<std::string>{"b"}));  // b has no accel label
  EXPECT_EQ(NodesOf({{"zone", "west"}, {"accel", "h100"}}), (std::set<std::string>{"c"}));
}

TEST_F(LabelsTest, ActorsHonourSelectors) {
  auto actor = raycc::Actor(Pinned::Create).SetLabelSelector({{"accel", "h100"}}).Remote();
  EXPECT_EQ(*actor.Task(&Pinned::Where).Remote().Get(30000), "c");
}

TEST_F(LabelsTest, ASelectorNoNodeSatisfiesIsInfeasible) {
  try {
    raycc::Task(Where).SetLabelSelector({{"zone", "north"}}).Remote();
    FAIL() << "a selector no node matches was accepted";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no node has labels matching {zone = north}"));
  }
  // Matching nodes exist, but none has a GPU.
  try {
    raycc::Task(Where).SetResources({{"GPU", 1}}).SetLabelSelector({{"zone", "east"}}).Remote();
    FAIL() << "a GPU task limited to GPU-less nodes was accepted";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("among nodes matching {zone = east}"));
  }
  EXPECT_THROW(raycc::Actor(Pinned::Create).SetLabelSelector({{"zone", "north"}}).Remote(),
               raycc::InfeasibleError);
}

TEST_F(LabelsTest, AMalformedSelectorIsAClearError) {
  try {
    raycc::Task(Where).SetLabelSelector({{"zone", "in(east"}}).Remote();
    FAIL() << "a malformed selector was accepted";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("task Where: label selector 'zone'"));
  }
}

}  // namespace
