// ray-apply-profile: durations from a measured timeline (Inputs/profile.json:
// Load ran in 900.4, 1100 and 1000 us and failed once after 99999 us; a task
// named "scale" in 40 us; Step in 7 us).
// RUN: raycc-opt %s --ray-apply-profile=profile=%S/Inputs/profile.json | FileCheck %s
// RUN: not raycc-opt %s --ray-apply-profile=profile=%S/Inputs/nope.json 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not raycc-opt %s --ray-apply-profile=profile=%S/Inputs/two-nodes.json 2>&1 | FileCheck %s --check-prefix=NOTLIST
// RUN: not raycc-opt %s --ray-apply-profile=profile=%S/Inputs/profile-no-dur.json 2>&1 | FileCheck %s --check-prefix=NODUR
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
