// RUN: raycc-opt %s --ray-dead-task-elim | FileCheck %s

ray.remote_func pure @P : (i64) -> i64
ray.remote_func @I : (i64) -> i64
ray.actor_class @A : () -> () { ray.actor_method @m : () -> i64 }

// CHECK-LABEL: ray.graph @g
// A dead chain of pure work goes entirely.
// CHECK-NOT: ray.put
// CHECK-NOT: ray.get
// CHECK: %[[LIVE:.*]] = ray.task @P(%arg0)
// CHECK-NEXT: ray.task @I(%arg0)
// CHECK-NEXT: ray.placement_group pack
// CHECK: ray.actor.create @A
// CHECK-NEXT: ray.actor.call
// CHECK-NEXT: ray.output %[[LIVE]]
ray.graph @g(%x: i64) -> !ray.ref<i64> {
  %d1 = ray.task @P(%x) : (i64) -> !ray.ref<i64>
  %d2 = ray.task @P(%d1) : (!ray.ref<i64>) -> !ray.ref<i64>
  %d3 = ray.put %x : i64
  %d4 = ray.get %d2 : !ray.ref<i64>
  %live = ray.task @P(%x) : (i64) -> !ray.ref<i64>
  %impure = ray.task @I(%x) : (i64) -> !ray.ref<i64>
  %pg = ray.placement_group pack { ray.bundle {CPU = 1} }
  %a = ray.actor.create @A() : () -> !ray.actor<"A">
  %c = ray.actor.call %a @m() : !ray.actor<"A">, () -> !ray.ref<i64>
  ray.output %live : !ray.ref<i64>
}
