// The runtime API from an installed raycc: a nested fan-out (tasks that
// submit tasks and wait for them), then a compiled graph run with LoadGraph.
//
//   fanout [squares.rcx]

#include <cstdio>
#include <vector>

#include "raycc/api.h"

int64_t Square(int64_t x) { return x * x; }

/// Sums the squares of [from, to) by splitting the range into nested tasks.
int64_t SumOfSquares(int64_t from, int64_t to) {
  if (to - from <= 4) {
    int64_t s = 0;
    for (int64_t i = from; i < to; ++i) s += *raycc::Task(Square).Remote(i).Get();
    return s;
  }
  int64_t mid = (from + to) / 2;
  auto left = raycc::Task(SumOfSquares).Remote(from, mid);
  auto right = raycc::Task(SumOfSquares).Remote(mid, to);
  return *raycc::Get(left) + *raycc::Get(right);
}

RAYCC_REMOTE(Square, SumOfSquares);

int main(int argc, char** argv) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  int64_t total = *raycc::Task(SumOfSquares).Remote(int64_t{0}, int64_t{100}).Get();
  std::printf("sum of squares below 100: %lld\n", static_cast<long long>(total));
  if (argc > 1) {
    raycc::Graph graph = raycc::LoadGraph(argv[1]);
    raycc::GraphOutputs out = graph.Execute({{"x", raycc::Put(int64_t{3})}});
    std::printf("graph %s: %lld\n", graph.name().c_str(),
                static_cast<long long>(*raycc::Get(out.Get<int64_t>("y"))));
  }
  raycc::Shutdown();
  return total == 328350 ? 0 : 1;
}
