// RUN: raycc-opt %s --ray-check-placement=cluster=%S/Inputs/three-nodes.json -split-input-file -verify-diagnostics

ray.remote_func @f : () -> ()
ray.graph @task_too_big() {
  // expected-error @+1 {{task @f asks for {CPU = 16.0}, but no node has that much; the closest is "c" with {CPU = 8.0}}}
  ray.task @f() {resources = #ray.resources<{CPU = 16}>} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @unknown_resource() {
  // expected-error @+1 {{task @f asks for {CPU = 1.0, TPU = 1.0}, but no node has that much}}
  ray.task @f() {resources = #ray.resources<{CPU = 1, TPU = 1}>} : () -> ()
  ray.output
}

// -----

ray.actor_class @A : () -> () {}
ray.graph @actor_too_big() {
  // expected-error @+1 {{actor @A asks for {GPU = 2.0}, but no node has that much; the closest is "a" with {CPU = 4.0, GPU = 1.0}}}
  %a = ray.actor.create @A() {placement_resources = #ray.resources<{GPU = 2}>} : () -> !ray.actor<"A">
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @affinity() {
  // expected-error @+1 {{task @f is pinned to node "z", which the cluster description does not have}}
  ray.task @f() {strategy = #ray.strategy<node_affinity "z">} : () -> ()
  // expected-warning @+1 {{task @f prefers node "z", which the cluster description does not have; it will run elsewhere}}
  ray.task @f() {strategy = #ray.strategy<node_affinity "z" soft>} : () -> ()
  // expected-error @+1 {{task @f is pinned to node "c" and asks for {GPU = 1.0}, but that node has only {CPU = 8.0}}}
  ray.task @f() {resources = #ray.resources<{GPU = 1}>, strategy = #ray.strategy<node_affinity "c">} : () -> ()
  ray.output
}

// -----

ray.graph @bundle_too_big() {
  // expected-error @+1 {{bundle 1 of placement group "pg" asks for {GPU = 2.0}, but no node has that much; the closest is "a" with {CPU = 4.0, GPU = 1.0}}}
  %pg = ray.placement_group pack "pg" { ray.bundle {CPU = 1} ray.bundle {GPU = 2} }
  ray.output
}

// -----

ray.graph @strict_pack() {
  // expected-error @+1 {{strict_pack placement group "sp" needs one node with {CPU = 2.0, GPU = 2.0} (all its bundles), but no node has that much; the closest is "a" with {CPU = 4.0, GPU = 1.0}}}
  %pg = ray.placement_group strict_pack "sp" { ray.bundle {CPU = 1, GPU = 1} ray.bundle {CPU = 1, GPU = 1} }
  ray.output
}

// -----

ray.graph @strict_spread_too_many() {
  // expected-error @+1 {{strict_spread placement group "ss" needs 4 distinct nodes, one per bundle, but the cluster's 3 node(s) cannot hold its bundles on distinct nodes}}
  %pg = ray.placement_group strict_spread "ss" { ray.bundle {CPU = 1} ray.bundle {CPU = 1} ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  ray.output
}

// -----

// Three GPU bundles but only two GPU nodes: distinct nodes for all three do
// not exist, though each bundle alone fits somewhere.
ray.graph @strict_spread_gpu() {
  // expected-error @+1 {{strict_spread placement group #0 needs 3 distinct nodes}}
  %pg = ray.placement_group strict_spread { ray.bundle {GPU = 1} ray.bundle {GPU = 1} ray.bundle {GPU = 1} }
  ray.output
}

// -----

ray.graph @pack_too_big_in_total() {
  // expected-error @+1 {{placement group "big" needs {CPU = 18.0} in total, but the whole cluster has {CPU = 16.0, GPU = 2.0}}}
  %pg = ray.placement_group spread "big" { ray.bundle {CPU = 6} ray.bundle {CPU = 6} ray.bundle {CPU = 6} }
  ray.output
}

// -----

// Everything here fits: no diagnostic.
ray.remote_func @f : () -> ()
ray.graph @feasible() {
  %s = ray.placement_group strict_spread { ray.bundle {GPU = 1} ray.bundle {GPU = 1} ray.bundle {CPU = 8} }
  %p = ray.placement_group strict_pack { ray.bundle {CPU = 2} ray.bundle {CPU = 2, GPU = 1} }
  ray.task @f() {resources = #ray.resources<{CPU = 8}>} : () -> ()
  ray.task @f() {strategy = #ray.strategy<node_affinity "b">} : () -> ()
  ray.output
}

// -----

// A map's shards must each fit some node (they queue for room as tasks do:
// 100,000 shards of 1 CPU fit a cluster of 3 nodes).
ray.remote_func @s : (i64) -> i64
ray.graph @map_shard_too_big() {
  // expected-error @+1 {{shards of map @s asks for {CPU = 16.0}, but no node has that much; the closest is "c" with {CPU = 8.0}}}
  %m = ray.map @s() shards 4 {resources = #ray.resources<{CPU = 16}>} : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  ray.output
}

// -----

ray.remote_func @s : (i64) -> i64
ray.graph @map_fits() {
  %m = ray.map @s() shards 100000 {resources = #ray.resources<{CPU = 1}>} : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  ray.output
}
