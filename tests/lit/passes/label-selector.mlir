// Label selectors (SetLabelSelector) against tests/lit/passes/Inputs/labelled-nodes.json:
//   a {CPU 4; zone z1, tier spot}, b {CPU 4; zone z2}, c {CPU 8; zone z2, tier spot}.
// Placement puts work only on nodes whose labels match; the check names a
// selector no node matches, or no matching node can hold; the plan keeps it.
// RUN: raycc-opt %s --ray-infer-resources --ray-check-placement=cluster=%S/Inputs/labelled-nodes.json --ray-assign-placement=cluster=%S/Inputs/labelled-nodes.json -split-input-file | FileCheck %s
// RUN: raycc-opt %s --ray-infer-resources --ray-lower-to-plan -split-input-file | FileCheck %s --check-prefix=PLAN
// RUN: raycc-opt %s --ray-form-placement-groups -split-input-file | FileCheck %s --check-prefix=GANG

ray.remote_func @f : () -> ()
ray.actor_class @A : () -> () { ray.actor_method @m : (i64) -> i64 }
// CHECK-LABEL: ray.graph @placed
ray.graph @placed() {
  // Only b is in z2 and not spot.
  // CHECK: ray.task @f() {label_selector = {tier = "!spot", zone = "z2"}, placement = #ray.placement<node = "b">
  ray.task @f() {label_selector = {zone = "z2", tier = "!spot"}} : () -> ()
  // Only a is in z1 or z3 (b is less loaded now, and not allowed).
  // CHECK: ray.task @f() {label_selector = {zone = "in(z1,z3)"}, placement = #ray.placement<node = "a">
  ray.task @f() {label_selector = {zone = "in(z1,z3)"}} : () -> ()
  // A soft affinity to a node the selector rules out is dropped: c, the
  // only spot node in z2.
  // CHECK: ray.task @f() {label_selector = {tier = "spot", zone = "z2"}, placement = #ray.placement<node = "c">
  ray.task @f() {label_selector = {zone = "z2", tier = "spot"}, strategy = #ray.strategy<node_affinity "b" soft>} : () -> ()
  // Actors too: b is the only node not spot.
  // CHECK: ray.actor.create @A() {label_selector = {tier = "!in(spot)"}, placement = #ray.placement<node = "b">
  %a = ray.actor.create @A() {label_selector = {tier = "!in(spot)"}, resources = #ray.resources<{CPU = 1}>} : () -> !ray.actor<"A">
  ray.output
}

// PLAN-LABEL: # ExecPlan for @placed
// PLAN: scheduling {
// PLAN-NEXT: label_selector {
// PLAN-NEXT: key: "tier"
// PLAN-NEXT: value: "!spot"
// PLAN: label_selector {
// PLAN-NEXT: key: "zone"
// PLAN-NEXT: value: "z2"

// -----

ray.actor_class @A : () -> () { ray.actor_method @m : (i64) -> i64 }
// Actors limited by labels are never moved into a synthesized gang.
// GANG-LABEL: ray.graph @gang
// GANG-NOT: ray.placement_group
ray.graph @gang() {
  %a = ray.actor.create @A() {label_selector = {zone = "z2"}, resources = #ray.resources<{CPU = 1}>} : () -> !ray.actor<"A">
  %b = ray.actor.create @A() {resources = #ray.resources<{CPU = 1}>} : () -> !ray.actor<"A">
  %c1 = arith.constant 1 : i64
  %x = ray.actor.call %a @m(%c1) : !ray.actor<"A">, (i64) -> !ray.ref<i64>
  %y = ray.actor.call %b @m(%x) : !ray.actor<"A">, (!ray.ref<i64>) -> !ray.ref<i64>
  ray.output
}
