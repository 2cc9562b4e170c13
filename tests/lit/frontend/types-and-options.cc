// FileCheck lines must stay whole and source lines keep their numbers:
// clang-format off
// Tracing maps C++ types to IR types, builder setters to op attributes, and
// every builder call's source line to the op's location.
//
// RUN: raycc compile %s --emit=mlir --mlir-print-debuginfo --mlir-print-local-scope -o - | FileCheck %s
// RUN: raycc compile %s --emit=mlir -o - | raycc-opt | raycc-opt

#include <raycc/graph.h>

#include <map>
#include <string>
#include <vector>

struct Point {
  double x = 0, y = 0;
  MSGPACK_DEFINE(x, y);
};
struct Named {
  int32_t id = 0;
  MSGPACK_DEFINE(id);
};
template <>
struct raycc::TypeName<Named> {
  static std::string Get() { return "example::Named"; }
};

int32_t Small(bool flag, float scale) { return flag ? static_cast<int32_t>(scale) : 0; }
std::vector<double> Spread(int32_t n, Point p) { return std::vector<double>(n, p.x); }
std::map<std::string, int64_t> Tally(std::vector<double> v) { return {{"n", static_cast<int64_t>(v.size())}}; }
Named Name(std::map<std::string, int64_t> m) { return Named{static_cast<int32_t>(m.size())}; }
void Sink(Named n) {}

class Counter {
 public:
  static Counter* Create(int64_t start) { return new Counter{start}; }
  int64_t Add(int64_t x) { return total += x; }
  int64_t total = 0;
};

RAYCC_REMOTE(Small, Spread, Tally, Name, Sink, Counter::Create, &Counter::Add);

// CHECK-DAG: ray.remote_func @Small : (i1, f32) -> i32
// CHECK-DAG: ray.remote_func @Spread : (i32, !ray.opaque<"Point">) -> !ray.opaque<"std::vector<double>">
// CHECK-DAG: ray.remote_func @Tally : (!ray.opaque<"std::vector<double>">) -> !ray.opaque<"std::map<std::string,int64_t>">
// CHECK-DAG: ray.remote_func @Name : (!ray.opaque<"std::map<std::string,int64_t>">) -> !ray.opaque<"example::Named">
// CHECK-DAG: ray.remote_func @Sink : (!ray.opaque<"example::Named">) -> ()
// CHECK-DAG: ray.actor_class @Counter : (i64) -> () {
// CHECK-DAG:   ray.actor_method @Add : (i64) -> i64

// CHECK-LABEL: ray.graph @options(
// CHECK-SAME: %[[P:.*]]: !ray.ref<!ray.opaque<"Point">> {ray.name = "p"} loc("{{.*}}types-and-options.cc":[[@LINE+2]]:{{[0-9]+}})
RAYCC_GRAPH(options, raycc::GraphBuilder& g) {
  auto p = g.Input<Point>("p");
  auto pg = g.PlacementGroup({{{"CPU", 1}}, {{"CPU", 2}, {"GPU", 0.5}}}, raycc::PlacementStrategy::kStrictSpread, "pair");
  // CHECK: %[[PG:.*]] = ray.placement_group strict_spread "pair" {
  // CHECK-NEXT: ray.bundle {CPU = 1.0}
  // CHECK-NEXT: ray.bundle {CPU = 2.0, GPU = 0.5}
  // CHECK: } loc("{{.*}}types-and-options.cc":[[@LINE-4]]:{{[0-9]+}})
  auto small = g.Task(Small).SetMaxRetries(3).SetRetryExceptions(true).SetName("small").Call(true, 2.5f);
  // CHECK: %[[T:.*]] = arith.constant true
  // CHECK: %[[S:.*]] = arith.constant 2.500000e+00 : f32
  // CHECK: %[[SMALL:.*]] = ray.task @Small(%[[T]], %[[S]]) {max_retries = 3 : i64, name = "small", retry_exceptions} : (i1, f32) -> !ray.ref<i32> loc("{{.*}}types-and-options.cc":[[@LINE-3]]:{{[0-9]+}})
  auto v = g.Task(Spread).SetResources({{"CPU", 2}}).SetPlacementGroup(pg, 1).Call(small, p);
  // CHECK: %[[V:.*]] = ray.task @Spread(%[[SMALL]], %[[P]]) in %[[PG]] {resources = #ray.resources<{CPU = 2.0}>, strategy = #ray.strategy<placement_group bundle 1>}
  // CHECK-SAME: loc("{{.*}}types-and-options.cc":[[@LINE-2]]:{{[0-9]+}})
  auto m = g.Task(Tally).SetSchedulingStrategy(raycc::SchedulingStrategy::kSpread).Call(v);
  // CHECK: %[[M:.*]] = ray.task @Tally(%[[V]]) {strategy = #ray.strategy<spread>}
  auto n = g.Task(Name).SetResource("memory", 1e6).SetNodeAffinity("gpu-2", /*soft=*/true).SetLabelSelector({{"rack", "in(r1,r2)"}}).Call(m);
  // CHECK: %[[N:.*]] = ray.task @Name(%[[M]]) {label_selector = {rack = "in(r1,r2)"}, resources = #ray.resources<{memory = 1000000.0}>, strategy = #ray.strategy<node_affinity "gpu-2" soft>}
  auto done = g.Task(Sink).Call(n);
  // CHECK: %[[DONE:.*]] = ray.task @Sink(%[[N]]) : (!ray.ref<!ray.opaque<"example::Named">>) -> !ray.token
  auto c = g.Actor(Counter::Create).SetMaxRestarts(2).SetMaxConcurrency(1).SetName("counter").Call(int64_t{10});
  // CHECK: %[[TEN:.*]] = arith.constant 10 : i64
  // CHECK: %[[C:.*]] = ray.actor.create @Counter(%[[TEN]]) {max_concurrency = 1 : i64, max_restarts = 2 : i64, name = "counter"} : (i64) -> !ray.actor<"Counter"> loc("{{.*}}types-and-options.cc":[[@LINE-2]]:{{[0-9]+}})
  auto total = c.Task(&Counter::Add).SetName("add").Call(int64_t{5});
  // CHECK: %[[FIVE:.*]] = arith.constant 5 : i64
  // CHECK: %[[TOTAL:.*]] = ray.actor.call %[[C]] @Add(%[[FIVE]]) {name = "add"} : !ray.actor<"Counter">, (i64) -> !ray.ref<i64> loc("{{.*}}types-and-options.cc":[[@LINE-2]]:{{[0-9]+}})
  c.Kill();
  // CHECK: ray.actor.kill %[[C]] : !ray.actor<"Counter"> loc("{{.*}}types-and-options.cc":[[@LINE-1]]:{{[0-9]+}})
  g.Output("total", total);
  g.Output("done", done);
  // CHECK: ray.output %[[TOTAL]], %[[DONE]] : !ray.ref<i64>, !ray.token
}
