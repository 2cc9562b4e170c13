// A task limited by its label selector to nodes in zone z2 (plan_test).

#include <raycc/graph.h>

// (Named apart from the other inputs' functions: every task library loads
// into plan_test.)
std::string LabelledNode(int64_t) { return raycc::CurrentNodeName(); }
RAYCC_REMOTE(LabelledNode);

RAYCC_GRAPH(zoned, raycc::GraphBuilder& g) {
  for (int64_t i = 0; i < 4; ++i)
    g.Output("where" + std::to_string(i), g.Task(LabelledNode).SetLabelSelector({{"zone", "z2"}}).Call(i));
}
