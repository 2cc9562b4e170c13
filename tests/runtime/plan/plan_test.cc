// Compiled plans keep every compiler decision on the embedded runtime:
// placement groups are reserved whole before a run and removed after it,
// tasks run in their bundles, the compiler's placement is a constraint on
// the cluster it was compiled for (a preference elsewhere, said once),
// actors hold the resources the plan gives them, and control dependencies
// order nodes (a kill runs after the calls before it). The graph programs
// under Inputs/ are compiled by the fixture plan.compile_inputs.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../api/runtime_test_util.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "raycc/proto/artifact.pb.h"
#include "raycc/runtime/common/artifact_file.h"

namespace {

using ::testing::HasSubstr;

const std::string kArtifacts = RAYCC_PLAN_ARTIFACTS;

// Opened by the test; tasks wait on it (and say they started).
raycc_test::Event opened, started;
std::atomic<bool> slow_done{false};

// Holds its resources until the latch opens.
int Hold() {
  started.Set();
  opened.WaitFor();
  return 0;
}
int64_t Slow() {
  opened.WaitFor();
  slow_done = true;
  return 1;
}
int64_t After() { return slow_done ? 1 : 0; }
// Done for its effect: nothing reads its result.
std::atomic<bool> effect_done{false};
int64_t Effect() {
  started.Set();
  opened.WaitFor();
  effect_done = true;
  return 0;
}
int64_t Boom() { throw std::runtime_error("boom in an unread task"); }
RAYCC_REMOTE(Hold, Slow, After, Effect, Boom);

raycc::NodeConfig Node(std::string name, std::map<std::string, double> resources) {
  return raycc::NodeConfig{.name = std::move(name), .resources = std::move(resources)};
}

std::string Read(const raycc::GraphOutputs& out, const std::string& name) {
  return *raycc::ObjectRef<std::string>(out.ids().at(name)).Get(60000);
}

class CompiledPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::ifstream(kArtifacts + "/groups.rcx"))
      GTEST_SKIP() << "run through ctest: the fixture plan.compile_inputs compiles the artifacts";
    opened.Reset();
    started.Reset();
    slow_done = false;
    effect_done = false;
  }
  void TearDown() override {
    unsetenv("RAYCC_PLACEMENT_GROUP_TIMEOUT_MS");
    if (raycc::IsInitialized()) raycc::Shutdown();
  }
};

TEST_F(CompiledPlanTest, AKillRunsAfterTheCallsQueuedBeforeIt) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  raycc::Graph graph = raycc::LoadGraph(kArtifacts + "/kill_input.rcx", "count_then_kill");
  for (int run = 0; run < 3; ++run) {
    raycc::GraphOutputs out = graph.Execute({{"one", raycc::GraphInput::Value(int64_t{1})}});
    // Every one of the 300 calls ran on the actor before it was killed...
    EXPECT_EQ(*raycc::ObjectRef<int64_t>(out.ids().at("total")).Get(60000), 300);
  }
}

TEST_F(CompiledPlanTest, TasksRunInTheirBundlesOfAGroupReservedBeforeTheRun) {
  raycc::Init(raycc::Config{.nodes = {Node("n1", {{"CPU", 2}}), Node("n2", {{"CPU", 2}})}});
  raycc::Graph graph = raycc::LoadGraph(kArtifacts + "/groups.rcx");
  // Each execution's group takes both nodes whole: the second is reserved
  // only once the first is removed, after the first run's tasks are done.
  raycc::GraphOutputs first = graph.Execute({});
  raycc::GraphOutputs second = graph.Execute({});
  for (const raycc::GraphOutputs* out : {&first, &second}) {
    std::string a = Read(*out, "first"), b = Read(*out, "second");
    EXPECT_NE(a, b);  // strict_spread: a bundle per node
    EXPECT_THAT((std::vector<std::string>{a, b}), ::testing::UnorderedElementsAre("n1", "n2"));
  }
  // And the room comes back once the run is done: a task that needs all of
  // n1 runs.
  opened.Set();
  EXPECT_EQ(*raycc::Task(Hold).SetResources({{"CPU", 2}}).SetNodeAffinity("n1").Remote().Get(60000), 0);
}

