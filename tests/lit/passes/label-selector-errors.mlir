// What the placement check says of label selectors no node can honour
// (tests/lit/passes/Inputs/labelled-nodes.json: a {CPU 4; zone z1, tier
// spot}, b {CPU 4; zone z2}, c {CPU 8; zone z2, tier spot}).
// RUN: raycc-opt %s --ray-check-placement=cluster=%S/Inputs/labelled-nodes.json -split-input-file -verify-diagnostics

ray.remote_func @f : () -> ()
ray.graph @nowhere() {
  // expected-error @+1 {{task @f may run only on nodes labelled {zone = z9}, but no node of the cluster description is}}
  ray.task @f() {label_selector = {zone = "z9"}} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @too_small() {
  // expected-error @+1 {{task @f asks for {CPU = 6.0}, but no node labelled {tier != spot} has that much}}
  ray.task @f() {label_selector = {tier = "!spot"}, resources = #ray.resources<{CPU = 6}>} : () -> ()
  ray.output
}

// -----

ray.actor_class @A : () -> () {}
ray.graph @pinned() {
  // expected-error @+1 {{actor @A is pinned to node "a", which its label selector {zone in (z2, z3)} rules out}}
  %a = ray.actor.create @A() {label_selector = {zone = "in(z2, z3)"}, strategy = #ray.strategy<node_affinity "a">} : () -> !ray.actor<"A">
  ray.output
}
