// The graph builder records what a RAYCC_GRAPH body does: values, ops,
// options, source locations, and every misuse as an error at its line.

#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/graph.h"

namespace {

using raycc::trace::OpKind;
using raycc::trace::ValueKind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

int64_t Twice(int64_t x) { return 2 * x; }
std::vector<double> Scale(std::vector<double> v, double f) {
  for (double& x : v) x *= f;
  return v;
}
void Consume(std::vector<double>) {}
int64_t Unregistered(int64_t x) { return x; }

class Acc {
 public:
  static Acc* Create(int64_t start) { return new Acc{start}; }
  int64_t Add(int64_t x) { return total += x; }
  int64_t total = 0;
};

RAYCC_REMOTE(Twice, Scale, Consume, Acc::Create, &Acc::Add);

TEST(GraphBuilderTest, RecordsValuesOpsAndOptions) {
  raycc::trace::Graph graph;
  raycc::GraphBuilder g(&graph);
  auto v = g.Input<std::vector<double>>("v");
  auto pg = g.PlacementGroup({{{"CPU", 1}}, {{"CPU", 2}}}, raycc::PlacementStrategy::kStrictPack, "pair");
  auto scaled =
      g.Task(Scale).SetResources({{"CPU", 2}}).SetPlacementGroup(pg, 1).SetMaxRetries(2).Call(v, 0.5);
  auto done = g.Task(Consume).SetName("sink").Call(scaled);
  auto acc = g.Actor(Acc::Create).SetMaxRestarts(1).Call(int64_t{7});
  auto total = acc.Task(&Acc::Add).Call(g.Task(Twice).Call(int64_t{3}));
  acc.Kill();
  g.Output("total", total);
  g.Output("done", done);

  ASSERT_TRUE(graph.errors.empty()) << graph.errors.front().message;
  ASSERT_EQ(graph.inputs.size(), 1u);
  EXPECT_EQ(graph.inputs[0].name, "v");
  EXPECT_EQ(graph.values[graph.inputs[0].value].type.name, "std::vector<double>");

  std::vector<OpKind> kinds;
  for (const auto& op : graph.ops) kinds.push_back(op.kind);
  EXPECT_THAT(kinds, ElementsAre(OpKind::kPlacementGroup, OpKind::kConstant, OpKind::kTask, OpKind::kTask,
                                 OpKind::kConstant, OpKind::kActorCreate, OpKind::kConstant, OpKind::kTask,
                                 OpKind::kActorCall, OpKind::kActorKill));

  const auto& pgOp = graph.ops[0];
  EXPECT_EQ(pgOp.bundles.size(), 2u);
  EXPECT_EQ(pgOp.strategy, static_cast<int>(raycc::PlacementStrategy::kStrictPack));
  EXPECT_EQ(pgOp.options.name, "pair");

  const auto& half = graph.values[graph.ops[1].result];
  EXPECT_EQ(half.kind, ValueKind::kConstant);
  EXPECT_EQ(half.type.kind, raycc::trace::Type::Kind::kFloat);
  EXPECT_EQ(std::get<double>(half.constant), 0.5);

  const auto& scale = graph.ops[2];
  EXPECT_EQ(graph.functions[scale.function].registered_name, "Scale");
  EXPECT_THAT(scale.operands, ElementsAre(graph.inputs[0].value, graph.ops[1].result));
  ASSERT_TRUE(scale.options.resources.has_value());
  EXPECT_EQ(scale.options.resources->at("CPU"), 2);
  EXPECT_EQ(scale.options.placement_group, pgOp.result);
  EXPECT_EQ(scale.options.bundle_index, 1);
  EXPECT_EQ(scale.options.max_retries, 2);

  EXPECT_EQ(graph.values[graph.ops[3].result].kind, ValueKind::kToken);  // void result
  EXPECT_EQ(graph.ops[3].options.name, "sink");

  const auto& create = graph.ops[5];
  EXPECT_EQ(graph.functions[create.function].registered_name, "Acc::Create");
  EXPECT_EQ(graph.functions[create.function].actor_class, "Acc");
  EXPECT_EQ(create.options.max_restarts, 1);
  const auto& call = graph.ops[8];
  EXPECT_EQ(graph.functions[call.function].registered_name, "Acc::Add");
  EXPECT_EQ(call.operands.front(), create.result);  // the actor comes first
  EXPECT_THAT(graph.outputs.size(), 2u);
}

TEST(GraphBuilderTest, EveryCallRecordsTheCallersLine) {
  raycc::trace::Graph graph;
  raycc::GraphBuilder g(&graph);
  auto x = g.Input<int64_t>("x");
  uint32_t line = std::source_location::current().line() + 1;
  auto y = g.Task(Twice).Call(x);
  g.Output("y", y);
  ASSERT_EQ(graph.ops.size(), 1u);
  EXPECT_EQ(graph.ops[0].loc.line, line);
  EXPECT_THAT(graph.ops[0].loc.file, HasSubstr("graph_builder_test.cpp"));
  EXPECT_EQ(graph.inputs[0].loc.line, line - 2);
  EXPECT_EQ(graph.outputs[0].loc.line, line + 1);
}

TEST(GraphBuilderTest, MisuseIsAnErrorAtTheLineNotACrash) {
  raycc::trace::Graph other_graph;
  raycc::Value<int64_t> foreign;
  {
    raycc::GraphBuilder other(&other_graph);
    foreign = other.Input<int64_t>("a");
  }
  raycc::trace::Graph graph;
  raycc::GraphBuilder g(&graph);
  auto x = g.Input<int64_t>("x");
  uint32_t line = std::source_location::current().line();
  g.Task(Unregistered).Call(x);                                                  // line + 1
  g.Task(Twice).Call(foreign);                                                   // line + 2
  g.Task(Twice).Call(raycc::Value<int64_t>());                                   // line + 3
  g.Task(Twice).SetPlacementGroup(g.PlacementGroup({{{"CPU", 1}}}), 3).Call(x);  // line + 4
  g.Input<int64_t>("x");                                                         // line + 5
  g.Output("x", x);
  g.Output("x", x);  // line + 7
  std::vector<uint32_t> lines;
  std::vector<std::string> messages;
  for (const auto& e : graph.errors) {
    lines.push_back(e.loc.line - line);
    messages.push_back(e.message);
  }
  EXPECT_THAT(lines, ElementsAre(1, 2, 3, 4, 5, 7));
  ASSERT_EQ(messages.size(), 6u);
  // The name comes from the dynamic symbol table when the function has one.
  EXPECT_THAT(messages[0], HasSubstr("is not registered: add it to RAYCC_REMOTE(...)"));
  EXPECT_EQ(messages[1], "the argument belongs to another graph; values cannot cross graphs");
  EXPECT_EQ(messages[2], "the argument was never assigned a value of this graph");
  EXPECT_EQ(messages[3], "bundle index 3 is out of range: the placement group has 1 bundle(s)");
  EXPECT_EQ(messages[4], "a second input named 'x' (the first is at line " + std::to_string(line - 1) + ")");
  EXPECT_EQ(messages[5], "a second output named 'x' (the first is at line " + std::to_string(line + 6) + ")");
}

TEST(GraphBuilderTest, AnActorUsedAfterItsGraphWasTracedThrows) {
  raycc::GraphActor<Acc> kept;
  {
    raycc::trace::Graph graph;
    raycc::GraphBuilder g(&graph);
    kept = g.Actor(Acc::Create).Call(int64_t{0});
  }
  EXPECT_THROW(kept.Task(&Acc::Add), std::logic_error);
}

TEST(GraphBuilderTest, ACallBuilderRecordsEachCallWithTheSameOptions) {
  raycc::trace::Graph graph;
  raycc::GraphBuilder g(&graph);
  auto x = g.Input<int64_t>("x");
  auto twice = g.Task(Twice).SetResources({{"CPU", 2}}).SetName("t");
  auto a = twice.Call(x);
  auto b = twice.Call(a);
  g.Output("b", b);
  ASSERT_TRUE(graph.errors.empty());
  ASSERT_EQ(graph.ops.size(), 2u);
  for (const auto& op : graph.ops) {
    EXPECT_EQ(op.options.resources->at("CPU"), 2);
    EXPECT_EQ(op.options.name, "t");
    EXPECT_EQ(op.operands.size(), 1u);
  }
  EXPECT_EQ(graph.ops[1].operands[0], graph.ops[0].result);
}

TEST(GraphBuilderTest, ACallBuilderKeptPastItsGraphThrows) {
  std::optional<raycc::GraphCall<int64_t (*)(int64_t), raycc::internal::TaskKind>> kept;
  {
    raycc::trace::Graph graph;
    raycc::GraphBuilder g(&graph);
    kept.emplace(g.Task(Twice));
  }
  raycc::trace::Graph other;
  raycc::GraphBuilder g(&other);
  EXPECT_THROW(kept->Call(int64_t{1}), std::logic_error);
}

TEST(GraphBuilderTest, IntegerParametersAreRangeChecked) {
  using raycc::internal::ParseParam;
  EXPECT_EQ(ParseParam<uint32_t>("n", "4294967295"), 4294967295u);
  EXPECT_EQ(ParseParam<uint64_t>("n", "18446744073709551615"), UINT64_MAX);
  try {
    ParseParam<uint32_t>("n", "-1");
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("parameter 'n' is an integer from 0 to 4294967295; got '-1'"));
  }
  EXPECT_THROW(ParseParam<int32_t>("n", "5000000000"), std::invalid_argument);
}

