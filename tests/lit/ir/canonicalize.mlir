// Folds and canonicalizations of the ray dialect: what may be simplified is,
// and what must stay (impure tasks, actor ops, placement groups) stays.
// RUN: raycc-opt %s -canonicalize -split-input-file | FileCheck %s

// get(put(x)) -> x
// CHECK-LABEL: ray.graph @get_of_put
// CHECK-SAME: (%[[X:.*]]: i64)
// CHECK-NOT: ray.put
// CHECK-NOT: ray.get
// CHECK: ray.output %[[X]] : i64
ray.graph @get_of_put(%x: i64) -> i64 {
  %r = ray.put %x : i64
  %v = ray.get %r : !ray.ref<i64>
  ray.output %v : i64
}

// -----

// A put whose ref is used stays; an unused one goes.
// CHECK-LABEL: ray.graph @puts
// CHECK: %[[R:.*]] = ray.put
// CHECK-NOT: ray.put
// CHECK: ray.output %[[R]]
ray.graph @puts(%x: i64, %y: i64) -> !ray.ref<i64> {
  %r = ray.put %x : i64
  %unused = ray.put %y : i64
  ray.output %r : !ray.ref<i64>
}

// -----

// An unused call of a pure function is dropped; an unused call of an impure
// one is not, nor is an actor creation, call or kill.
ray.remote_func pure @Pure : (i64) -> i64
ray.remote_func @Impure : (i64) -> i64
ray.actor_class @A : () -> () { ray.actor_method @m : () -> i64 }
// CHECK-LABEL: ray.graph @effects
// CHECK-NOT: ray.task @Pure
// CHECK: ray.task @Impure
// CHECK: ray.actor.create @A
// CHECK: ray.actor.call %{{.*}} @m
// CHECK: ray.actor.kill
// CHECK: ray.output
ray.graph @effects(%x: i64) {
  %a = ray.task @Pure(%x) : (i64) -> !ray.ref<i64>
  %b = ray.task @Impure(%x) : (i64) -> !ray.ref<i64>
  %actor = ray.actor.create @A() : () -> !ray.actor<"A">
  %c = ray.actor.call %actor @m() : !ray.actor<"A">, () -> !ray.ref<i64>
  %k = ray.actor.kill %actor : !ray.actor<"A">
  ray.output
}

// -----

// A used pure call stays.
ray.remote_func pure @Pure : (i64) -> i64
// CHECK-LABEL: ray.graph @used_pure
// CHECK: %[[T:.*]] = ray.task @Pure
// CHECK: ray.output %[[T]]
ray.graph @used_pure(%x: i64) -> !ray.ref<i64> {
  %a = ray.task @Pure(%x) : (i64) -> !ray.ref<i64>
  ray.output %a : !ray.ref<i64>
}

// -----

// An unused placement group stays: reserving it is an effect.
// CHECK-LABEL: ray.graph @unused_pg
// CHECK: ray.placement_group pack
ray.graph @unused_pg() {
  %pg = ray.placement_group pack { ray.bundle {CPU = 1} }
  ray.output
}

// -----

// Duplicate waits are one; waits with other options are not.
// CHECK-LABEL: ray.graph @waits
// CHECK: %[[W1:.*]] = ray.wait %arg0, %arg1 {num_returns = 1 : i64}
// CHECK-NEXT: %[[W2:.*]] = ray.wait %arg0, %arg1 {num_returns = 2 : i64}
// CHECK-NEXT: ray.output %[[W1]], %[[W1]], %[[W2]]
ray.graph @waits(%a: !ray.ref<i64>, %b: !ray.ref<i64>) -> (!ray.token, !ray.token, !ray.token) {
  %w1 = ray.wait %a, %b {num_returns = 1 : i64} : !ray.ref<i64>, !ray.ref<i64>
  %w2 = ray.wait %a, %b {num_returns = 1 : i64} : !ray.ref<i64>, !ray.ref<i64>
  %w3 = ray.wait %a, %b {num_returns = 2 : i64} : !ray.ref<i64>, !ray.ref<i64>
  ray.output %w1, %w2, %w3 : !ray.token, !ray.token, !ray.token
}

// -----

// join of one token is that token; an unused wait or join goes.
// CHECK-LABEL: ray.graph @joins
// CHECK-NOT: ray.join
// CHECK-NOT: ray.wait
// CHECK: ray.output %arg0 : !ray.token
ray.graph @joins(%t: !ray.token, %r: !ray.ref<i64>) -> !ray.token {
  %j = ray.join %t : !ray.token
  %unused = ray.join %t, %r : !ray.token, !ray.ref<i64>
  %w = ray.wait %r {num_returns = 1 : i64} : !ray.ref<i64>
  ray.output %j : !ray.token
}
