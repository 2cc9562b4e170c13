// A graph that calls an actor it does not create: the driver creates the
// actor once and passes it to every execution, so its state carries over
// (graph_end_to_end_test).

#include <raycc/graph.h>

class Tally {
 public:
  static Tally* Create(int64_t start) { return new Tally{start}; }
  int64_t Add(int64_t x) { return total += x; }
  int64_t total = 0;
};
RAYCC_REMOTE(Tally::Create, &Tally::Add);

RAYCC_GRAPH(step, raycc::GraphBuilder& g) {
  auto tally = g.ActorInput<Tally>("tally");
  auto x = g.Input<int64_t>("x");
  g.Output("total", tally.Task(&Tally::Add).Call(x));
}
