// ray-apply-profile: durations from a measured timeline (Inputs/profile.json:
// Load ran in 900.4, 1100 and 1000 us and failed once after 99999 us; a task
// named "scale" in 40 us; Step in 7 us; the actor Box made in 300 us and its
// gated Get in 10 and 30 us; the fused chain Parse+Scale in 55 us). Names are
// the timeline's: an actor's factory and methods as Class::name, a fused
// chain as f+g, a gated call with +after.
// RUN: raycc-opt %s --ray-apply-profile=profile=%S/Inputs/profile.json -split-input-file | FileCheck %s
// RUN: not raycc-opt %s --ray-apply-profile=profile=%S/Inputs/nope.json -split-input-file 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not raycc-opt %s --ray-apply-profile=profile=%S/Inputs/two-nodes.json -split-input-file 2>&1 | FileCheck %s --check-prefix=NOTLIST
// RUN: not raycc-opt %s --ray-apply-profile=profile=%S/Inputs/profile-no-dur.json -split-input-file 2>&1 | FileCheck %s --check-prefix=NODUR
// MISSING: error: profile '{{.*}}nope.json': cannot read it: No such file or directory
// NOTLIST: error: profile '{{.*}}two-nodes.json': not a timeline (a list of trace events)
// NODUR: error: profile '{{.*}}profile-no-dur.json': an "X" event without a name or a duration >= 0

ray.remote_func @Load : () -> i64
ray.remote_func @Scale : (i64) -> f64
ray.remote_func @Step : (f64) -> f64 {cost = #ray.cost<duration_us = 500>}
ray.remote_func @Other : (f64) -> f64
// CHECK-LABEL: ray.graph @g
ray.graph @g() {
  // The median of the finished runs; the result size given stays.
  // CHECK: ray.task @Load() {cost = #ray.cost<duration_us = 1000, result_bytes = 64>}
  %l = ray.task @Load() {cost = #ray.cost<result_bytes = 64>} : () -> !ray.ref<i64>
  // Found by its display name.
  // CHECK: ray.task @Scale(%{{.*}}) {cost = #ray.cost<duration_us = 40>, name = "scale"}
  %s = ray.task @Scale(%l) {name = "scale"} : (!ray.ref<i64>) -> !ray.ref<f64>
  // The program's own estimate (here its function's) stays.
  // CHECK: ray.task @Step(%{{.*}}) : (!ray.ref<f64>) -> !ray.ref<f64>
  %t = ray.task @Step(%s) : (!ray.ref<f64>) -> !ray.ref<f64>
  // Not in the profile: unchanged.
  // CHECK: ray.task @Other(%{{.*}}) : (!ray.ref<f64>) -> !ray.ref<f64>
  %o = ray.task @Other(%t) : (!ray.ref<f64>) -> !ray.ref<f64>
  ray.output
}

// -----

ray.remote_func @Parse : (i64) -> i64
ray.remote_func @Scale : (i64) -> f64
ray.actor_class @Box : () -> () { ray.actor_method @Get : () -> i64 }
// CHECK-LABEL: ray.graph @named
ray.graph @named(%x: i64) {
  // CHECK: ray.actor.create @Box() {cost = #ray.cost<duration_us = 300>}
  %b = ray.actor.create @Box() : () -> !ray.actor<"Box">
  // (An even count: the mean of the two middle runs.)
  // CHECK: ray.actor.call %{{.*}} @Get() {cost = #ray.cost<duration_us = 20>}
  %g = ray.actor.call %b @Get() : !ray.actor<"Box">, () -> !ray.ref<i64>
  // CHECK: ray.task @Parse(%{{.*}}) {cost = #ray.cost<duration_us = 55>, fused = [@Parse, @Scale]}
  %f = ray.task @Parse(%x) {fused = [@Parse, @Scale]} : (i64) -> !ray.ref<f64>
  ray.output
}

// -----

// A map's shards run under its function's name: the map costs one shard's
// (the median) run.
ray.remote_func @Load : (i64) -> i64
// CHECK-LABEL: ray.graph @mapped
ray.graph @mapped() {
  // CHECK: ray.map @Load() shards 64 {cost = #ray.cost<duration_us = 1000>}
  %m = ray.map @Load() shards 64 : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  ray.output
}
