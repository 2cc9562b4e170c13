// RUN: raycc-opt %s --ray-infer-resources | FileCheck %s

ray.remote_func @NoDefaults : (i64) -> i64
ray.remote_func @Gpu : (i64) -> i64 resources {GPU = 1}
ray.remote_func @GpuShard : (i64) -> i64 resources {GPU = 1}
ray.actor_class @Plain : () -> () { ray.actor_method @m : () -> () }
ray.actor_class @Heavy : () -> () attributes {resources = #ray.resources<{CPU = 2}>} {
  ray.actor_method @m : () -> ()
}

// CHECK-LABEL: ray.graph @g
ray.graph @g(%x: i64) {
  // Tasks default to 1 CPU.
  // CHECK: ray.task @NoDefaults(%arg0) {resources = #ray.resources<{CPU = 1.0}>}
  %a = ray.task @NoDefaults(%x) : (i64) -> !ray.ref<i64>
  // The callee's defaults.
  // CHECK: ray.task @Gpu(%arg0) {resources = #ray.resources<{GPU = 1.0}>}
  %b = ray.task @Gpu(%x) : (i64) -> !ray.ref<i64>
  // Explicit settings win.
  // CHECK: ray.task @Gpu(%arg0) {resources = #ray.resources<{CPU = 0.5, GPU = 0.5}>}
  %c = ray.task @Gpu(%x) {resources = #ray.resources<{CPU = 0.5, GPU = 0.5}>} : (i64) -> !ray.ref<i64>
  // Actors: 1 CPU to place, none while running.
  // CHECK: ray.actor.create @Plain() {placement_resources = #ray.resources<{CPU = 1.0}>, resources = #ray.resources<{}>}
  %p = ray.actor.create @Plain() : () -> !ray.actor<"Plain">
  // The class's resources hold for both.
  // CHECK: ray.actor.create @Heavy() {placement_resources = #ray.resources<{CPU = 2.0}>, resources = #ray.resources<{CPU = 2.0}>}
  %h = ray.actor.create @Heavy() : () -> !ray.actor<"Heavy">
  // An explicit running set is also what placing needs.
  // CHECK: ray.actor.create @Plain() {placement_resources = #ray.resources<{GPU = 1.0}>, resources = #ray.resources<{GPU = 1.0}>}
  %q = ray.actor.create @Plain() {resources = #ray.resources<{GPU = 1}>} : () -> !ray.actor<"Plain">
  // Each shard of a map asks what a task of its callee would.
  // CHECK: ray.map @GpuShard() shards 8 {resources = #ray.resources<{GPU = 1.0}>}
  %m = ray.map @GpuShard() shards 8 : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  // CHECK: ray.map @NoDefaults() shards 8 {resources = #ray.resources<{CPU = 1.0}>}
  %n = ray.map @NoDefaults() shards 8 : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  ray.output
}