TEST_F(CompiledPlanTest, GroupBundlesGoWhereTheCompilerPutThemOnItsCluster) {
  // Where the compiler put the bundles of @spread's group on two-nodes.
  absl::StatusOr<raycc::proto::Artifact> artifact = raycc::ReadArtifact(kArtifacts + "/groups_placed.rcx");
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  ASSERT_EQ(artifact->plans_size(), 1);
  const raycc::proto::PlanPlacementGroup& pg = artifact->plans(0).placement_groups(0);
  ASSERT_EQ(pg.bundle_nodes_size(), 2) << "the compiler placed the bundles";
  const std::string b0 = pg.bundle_nodes(0), b1 = pg.bundle_nodes(1);
  ASSERT_NE(b0, b1);
  // The cluster it was compiled for, listed so that the strategy alone
  // would put bundle 0 on the node the compiler gave bundle 1.
  std::map<std::string, raycc::NodeConfig> nodes = {{"left", Node("left", {{"CPU", 4}})},
                                                    {"right", Node("right", {{"CPU", 4}, {"special", 2}})}};
  raycc::Init(raycc::Config{.nodes = {nodes.at(b1), nodes.at(b0)}});
  raycc::Graph graph = raycc::LoadGraph(kArtifacts + "/groups_placed.rcx");
  for (int run = 0; run < 2; ++run) {
    raycc::GraphOutputs out = graph.Execute({});
    EXPECT_EQ(Read(out, "first"), b0) << "run " << run;
    EXPECT_EQ(Read(out, "second"), b1) << "run " << run;
  }
  raycc::Shutdown();
  // Control: the same program compiled with no cluster lets the strategy
  // choose, which puts bundle 0 on the first node.
  raycc::Init(raycc::Config{.nodes = {nodes.at(b1), nodes.at(b0)}});
  raycc::GraphOutputs out = raycc::LoadGraph(kArtifacts + "/groups.rcx").Execute({});
  EXPECT_EQ(Read(out, "first"), b1);
}

TEST_F(CompiledPlanTest, AGroupThatCanNeverBeReservedIsAClearError) {
  raycc::Init(raycc::Config{.nodes = {Node("n1", {{"CPU", 2}})}});
  raycc::Graph graph = raycc::LoadGraph(kArtifacts + "/groups.rcx");
  try {
    graph.Execute({});
    FAIL() << "expected InfeasibleError";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("graph @spread: placement group 'pair'"));
    EXPECT_THAT(e.what(), HasSubstr("strict_spread"));
  }
}

TEST_F(CompiledPlanTest, AGroupNotReservedInTimeFailsTheExecutionAndIsRemoved) {
  raycc::Init(raycc::Config{.nodes = {Node("n1", {{"CPU", 2}}), Node("n2", {{"CPU", 2}})}});
  raycc::Graph graph = raycc::LoadGraph(kArtifacts + "/groups.rcx");
  raycc::ObjectRef<int> hold = raycc::Task(Hold).SetResources({{"CPU", 2}}).SetNodeAffinity("n1").Remote();
  ASSERT_TRUE(started.WaitFor());  // n1 is full: the group cannot be reserved now
  setenv("RAYCC_PLACEMENT_GROUP_TIMEOUT_MS", "50", 1);
  try {
    graph.Execute({});
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("placement group 'pair' (2 bundles, STRICT_SPREAD) was not reserved"));
  }
  unsetenv("RAYCC_PLACEMENT_GROUP_TIMEOUT_MS");
  opened.Set();
  EXPECT_EQ(*hold.Get(60000), 0);
  // The group of the failed execution is gone: a new one gets the nodes.
  raycc::GraphOutputs out = graph.Execute({});
  EXPECT_NE(Read(out, "first"), Read(out, "second"));
}

