// Where compiled work runs (plan_test): a task and an actor that ask for the
// resource only node "right" of two_nodes.json has. Compiled twice: placed
// against that cluster (the compiler puts both on "right"), and unplaced.

#include <raycc/graph.h>

std::string Where() { return raycc::CurrentNodeName(); }
class Probe {
 public:
  static Probe* Create() { return new Probe; }
  std::string Where() { return raycc::CurrentNodeName(); }
};
RAYCC_REMOTE(Where, Probe::Create, &Probe::Where);

RAYCC_GRAPH(placed, raycc::GraphBuilder& g) {
  g.Output("task", g.Task(Where).SetResources({{"CPU", 1}, {"special", 1}}).Call());
  auto probe = g.Actor(Probe::Create).SetResources({{"special", 1}}).Call();
  g.Output("actor", probe.Task(&Probe::Where).Call());
}

// The task alone: plan_test's control for where the default policy puts it.
RAYCC_GRAPH(task_only, raycc::GraphBuilder& g) {
  g.Output("task", g.Task(Where).SetResources({{"CPU", 1}, {"special", 1}}).Call());
}
