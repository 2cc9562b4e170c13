// A plan is input a user can hand the runtime (a `.rcx` from anywhere):
// LoadGraph refuses every malformed one with an error naming the graph, the
// node and what is wrong, and never runs code on arguments it does not have.
// Each case starts from a valid plan (which loads and runs) and breaks one
// thing.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "raycc/proto/artifact.pb.h"
#include "raycc/runtime/common/artifact_file.h"

namespace {

using ::testing::HasSubstr;

int64_t AddPair(int64_t a, int64_t b) { return a + b; }
int64_t Negate(int64_t a) { return -a; }
class Box {
 public:
  static Box* Create(int64_t v) { return new Box(v); }
  explicit Box(int64_t v) : v_(v) {}
  int64_t Value() { return v_; }

 private:
  int64_t v_;
};
// A map's shard: shard i of x.
int64_t ShardTimes(int64_t shard, int64_t x) { return shard * x; }
int64_t NotAShard(std::string s, int64_t x) { return static_cast<int64_t>(s.size()) + x; }
RAYCC_REMOTE(AddPair, Negate, Box::Create, &Box::Value, ShardTimes, NotAShard);

raycc::proto::PlanOperand Input(uint32_t i) {
  raycc::proto::PlanOperand operand;
  operand.set_graph_input(i);
  return operand;
}
raycc::proto::PlanOperand Result(uint32_t node) {
  raycc::proto::PlanOperand operand;
  operand.mutable_node_result()->set_node(node);
  return operand;
}
raycc::proto::PlanOperand Constant(int64_t v) {
  raycc::proto::PlanOperand operand;
  operand.set_constant(raycc::Serialize(v));
  return operand;
}

// x -> AddPair(x, 2) -> Negate; Box::Create(7) -> Value. Outputs: "neg"
// (-(x + 2)) and "value" (7).
raycc::proto::Artifact ValidArtifact() {
  raycc::proto::Artifact artifact;
  artifact.set_format_version(1);
  raycc::proto::ExecPlan* plan = artifact.add_plans();
  plan->set_format_version(1);
  plan->set_graph_name("g");
  raycc::proto::PlanInput* in = plan->add_inputs();
  in->set_name("x");
  in->mutable_type()->set_ir_type("i64");
  auto add = [&](raycc::proto::PlanNodeKind kind, const std::string& function,
                 std::vector<raycc::proto::PlanOperand> operands) {
    raycc::proto::PlanNode* node = plan->add_nodes();
    node->set_id(plan->nodes_size() - 1);
    node->set_kind(kind);
    node->set_name(function);
    node->mutable_function()->set_name(function);
    node->set_num_results(1);
    for (auto& operand : operands) *node->add_operands() = std::move(operand);
    return node;
  };
  add(raycc::proto::TASK, "AddPair", {Input(0), Constant(2)});
  add(raycc::proto::TASK, "Negate", {Result(0)});
  add(raycc::proto::ACTOR_CREATE, "Box::Create", {Constant(7)});
  add(raycc::proto::ACTOR_CALL, "Box::Value", {Result(2)});
  add(raycc::proto::ACTOR_KILL, "", {Result(2)})->add_control_deps(3);
  for (auto [name, node] : {std::pair<const char*, uint32_t>{"neg", 1}, {"value", 3}}) {
    raycc::proto::PlanOutput* out = plan->add_outputs();
    out->set_name(name);
    *out->mutable_value() = Result(node);
  }
  return artifact;
}

class MalformedPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // (A folder of its own: ctest runs these tests in parallel processes.)
    std::string tmpl = testing::TempDir() + "/malformed-plan-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    raycc::Init(raycc::Config{.num_cpus = 2});
  }
  void TearDown() override {
    raycc::Shutdown();
    std::filesystem::remove_all(dir_);
  }

  std::string Write(const raycc::proto::Artifact& artifact) {
    std::string path = dir_ + "/plan_" + std::to_string(++count_) + ".rcx";
    EXPECT_TRUE(raycc::WriteArtifact(path, artifact).ok());
    return path;
  }
  // The valid plan with `breakage` applied: LoadGraph's error.
  std::string LoadError(const std::function<void(raycc::proto::ExecPlan&)>& breakage) {
    raycc::proto::Artifact artifact = ValidArtifact();
    breakage(*artifact.mutable_plans(0));
    try {
      raycc::LoadGraph(Write(artifact));
    } catch (const raycc::RayccError& e) {
      return e.what();
    }
    return "(loaded)";
  }
  std::string dir_;
  int count_ = 0;
};

