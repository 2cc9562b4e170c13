// Placement against tests/lit/passes/Inputs/three-nodes.json:
//   a {CPU 4, GPU 1}, b {CPU 4, GPU 1}, c {CPU 8}.
// Expected placements are computed by hand from docs/passes/placement.md.
// RUN: raycc-opt %s --ray-infer-resources --ray-assign-placement=cluster=%S/Inputs/three-nodes.json -split-input-file | FileCheck %s
// RUN: raycc-opt %s --ray-infer-resources --ray-assign-placement=cluster=%S/Inputs/three-nodes.json -split-input-file | raycc-opt -split-input-file > /dev/null

// strict_pack: every bundle on one node; ties go to the first node.
// CHECK-LABEL: ray.graph @strict_pack
// CHECK: ray.placement_group strict_pack attributes {bundle_nodes = ["a", "a"]}
// CHECK: ray.task @f() in %{{.*}} {placement = #ray.placement<node = "a", bundle = 1>
ray.remote_func @f : () -> ()
ray.graph @strict_pack() {
  %pg = ray.placement_group strict_pack { ray.bundle {CPU = 2} ray.bundle {CPU = 2} }
  ray.task @f() in %pg {strategy = #ray.strategy<placement_group bundle 1>} : () -> ()
  ray.output
}

// -----

// strict_spread: the GPU bundles must take a and b, so the CPU bundle gets c.
// CHECK-LABEL: ray.graph @strict_spread
// CHECK: ray.placement_group strict_spread attributes {bundle_nodes = ["a", "b", "c"]}
ray.graph @strict_spread() {
  %pg = ray.placement_group strict_spread { ray.bundle {GPU = 1} ray.bundle {GPU = 1} ray.bundle {CPU = 1} }
  ray.output
}

// -----

// strict_spread where the order matters: the CPU-only bundle comes first but
// must not take a GPU node.
// CHECK-LABEL: ray.graph @strict_spread_matching
// CHECK: ray.placement_group strict_spread attributes {bundle_nodes = ["c", "{{a|b}}", "{{a|b}}"]}
ray.graph @strict_spread_matching() {
  %pg = ray.placement_group strict_spread { ray.bundle {CPU = 1} ray.bundle {GPU = 1} ray.bundle {GPU = 1} }
  ray.output
}

// -----

// spread: a distinct node per bundle, least loaded first.
// CHECK-LABEL: ray.graph @spread
// CHECK: ray.placement_group spread attributes {bundle_nodes = ["a", "b", "c"]}
ray.graph @spread() {
  %pg = ray.placement_group spread { ray.bundle {CPU = 1} ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  ray.output
}

// -----

// pack: the node with most room (c, 8 CPUs) takes two 3-CPU bundles, the
// third goes to the roomiest of the rest.
// CHECK-LABEL: ray.graph @pack
// CHECK: ray.placement_group pack attributes {bundle_nodes = ["c", "c", "a"]}
ray.graph @pack() {
  %pg = ray.placement_group pack { ray.bundle {CPU = 3} ray.bundle {CPU = 3} ray.bundle {CPU = 3} }
  ray.output
}

// -----

// Actors first, then tasks: data stays where its bytes are (Consume joins
// Produce on b although c is less loaded); affinity wins.
// CHECK-LABEL: ray.graph @tasks
// CHECK: ray.actor.create @A() {placement = #ray.placement<node = "a">
// CHECK: ray.task @Produce() {cost = #ray.cost<result_bytes = 1048576>, placement = #ray.placement<node = "b">
// CHECK: ray.task @Consume(%{{.*}}) {placement = #ray.placement<node = "b">
// CHECK: ray.task @Log(%{{.*}}) {placement = #ray.placement<node = "c">
// CHECK: ray.task @Render() {placement = #ray.placement<node = "a">, resources = #ray.resources<{GPU = 1.0}>}
ray.actor_class @A : () -> () { ray.actor_method @m : () -> () }
ray.remote_func @Produce : () -> i64
ray.remote_func @Consume : (i64) -> i64
ray.remote_func @Log : (i64) -> ()
ray.remote_func @Render : () -> ()
ray.graph @tasks() {
  %a = ray.actor.create @A() : () -> !ray.actor<"A">
  %t = ray.actor.call %a @m() : !ray.actor<"A">, () -> !ray.token
  %p = ray.task @Produce() {cost = #ray.cost<result_bytes = 1048576>} : () -> !ray.ref<i64>
  %c = ray.task @Consume(%p) : (!ray.ref<i64>) -> !ray.ref<i64>
  ray.task @Log(%c) {strategy = #ray.strategy<node_affinity "c">} : (!ray.ref<i64>) -> ()
  ray.task @Render() {resources = #ray.resources<{GPU = 1}>} : () -> ()
  ray.output
}

// -----

// No cluster: nothing is placed.
// RUN: raycc-opt %s --ray-assign-placement -split-input-file | FileCheck %s --check-prefix=NONE
// NONE-NOT: placement =
// NONE-NOT: bundle_nodes
ray.graph @none() {
  %pg = ray.placement_group pack { ray.bundle {CPU = 1} }
  ray.output
}
