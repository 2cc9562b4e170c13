// FileCheck lines must stay whole and source lines keep their numbers:
// clang-format off
// Errors found while tracing are diagnostics at the user's source line; one
// run reports all of them, and nothing is written.
//
// RUN: rm -f %t.rcx
// RUN: not raycc compile %s -o %t.rcx 2>&1 | FileCheck %s
// RUN: not test -e %t.rcx

#include <raycc/graph.h>

int64_t Inc(int64_t x) { return x + 1; }
int64_t NotRegistered(int64_t x) { return x; }
RAYCC_REMOTE(Inc);

class Counter {
 public:
  static Counter* Create() { return new Counter; }
  int64_t Add(int64_t x) { return x; }
  int64_t Hidden(int64_t x) { return x; }
};
RAYCC_REMOTE(Counter::Create, &Counter::Add);

raycc::Value<int64_t> leaked;

RAYCC_GRAPH(first, raycc::GraphBuilder& g) {
  leaked = g.Input<int64_t>("x");
  g.Output("x", leaked);
}

RAYCC_GRAPH(broken, raycc::GraphBuilder& g) {
  auto x = g.Input<int64_t>("x");
  auto dup = g.Input<int64_t>("x");
  // CHECK-DAG: trace-errors.cc:[[@LINE-1]]:{{[0-9]+}}: error: a second input named 'x' (the first is at line [[@LINE-2]])
  auto y = g.Task(NotRegistered).Call(x);
  // CHECK-DAG: trace-errors.cc:[[@LINE-1]]:{{[0-9]+}}: error: 'NotRegistered(long)' is not registered: add it to RAYCC_REMOTE(...)
  auto z = g.Task(Inc).Call(leaked);
  // CHECK-DAG: trace-errors.cc:[[@LINE-1]]:{{[0-9]+}}: error: the argument belongs to another graph; values cannot cross graphs
  raycc::Value<int64_t> never;
  auto w = g.Task(Inc).Call(never);
  // CHECK-DAG: trace-errors.cc:[[@LINE-1]]:{{[0-9]+}}: error: the argument was never assigned a value of this graph
  auto pg = g.PlacementGroup({{{"CPU", 1}}});
  auto v = g.Task(Inc).SetPlacementGroup(pg, 1).Call(x);
  // CHECK-DAG: trace-errors.cc:[[@LINE-1]]:{{[0-9]+}}: error: bundle index 1 is out of range: the placement group has 1 bundle(s)
  auto c = g.Actor(Counter::Create).Call();
  auto h = c.Task(&Counter::Hidden).Call(x);
  // CHECK-DAG: trace-errors.cc:[[@LINE-1]]:{{[0-9]+}}: error: this actor method is not registered: add &Class::Method to RAYCC_REMOTE(...)
  auto empty = g.PlacementGroup({});
  // CHECK-DAG: trace-errors.cc:[[@LINE-1]]:{{[0-9]+}}: error: a placement group needs at least one bundle
  g.Output("y", y);
  g.Output("y", z);
  // CHECK-DAG: trace-errors.cc:[[@LINE-1]]:{{[0-9]+}}: error: a second output named 'y' (the first is at line [[@LINE-2]])
  g.Output("w", w);
  g.Output("v", v);
  g.Output("h", h);
  g.Output("dup", dup);
}