TEST_F(CompiledPlanTest, ThePlacementIsAConstraintOnTheClusterItWasCompiledFor) {
  // Both nodes could run everything, and the default scheduling packs the
  // first (a control below): the compiler put the work on "right".
  raycc::Init(raycc::Config{
      .nodes = {Node("left", {{"CPU", 4}, {"special", 2}}), Node("right", {{"CPU", 4}, {"special", 2}})}});
  ::testing::internal::CaptureStderr();
  raycc::Graph placed = raycc::LoadGraph(kArtifacts + "/placed.rcx", "placed");
  raycc::GraphOutputs out = placed.Execute({});
  EXPECT_EQ(Read(out, "task"), "right");
  EXPECT_EQ(Read(out, "actor"), "right");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // the cluster it was compiled for
  // The same task unplaced, alone (no actor competing for "special"):
  // the default policy packs it on the first node.
  raycc::GraphOutputs control = raycc::LoadGraph(kArtifacts + "/unplaced.rcx", "task_only").Execute({});
  EXPECT_EQ(Read(control, "task"), "left");
}

TEST_F(CompiledPlanTest, ThePlacementIsAPreferenceElsewhereSaidOncePerLoad) {
  raycc::Init(raycc::Config{.nodes = {Node("a", {{"CPU", 4}}), Node("b", {{"CPU", 4}, {"special", 2}})}});
  ::testing::internal::CaptureStderr();
  raycc::Graph placed = raycc::LoadGraph(kArtifacts + "/placed.rcx", "placed");
  for (int run = 0; run < 3; ++run) {
    raycc::GraphOutputs out = placed.Execute({});
    EXPECT_EQ(Read(out, "task"), "b");  // where the resource is
    EXPECT_EQ(Read(out, "actor"), "b");
  }
  std::string said = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(said, HasSubstr("graph @placed was placed for cluster '"));
  EXPECT_THAT(said,
              HasSubstr("but this runtime has no node named right: its placement is only a preference here"));
  EXPECT_EQ(said.find("raycc:"), said.rfind("raycc:")) << said;  // once
}

TEST_F(CompiledPlanTest, AnActorHoldsTheResourcesThePlanGivesIt) {
  // Unplaced: only its resources send the actor to "right".
  raycc::Init(
      raycc::Config{.nodes = {Node("left", {{"CPU", 4}}), Node("right", {{"CPU", 4}, {"special", 2}})}});
  raycc::GraphOutputs out = raycc::LoadGraph(kArtifacts + "/unplaced.rcx", "placed").Execute({});
  EXPECT_EQ(Read(out, "actor"), "right");
}

// A plan by hand named `graph`: one task node per function of `functions`
// (1 CPU each), in order; `outputs` name the nodes the graph returns.
raycc::proto::Artifact HandPlan(const std::string& graph, const std::vector<std::string>& functions,
                                const std::map<std::string, int>& outputs) {
  raycc::proto::Artifact artifact;
  artifact.set_format_version(1);
  raycc::proto::ExecPlan* plan = artifact.add_plans();
  plan->set_format_version(1);
  plan->set_graph_name(graph);
  for (const std::string& f : functions) {
    raycc::proto::PlanNode* node = plan->add_nodes();
    node->set_id(plan->nodes_size() - 1);
    node->set_kind(raycc::proto::TASK);
    node->set_name(f);
    node->mutable_function()->set_name(f);
    node->set_num_results(1);
    (*node->mutable_resources()->mutable_quantities())["CPU"] = 10000;
  }
  for (const auto& [name, node] : outputs) {
    raycc::proto::PlanOutput* out = plan->add_outputs();
    out->set_name(name);
    out->mutable_value()->mutable_node_result()->set_node(node);
  }
  return artifact;
}

std::string Written(const raycc::proto::Artifact& artifact) {
  std::string path = testing::TempDir() + "/" + artifact.plans(0).graph_name() + ".rcx";
  EXPECT_TRUE(raycc::WriteArtifact(path, artifact).ok());
  return path;
}

// Node 1 (After) is ordered after node 0 (Slow) by a control dependency
// alone, no data edge.
std::string OrderedPlan() {
  raycc::proto::Artifact artifact = HandPlan("ordered", {"Slow", "After"}, {{"slow", 0}, {"after", 1}});
  artifact.mutable_plans(0)->mutable_nodes(1)->add_control_deps(0);
  return Written(artifact);
}

TEST_F(CompiledPlanTest, ATaskRunsOnlyAfterItsControlDependencies) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  raycc::Graph graph = raycc::LoadGraph(OrderedPlan());
  raycc::GraphOutputs out = graph.Execute({});
  // (With a free CPU, After would run at once and see Slow not done.)
  opened.Set();
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(out.ids().at("after")).Get(60000), 1);
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(out.ids().at("slow")).Get(60000), 1);
}

