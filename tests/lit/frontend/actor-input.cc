// An actor input: the graph takes an actor handle and calls it; raycc run
// cannot make one from JSON and says so.
//
// RUN: raycc compile %s --emit=mlir -o - | FileCheck %s
// CHECK: ray.actor_class @Tally : () -> () {
// CHECK-NEXT: ray.actor_method @Add : (i64) -> i64
// CHECK: ray.graph @step(%[[T:.*]]: !ray.actor<"Tally"> {ray.name = "tally"}, %[[X:.*]]: !ray.ref<i64> {ray.name = "x"})
// CHECK: ray.actor.call %[[T]] @Add(%[[X]])
// RUN: raycc compile %s -o %t.rcx
// RUN: not raycc run %t.rcx --input tally=1 --input x=2 2>&1 | FileCheck %s --check-prefix=RUN-ERR
// RUN-ERR: raycc run: graph @step: input 'tally' is an actor: pass an ActorHandle (!ray.actor<"Tally">)

#include <raycc/graph.h>

class Tally {
 public:
  static Tally* Create(int64_t start) { return new Tally{start}; }
  int64_t Add(int64_t x) { return total += x; }
  int64_t total = 0;
};
RAYCC_REMOTE(Tally::Create, &Tally::Add);

RAYCC_GRAPH(step, raycc::GraphBuilder& g) {
  auto tally = g.ActorInput<Tally>("tally");
  g.Output("total", tally.Task(&Tally::Add).Call(g.Input<int64_t>("x")));
}
