// Synchronous data-parallel training written as maps (SPMD): softmax
// regression on the handwritten digits (examples/data/digits.csv.gz), as
// examples/graphs/param_server.cc trains it, but every step is one ray.map
// over the shards, so the IR holds a few ops per step whatever the shard
// count. The shards are loaded once (a map); each step's map computes every
// shard's gradient from the same weights, reading its own shard of the
// loaded data (raycc::PerShard), and one task averages the gradients and
// applies them (rate 0.5). The graph ends by scoring the weights on the
// held-out quarter of the data.
//
//   raycc compile examples/graphs/spmd_train.cc -lz --param shards=8 --param steps=25 -o spmd.rcx
//   raycc run spmd.rcx --input data=examples/data/digits.csv.gz

#include <raycc/graph.h>

#include "../cpp/digits.h"

using namespace digits;

/// Shard `shard` of `shards` of the training rows.
Shard LoadPart(int64_t shard, std::string path, int64_t shards) { return LoadShard(path, shard, shards); }

/// One shard's gradient of the weights.
std::vector<double> PartGradient(int64_t, Shard part, std::vector<double> w) { return Gradient(w, part); }

/// The weights after one step: w minus `rate` times the mean gradient.
std::vector<double> Descend(std::vector<double> w, std::vector<std::vector<double>> grads, double rate) {
  for (const std::vector<double>& g : grads)
    for (size_t k = 0; k < w.size(); ++k) w[k] -= rate * g[k] / static_cast<double>(grads.size());
  return w;
}

/// The starting weights: all zero.
std::vector<double> Zero() { return std::vector<double>(kClasses * kFeatures, 0.0); }

RAYCC_REMOTE(LoadPart, PartGradient, Descend, Zero, LoadTestSet, Accuracy);
RAYCC_PURE(LoadPart, PartGradient, Descend, Zero, LoadTestSet, Accuracy);

RAYCC_GRAPH(train, raycc::GraphBuilder& g, int64_t shards, int64_t steps) {
  auto data = g.Input<std::string>("data");
  auto parts = g.Map(LoadPart, shards).SetName("load").Call(data, shards);
  auto w = g.Task(Zero).Call();
  for (int64_t step = 0; step < steps; ++step) {
    auto grads = g.Map(PartGradient, shards).SetName("gradients").Call(raycc::PerShard(parts), w);
    w = g.Task(Descend).Call(w, grads, 0.5);
  }
  g.Output("w", w);
  g.Output("accuracy", g.Task(Accuracy).Call(w, g.Task(LoadTestSet).Call(data)));
}
