// RUN: raycc-opt %s --ray-infer-resources --ray-lower-to-plan | FileCheck %s
// RUN: not raycc-opt %s --ray-lower-to-plan=graph=nope 2>&1 | FileCheck %s --check-prefix=NOGRAPH
// RUN: not raycc-opt %s --ray-lower-to-plan=output=%t.pb 2>&1 | FileCheck %s --check-prefix=MANY
// RUN: raycc-opt %s --ray-lower-to-plan="graph=step output=%t.pb" && test -s %t.pb
// NOGRAPH: no ray.graph named 'nope'
// MANY: a binary plan holds one graph; this module has 2 (choose one with graph=NAME)

ray.remote_func pure @Load : (i64) -> tensor<4xf32> resources {CPU = 2}
ray.remote_func @Step : (tensor<4xf32>, f64) -> tensor<4xf32>
ray.remote_func @Norm : (tensor<4xf32>) -> tensor<4xf32>
ray.actor_class @PS : (i64) -> () { ray.actor_method @Apply : (tensor<4xf32>) -> tensor<4xf32> }

// CHECK: # ExecPlan for @step
// CHECK: format_version: 1
// CHECK: graph_name: "step"
// CHECK: inputs {
// CHECK-NEXT:  name: "w"
// CHECK-NEXT:  type {
// CHECK-NEXT:    ir_type: "!ray.ref<tensor<4xf32>>"
ray.graph @step(%w: !ray.ref<tensor<4xf32>> {ray.name = "w"}) -> (!ray.ref<tensor<4xf32>> {ray.name = "w_next"}) {
  %pg = ray.placement_group strict_spread "gang" {
    ray.bundle {CPU = 2}
    ray.bundle {CPU = 2}
  }
  %c3 = arith.constant 3 : i64
  %lr = arith.constant 5.000000e-01 : f64
  // CHECK: nodes {
  // CHECK-NEXT: kind: ACTOR_CREATE
  // CHECK: function {
  // CHECK-NEXT: name: "PS::Create"
  // CHECK: operands {
  // CHECK-NEXT: constant: "\323\000\000\000\000\000\000\000\003"
  // CHECK: actor {
  // CHECK-NEXT: class_name: "PS"
  // CHECK-NEXT: max_restarts: 2
  // CHECK-NEXT: max_concurrency: 1
  %ps = ray.actor.create @PS(%c3) {max_restarts = 2 : i64} : (i64) -> !ray.actor<"PS">
  // CHECK: nodes {
  // CHECK-NEXT: id: 1
  // CHECK-NEXT: kind: TASK
  // CHECK-NEXT: name: "load"
  // CHECK-NEXT: function {
  // CHECK-NEXT: name: "Load"
  // CHECK: resources {
  // CHECK-NEXT: quantities {
  // CHECK-NEXT: key: "CPU"
  // CHECK-NEXT: value: 20000
  // CHECK: scheduling {
  // CHECK-NEXT: placement_group {
  // CHECK-NEXT: bundle_index: 1
  // CHECK: placement {
  // CHECK-NEXT: node_name: "n2"
  // CHECK-NEXT: bundle_index: 1
  // CHECK: priority: 5
  // CHECK-NEXT: on_critical_path: true
  // CHECK-NEXT: max_retries: 3
  // CHECK: cost {
  // CHECK-NEXT: estimated_duration_us: 1200
  // CHECK-NEXT: result_bytes: 64
  // CHECK: location {
  // CHECK-NEXT: file: "prog.cc"
  // CHECK-NEXT: line: 17
  // CHECK-NEXT: column: 9
  %d = ray.task @Load(%c3) in %pg {name = "load", max_retries = 3 : i64, priority = 5 : i64, ray.critical, strategy = #ray.strategy<placement_group bundle 1>, placement = #ray.placement<node = "n2", bundle = 1>, cost = #ray.cost<duration_us = 1200, result_bytes = 64>} : (i64) -> !ray.ref<tensor<4xf32>> loc("prog.cc":17:9)
  // CHECK: nodes {
  // CHECK-NEXT: id: 2
  // CHECK-NEXT: kind: TASK
  // CHECK: operands {
  // CHECK-NEXT: node_result {
  // CHECK-NEXT: node: 1
  // CHECK: operands {
  // CHECK-NEXT: constant: "\313?\340\000\000\000\000\000\000"
  // CHECK: retry_exceptions: true
  // CHECK: fused_functions {
  // CHECK-NEXT: name: "Step"
  %g = ray.task @Step(%d, %lr) {retry_exceptions, fused = [@Step, @Norm]} : (!ray.ref<tensor<4xf32>>, f64) -> !ray.ref<tensor<4xf32>>
  // CHECK: kind: ACTOR_CALL
  // CHECK: name: "PS::Apply"
  %w1 = ray.actor.call %ps @Apply(%g) : !ray.actor<"PS">, (!ray.ref<tensor<4xf32>>) -> !ray.ref<tensor<4xf32>>
  // The second call on the actor depends on the first through the actor.
  // CHECK: id: 4
  // CHECK-NEXT: kind: ACTOR_CALL
  // Node 0 is the actor (proto3 prints no default values).
  // CHECK: operands {
  // CHECK-NEXT: node_result {
  // CHECK-NEXT: }
  // CHECK: operands {
  // CHECK-NEXT: graph_input: 0
  // CHECK: control_deps: 3
  %w2 = ray.actor.call %ps @Apply(%w) : !ray.actor<"PS">, (!ray.ref<tensor<4xf32>>) -> !ray.ref<tensor<4xf32>>
  // CHECK: kind: WAIT
  // CHECK: wait {
  // CHECK-NEXT: num_returns: 1
  // CHECK-NEXT: timeout_ms: 250
  %t = ray.wait %w1, %w2 {num_returns = 1 : i64, timeout_ms = 250 : i64} : !ray.ref<tensor<4xf32>>, !ray.ref<tensor<4xf32>>
  // CHECK: kind: JOIN
  %j = ray.join %t : !ray.token
  // CHECK: placement_groups {
  // CHECK-NEXT: name: "gang"
  // CHECK-NEXT: strategy: STRICT_SPREAD
  // CHECK-NEXT: bundles {
  // CHECK: outputs {
  // CHECK-NEXT: name: "w_next"
  // CHECK-NEXT: value {
  // CHECK-NEXT: node_result {
  // CHECK-NEXT: node: 4
  ray.output %w2 : !ray.ref<tensor<4xf32>>
}

// CHECK: # ExecPlan for @other
// A map is one node: its shard count, its callee, each shard's resources
// and how the shards are spread; operands are what follows the shard index.
// CHECK: kind: MAP
// CHECK-NEXT: function {
// CHECK-NEXT: name: "Shard"
// CHECK: operands {
// CHECK-NEXT: graph_input: 0
// CHECK: resources {
// CHECK: key: "CPU"
// CHECK-NEXT: value: 20000
// CHECK: scheduling {
// CHECK-NEXT: spread {
// CHECK: shards: 100000
ray.remote_func @Shard : (i64, f64) -> f64 resources {CPU = 2}
ray.graph @other(%x: !ray.ref<f64> {ray.name = "x"}) -> (!ray.ref<!ray.opaque<"std::vector<double>">> {ray.name = "all"}) {
  %m = ray.map @Shard(%x) shards 100000 {strategy = #ray.strategy<spread>} : (!ray.ref<f64>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output %m : !ray.ref<!ray.opaque<"std::vector<double>">>
}

// A name that is not UTF-8 (IR strings hold any bytes) cannot go into a
// plan, which is protobuf: a clear error, not an artifact that fails to load.
// RUN: %python -c "open('%t.utf8.mlir','wb').write(b'ray.remote_func @F : (i64) -> i64\nray.graph @g(%%x: i64) -> !ray.ref<i64> {\n  %%pg = ray.placement_group pack \"\xff\xfe\" { ray.bundle {CPU = 1} }\n  %%a = ray.task @F(%%x) : (i64) -> !ray.ref<i64>\n  ray.output %%a : !ray.ref<i64>\n}\n')"
// RUN: not raycc-opt %t.utf8.mlir --ray-lower-to-plan 2>&1 | FileCheck %s --check-prefix=UTF8
// UTF8: error: cannot lower to a plan: its placement_groups.name is not valid UTF-8 (names must be)
