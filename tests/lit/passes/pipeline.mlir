// The -O levels of the ray-compile pipeline.
// RUN: raycc-opt %s --ray-compile=opt-level=0 | FileCheck %s --check-prefix=O0
// RUN: raycc-opt %s --ray-compile=opt-level=1 | FileCheck %s --check-prefix=O1
// RUN: raycc-opt %s --ray-compile="opt-level=2 cluster=%S/Inputs/three-nodes.json" | FileCheck %s --check-prefix=O2
// RUN: raycc-opt %s --ray-compile="opt-level=2 cluster=%S/Inputs/three-nodes.json" --ray-lower-to-plan="opt-level=2 cluster-name=three-nodes" | FileCheck %s --check-prefix=PLAN
// RUN: raycc-opt %s --ray-compile=opt-level=0 | FileCheck %s --check-prefix=FOLD0
// RUN: raycc-opt %s --ray-compile=opt-level=1 | FileCheck %s --check-prefix=FOLD1

ray.remote_func pure @Parse : (i64) -> i64
ray.remote_func pure @Scale : (i64) -> f64
ray.remote_func @Save : (f64) -> ()

// At -O0 only resources are added: nothing is removed, merged or placed.
// O0-COUNT-2: ray.task @Parse(%arg0) {resources = #ray.resources<{CPU = 1.0}>}
// O0-NOT: priority
// O0-NOT: placement
// At -O1 CSE merges the two pure Parse calls and priorities appear; no fusion.
// O1-COUNT-1: ray.task @Parse
// O1: priority =
// O1-NOT: fused
// O1-NOT: placement =
// At -O2 Scale -> Save fuses (Parse feeds the output too, so it stays) and
// everything is placed.
// O2: ray.task @Parse(%arg0) {placement = #ray.placement<node = "{{a|b|c}}">
// O2: ray.task @Scale(%{{.*}}) {fused = [@Scale, @Save], placement = #ray.placement<node = "{{a|b|c}}">
// PLAN: placement {
// PLAN-NEXT: node_name: "{{a|b|c}}"
// PLAN: fused_functions {
// PLAN: cluster_name: "three-nodes"
// PLAN-NEXT: opt_level: 2
ray.graph @g(%x: i64) -> !ray.ref<i64> {
  %a = ray.task @Parse(%x) : (i64) -> !ray.ref<i64>
  %b = ray.task @Parse(%x) : (i64) -> !ray.ref<i64>
  %s = ray.task @Scale(%a) : (!ray.ref<i64>) -> !ray.ref<f64>
  ray.task @Save(%s) : (!ray.ref<f64>) -> ()
  ray.output %b : !ray.ref<i64>
}

// The dialect's folds run from -O1 on (canonicalize is in the pipeline):
// get(put(x)) is x; -O0 keeps the program as written.
// FOLD0-LABEL: ray.graph @folds
// FOLD0: ray.put
// FOLD0: ray.get
// FOLD1-LABEL: ray.graph @folds
// FOLD1-SAME: (%[[X:.*]]: i64)
// FOLD1-NOT: ray.put
// FOLD1-NOT: ray.get
// FOLD1: ray.task @Parse(%[[X]])
ray.graph @folds(%x: i64) -> !ray.ref<i64> {
  %r = ray.put %x : i64
  %v = ray.get %r : !ray.ref<i64>
  %p = ray.task @Parse(%v) : (i64) -> !ray.ref<i64>
  ray.output %p : !ray.ref<i64>
}
