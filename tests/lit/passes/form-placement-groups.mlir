// RUN: raycc-opt %s --ray-form-placement-groups -split-input-file | FileCheck %s
// RUN: raycc-opt %s --ray-form-placement-groups -split-input-file | raycc-opt -split-input-file > /dev/null

// An actor gang (each stage consumes the previous stage's output) becomes one
// synthesized group, a bundle per actor holding what the actor holds; the
// bundle places it. An unrelated actor stays out.
ray.actor_class @Stage : () -> () attributes {resources = #ray.resources<{CPU = 2}>} {
  ray.actor_method @step : (i64) -> i64
}
// CHECK-LABEL: ray.graph @gang
// CHECK: %[[PG:.*]] = ray.placement_group pack "gang0" attributes {ray.synthesized} {
// CHECK-NEXT: ray.bundle {CPU = 2.0}
// CHECK-NEXT: ray.bundle {CPU = 2.0}
// CHECK-NEXT: }
// CHECK-NEXT: ray.actor.create @Stage() in %[[PG]] {placement_resources = #ray.resources<{CPU = 2.0}>, strategy = #ray.strategy<placement_group bundle 0>}
// CHECK-NEXT: ray.actor.create @Stage() in %[[PG]] {placement_resources = #ray.resources<{CPU = 2.0}>, strategy = #ray.strategy<placement_group bundle 1>}
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

// Actors that hold nothing while they live (Ray's default: a CPU to place
// them, none while they run) are not grouped: a group would reserve, for
// the whole run, what they need only for a moment. Neither is an actor the
// user asked to spread.
ray.actor_class @Free : () -> () {
  ray.actor_method @step : (i64) -> i64
}
ray.actor_class @Busy : () -> () attributes {resources = #ray.resources<{CPU = 1}>} {
  ray.actor_method @step : (i64) -> i64
}
// CHECK-LABEL: ray.graph @not_grouped
// CHECK-NOT: ray.placement_group
// CHECK: ray.output
ray.graph @not_grouped(%x: i64) -> (!ray.ref<i64>, !ray.ref<i64>) {
  %a = ray.actor.create @Free() : () -> !ray.actor<"Free">
  %b = ray.actor.create @Free() : () -> !ray.actor<"Free">
  %x1 = ray.actor.call %a @step(%x) : !ray.actor<"Free">, (i64) -> !ray.ref<i64>
  %x2 = ray.actor.call %b @step(%x1) : !ray.actor<"Free">, (!ray.ref<i64>) -> !ray.ref<i64>
  %c = ray.actor.create @Busy() {strategy = #ray.strategy<spread>} : () -> !ray.actor<"Busy">
  %d = ray.actor.create @Busy() : () -> !ray.actor<"Busy">
  %y1 = ray.actor.call %c @step(%x) : !ray.actor<"Busy">, (i64) -> !ray.ref<i64>
  %y2 = ray.actor.call %d @step(%y1) : !ray.actor<"Busy">, (!ray.ref<i64>) -> !ray.ref<i64>
  ray.output %x2, %y2 : !ray.ref<i64>, !ray.ref<i64>
}

// -----

// Tasks are never grouped, however large the object they pass: their
// resources are transient, and a reservation for them could leave other
// work no room. (ray-assign-placement puts a consumer on its input's node.)
ray.remote_func @Big : () -> tensor<1024xf32> {cost = #ray.cost<result_bytes = 134217728>}
ray.remote_func @Use : (tensor<1024xf32>) -> f32
// CHECK-LABEL: ray.graph @data
// CHECK-NOT: ray.synthesized
// CHECK: ray.output
ray.graph @data() -> (!ray.ref<f32>, !ray.ref<f32>) {
  %big = ray.task @Big() : () -> !ray.ref<tensor<1024xf32>>
  %u1 = ray.task @Use(%big) : (!ray.ref<tensor<1024xf32>>) -> !ray.ref<f32>
  %u2 = ray.task @Use(%big) : (!ray.ref<tensor<1024xf32>>) -> !ray.ref<f32>
  ray.output %u1, %u2 : !ray.ref<f32>, !ray.ref<f32>
}

// -----

// The gang strategy is an option.
// RUN: raycc-opt %s --ray-form-placement-groups="gang-strategy=strict_spread" -split-input-file | FileCheck %s --check-prefix=OPT
// OPT-LABEL: ray.graph @gang
// OPT: ray.placement_group strict_spread "gang0"
// RUN: not raycc-opt %s --ray-form-placement-groups="gang-strategy=clustered" -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: unknown gang-strategy 'clustered'; expected pack, spread, strict_pack or strict_spread
ray.graph @empty() { ray.output }