// Tasks whose results nothing reads run for their effects: GraphOutputs::Wait
// returns once they have settled, and names those that failed (raycc run
// waits so before it shuts the runtime down).
TEST_F(CompiledPlanTest, WaitReturnsOnceTheTasksNothingReadsHaveSettled) {
  raycc::Init(raycc::Config{.num_cpus = 4});
  // Node 3 fails too, but it is an output: its reader sees that. Node 2 has
  // no display name: its function names it.
  raycc::proto::Artifact artifact =
      HandPlan("effects", {"After", "Effect", "Boom", "Boom"}, {{"after", 0}, {"boom", 3}});
  artifact.mutable_plans(0)->mutable_nodes(2)->clear_name();
  raycc::Graph graph = raycc::LoadGraph(Written(artifact));
  raycc::GraphOutputs out = graph.Execute({});
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(out.ids().at("after")).Get(60000), 0);
  std::thread opener([] {
    started.WaitFor();
    opened.Set();
  });
  std::vector<std::string> failures = out.Wait();
  opener.join();
  EXPECT_TRUE(effect_done) << "Wait returned before the unread task Effect ran";
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_THAT(failures[0], HasSubstr("node 2 (Boom): "));
  EXPECT_THAT(failures[0], HasSubstr("boom in an unread task"));
}

// A task's label selector (SetLabelSelector in the graph) reaches the
// runtime: it runs only on a node whose labels match, though the policy
// alone would pack it on the first node.
TEST_F(CompiledPlanTest, ATaskRunsOnlyWhereItsLabelSelectorAllows) {
  raycc::Init(
      raycc::Config{.nodes = {{.name = "n1", .resources = {{"CPU", 2}}, .labels = {{"zone", "z1"}}},
                              {.name = "n2", .resources = {{"CPU", 2}}, .labels = {{"zone", "z2"}}}}});
  raycc::Graph graph = raycc::LoadGraph(kArtifacts + "/labels.rcx");
  for (int run = 0; run < 3; ++run) {
    raycc::GraphOutputs out = graph.Execute({});
    for (int i = 0; i < 4; ++i) EXPECT_EQ(Read(out, "where" + std::to_string(i)), "n2") << "run " << run;
  }
}

// A GraphRunner makes the graph's actors and placement group once: the
// actor's state carries over from execution to execution, the task that
// only feeds its constructor runs once, the graph's kill waits for Close,
// and Close gives the room back.
TEST_F(CompiledPlanTest, ARunnerMakesItsActorAndGroupOnceAndEndsThemAtClose) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  raycc::Graph graph = raycc::LoadGraph(kArtifacts + "/runner.rcx");
  {
    raycc::GraphRunner runner = graph.Prepare(/*max_inflight=*/2);
    int64_t start_runs = -1;
    for (int64_t k = 1; k <= 5; ++k) {
      raycc::GraphOutputs out = runner.Execute({{"step", raycc::GraphInput::Value(k)}});
      // 100, 1000 once (the call that feeds the second actor's constructor),
      // and 8 * step per execution: 1100 + 8 * (1 + ... + k).
      EXPECT_EQ(*out.Get<int64_t>("total").Get(60000), 1100 + 4 * k * (k + 1)) << "execution " << k;
      int64_t runs = *out.Get<int64_t>("start_runs").Get(60000);
      if (k == 1) start_runs = runs;
      EXPECT_EQ(runs, start_runs) << "the constructor's input was made again in execution " << k;
      int alive = 0;
      for (const raycc::PlacementGroupInfo& pg : raycc::ListPlacementGroups())
        alive += pg.state == raycc::PlacementGroupInfo::State::kCreated;
      EXPECT_EQ(alive, 1) << "execution " << k;
    }
    EXPECT_EQ(runner.executions(), 5);
    EXPECT_THAT(runner.Close(), ::testing::IsEmpty());
    EXPECT_THROW(runner.Execute({{"step", raycc::GraphInput::Value(int64_t{1})}}), raycc::RayccError);
  }
  for (const raycc::PlacementGroupInfo& pg : raycc::ListPlacementGroups())
    EXPECT_NE(pg.state, raycc::PlacementGroupInfo::State::kCreated);
  // Both CPUs are free again: the actor is gone and its group removed.
  opened.Set();
  EXPECT_EQ(*raycc::Task(Hold).SetResources({{"CPU", 2}}).Remote().Get(60000), 0);
  // Execute, by contrast, makes and ends them per execution.
  raycc::GraphOutputs out = graph.Execute({{"step", raycc::GraphInput::Value(int64_t{1})}});
  EXPECT_EQ(*out.Get<int64_t>("total").Get(60000), 1108);
  EXPECT_THROW(graph.Prepare(0), raycc::RayccError);
}

