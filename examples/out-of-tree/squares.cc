// A graph program for the installed `raycc compile`: y = x, squared and
// increased by one n times over (trace-time parameter n).

#include <raycc/graph.h>

int64_t SquarePlusOne(int64_t x) { return (x * x + 1) % 1000003; }
RAYCC_REMOTE(SquarePlusOne);

RAYCC_GRAPH(squares, raycc::GraphBuilder& g, int64_t n) {
  auto y = g.Input<int64_t>("x");
  for (int64_t i = 0; i < n; ++i) y = g.Task(SquarePlusOne).Call(y);
  g.Output("y", y);
}
