// RAYCC_PURE declares functions free of side effects: the traced IR marks
// them `pure`, and -O1 drops their unused calls and merges equal ones, while
// calls of other functions stay.
//
// RUN: raycc compile %s --emit=mlir -o - | FileCheck %s --check-prefix=TRACED
// RUN: raycc compile %s -O1 --emit=mlir-opt -o - | FileCheck %s --check-prefix=OPT
// TRACED-DAG: ray.remote_func pure @Square : (i64) -> i64
// TRACED-DAG: ray.remote_func @Log : (i64) -> i64
// TRACED-COUNT-3: ray.task @Square
// OPT-COUNT-1: ray.task @Square(
// OPT-NOT: ray.task @Square(
// OPT-COUNT-2: ray.task @Log(

#include <raycc/graph.h>

#include <cstdio>

int64_t Square(int64_t x) { return x * x; }
int64_t Log(int64_t x) {
  std::printf("%lld\n", static_cast<long long>(x));
  return x;
}
RAYCC_REMOTE(Square, Log);
RAYCC_PURE(Square);

RAYCC_GRAPH(g, raycc::GraphBuilder& g) {
  auto x = g.Input<int64_t>("x");
  auto a = g.Task(Square).Call(x);
  auto b = g.Task(Square).Call(x);  // equal to a: merged
  g.Task(Square).Call(a);           // unused: dropped
  g.Task(Log).Call(a);              // unused, but it has an effect: kept
  g.Output("y", g.Task(Log).Call(b));
}