#define RAYCC_TEST_TWO_PARAMS int64_t a, int64_t b
RAYCC_GRAPH(hidden_params, raycc::GraphBuilder& g, RAYCC_TEST_TWO_PARAMS) {
  g.Output("x", g.Input<int64_t>("x"));
}

TEST(GraphBuilderTest, ParametersItCannotNameAreAnErrorNotAGuess) {
  const raycc::trace::GraphEntry* entry = raycc::trace::GraphRegistry::Instance().Find("hidden_params");
  ASSERT_NE(entry, nullptr);
  raycc::trace::Graph traced = raycc::trace::TraceGraph(*entry, {});
  ASSERT_EQ(traced.errors.size(), 1u);
  EXPECT_THAT(traced.errors[0].message, HasSubstr("cannot read the names of the graph's 2 parameter(s)"));
}

TEST(GraphBuilderTest, TypesHaveStableNames) {
  using raycc::internal::GraphType;
  EXPECT_EQ(GraphType<int64_t>().width, 64u);
  EXPECT_EQ(GraphType<int32_t>().width, 32u);
  EXPECT_EQ(GraphType<bool>().width, 1u);
  EXPECT_EQ(GraphType<float>().kind, raycc::trace::Type::Kind::kFloat);
  EXPECT_EQ(GraphType<std::string>().name, "std::string");
  EXPECT_EQ((GraphType<std::map<std::string, std::vector<int64_t>>>().name),
            "std::map<std::string,std::vector<int64_t>>");
  EXPECT_EQ(GraphType<Acc>().name, "(anonymous namespace)::Acc");
}