TEST_F(MalformedPlanTest, TheValidPlanLoadsAndRuns) {
  raycc::Graph graph = raycc::LoadGraph(Write(ValidArtifact()));
  raycc::GraphOutputs out = graph.Execute({{"x", raycc::GraphInput::Value<int64_t>(40)}});
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(out.ids().at("neg")).Get(60000), -42);
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(out.ids().at("value")).Get(60000), 7);
}

TEST_F(MalformedPlanTest, ACallWithTooFewOrTooManyArgumentsIsRefused) {
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(0)->mutable_operands()->RemoveLast(); }),
              HasSubstr("graph @g: node 0 calls 'AddPair', which takes 2 argument(s), with 1"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(0)->mutable_operands()->Clear(); }),
              HasSubstr("node 0 calls 'AddPair', which takes 2 argument(s), with 0"));
  EXPECT_THAT(LoadError([](auto& p) { *p.mutable_nodes(1)->add_operands() = Constant(1); }),
              HasSubstr("node 1 calls 'Negate', which takes 1 argument(s), with 2"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(2)->mutable_operands()->Clear(); }),
              HasSubstr("node 2 calls 'Box::Create', which takes 1 argument(s), with 0"));
  EXPECT_THAT(LoadError([](auto& p) { *p.mutable_nodes(3)->add_operands() = Constant(1); }),
              HasSubstr("node 3 calls 'Box::Value', which takes 0 argument(s), with 1"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(3)->mutable_operands()->Clear(); }),
              HasSubstr("node 3 calls a method on no actor"));
  EXPECT_THAT(LoadError([](auto& p) { *p.mutable_nodes(4)->add_operands() = Result(3); }),
              HasSubstr("node 4 (an actor kill) has 2 operands, not 1"));
}

TEST_F(MalformedPlanTest, AFusedChainMustChainOneResultIntoOneArgument) {
  // AddPair+Negate is a valid chain; Negate+AddPair is not (AddPair takes 2).
  EXPECT_EQ(LoadError([](auto& p) {
              p.mutable_nodes(0)->add_fused_functions()->set_name("AddPair");
              p.mutable_nodes(0)->add_fused_functions()->set_name("Negate");
            }),
            "(loaded)");
  EXPECT_THAT(LoadError([](auto& p) {
                p.mutable_nodes(1)->add_fused_functions()->set_name("Negate");
                p.mutable_nodes(1)->add_fused_functions()->set_name("AddPair");
              }),
              HasSubstr("node 1 calls 'AddPair', which takes 2 argument(s), with 1"));
  EXPECT_THAT(LoadError([](auto& p) {
                p.mutable_nodes(1)->add_fused_functions()->set_name("Negate");
                p.mutable_nodes(1)->add_fused_functions()->set_name("Box::Create");
              }),
              HasSubstr("node 1 fuses 'Box::Create', which is not a task function"));
}

