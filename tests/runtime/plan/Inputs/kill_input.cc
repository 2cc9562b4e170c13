// A compiled graph that queues many calls on an actor and then kills it:
// the kill must run after the calls ordered before it (plan_test).

#include <raycc/graph.h>

class Counter {
 public:
  static Counter* Create(int64_t start) { return new Counter{start}; }
  int64_t Add(int64_t x) { return total += x; }
  int64_t total = 0;
};
RAYCC_REMOTE(Counter::Create, &Counter::Add);

RAYCC_GRAPH(count_then_kill, raycc::GraphBuilder& g) {
  auto counter = g.Actor(Counter::Create).Call(int64_t{0});
  auto one = g.Input<int64_t>("one");
  raycc::Value<int64_t> last = counter.Task(&Counter::Add).Call(one);
  for (int i = 1; i < 300; ++i) last = counter.Task(&Counter::Add).Call(one);
  counter.Kill();
  g.Output("total", last);
}
