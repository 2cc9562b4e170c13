// The program trace_scale traces: a layered graph of `tasks` tasks, `width`
// wide, each task reading two tasks of the layer before (a butterfly), so
// tracing does real work per task (lookups, operand checks, constants).
// trace_scale also times the host compiler building this file as
// `raycc compile` would, the baseline tracing must stay well under.

#include <raycc/graph.h>

#include <vector>

int64_t Seed(int64_t i) { return i; }
int64_t Mix(int64_t a, int64_t b, int64_t salt) { return a * 31 + b + salt; }
RAYCC_REMOTE(Seed, Mix);

RAYCC_GRAPH(butterfly, raycc::GraphBuilder& g, int64_t tasks, int64_t width) {
  std::vector<raycc::Value<int64_t>> layer;
  for (int64_t i = 0; i < width; ++i) layer.push_back(g.Task(Seed).Call(i));
  for (int64_t made = width; made < tasks;) {
    std::vector<raycc::Value<int64_t>> next;
    for (int64_t i = 0; i < width && made < tasks; ++i, ++made) {
      next.push_back(
          g.Task(Mix).SetResources({{"CPU", 1}}).Call(layer[i], layer[(i + width / 2) % width], made));
    }
    while (static_cast<int64_t>(next.size()) < width) next.push_back(layer[next.size()]);
    layer = std::move(next);
  }
  for (int64_t i = 0; i < width; ++i) g.Output("out" + std::to_string(i), layer[i]);
}