TEST_F(MalformedPlanTest, TheWrongKindOfCalleeIsRefused) {
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(1)->mutable_function()->set_name("Box::Create"); }),
              HasSubstr("node 1 calls 'Box::Create' as a task, but it is an actor factory"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(2)->mutable_function()->set_name("Negate"); }),
              HasSubstr("node 2 creates an actor with 'Negate', which is not an actor factory"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(1)->mutable_function()->set_name("Nope"); }),
              HasSubstr("node 1 calls 'Nope', which is not registered in this process"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(3)->mutable_function()->set_name("Box::Nope"); }),
              HasSubstr("node 3 calls method 'Box::Nope', which is not registered"));
  // The executor's own builtins are not the plan's to call.
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(1)->mutable_function()->set_name("raycc.wait"); }),
              HasSubstr("node 1 calls 'raycc.wait', a name reserved for the runtime"));
  EXPECT_THAT(
      LoadError([](auto& p) { *p.mutable_nodes(3)->mutable_operands(0) = Result(1); }),
      HasSubstr("node 3 acts on something that is neither an actor the graph creates nor an actor input"));
  EXPECT_THAT(
      LoadError([](auto& p) { p.mutable_nodes(1)->set_kind(static_cast<raycc::proto::PlanNodeKind>(42)); }),
      HasSubstr("node 1 has an unknown kind 42"));
}

TEST_F(MalformedPlanTest, EdgesMustPointBackwardsToThingsThatExist) {
  EXPECT_THAT(LoadError([](auto& p) { *p.mutable_nodes(0)->mutable_operands(0) = Result(1); }),
              HasSubstr("node 0 uses node 1, which does not come before it"));
  EXPECT_THAT(LoadError([](auto& p) { *p.mutable_nodes(1)->mutable_operands(0) = Result(1); }),
              HasSubstr("node 1 uses node 1, which does not come before it"));
  EXPECT_THAT(LoadError([](auto& p) { *p.mutable_nodes(0)->mutable_operands(0) = Input(3); }),
              HasSubstr("node 0 uses input 3, which does not exist"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(1)->add_control_deps(4); }),
              HasSubstr("node 1 is ordered after node 4, which does not come before it"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(2)->set_id(7); }), HasSubstr("node 2 has id 7"));
  EXPECT_THAT(LoadError([](auto& p) { *p.mutable_outputs(0)->mutable_value() = Result(99); }),
              HasSubstr("output 'neg' refers to no node or input of the plan"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_outputs(1)->mutable_value()->Clear(); }),
              HasSubstr("output 'value' refers to no node or input of the plan"));
}

TEST_F(MalformedPlanTest, PutGetAndWaitNodesAreChecked) {
  EXPECT_THAT(LoadError([](auto& p) {
                p.mutable_nodes(1)->set_kind(raycc::proto::PUT);
                *p.mutable_nodes(1)->add_operands() = Constant(1);
              }),
              HasSubstr("node 1 (put/get) has 2 operands, not 1"));
  EXPECT_THAT(LoadError([](auto& p) {
                p.mutable_nodes(1)->set_kind(raycc::proto::WAIT);
                p.mutable_nodes(1)->mutable_wait()->set_num_returns(2);
              }),
              HasSubstr("node 1 waits for 2 of its 1 operands"));
  EXPECT_THAT(LoadError([](auto& p) { p.mutable_nodes(1)->set_kind(raycc::proto::WAIT); }),
              HasSubstr("node 1 waits for 0 of its 1 operands"));
}

TEST_F(MalformedPlanTest, PlacementGroupsMustExistAndHoldTheBundlesNamed) {
  auto group = [](raycc::proto::ExecPlan& p, int bundles) {
    raycc::proto::PlanPlacementGroup* pg = p.add_placement_groups();
    pg->set_index(p.placement_groups_size() - 1);
    pg->set_name("pg");
    for (int b = 0; b < bundles; ++b) (*pg->add_bundles()->mutable_quantities())["CPU"] = 10000;
  };
  EXPECT_THAT(LoadError([&](auto& p) { group(p, 0); }), HasSubstr("placement group 0 has no bundles"));
  EXPECT_THAT(LoadError([](auto& p) {
                p.mutable_nodes(1)->mutable_scheduling()->mutable_placement_group()->set_placement_group(3);
              }),
              HasSubstr("node 1 runs in placement group 3, which does not exist"));
  EXPECT_THAT(LoadError([&](auto& p) {
                group(p, 1);
                p.mutable_nodes(1)->mutable_scheduling()->mutable_placement_group()->set_bundle_index(5);
              }),
              HasSubstr("node 1 runs in bundle 5 of placement group 0, which does not exist"));
}

