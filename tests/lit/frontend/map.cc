// FileCheck lines must stay whole and source lines keep their numbers:
// clang-format off
// g.Map(f, N) traces to one ray.map op whatever N is (the IR of 100,000
// shards is the IR of 10 with another number in it), and runs as N tasks
// whose results come back as one std::vector in shard order.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: raycc compile %s --graph squares --param shards=100000 --emit=mlir -o - | FileCheck %s
// CHECK: ray.remote_func @Square : (i64, f64) -> f64
// CHECK: %[[PARTS:.*]] = ray.map @Square(%arg0) shards 100000 {name = "squares", strategy = #ray.strategy<spread>} : (!ray.ref<f64>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
// CHECK: ray.task @Total(%[[PARTS]]) : (!ray.ref<!ray.opaque<"std::vector<double>">>) -> !ray.ref<f64>
//
// RUN: raycc compile %s --graph squares --param shards=100000 --emit=mlir -o - | sed 's/shards [0-9]*/shards N/' > %t/big.mlir
// RUN: raycc compile %s --graph squares --param shards=10 --emit=mlir -o - | sed 's/shards [0-9]*/shards N/' > %t/small.mlir
// RUN: diff %t/small.mlir %t/big.mlir
//
// RUN: raycc compile %s --graph squares --param shards=100000 -o %t/squares.rcx
// RUN: raycc inspect %t/squares.rcx --nodes | FileCheck %s --check-prefix=INSPECT
// INSPECT: @squares
// INSPECT: map Square x100000
// RUN: raycc run %t/squares.rcx --num-cpus 2 --input scale=2.0 | FileCheck %s --check-prefix=OUT
// OUT: parts: [0, 2, 8, 18, 32,
// (2 * (0^2 + 1^2 + ... + 99999^2))
// OUT: total: 666656666700000
//
// A shard that throws fails the map, and its readers, with its message.
// RUN: raycc compile %s --graph fragile -o %t/fragile.rcx
// RUN: not raycc run %t/fragile.rcx --num-cpus 2 2>&1 | FileCheck %s --check-prefix=FAIL
// FAIL: shard 7 is bad
//
// A pipeline of maps: each shard of the second takes its own shard of the
// first (raycc::PerShard), not the whole vector.
// RUN: raycc compile %s --graph pipeline --emit=mlir -o - | FileCheck %s --check-prefix=PIPE
// PIPE: %[[ROWS:.*]] = ray.map @Rows() shards 4 : () -> !ray.ref<!ray.opaque<"std::vector<std::vector<double>>">>
// PIPE: ray.map @RowSum(%[[ROWS]], %arg0) shards 4 {per_shard = array<i64: 0>} : (!ray.ref<!ray.opaque<"std::vector<std::vector<double>>">>, !ray.ref<f64>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
// RUN: raycc compile %s --graph pipeline -o %t/pipeline.rcx
// RUN: raycc run %t/pipeline.rcx --num-cpus 2 --input scale=10 --timeline %t/pipeline.json | FileCheck %s --check-prefix=PIPEOUT
// (Shard i's rows are [i, i+1, i+2]: its sum times 10.)
// PIPEOUT: sums: [30, 60, 90, 120]
// The rows are read only shard by shard: only the sums are gathered.
// RUN: grep -c '"name": "raycc.gather"' %t/pipeline.json | FileCheck %s --check-prefix=GATHERS
// GATHERS: {{^1$}}
// RUN: not raycc compile %s --graph mismatched 2>&1 | FileCheck %s --check-prefix=MISMATCH
// MISMATCH: error: 'ray.map' op operand #0 comes from a map of 3 shards, taken shard by shard by a map of 4
//
// RUN: not raycc compile %s --graph squares --param shards=0 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: map.cc:[[@LINE+56]]:{{[0-9]+}}: error: g.Map: the shard count must be between 1 and 10000000, got 0
//
// Over a placement group's bundles as over a mesh: shard i runs in bundle
// i mod 2, and the two bundles of a strict_spread group are on two nodes,
// so the shards alternate between them. (Shard 0 works for 300 ms: shards
// free to take any bundle would all run on the other one meanwhile.)
// RUN: raycc compile %s --graph mesh --emit=mlir -o - | FileCheck %s --check-prefix=MESH
// MESH: %[[PG:.*]] = ray.placement_group strict_spread "mesh"
// MESH: ray.map @WhereAmI() shards 6 in %[[PG]] {strategy = #ray.strategy<placement_group>} : () -> !ray.ref<!ray.opaque<"std::vector<std::string>">>
// RUN: raycc compile %s --graph mesh --cluster=%raycc_src/tests/lit/passes/Inputs/three-nodes.json -o %t/mesh.rcx
// RUN: raycc run %t/mesh.rcx --cluster=%raycc_src/tests/lit/passes/Inputs/three-nodes.json > %t/mesh.out
// RUN: %python -c "import json, sys; w = json.loads(open(sys.argv[1]).read().split(': ', 1)[1]); assert w[0] != w[1] and w == w[:2] * 3, w" %t/mesh.out

