// A training pipeline that uses all four placement-group strategies:
// preprocessing workers sharing one node (strict pack), GPU trainers on
// distinct nodes (strict spread), evaluators packed loosely (pack) and
// loggers spread out (spread). Compile it against a cluster description to
// see where each bundle lands:
//
//   raycc compile examples/graphs/placement_strategies.cc \
//       --cluster=examples/clusters/lab.json --emit=plan

#include <raycc/graph.h>

#include <cmath>
#include <cstdio>
#include <vector>

/// Synthetic features for one data partition.
std::vector<float> Preprocess(int64_t partition) {
  std::vector<float> x(1024);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.01f * static_cast<float>(i + 1024 * partition));
  return x;
}

/// A "model": 64 averages of the features.
std::vector<float> Train(std::vector<float> x) {
  std::vector<float> m(64, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) m[i % 64] += x[i] / 16.0f;
  return m;
}

/// Its score: the mean absolute weight.
double Evaluate(std::vector<float> model) {
  double s = 0;
  for (float v : model) s += std::fabs(v);
  return s / static_cast<double>(model.size());
}

void Log(double score) { std::printf("score %.4f\n", score); }

RAYCC_REMOTE(Preprocess, Train, Evaluate, Log);

RAYCC_GRAPH(pipeline, raycc::GraphBuilder& g) {
  using raycc::PlacementStrategy;
  auto prep = g.PlacementGroup({{{"CPU", 1}}, {{"CPU", 1}}}, PlacementStrategy::kStrictPack, "prep");
  auto train = g.PlacementGroup({{{"CPU", 2}, {"GPU", 1}}, {{"CPU", 2}, {"GPU", 1}}},
                                PlacementStrategy::kStrictSpread, "train");
  auto eval = g.PlacementGroup({{{"CPU", 2}}, {{"CPU", 2}}}, PlacementStrategy::kPack, "eval");
  auto logs = g.PlacementGroup({{{"CPU", 0.5}}, {{"CPU", 0.5}}}, PlacementStrategy::kSpread, "logs");
  for (int64_t i = 0; i < 2; ++i) {
    auto x = g.Task(Preprocess).SetPlacementGroup(prep, i).Call(i);
    auto model = g.Task(Train).SetResources({{"CPU", 2}, {"GPU", 1}}).SetPlacementGroup(train, i).Call(x);
    auto score = g.Task(Evaluate).SetResources({{"CPU", 2}}).SetPlacementGroup(eval, i).Call(model);
    g.Task(Log).SetResources({{"CPU", 0.5}}).SetPlacementGroup(logs, i).Call(score);
    g.Output("score" + std::to_string(i), score);
  }
}
