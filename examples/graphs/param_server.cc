// Synchronous data-parallel training with a parameter server, as a compiled
// graph: softmax regression on the handwritten digits
// (examples/data/digits.csv.gz). Each shard is loaded once, inside a spread
// placement group (one bundle per shard, one for the server). Every step computes all shards'
// gradients in parallel from the same weights, sums them in a tree and
// applies the sum once on the parameter-server actor (the mean gradient at
// rate 0.5), whose result is the next step's weights. The graph ends by
// scoring the weights on the held-out quarter of the data.
//
//   raycc compile examples/graphs/param_server.cc -lz --param shards=4 --param steps=25 -o ps.rcx
//   raycc run ps.rcx --num-cpus 8 --input data=examples/data/digits.csv.gz

#include <raycc/graph.h>

#include "../cpp/digits.h"

using namespace digits;

/// The element-wise sum of two gradients.
std::vector<double> AddGradients(std::vector<double> a, std::vector<double> b) {
  for (size_t k = 0; k < a.size(); ++k) a[k] += b[k];
  return a;
}

RAYCC_REMOTE(LoadShard, LoadTestSet, Gradient, AddGradients, Accuracy, ParamServer::Create,
             &ParamServer::Weights, &ParamServer::Apply);
RAYCC_PURE(LoadShard, LoadTestSet, Gradient, AddGradients, Accuracy);

RAYCC_GRAPH(train, raycc::GraphBuilder& g, int64_t shards, int64_t steps) {
  auto data = g.Input<std::string>("data");
  // One bundle per shard, and the last for the parameter server: everything
  // the training waits for runs in the group, which is reserved whole before
  // the graph starts (a runtime needs shards + 1 CPUs).
  std::vector<std::map<std::string, double>> bundles(shards + 1, {{"CPU", 1}});
  auto pg = g.PlacementGroup(bundles, raycc::PlacementStrategy::kSpread, "shards");
  auto ps = g.Actor(ParamServer::Create)
                .SetResources({{"CPU", 1}})
                .SetPlacementGroup(pg, shards)
                .SetName("ps")
                .Call(0.5 / shards);

  std::vector<raycc::Value<Shard>> parts;
  for (int64_t i = 0; i < shards; ++i)
    parts.push_back(g.Task(LoadShard).SetPlacementGroup(pg, i).Call(data, i, shards));

  auto w = ps.Task(&ParamServer::Weights).Call();
  for (int64_t step = 0; step < steps; ++step) {
    // Independent: every shard's gradient of this step reads the same w.
    std::vector<raycc::Value<std::vector<double>>> grads;
    std::vector<int64_t> where;  // the bundle each partial sum is in
    for (int64_t i = 0; i < shards; ++i) {
      grads.push_back(g.Task(Gradient).SetPlacementGroup(pg, i).Call(w, parts[i]));
      where.push_back(i);
    }
    while (grads.size() > 1) {  // summed pairwise, in the first one's bundle
      std::vector<raycc::Value<std::vector<double>>> sums;
      std::vector<int64_t> at;
      for (size_t k = 0; k + 1 < grads.size(); k += 2) {
        sums.push_back(g.Task(AddGradients).SetPlacementGroup(pg, where[k]).Call(grads[k], grads[k + 1]));
        at.push_back(where[k]);
      }
      if (grads.size() % 2 == 1) {
        sums.push_back(grads.back());
        at.push_back(where.back());
      }
      grads = std::move(sums);
      where = std::move(at);
    }
    // Applied once per step: the sum at rate 0.5 / shards, the mean at 0.5.
    w = ps.Task(&ParamServer::Apply).Call(grads[0]);
  }
  auto test = g.Task(LoadTestSet).Call(data);
  g.Output("w", w);
  g.Output("accuracy", g.Task(Accuracy).Call(w, test));
}