TEST_F(MalformedPlanTest, ALabelSelectorMustParseAndStayOutOfPlacementGroups) {
  EXPECT_THAT(LoadError([](auto& p) {
                (*p.mutable_nodes(1)->mutable_scheduling()->mutable_label_selector())["zone"] = "in(a";
              }),
              HasSubstr("node 1: label selector 'zone': 'in(a': 'in(' without its ')'"));
  EXPECT_THAT(LoadError([](auto& p) {
                raycc::proto::PlanPlacementGroup* pg = p.add_placement_groups();
                (*pg->add_bundles()->mutable_quantities())["CPU"] = 10000;
                p.mutable_nodes(1)->mutable_scheduling()->mutable_placement_group()->set_bundle_index(0);
                (*p.mutable_nodes(1)->mutable_scheduling()->mutable_label_selector())["zone"] = "a";
              }),
              HasSubstr("node 1 runs in a placement group and has a label selector"));
  EXPECT_THAT(LoadError([](auto& p) {
                (*p.mutable_nodes(3)->mutable_scheduling()->mutable_label_selector())["zone"] = "a";
              }),
              HasSubstr("node 3 has a label selector, which only tasks, maps and actors take"));
}

// Node 1 as a map of `function` over `shards` shards of node 0's result.
void MakeMap(raycc::proto::ExecPlan& p, const std::string& function, int64_t shards) {
  raycc::proto::PlanNode* node = p.mutable_nodes(1);
  node->set_kind(raycc::proto::MAP);
  node->mutable_function()->set_name(function);
  node->set_shards(shards);
}

TEST_F(MalformedPlanTest, AMapRunsItsShardsAndGathersTheirResultsInOrder) {
  raycc::proto::Artifact artifact = ValidArtifact();
  MakeMap(*artifact.mutable_plans(0), "ShardTimes", 5);
  raycc::Graph graph = raycc::LoadGraph(Write(artifact));
  raycc::GraphOutputs out = graph.Execute({{"x", raycc::GraphInput::Value<int64_t>(40)}});
  EXPECT_EQ(*raycc::ObjectRef<std::vector<int64_t>>(out.ids().at("neg")).Get(60000),
            (std::vector<int64_t>{0, 42, 84, 126, 168}));
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(out.ids().at("value")).Get(60000), 7);
}

TEST_F(MalformedPlanTest, MapNodesAreChecked) {
  EXPECT_THAT(LoadError([](auto& p) { MakeMap(p, "ShardTimes", 0); }),
              HasSubstr("node 1 maps over 0 shards (1 to 10000000)"));
  EXPECT_THAT(LoadError([](auto& p) { MakeMap(p, "ShardTimes", 10000001); }),
              HasSubstr("node 1 maps over 10000001 shards (1 to 10000000)"));
  // (Shard i calls it with i, then the operands.)
  EXPECT_THAT(LoadError([](auto& p) { MakeMap(p, "Negate", 3); }),
              HasSubstr("node 1 calls 'Negate', which takes 1 argument(s), with 2"));
  EXPECT_THAT(LoadError([](auto& p) { MakeMap(p, "NotAShard", 3); }),
              HasSubstr("node 1 maps 'NotAShard', whose first parameter is not the shard index (int64_t)"));
  // An operand taken shard by shard is the result of an earlier map of as
  // many shards.
  EXPECT_THAT(
      LoadError([](auto& p) {
        MakeMap(p, "ShardTimes", 3);
        p.mutable_nodes(1)->add_per_shard(0);  // (node 0 is a task)
      }),
      HasSubstr("node 1 takes operand 0 shard by shard, but it is not the result of an earlier map of 3 "
                "shards"));
  EXPECT_THAT(LoadError([](auto& p) {
                MakeMap(p, "ShardTimes", 3);
                p.mutable_nodes(1)->add_per_shard(4);
              }),
              HasSubstr("node 1 takes operand 4 shard by shard, but it is not the result"));
  EXPECT_THAT(
      LoadError([](auto& p) {
        MakeMap(p, "ShardTimes", 3);
        p.mutable_nodes(0)->set_kind(raycc::proto::MAP);
        p.mutable_nodes(0)->mutable_function()->set_name("ShardTimes");
        p.mutable_nodes(0)->set_shards(2);
        p.mutable_nodes(0)->mutable_operands()->RemoveLast();
        p.mutable_nodes(1)->add_per_shard(0);
      }),
      HasSubstr("node 1 takes operand 0 shard by shard, but it is not the result of an earlier map of 3 "
                "shards"));
  EXPECT_THAT(LoadError([](auto& p) { MakeMap(p, "Box::Create", 3); }),
              HasSubstr("node 1 maps 'Box::Create', which is an actor factory, not a task"));
  EXPECT_THAT(LoadError([](auto& p) {
                MakeMap(p, "ShardTimes", 3);
                raycc::proto::PlanPlacementGroup* pg = p.add_placement_groups();
                (*pg->add_bundles()->mutable_quantities())["CPU"] = 10000;
                p.mutable_nodes(1)->mutable_scheduling()->mutable_placement_group()->set_bundle_index(1);
              }),
              HasSubstr("node 1 runs in bundle 1 of placement group 0, which does not exist"));
}

