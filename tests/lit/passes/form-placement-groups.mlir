// RUN: raycc-opt %s --ray-form-placement-groups -split-input-file | FileCheck %s
// RUN: raycc-opt %s --ray-form-placement-groups -split-input-file | raycc-opt -split-input-file > /dev/null

// An actor gang (each stage consumes the previous stage's output) becomes one
// synthesized group, a bundle per actor; an unrelated actor stays out.
ray.actor_class @Stage : () -> () attributes {resources = #ray.resources<{CPU = 2}>} {
  ray.actor_method @step : (i64) -> i64
}
// CHECK-LABEL: ray.graph @gang
// CHECK: %[[PG:.*]] = ray.placement_group pack "gang0" attributes {ray.synthesized} {
// CHECK-NEXT: ray.bundle {CPU = 2.0}
// CHECK-NEXT: ray.bundle {CPU = 2.0}
// CHECK-NEXT: }
// CHECK-NEXT: ray.actor.create @Stage() in %[[PG]] {strategy = #ray.strategy<placement_group bundle 0>}
// CHECK-NEXT: ray.actor.create @Stage() in %[[PG]] {strategy = #ray.strategy<placement_group bundle 1>}
// CHECK-NEXT: ray.actor.create @Stage() : () -> !ray.actor<"Stage">
ray.graph @gang(%x: i64) -> (!ray.ref<i64>, !ray.ref<i64>) {
  %a = ray.actor.create @Stage() : () -> !ray.actor<"Stage">
  %b = ray.actor.create @Stage() : () -> !ray.actor<"Stage">
  %lone = ray.actor.create @Stage() : () -> !ray.actor<"Stage">
  %x1 = ray.actor.call %a @step(%x) : !ray.actor<"Stage">, (i64) -> !ray.ref<i64>
  %x2 = ray.actor.call %b @step(%x1) : !ray.actor<"Stage">, (!ray.ref<i64>) -> !ray.ref<i64>
  %y = ray.actor.call %lone @step(%x) : !ray.actor<"Stage">, (i64) -> !ray.ref<i64>
  ray.output %x2, %y : !ray.ref<i64>, !ray.ref<i64>
}

// -----

// A large object's producer and consumers are packed; small ones are not; a
// task the user pinned, and the user's own group, are never changed.
ray.remote_func @Big : () -> tensor<1024xf32> {cost = #ray.cost<result_bytes = 134217728>}
ray.remote_func @Small : () -> tensor<1024xf32> {cost = #ray.cost<result_bytes = 1024>}
ray.remote_func @Use : (tensor<1024xf32>) -> f32
// CHECK-LABEL: ray.graph @data
// CHECK: %[[PG:.*]] = ray.placement_group pack "data{{[0-9]+}}" attributes {ray.synthesized} {
// CHECK: %[[BIG:.*]] = ray.task @Big() in %[[PG]] {{{.*}}strategy = #ray.strategy<placement_group bundle 0>}
// CHECK: ray.task @Use(%[[BIG]]) in %[[PG]] {{{.*}}strategy = #ray.strategy<placement_group bundle 1>}
// CHECK: ray.task @Use(%[[BIG]]) {strategy = #ray.strategy<node_affinity "n1">}
// CHECK: %[[S:.*]] = ray.task @Small() : () -> !ray.ref<tensor<1024xf32>>
// CHECK: ray.task @Use(%[[S]]) : (!ray.ref<tensor<1024xf32>>) -> !ray.ref<f32>
// CHECK: ray.placement_group strict_spread "mine" {
// CHECK-NOT: ray.synthesized
ray.graph @data() -> (!ray.ref<f32>, !ray.ref<f32>, !ray.ref<f32>) {
  %big = ray.task @Big() : () -> !ray.ref<tensor<1024xf32>>
  %u1 = ray.task @Use(%big) : (!ray.ref<tensor<1024xf32>>) -> !ray.ref<f32>
  %u2 = ray.task @Use(%big) {strategy = #ray.strategy<node_affinity "n1">} : (!ray.ref<tensor<1024xf32>>) -> !ray.ref<f32>
  %s = ray.task @Small() : () -> !ray.ref<tensor<1024xf32>>
  %u3 = ray.task @Use(%s) : (!ray.ref<tensor<1024xf32>>) -> !ray.ref<f32>
  %mine = ray.placement_group strict_spread "mine" { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  ray.output %u1, %u2, %u3 : !ray.ref<f32>, !ray.ref<f32>, !ray.ref<f32>
}

// -----

// The threshold and the gang strategy are options.
// RUN: raycc-opt %s --ray-form-placement-groups="large-object-bytes=1000 gang-strategy=strict_spread" -split-input-file | FileCheck %s --check-prefix=OPT
// OPT-LABEL: ray.graph @gang
// OPT: ray.placement_group strict_spread "gang0"
// OPT-LABEL: ray.graph @data
// OPT: ray.task @Small() in
// RUN: not raycc-opt %s --ray-form-placement-groups="gang-strategy=clustered" -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: unknown gang-strategy 'clustered'; expected pack, spread, strict_pack or strict_spread
ray.graph @empty() { ray.output }