TEST(GraphBuilderTest, ParametersAreParsedFromTheSignatureText) {
  auto params = raycc::internal::SplitGraphParams(
      "raycc::GraphBuilder& g, int64_t shards, std::map<std::string, int> m, const std::string &name");
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[1], (std::pair<std::string, std::string>("int64_t", "shards")));
  EXPECT_EQ(params[2], (std::pair<std::string, std::string>("std::map<std::string, int>", "m")));
  EXPECT_EQ(params[3], (std::pair<std::string, std::string>("const std::string &", "name")));
}

RAYCC_GRAPH(chain, raycc::GraphBuilder& g, int64_t n, bool twice) {
  auto x = g.Input<int64_t>("x");
  for (int64_t i = 0; i < n; ++i) x = g.Task(Twice).Call(x);
  if (twice) x = g.Task(Twice).Call(x);
  g.Output("y", x);
}

TEST(GraphBuilderTest, RegisteredGraphsTraceWithTheirParameters) {
  const raycc::trace::GraphEntry* entry = raycc::trace::GraphRegistry::Instance().Find("chain");
  ASSERT_NE(entry, nullptr);
  ASSERT_EQ(entry->params.size(), 2u);
  EXPECT_EQ(entry->params[0].second, "n");
  raycc::trace::Graph traced = raycc::trace::TraceGraph(*entry, {{"n", "4"}, {"twice", "true"}});
  EXPECT_TRUE(traced.errors.empty());
  EXPECT_EQ(traced.ops.size(), 5u);

  raycc::trace::Graph missing = raycc::trace::TraceGraph(*entry, {{"n", "4"}});
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_THAT(missing.errors[0].message, HasSubstr("needs a value for its parameter 'twice' (bool)"));
  raycc::trace::Graph bad = raycc::trace::TraceGraph(*entry, {{"n", "4x"}, {"twice", "no"}});
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_THAT(bad.errors[0].message, HasSubstr("parameter 'n' is an integer from"));
  EXPECT_THAT(bad.errors[0].message, HasSubstr("got '4x'"));
}

}  // namespace
