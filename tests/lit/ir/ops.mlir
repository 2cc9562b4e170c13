// Every op, type and attribute of the ray dialect round-trips through the
// custom form and through the generic form.
// RUN: raycc-opt %s | raycc-opt | FileCheck %s
// RUN: raycc-opt %s --mlir-print-op-generic | raycc-opt | FileCheck %s
// RUN: raycc-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// CHECK-LABEL: ray.remote_func pure @LoadShard : (i64) -> !ray.opaque<"std::vector<double>"> resources {CPU = 1.0, memory = 1000000.0}
ray.remote_func pure @LoadShard : (i64) -> !ray.opaque<"std::vector<double>"> resources {CPU = 1.0, memory = 1000000}
// CHECK: ray.remote_func @Gradient : (!ray.opaque<"std::vector<double>">, !ray.opaque<"std::vector<double>">) -> !ray.opaque<"std::vector<double>"> {cost = #ray.cost<duration_us = 1500, result_bytes = 4096>}
ray.remote_func @Gradient : (!ray.opaque<"std::vector<double>">, !ray.opaque<"std::vector<double>">) -> !ray.opaque<"std::vector<double>"> {cost = #ray.cost<duration_us = 1500, result_bytes = 4096>}
// CHECK: ray.remote_func @Log : (i64) -> ()
ray.remote_func @Log : (i64) -> ()
// CHECK: ray.remote_func pure @Split : (tensor<8xf32>) -> (tensor<4xf32>, tensor<4xf32>) resources {GPU = 0.5, "accelerator_type:H100" = 0.0001}
ray.remote_func pure @Split : (tensor<8xf32>) -> (tensor<4xf32>, tensor<4xf32>) resources {GPU = 0.5, "accelerator_type:H100" = 0.0001}

// CHECK: ray.actor_class @ParamServer : (i64) -> () attributes {factory = "ParamServer::Create", resources = #ray.resources<{CPU = 1.0}>} {
// CHECK-NEXT: ray.actor_method @Apply : (!ray.opaque<"std::vector<double>">) -> !ray.opaque<"std::vector<double>">
// CHECK-NEXT: ray.actor_method @Reset : () -> ()
ray.actor_class @ParamServer : (i64) -> () attributes {factory = "ParamServer::Create", resources = #ray.resources<{CPU = 1.0}>} {
  ray.actor_method @Apply : (!ray.opaque<"std::vector<double>">) -> !ray.opaque<"std::vector<double>">
  ray.actor_method @Reset : () -> ()
}

// CHECK-LABEL: ray.graph @train_step(%arg0: !ray.ref<!ray.opaque<"std::vector<double>">> {ray.name = "w"}) -> (!ray.ref<!ray.opaque<"std::vector<double>">> {ray.name = "w"})
ray.graph @train_step(%w: !ray.ref<!ray.opaque<"std::vector<double>">> {ray.name = "w"}) -> (!ray.ref<!ray.opaque<"std::vector<double>">> {ray.name = "w"}) {
  // CHECK: %[[PG:.*]] = ray.placement_group spread "shards" {
  // CHECK-NEXT: ray.bundle {CPU = 1.0}
  // CHECK-NEXT: ray.bundle {CPU = 1.0, GPU = 0.25}
  // CHECK-NEXT: }
  %pg = ray.placement_group spread "shards" {
    ray.bundle {CPU = 1.0}
    ray.bundle {CPU = 1.0, GPU = 0.25}
  }
  %c8 = arith.constant 8 : i64
  %c0 = arith.constant 0 : i64
  // CHECK: %[[PS:.*]] = ray.actor.create @ParamServer(%{{.*}}) {max_concurrency = 1 : i64, max_restarts = 1 : i64, name = "ps", placement_resources = #ray.resources<{CPU = 1.0}>, resources = #ray.resources<{}>} : (i64) -> !ray.actor<"ParamServer">
  %ps = ray.actor.create @ParamServer(%c8) {max_restarts = 1 : i64, max_concurrency = 1 : i64, name = "ps", placement_resources = #ray.resources<{CPU = 1.0}>, resources = #ray.resources<{}>} : (i64) -> !ray.actor<"ParamServer">
  // CHECK: %[[D:.*]] = ray.task @LoadShard(%{{.*}}) in %[[PG]] {placement = #ray.placement<node = "node-1", bundle = 0>, priority = 10 : i64, strategy = #ray.strategy<placement_group bundle 0>} : (i64) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  %data = ray.task @LoadShard(%c0) in %pg {strategy = #ray.strategy<placement_group bundle 0>, priority = 10 : i64, placement = #ray.placement<node = "node-1", bundle = 0>} : (i64) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  // CHECK: ray.task @LoadShard(%{{.*}}) in %[[PG]] {strategy = #ray.strategy<placement_group>}
  %any = ray.task @LoadShard(%c0) in %pg {strategy = #ray.strategy<placement_group>} : (i64) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  // CHECK: %[[G:.*]] = ray.task @Gradient(%arg0, %[[D]]) {max_retries = 3 : i64, name = "grad", retry_exceptions, strategy = #ray.strategy<spread>}
  %g = ray.task @Gradient(%w, %data) {max_retries = 3 : i64, retry_exceptions, name = "grad", strategy = #ray.strategy<spread>} : (!ray.ref<!ray.opaque<"std::vector<double>">>, !ray.ref<!ray.opaque<"std::vector<double>">>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  // CHECK: ray.task @Log(%{{.*}}) {strategy = #ray.strategy<node_affinity "node-2" soft>} : (i64) -> !ray.token
  %logged = ray.task @Log(%c0) {strategy = #ray.strategy<node_affinity "node-2" soft>} : (i64) -> !ray.token
  // CHECK: ray.task @Log(%{{.*}}) {strategy = #ray.strategy<node_affinity "node-3">} : (i64) -> ()
  ray.task @Log(%c0) {strategy = #ray.strategy<node_affinity "node-3">} : (i64) -> ()
  // CHECK: ray.task @Log(%{{.*}}) {strategy = #ray.strategy<default>} : (i64) -> ()
  ray.task @Log(%c0) {strategy = #ray.strategy<default>} : (i64) -> ()
  // CHECK: %[[W:.*]] = ray.actor.call %[[PS]] @Apply(%[[G]]) {max_retries = 2 : i64} : !ray.actor<"ParamServer">, (!ray.ref<!ray.opaque<"std::vector<double>">>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  %w2 = ray.actor.call %ps @Apply(%g) {max_retries = 2 : i64} : !ray.actor<"ParamServer">, (!ray.ref<!ray.opaque<"std::vector<double>">>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  // CHECK: ray.actor.call %[[PS]] @Reset() : !ray.actor<"ParamServer">, () -> !ray.token
  %reset = ray.actor.call %ps @Reset() : !ray.actor<"ParamServer">, () -> !ray.token
  // CHECK: %[[R:.*]] = ray.put %{{.*}} : i64
  %r = ray.put %c8 : i64
  // CHECK: ray.get %[[R]] : !ray.ref<i64>
  %v = ray.get %r : !ray.ref<i64>
  // CHECK: ray.wait %[[R]], %{{.*}} {num_returns = 1 : i64, timeout_ms = 1000 : i64} : !ray.ref<i64>, !ray.token
  %ready = ray.wait %r, %logged {num_returns = 1 : i64, timeout_ms = 1000 : i64} : !ray.ref<i64>, !ray.token
  // CHECK: ray.wait %[[R]] {num_returns = 1 : i64} : !ray.ref<i64>
  %ready2 = ray.wait %r {num_returns = 1 : i64} : !ray.ref<i64>
  // CHECK: ray.join %{{.*}}, %{{.*}}, %[[R]] : !ray.token, !ray.token, !ray.ref<i64>
  %all = ray.join %ready, %reset, %r : !ray.token, !ray.token, !ray.ref<i64>
  // CHECK: ray.actor.kill %[[PS]] {no_restart} : !ray.actor<"ParamServer">
  %killed = ray.actor.kill %ps {no_restart} : !ray.actor<"ParamServer">
  // CHECK: ray.output %[[W]] : !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output %w2 : !ray.ref<!ray.opaque<"std::vector<double>">>
}

// CHECK-LABEL: ray.graph @tensors
ray.graph @tensors(%t: !ray.ref<tensor<8xf32>>) -> (!ray.ref<tensor<4xf32>>, !ray.ref<tensor<4xf32>>) {
  // CHECK: ray.task @Split(%arg0) {resources = #ray.resources<{GPU = 0.5}>} : (!ray.ref<tensor<8xf32>>) -> (!ray.ref<tensor<4xf32>>, !ray.ref<tensor<4xf32>>)
  %a, %b = ray.task @Split(%t) {resources = #ray.resources<{GPU = 0.5}>} : (!ray.ref<tensor<8xf32>>) -> (!ray.ref<tensor<4xf32>>, !ray.ref<tensor<4xf32>>)
  ray.output %a, %b : !ray.ref<tensor<4xf32>>, !ray.ref<tensor<4xf32>>
}

// A map: one op for many shards; the callee takes the shard index first.
// CHECK: ray.remote_func @Shard : (i64, f64) -> f64
ray.remote_func @Shard : (i64, f64) -> f64
// CHECK: ray.remote_func @Ids : (i64) -> i64
ray.remote_func @Ids : (i64) -> i64
// CHECK-LABEL: ray.graph @maps
ray.graph @maps(%x: !ray.ref<f64>) -> (!ray.ref<!ray.opaque<"std::vector<double>">>, !ray.ref<!ray.opaque<"std::vector<uint64_t>">>) {
  // CHECK: ray.map @Shard(%arg0) shards 100000 {label_selector = {zone = "a"}, max_retries = 2 : i64, name = "grads", resources = #ray.resources<{CPU = 2.0}>, retry_exceptions, strategy = #ray.strategy<spread>} : (!ray.ref<f64>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  %a = ray.map @Shard(%x) shards 100000 {retry_exceptions, max_retries = 2 : i64, name = "grads", resources = #ray.resources<{CPU = 2.0}>, strategy = #ray.strategy<spread>, label_selector = {zone = "a"}} : (!ray.ref<f64>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  // (i64 is int64_t or uint64_t in C++.)
  // CHECK: ray.map @Ids() shards 1 : () -> !ray.ref<!ray.opaque<"std::vector<uint64_t>">>
  %b = ray.map @Ids() shards 1 : () -> !ray.ref<!ray.opaque<"std::vector<uint64_t>">>
  // Over a group's bundles as over a mesh, and all in one bundle.
  %pg = ray.placement_group strict_spread { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  // CHECK: ray.map @Ids() shards 8 in %{{.*}} {strategy = #ray.strategy<placement_group>} : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  %c = ray.map @Ids() shards 8 in %pg {strategy = #ray.strategy<placement_group>} : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  // CHECK: ray.map @Ids() shards 8 in %{{.*}} {strategy = #ray.strategy<placement_group bundle 1>}
  %d = ray.map @Ids() shards 8 in %pg {strategy = #ray.strategy<placement_group bundle 1>} : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  ray.output %a, %b : !ray.ref<!ray.opaque<"std::vector<double>">>, !ray.ref<!ray.opaque<"std::vector<uint64_t>">>
}

// Each pg strategy keyword.
// CHECK-LABEL: ray.graph @strategies
ray.graph @strategies() {
  // CHECK: ray.placement_group pack
  %a = ray.placement_group pack { ray.bundle {CPU = 1.0} }
  // CHECK: ray.placement_group strict_pack
  %b = ray.placement_group strict_pack { ray.bundle {CPU = 1.0} }
  // CHECK: ray.placement_group strict_spread
  %c = ray.placement_group strict_spread { ray.bundle {CPU = 1.0} ray.bundle {CPU = 1.0} }
  // CHECK: ray.output
  ray.output
}

// GENERIC: "ray.graph"()
// GENERIC: "ray.task"
// GENERIC: "ray.map"(%{{.*}}) <{callee = @Shard, {{.*}}shards = 100000 : i64
// GENERIC: "ray.placement_group"()
// GENERIC: "ray.bundle"() <{resources = #ray.resources<{CPU = 1.0}>}>
