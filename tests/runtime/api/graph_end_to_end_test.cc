// Compiled graphs end to end: `raycc compile` turned examples/mlir/*.mlir
// into artifacts (the ctest fixture graph.compile_examples); this program
// registers the functions those graphs call, loads the plans and runs them on
// the embedded runtime, checking the results against a direct computation.

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"
#include "word_count.h"

namespace {

using ::testing::HasSubstr;
using Counts = word_count::Counts;

using word_count::Count;
using word_count::Merge;
using word_count::ReadChunk;
using word_count::ReadFile;
using word_count::Tokenize;

// The parameter-server graph: shard i holds (i + 1) in every coordinate; the
// gradient is the shard; the server adds each gradient in call order.
std::vector<double> LoadShard(int64_t i) { return std::vector<double>(8, static_cast<double>(i + 1)); }
std::vector<double> Gradient(std::vector<double> w, std::vector<double> shard) {
  for (size_t k = 0; k < shard.size(); ++k) shard[k] += 0 * w[k % w.size()];
  return shard;
}
class ParamServer {
 public:
  explicit ParamServer(int64_t dim) : w_(8, 0.0), dim_(dim) {}
  static ParamServer* Create(int64_t dim) { return new ParamServer(dim); }
  std::vector<double> Apply(std::vector<double> grad) {
    for (size_t k = 0; k < w_.size(); ++k) w_[k] = 10 * w_[k] + grad[k];  // order-sensitive
    return w_;
  }

 private:
  std::vector<double> w_;
  int64_t dim_;
};

RAYCC_REMOTE(ReadChunk, Tokenize, Count, Merge, LoadShard, Gradient, ParamServer::Create,
             &ParamServer::Apply);

class GraphEndToEndTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    artifacts_ = RAYCC_TEST_ARTIFACTS;
    text_ = RAYCC_TEST_TEXT;
    if (!std::ifstream(artifacts_ + "/word_count.rcx")) {
      GTEST_SKIP() << "run through ctest: the fixture graph.compile_examples compiles the artifacts";
    }
    raycc::Config config;
    config.num_cpus = GetParam();
    raycc::Init(config);
  }
  void TearDown() override {
    if (raycc::IsInitialized()) raycc::Shutdown();
  }
  std::string artifacts_, text_;
};

TEST_P(GraphEndToEndTest, WordCountMatchesADirectCount) {
  raycc::Graph graph = raycc::LoadGraph(artifacts_ + "/word_count.rcx", "word_count");
  EXPECT_EQ(graph.name(), "word_count");
  EXPECT_EQ(graph.size(), 7u);  // four fused read+tokenize+count chains, three merges
  raycc::GraphOutputs out = graph.Execute({{"path", raycc::GraphInput::Value(text_)}});
  Counts counts = *raycc::Get(out.Get<Counts>("counts"));
  Counts expected = Count(Tokenize(ReadFile(text_)));
  EXPECT_EQ(counts, expected);
  EXPECT_GT(counts["digits"], 0);
}

TEST_P(GraphEndToEndTest, ParameterServerAppliesGradientsInOrder) {
  raycc::Graph graph = raycc::LoadGraph(artifacts_ + "/param_server.rcx");
  if (GetParam() < 2) {
    // The plan's strict_pack group needs a node with 2 CPUs, reserved whole
    // before the graph starts: on one CPU that can never happen.
    try {
      graph.Execute({{"w", raycc::Put(std::vector<double>(8, 0.0))}});
      FAIL() << "expected InfeasibleError";
    } catch (const raycc::InfeasibleError& e) {
      EXPECT_THAT(e.what(), HasSubstr("placement group 'shards'"));
      EXPECT_THAT(e.what(), HasSubstr("{CPU: 2}"));
    }
    return;
  }
  raycc::GraphOutputs out = graph.Execute({{"w", raycc::Put(std::vector<double>(8, 0.0))}});
  std::vector<double> w = *raycc::Get(out.Get<std::vector<double>>("w"));
  // Shards 1, 2, 1, 2 (bundles alternate) applied as w = 10 w + g: 1212.
  // The plan loads shard i for i = 0..3, so g = 1, 2, 3, 4 -> 1234.
  ASSERT_EQ(w.size(), 8u);
  EXPECT_EQ(w[0], 1234.0);
}

std::atomic<int> holds_started{0};
raycc_test::Event release_holds;
/// Holds a worker until the test releases it (kPatience at most).
int Hold() {
  ++holds_started;
  release_holds.WaitFor();
  return 0;
}
RAYCC_REMOTE(Hold);