// Executions that overlap (nothing read between them) still each add once,
// in order, to the one actor, and Run reports no failure. At -O0 nothing is
// fused: a task made before the actor is read by one made after it, and a
// later task reads one of its own batch (the skipped constructor input must
// not shift either).
TEST_F(CompiledPlanTest, OverlappingExecutionsShareTheActor) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  for (const char* artifact : {"/runner.rcx", "/runner_o0.rcx"}) {
    raycc::Graph graph = raycc::LoadGraph(kArtifacts + artifact);
    raycc::GraphRunResult result = graph.Run({{"step", raycc::GraphInput::Value(int64_t{1})}}, 20, 3);
    EXPECT_EQ(*result.last.Get<int64_t>("total").Get(60000), 1100 + 8 * 20) << artifact;
    EXPECT_THAT(result.failures, ::testing::IsEmpty()) << artifact;
  }
}

// With max_inflight executions unsettled, Execute waits for the oldest:
// here the first holds until the second Execute is seen waiting.
TEST_F(CompiledPlanTest, ARunnerWaitsForTheOldestExecutionAtMaxInflight) {
  raycc::Init(raycc::Config{.num_cpus = 4});
  raycc::Graph graph = raycc::LoadGraph(Written(HandPlan("held", {"Hold"}, {{"held", 0}})));
  raycc::GraphRunner runner = graph.Prepare(/*max_inflight=*/1);
  raycc::GraphOutputs first = runner.Execute({});
  EXPECT_EQ(runner.in_flight(), 1u);
  std::thread opener([&] {
    auto deadline = std::chrono::steady_clock::now() + raycc_test::kPatience;
    while (runner.waits() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    opened.Set();
  });
  raycc::GraphOutputs second = runner.Execute({});
  opener.join();
  EXPECT_EQ(runner.waits(), 1);
  // The first had settled before the second was submitted.
  EXPECT_EQ(raycc::internal::CurrentRuntime().Wait({first.ids().at("held")}, 1, 0), std::vector<bool>{true});
  EXPECT_EQ(*second.Get<int>("held").Get(60000), 0);
  EXPECT_THAT(runner.Close(), ::testing::IsEmpty());
}

// Graph::Run reports how every execution's unread nodes failed, and the
// outputs of all but the last (whose outputs the caller reads).
TEST_F(CompiledPlanTest, RunReportsTheFailuresOfEveryExecution) {
  raycc::Init(raycc::Config{.num_cpus = 4});
  opened.Set();  // (Effect runs through)
  raycc::Graph graph = raycc::LoadGraph(
      Written(HandPlan("effects3", {"After", "Effect", "Boom", "Boom"}, {{"after", 0}, {"boom", 3}})));
  raycc::GraphRunResult result = graph.Run({}, /*n=*/3, /*max_inflight=*/2);
  EXPECT_EQ(*result.last.Get<int64_t>("after").Get(60000), 0);
  EXPECT_THROW(result.last.Get<int64_t>("boom").Get(60000), raycc::RayccError);
  std::vector<std::string> unread, outputs;
  for (const std::string& f : result.failures) {
    EXPECT_THAT(f, HasSubstr("boom in an unread task"));
    (absl::StrContains(f, "output 'boom'") ? outputs : unread).push_back(f.substr(0, f.find(':')));
  }
  EXPECT_THAT(unread, ::testing::UnorderedElementsAre("execution 1", "execution 2", "execution 3"));
  EXPECT_THAT(outputs, ::testing::UnorderedElementsAre("execution 1", "execution 2"));
  EXPECT_THROW(graph.Run({}, 0), raycc::RayccError);
}

}  // namespace