#include <raycc/graph.h>

#include <raycc/api.h>

#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

double Square(int64_t shard, double scale) { return scale * static_cast<double>(shard) * static_cast<double>(shard); }
double Total(std::vector<double> parts) { return std::accumulate(parts.begin(), parts.end(), 0.0); }
int64_t Fragile(int64_t shard) {
  if (shard == 7) throw std::runtime_error("shard 7 is bad");
  return shard;
}
std::vector<double> Rows(int64_t shard) {
  double i = static_cast<double>(shard);
  return {i, i + 1, i + 2};
}
double RowSum(int64_t, std::vector<double> row, double scale) {
  return scale * std::accumulate(row.begin(), row.end(), 0.0);
}
std::string WhereAmI(int64_t shard) {
  if (shard == 0) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < until) {
    }
  }
  return raycc::CurrentNodeName();
}
// A shard result of 240 KB (over the cluster's inline limit: it goes to
// its node's store), and the sum of every element of every shard.
std::vector<double> BigPart(int64_t shard) { return std::vector<double>(30000, static_cast<double>(shard)); }
double SumAll(std::vector<std::vector<double>> parts) {
  double sum = 0;
  for (const auto& part : parts) sum += std::accumulate(part.begin(), part.end(), 0.0);
  return sum;
}
RAYCC_REMOTE(Square, Total, Fragile, WhereAmI, Rows, RowSum, BigPart, SumAll);

RAYCC_GRAPH(squares, raycc::GraphBuilder& g, int64_t shards) {
  auto scale = g.Input<double>("scale");
  auto parts = g.Map(Square, shards).SetName("squares").SetSchedulingStrategy(raycc::SchedulingStrategy::kSpread).Call(scale);
  g.Output("parts", parts);
  g.Output("total", g.Task(Total).Call(parts));
}

RAYCC_GRAPH(fragile, raycc::GraphBuilder& g) {
  g.Output("all", g.Map(Fragile, 10).Call());
}

RAYCC_GRAPH(mesh, raycc::GraphBuilder& g) {
  auto pg = g.PlacementGroup({{{"CPU", 1}}, {{"CPU", 1}}}, raycc::PlacementStrategy::kStrictSpread, "mesh");
  g.Output("where", g.Map(WhereAmI, 6).SetPlacementGroup(pg).Call());
}

RAYCC_GRAPH(pipeline, raycc::GraphBuilder& g) {
  auto scale = g.Input<double>("scale");
  auto rows = g.Map(Rows, 4).Call();
  g.Output("sums", g.Map(RowSum, 4).Call(raycc::PerShard(rows), scale));
}

RAYCC_GRAPH(mismatched, raycc::GraphBuilder& g) {
  auto rows = g.Map(Rows, 3).Call();
  g.Output("sums", g.Map(RowSum, 4).Call(raycc::PerShard(rows), 1.0));
}

RAYCC_GRAPH(big, raycc::GraphBuilder& g) {
  g.Output("sum", g.Task(SumAll).Call(g.Map(BigPart, 4).SetSchedulingStrategy(raycc::SchedulingStrategy::kSpread).Call()));
}
