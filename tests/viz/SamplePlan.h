//===- SamplePlan.h - a small plan and run for the visualizer tests -*- C++
//-*-===//
//
// @ps: an actor, two tasks in a two-bundle placement group (one of them named
// like an HTML injection), and a fused actor call that joins them; and a run
// of it on three workers.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_TESTS_VIZ_SAMPLEPLAN_H
#define RAYCC_TESTS_VIZ_SAMPLEPLAN_H

#include <string>

#include "raycc/proto/exec_plan.pb.h"
#include "viz/Timeline.h"

namespace raycc::tools::viz {

inline constexpr const char* kHostile = "</script><script>alert(1)</script>";

inline proto::PlanNode* addNode(proto::ExecPlan& plan, proto::PlanNodeKind kind, const std::string& name) {
  proto::PlanNode* node = plan.add_nodes();
  node->set_id(plan.nodes_size() - 1);
  node->set_kind(kind);
  node->set_name(name);
  node->mutable_function()->set_name(name);
  return node;
}

inline void addOperand(proto::PlanNode* node, uint32_t from) {
  node->add_operands()->mutable_node_result()->set_node(from);
}

inline void putInGroup(proto::PlanNode* node, uint32_t group, int bundle) {
  auto* pg = node->mutable_scheduling()->mutable_placement_group();
  pg->set_placement_group(group);
  pg->set_bundle_index(bundle);
}

inline proto::ExecPlan samplePlan() {
  proto::ExecPlan plan;
  plan.set_graph_name("ps");
  plan.add_inputs()->set_name("steps");
  proto::PlanPlacementGroup* group = plan.add_placement_groups();
  group->set_name("workers");
  group->set_strategy(proto::STRICT_SPREAD);
  for (const char* node : {"node-a", "node-b"}) {
    (*group->add_bundles()->mutable_quantities())["CPU"] = 10000;
    group->add_bundle_nodes(node);
  }

  proto::PlanNode* actor = addNode(plan, proto::ACTOR_CREATE, "Server");
  actor->mutable_actor()->set_class_name("Server");
  actor->mutable_location()->set_file("prog.cc");
  actor->mutable_location()->set_line(10);
  actor->set_on_critical_path(true);

  proto::PlanNode* a = addNode(plan, proto::TASK, "Grad");
  addOperand(a, 0);
  a->add_operands()->set_graph_input(0);
  putInGroup(a, 0, 0);
  (*a->mutable_resources()->mutable_quantities())["CPU"] = 5000;
  a->mutable_placement()->set_node_name("node-a");
  a->mutable_location()->set_file("prog.cc");
  a->mutable_location()->set_line(42);
  a->mutable_location()->set_column(7);
  a->set_priority(5);
  a->set_on_critical_path(true);

  proto::PlanNode* b = addNode(plan, proto::TASK, kHostile);
  addOperand(b, 0);
  putInGroup(b, 0, 1);

  proto::PlanNode* apply = addNode(plan, proto::ACTOR_CALL, "Server::Apply");
  addOperand(apply, 0);
  addOperand(apply, 1);
  addOperand(apply, 2);
  addOperand(apply, 2);  // the same edge twice is drawn once
  apply->add_control_deps(1);
  apply->add_fused_functions()->set_name("Server::Apply");
  apply->add_fused_functions()->set_name("Server::Log");
  apply->set_on_critical_path(true);

  proto::PlanOutput* out = plan.add_outputs();
  out->set_name("result");
  out->mutable_value()->mutable_node_result()->set_node(3);
  return plan;
}

inline Timeline sampleRun() {
  Timeline t;
  auto add = [&](int64_t node, double start, double dur, const char* tid, const char* status = "finished") {
    TimelineEvent e;
    e.name = "f";
    e.graph = "ps";
    e.planNode = node;
    e.startUs = start;
    e.durationUs = dur;
    e.pid = "1";
    e.tid = tid;
    e.status = status;
    t.events.push_back(e);
  };
  add(0, 1000, 100, "1");
  add(1, 1100, 50, "1");
  add(2, 1100, 10, "2", "retried");
  add(2, 1120, 200, "2");  // second attempt, finishes last of the two
  add(3, 1320, 30, "1");
  add(-1, 1000, 5, "3");  // not in the plan
  TimelineEvent other = t.events[0];
  other.graph = "another_graph";
  t.events.push_back(other);
  return t;
}

}  // namespace raycc::tools::viz

#endif  // RAYCC_TESTS_VIZ_SAMPLEPLAN_H
