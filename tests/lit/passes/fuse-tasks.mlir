// RUN: raycc-opt %s --ray-fuse-tasks -split-input-file | FileCheck %s
// RUN: raycc-opt %s --ray-fuse-tasks -split-input-file | raycc-opt -split-input-file > /dev/null

// A chain of three becomes one task; the result type is the last one's.
ray.remote_func @Parse : (i64) -> i64
ray.remote_func @Scale : (i64) -> f64
ray.remote_func @Round : (f64) -> i64
// CHECK-LABEL: ray.graph @chain
// CHECK-NEXT: %[[F:.*]] = ray.task @Parse(%arg0) {fused = [@Parse, @Scale, @Round], name = "round"} : (i64) -> !ray.ref<i64>
// CHECK-NEXT: ray.output %[[F]]
ray.graph @chain(%x: i64) -> !ray.ref<i64> {
  %a = ray.task @Parse(%x) : (i64) -> !ray.ref<i64>
  %b = ray.task @Scale(%a) : (!ray.ref<i64>) -> !ray.ref<f64>
  %c = ray.task @Round(%b) {name = "round"} : (!ray.ref<f64>) -> !ray.ref<i64>
  ray.output %c : !ray.ref<i64>
}

// -----

// Not fused: a fan-out (the intermediate has two users), different resources,
// a large task, a task in a placement group, and an actor call in between.
ray.remote_func @F : (i64) -> i64
ray.remote_func @Big : (i64) -> i64 {cost = #ray.cost<duration_us = 50000>}
ray.actor_class @A : () -> () { ray.actor_method @m : (i64) -> i64 }
// CHECK-LABEL: ray.graph @kept
// CHECK-NOT: fused
ray.graph @kept(%x: i64, %actor: !ray.actor<"A">) -> (!ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>) {
  %a = ray.task @F(%x) : (i64) -> !ray.ref<i64>
  %b1 = ray.task @F(%a) : (!ray.ref<i64>) -> !ray.ref<i64>
  %b2 = ray.task @F(%a) : (!ray.ref<i64>) -> !ray.ref<i64>
  %g = ray.task @F(%x) {resources = #ray.resources<{GPU = 1}>} : (i64) -> !ray.ref<i64>
  %h = ray.task @F(%g) : (!ray.ref<i64>) -> !ray.ref<i64>
  %big = ray.task @Big(%x) : (i64) -> !ray.ref<i64>
  %after = ray.task @F(%big) : (!ray.ref<i64>) -> !ray.ref<i64>
  %pg = ray.placement_group pack { ray.bundle {CPU = 1} }
  %in = ray.task @F(%x) in %pg {strategy = #ray.strategy<placement_group bundle 0>} : (i64) -> !ray.ref<i64>
  %in2 = ray.task @F(%in) : (!ray.ref<i64>) -> !ray.ref<i64>
  %call = ray.actor.call %actor @m(%x) : !ray.actor<"A">, (i64) -> !ray.ref<i64>
  %c2 = ray.task @F(%call) : (!ray.ref<i64>) -> !ray.ref<i64>
  ray.output %b1, %b2, %h, %after, %in2, %c2 : !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>
}

// -----

// The size limit is an option.
// RUN: raycc-opt %s --ray-fuse-tasks=max-duration-us=100000 -split-input-file | FileCheck %s --check-prefix=BIG
ray.remote_func @Big : (i64) -> i64 {cost = #ray.cost<duration_us = 50000>}
// BIG-LABEL: ray.graph @limit
// BIG: ray.task @Big(%arg0) {cost = #ray.cost<duration_us = 100000>, fused = [@Big, @Big]}
ray.graph @limit(%x: i64) -> !ray.ref<i64> {
  %a = ray.task @Big(%x) : (i64) -> !ray.ref<i64>
  %b = ray.task @Big(%a) : (!ray.ref<i64>) -> !ray.ref<i64>
  ray.output %b : !ray.ref<i64>
}

// -----

// Label selectors: tasks with the same selector fuse and the fused task keeps
// it; a task with another selector (or none) is not fused with them.
ray.remote_func @P : (i64) -> i64
// CHECK-LABEL: ray.graph @labelled
// CHECK-NEXT: %[[F:.*]] = ray.task @P(%arg0) {fused = [@P, @P], label_selector = {zone = "a"}}
// CHECK-NEXT: ray.task @P(%[[F]]) {label_selector = {zone = "b"}}
ray.graph @labelled(%x: i64) -> !ray.ref<i64> {
  %a = ray.task @P(%x) {label_selector = {zone = "a"}} : (i64) -> !ray.ref<i64>
  %b = ray.task @P(%a) {label_selector = {zone = "a"}} : (!ray.ref<i64>) -> !ray.ref<i64>
  %c = ray.task @P(%b) {label_selector = {zone = "b"}} : (!ray.ref<i64>) -> !ray.ref<i64>
  ray.output %c : !ray.ref<i64>
}
