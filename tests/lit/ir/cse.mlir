// CSE merges identical calls of pure functions and puts, never impure calls
// or actor calls.
// RUN: raycc-opt %s -cse | FileCheck %s

ray.remote_func pure @Pure : (i64) -> i64
ray.remote_func @Impure : (i64) -> i64
ray.actor_class @A : () -> () { ray.actor_method @m : (i64) -> i64 }

// CHECK-LABEL: ray.graph @cse
// CHECK-COUNT-1: ray.task @Pure
// CHECK-COUNT-2: ray.task @Impure
// CHECK-COUNT-2: ray.actor.call
// CHECK-COUNT-1: ray.put
ray.graph @cse(%x: i64, %a: !ray.actor<"A">) -> (!ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>) {
  %p1 = ray.task @Pure(%x) : (i64) -> !ray.ref<i64>
  %p2 = ray.task @Pure(%x) : (i64) -> !ray.ref<i64>
  %i1 = ray.task @Impure(%x) : (i64) -> !ray.ref<i64>
  %i2 = ray.task @Impure(%x) : (i64) -> !ray.ref<i64>
  %c1 = ray.actor.call %a @m(%x) : !ray.actor<"A">, (i64) -> !ray.ref<i64>
  %c2 = ray.actor.call %a @m(%x) : !ray.actor<"A">, (i64) -> !ray.ref<i64>
  %r1 = ray.put %x : i64
  %r2 = ray.put %x : i64
  ray.output %p1, %p2, %i1, %i2, %c1, %c2, %r1, %r2 : !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>
}