// Over a group's two bundles as over a mesh (no bundle named): the group,
// which holds every CPU of the runtime, is reserved whole before the shards
// run, and their results come back in shard order (the gather needs no CPU).
TEST_F(MalformedPlanTest, AMapOverAPlacementGroupsBundlesRuns) {
  raycc::proto::Artifact artifact = ValidArtifact();
  raycc::proto::ExecPlan& p = *artifact.mutable_plans(0);
  p.clear_nodes();
  p.clear_outputs();
  raycc::proto::PlanNode* map = p.add_nodes();
  map->set_kind(raycc::proto::MAP);
  map->mutable_function()->set_name("ShardTimes");
  map->set_shards(5);
  map->set_num_results(1);
  *map->add_operands() = Input(0);
  map->mutable_scheduling()->mutable_placement_group()->set_bundle_index(-1);
  (*map->mutable_resources()->mutable_quantities())["CPU"] = 10000;
  raycc::proto::PlanPlacementGroup* pg = p.add_placement_groups();
  for (int b = 0; b < 2; ++b) (*pg->add_bundles()->mutable_quantities())["CPU"] = 10000;
  raycc::proto::PlanOutput* out = p.add_outputs();
  out->set_name("all");
  *out->mutable_value() = Result(0);
  raycc::Graph graph = raycc::LoadGraph(Write(artifact));
  raycc::GraphOutputs outputs = graph.Execute({{"x", raycc::GraphInput::Value<int64_t>(3)}});
  EXPECT_EQ(*raycc::ObjectRef<std::vector<int64_t>>(outputs.ids().at("all")).Get(60000),
            (std::vector<int64_t>{0, 3, 6, 9, 12}));
}

TEST_F(MalformedPlanTest, FilesThatAreNotPlansAreRefused) {
  EXPECT_THAT(LoadError([](auto& p) { p.set_format_version(9); }),
              HasSubstr("plan format 9 is not supported"));
  std::string garbage = dir_ + "/garbage.rcx";
  std::ofstream(garbage) << "this is not an artifact";
  EXPECT_THROW(raycc::LoadGraph(garbage), raycc::RayccError);
  EXPECT_THROW(raycc::LoadGraph(dir_ + "/no_such_file.rcx"), raycc::RayccError);
  try {
    raycc::LoadGraph(Write(ValidArtifact()), "other");
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no graph named 'other' (graphs: g)"));
  }
}

