// RUN: raycc-opt %s --ray-critical-path --ray-print-dot -o /dev/null | FileCheck %s
// RUN: raycc-opt %s --ray-print-dot=output=%t.dot -o /dev/null && FileCheck %s --check-prefix=FILE < %t.dot
// FILE: digraph "g"

ray.remote_func @F : (i64) -> i64
ray.actor_class @A : () -> () { ray.actor_method @m : (i64) -> i64 }

// CHECK: digraph "g" {
// CHECK-NEXT: rankdir=LR;
// CHECK: in0 [shape=plaintext, style="", label="input x"];
// CHECK: subgraph cluster_0 {
// CHECK-NEXT: label="strict_spread group workers (2 bundles)";
// CHECK: [shape=box, label="F\n\"first \"quoted\"\"\npriority 3\n@n1"
// CHECK-SAME: color=red, penwidth=2.5
// CHECK: }
// CHECK-DAG: [shape=ellipse, label="new A
// CHECK-DAG: [shape=ellipse, label="A::m
// CHECK-DAG: [style=dashed];
// CHECK-DAG: [color=red, penwidth=2.5];
// CHECK: out0 [shape=plaintext, style="", label="output y"];
// CHECK: }
ray.graph @g(%x: i64 {ray.name = "x"}) -> (!ray.ref<i64> {ray.name = "y"}) {
  %pg = ray.placement_group strict_spread "workers" { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  %a = ray.task @F(%x) in %pg {name = "first \"quoted\"", strategy = #ray.strategy<placement_group bundle 0>, placement = #ray.placement<node = "n1", bundle = 0>} : (i64) -> !ray.ref<i64>
  %b = ray.task @F(%a) : (!ray.ref<i64>) -> !ray.ref<i64>
  %actor = ray.actor.create @A() : () -> !ray.actor<"A">
  %c = ray.actor.call %actor @m(%x) : !ray.actor<"A">, (i64) -> !ray.ref<i64>
  %d = ray.actor.call %actor @m(%x) : !ray.actor<"A">, (i64) -> !ray.ref<i64>
  %e = ray.task @F(%b) : (!ray.ref<i64>) -> !ray.ref<i64>
  ray.output %e : !ray.ref<i64>
}
