// When reservations leave no room, placement fails with an error naming what
// could not be placed.
// RUN: raycc-opt %s --ray-infer-resources --ray-assign-placement=cluster=%S/Inputs/three-nodes.json -split-input-file -verify-diagnostics

ray.graph @groups_exhaust_gpus() {
  %g1 = ray.placement_group strict_spread { ray.bundle {GPU = 1} ray.bundle {GPU = 1} }
  // expected-error @+1 {{cannot place strict_spread placement group #1: no 2 distinct nodes have room for one bundle each}}
  %g2 = ray.placement_group strict_spread { ray.bundle {GPU = 1} ray.bundle {GPU = 1} }
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @task_after_reservations() {
  %g = ray.placement_group spread { ray.bundle {CPU = 4} ray.bundle {CPU = 4} ray.bundle {CPU = 8} }
  // expected-error @+1 {{cannot place task @f ({CPU = 1.0}): no node has that much free after placement groups and actors took their share}}
  ray.task @f() : () -> ()
  ray.output
}

// -----

ray.actor_class @A : () -> () {}
ray.graph @strict_pack_no_room() {
  %g = ray.placement_group strict_pack { ray.bundle {CPU = 6} }
  // expected-error @+1 {{cannot place strict_pack placement group #1: no node has {CPU = 5.0, GPU = 0.5} free for all its bundles}}
  %h = ray.placement_group strict_pack { ray.bundle {CPU = 3} ray.bundle {CPU = 2} ray.bundle {GPU = 0.5} }
  ray.output
}