// One random change anywhere in `message` (its fields, or a message below):
// a number made extreme, an enum out of range, a name swapped, an element
// added or removed.
void MutateOnce(google::protobuf::Message& message, std::mt19937_64& rng) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (descriptor->field_count() == 0) return;
  const FieldDescriptor* field = descriptor->field(static_cast<int>(rng() % descriptor->field_count()));
  static const int64_t numbers[] = {0, 1, 2, 3, 5, -1, -2, 7, 1000, 2147483647, -2147483648LL};
  static const char* names[] = {"AddPair",    "Negate", "Box::Create", "Box::Value",
                                "raycc.wait", "",       "nope",        "x"};
  const int64_t number = numbers[rng() % std::size(numbers)];
  const std::string name = names[rng() % std::size(names)];
  if (field->is_repeated()) {
    const int size = reflection->FieldSize(message, field);
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (size > 0 && rng() % 3 != 0) {
        MutateOnce(*reflection->MutableRepeatedMessage(&message, field, static_cast<int>(rng() % size)), rng);
      } else if (size > 0 && rng() % 2 == 0) {
        reflection->RemoveLast(&message, field);
      } else {
        google::protobuf::Message* added = reflection->AddMessage(&message, field);
        if (size > 0)
          added->CopyFrom(reflection->GetRepeatedMessage(message, field, static_cast<int>(rng() % size)));
      }
      return;
    }
    if (size > 0 && rng() % 2 == 0) {
      reflection->RemoveLast(&message, field);
      return;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_UINT32:
        reflection->AddUInt32(&message, field, static_cast<uint32_t>(number));
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        reflection->AddInt32(&message, field, static_cast<int32_t>(number));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        reflection->AddString(&message, field, name);
        break;
      default:
        break;
    }
    return;
  }
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      MutateOnce(*reflection->MutableMessage(&message, field), rng);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      reflection->SetUInt32(&message, field, static_cast<uint32_t>(number));
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      reflection->SetInt32(&message, field, static_cast<int32_t>(number));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      reflection->SetUInt64(&message, field, static_cast<uint64_t>(number));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      reflection->SetInt64(&message, field, number);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      reflection->SetBool(&message, field, rng() % 2 == 0);
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      reflection->SetEnumValue(&message, field, static_cast<int>(number % 12));
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      reflection->SetString(&message, field,
                            field->type() == FieldDescriptor::TYPE_BYTES ? raycc::Serialize(number) : name);
      break;
    default:
      break;
  }
}

// Plans broken at random (seeded): each is refused with a RayccError, or
// loads and runs to values or errors; none crashes the process or hangs.
TEST_F(MalformedPlanTest, RandomlyBrokenPlansAreRefusedOrRunNeverCrash) {
  // (RAYCC_FUZZ_SEED and RAYCC_FUZZ_RUNS make a longer hunt by hand.)
  const char* seed = std::getenv("RAYCC_FUZZ_SEED");
  const char* runs = std::getenv("RAYCC_FUZZ_RUNS");
  std::mt19937_64 rng(seed != nullptr ? std::stoull(seed) : 20261207);
  const int count = runs != nullptr ? std::stoi(runs) : 1500;
  int refused = 0, ran = 0;
  for (int i = 0; i < count; ++i) {
    raycc::proto::Artifact artifact = ValidArtifact();
    for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) MutateOnce(*artifact.mutable_plans(0), rng);
    const std::string path = Write(artifact);
    std::optional<raycc::Graph> graph;
    try {
      graph = raycc::LoadGraph(path);
    } catch (const raycc::RayccError&) {
      ++refused;
      continue;
    }
    try {
      raycc::GraphOutputs out = graph->Execute({{"x", raycc::GraphInput::Value<int64_t>(1)}});
      for (const auto& [name, id] : out.ids()) {
        try {
          raycc::Get(raycc::ObjectRef<int64_t>(id), 60000);
        } catch (const raycc::GetTimeoutError&) {
          ADD_FAILURE() << "output '" << name << "' of a broken plan was not made in 60 s (a hang)";
          throw;
        } catch (const raycc::RayccError&) {  // (failed: a clear error is fine)
        }
      }
      ++ran;
    } catch (const raycc::GetTimeoutError&) {
      return;
    } catch (const raycc::RayccError&) {
      ++refused;
    }
  }
  // (Both kinds happened: the mutations neither broke everything nor nothing.)
  EXPECT_GT(refused, 100);
  EXPECT_GT(ran, 100);
}

}  // namespace
