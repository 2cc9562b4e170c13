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

// A data-parallel step as one map: `shards` shards, then their sum
// (runtime_bench --map runs it against the same tasks submitted dynamically).
int64_t Part(int64_t shard, int64_t salt) { return shard * 31 + salt; }
int64_t Total(std::vector<int64_t> parts) {
  int64_t sum = 0;
  for (int64_t p : parts) sum += p;
  return sum;
}
RAYCC_REMOTE(Part, Total);

RAYCC_GRAPH(step, raycc::GraphBuilder& g, int64_t shards) {
  g.Output("total", g.Task(Total).Call(g.Map(Part, shards).Call(int64_t{7})));
}

// An actor pipeline, as Ray's compiled graphs run them: `stages` actors, and
// `items` values each passed through every stage in turn (runtime_bench
// --pipeline runs it many times against the same calls submitted dynamically).
class Stage {
 public:
  static Stage* Create(int64_t salt) { return new Stage{salt}; }
  int64_t Step(int64_t x) { return x * 31 + salt; }
  int64_t salt = 0;
};
RAYCC_REMOTE(Stage::Create, &Stage::Step);

RAYCC_GRAPH(pipeline, raycc::GraphBuilder& g, int64_t stages, int64_t items) {
  std::vector<raycc::GraphActor<Stage>> actors;
  for (int64_t s = 0; s < stages; ++s) actors.push_back(g.Actor(Stage::Create).Call(s));
  for (int64_t i = 0; i < items; ++i) {
    raycc::Value<int64_t> x = actors[0].Task(&Stage::Step).Call(i);
    for (int64_t s = 1; s < stages; ++s) x = actors[s].Task(&Stage::Step).Call(x);
    g.Output("out" + std::to_string(i), x);
  }
}