TEST_P(GraphEndToEndTest, AWaitOnAnInputGivenAsAValueFindsIt) {
  // The executor puts the value; the wait watches it by id, so the object
  // must live until the wait is done (it lives with the outputs), even when
  // the wait runs long after Execute returned.
  raycc::Graph graph = raycc::LoadGraph(artifacts_ + "/wait_input.rcx");
  size_t base = raycc::internal::CurrentRuntime().LiveObjects();
  {
    release_holds.Reset();
    holds_started = 0;
    std::vector<raycc::ObjectRef<int>> holds;  // every worker thread busy
    for (int i = 0; i < GetParam(); ++i) holds.push_back(raycc::Task(Hold).Remote());
    EXPECT_TRUE(raycc_test::Eventually([&] { return holds_started == GetParam(); }))
        << "not every worker got busy";
    raycc::GraphOutputs out = graph.Execute({{"x", raycc::GraphInput::Value(int64_t{42})}});
    raycc::internal::CurrentRuntime().LiveObjects();  // (dropped references applied now)
    release_holds.Set();
    for (const auto& h : holds) h.Get();
    EXPECT_NO_THROW(raycc::Get(raycc::ObjectRef<void>(out.ids().at("ready"))));
    EXPECT_EQ(*raycc::Get(out.Get<int64_t>("x")), 42);
  }
  EXPECT_EQ(raycc::internal::CurrentRuntime().LiveObjects(), base);
}

TEST_P(GraphEndToEndTest, AnExecutionsObjectsAreFreedWithItsOutputs) {
  if (GetParam() < 2) GTEST_SKIP() << "the plan's placement group needs 2 CPUs";
  raycc::Graph graph = raycc::LoadGraph(artifacts_ + "/param_server.rcx");
  size_t base = raycc::internal::CurrentRuntime().LiveObjects();
  for (int step = 0; step < 5; ++step) {
    raycc::GraphOutputs out = graph.Execute({{"w", raycc::Put(std::vector<double>(8, 0.0))}});
    EXPECT_EQ(raycc::Get(out.Get<std::vector<double>>("w"))->size(), 8u);
  }
  // The outputs were read; the run's bookkeeping (the task that removes its
  // placement group once every node is done) ends on its own, and then
  // nothing holds the executions' objects.
  size_t live = 0;
  EXPECT_TRUE(raycc_test::Eventually([&] {
    live = raycc::internal::CurrentRuntime().LiveObjects();
    return live == base;
  })) << live
      << " objects still live, " << base << " before";
}

/// An ActorHandle for a class this binary does not know (it is in the
/// artifact's task library).
struct Foreign {};

TEST_P(GraphEndToEndTest, AnActorInputKeepsItsStateAcrossExecutions) {
  raycc::Graph graph = raycc::LoadGraph(artifacts_ + "/actor_input.rcx", "step");
  // LoadGraph loaded the task library: the factory is registered now.
  const auto* factory = raycc::internal::RemoteRegistry::Instance().FunctionByName("Tally::Create");
  ASSERT_NE(factory, nullptr);
  raycc::ActorId id = raycc::internal::CurrentRuntime().CreateActor(
      *factory, {raycc::internal::TaskArgument{false, {}, raycc::Serialize(int64_t{100})}}, {});
  raycc::ActorHandle<Foreign> tally(id);
  std::vector<int64_t> totals;
  for (int64_t x : {1, 2, 3}) {
    raycc::GraphOutputs out = graph.Execute({{"tally", tally}, {"x", raycc::Put(x)}});
    totals.push_back(*raycc::Get(out.Get<int64_t>("total")));
  }
  EXPECT_EQ(totals, (std::vector<int64_t>{101, 103, 106}));
  try {
    graph.Execute({{"tally", raycc::Put(int64_t{1})}, {"x", raycc::Put(int64_t{1})}});
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'tally' is an actor: pass an ActorHandle"));
  }
}

TEST_P(GraphEndToEndTest, ExecuteChecksItsInputs) {
  raycc::Graph graph = raycc::LoadGraph(artifacts_ + "/word_count.rcx");
  try {
    graph.Execute({});
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'path' is not given"));
  }
  EXPECT_THROW(
      graph.Execute({{"path", raycc::GraphInput::Value(text_)}, {"extra", raycc::GraphInput::Value(1)}}),
      raycc::RayccError);
  raycc::GraphOutputs out = graph.Execute({{"path", raycc::GraphInput::Value(text_)}});
  EXPECT_THROW(out.Get<Counts>("nope"), raycc::RayccError);
}

TEST_P(GraphEndToEndTest, LoadGraphErrorsNameTheCause) {
  try {
    raycc::LoadGraph(artifacts_ + "/word_count.rcx", "nope");
    FAIL();
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no graph named 'nope' (graphs: word_count)"));
  }
  try {
    raycc::LoadGraph(artifacts_ + "/placement_strategies.rcx");
    FAIL();
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("calls 'Preprocess', which is not registered in this process"));
  }
  EXPECT_THROW(raycc::LoadGraph(artifacts_ + "/missing.rcx"), raycc::RayccError);
}

INSTANTIATE_TEST_SUITE_P(ThreadCounts, GraphEndToEndTest, ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "cpus";
                         });

}  // namespace
