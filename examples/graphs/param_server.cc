// Data-parallel training with a parameter server, as a compiled graph:
// softmax regression on the handwritten digits (examples/data/digits.csv.gz).
// Each shard is loaded once, inside a spread placement group (one bundle per
// shard); every step computes a gradient per shard from the latest weights
// and applies it on the parameter-server actor, in order. The graph ends by
// scoring the weights on the held-out quarter of the data.
//
//   raycc compile examples/graphs/param_server.cc -lz --param shards=4 --param steps=25 -o ps.rcx
//   raycc run ps.rcx --input data=examples/data/digits.csv.gz

#include <raycc/graph.h>

#include "../cpp/digits.h"

using namespace digits;

RAYCC_REMOTE(LoadShard, LoadTestSet, Gradient, Accuracy, ParamServer::Create, &ParamServer::Weights,
             &ParamServer::Apply);
RAYCC_PURE(LoadShard, LoadTestSet, Gradient, Accuracy);

RAYCC_GRAPH(train, raycc::GraphBuilder& g, int64_t shards, int64_t steps) {
  auto data = g.Input<std::string>("data");
  std::vector<std::map<std::string, double>> bundles(shards, {{"CPU", 1}});
  auto pg = g.PlacementGroup(bundles, raycc::PlacementStrategy::kSpread, "shards");
  auto ps = g.Actor(ParamServer::Create).SetResources({{"CPU", 1}}).SetName("ps").Call(0.5 / shards);

  std::vector<raycc::Value<Shard>> parts;
  for (int64_t i = 0; i < shards; ++i)
    parts.push_back(g.Task(LoadShard).SetPlacementGroup(pg, i).Call(data, i, shards));

  auto w = ps.Task(&ParamServer::Weights).Call();
  for (int64_t step = 0; step < steps; ++step) {
    for (int64_t i = 0; i < shards; ++i) {
      auto grad = g.Task(Gradient).SetPlacementGroup(pg, i).Call(w, parts[i]);
      w = ps.Task(&ParamServer::Apply).Call(grad);
    }
  }
  auto test = g.Task(LoadTestSet).Call(data);
  g.Output("w", w);
  g.Output("accuracy", g.Task(Accuracy).Call(w, test));
}
