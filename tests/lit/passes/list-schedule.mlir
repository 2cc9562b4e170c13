// ray-assign-placement's list scheduler against tests/lit/passes/Inputs/uneven-nodes.json
// (a {CPU 4}, b {CPU 1}): each task goes where it would finish first, given
// the nodes' capacities, its #ray.cost duration and what its inputs cost to
// move (result_bytes at 10 Gbit/s); the graph gets the predicted makespan.
// RUN: raycc-opt %s --ray-infer-resources --ray-assign-placement=cluster=%S/Inputs/uneven-nodes.json -split-input-file | FileCheck %s
// RUN: raycc-opt %s --ray-infer-resources --ray-assign-placement=cluster=%S/Inputs/uneven-nodes.json --ray-lower-to-plan -split-input-file | FileCheck %s --check-prefix=PLAN

// Five independent 100 us tasks: four run at once on a, one on b (counting
// tasks instead would put two on b, one after the other: 200 us).
ray.remote_func @Work : (i64) -> i64 {cost = #ray.cost<duration_us = 100>}
// CHECK-LABEL: ray.graph @capacity
// CHECK-SAME: attributes {predicted_makespan_us = 100 : i64, uncosted_work = 0 : i64}
// CHECK-COUNT-1: placement = #ray.placement<node = "b">
// CHECK-NOT: placement = #ray.placement<node = "b">
// PLAN-LABEL: # ExecPlan for @capacity
// PLAN: predicted_makespan_us: 100
ray.graph @capacity(%x: i64) {
  %0 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %1 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %2 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %3 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %4 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  ray.output
}

// -----

// A 100 MB result takes 80 ms to move: its consumer runs where it was made,
// though b is idle (counting tasks, or ignoring the move, would send it
// there). The critical path (Load, then Use) is placed first; a task with no
// cost counts as 1 us and is counted in uncosted_work.
ray.remote_func @Load : () -> i64 {cost = #ray.cost<duration_us = 1000, result_bytes = 100000000>}
ray.remote_func @Use : (i64) -> i64 {cost = #ray.cost<duration_us = 1000>}
ray.remote_func @Side : () -> i64 {cost = #ray.cost<duration_us = 500>}
ray.remote_func @Unknown : () -> i64
// CHECK-LABEL: ray.graph @locality
// CHECK-SAME: attributes {predicted_makespan_us = 2000 : i64, uncosted_work = 1 : i64}
// CHECK: ray.task @Load() {placement = #ray.placement<node = "a">
// CHECK: ray.task @Use(%{{.*}}) {placement = #ray.placement<node = "a">
// CHECK: ray.task @Side() {placement = #ray.placement<node = "b">
ray.graph @locality() {
  %l = ray.task @Load() : () -> !ray.ref<i64>
  %u = ray.task @Use(%l) : (!ray.ref<i64>) -> !ray.ref<i64>
  %s = ray.task @Side() : () -> !ray.ref<i64>
  %k = ray.task @Unknown() : () -> !ray.ref<i64>
  ray.output
}

// -----

// A map of 12 shards of 100 us on nodes holding 5 at once (a: 4, b: 1)
// runs in 3 waves, then the task reading it: 300 + 100 us.
ray.remote_func @Shard : (i64) -> i64 {cost = #ray.cost<duration_us = 100>}
ray.remote_func @Sum : (!ray.opaque<"std::vector<int64_t>">) -> i64 {cost = #ray.cost<duration_us = 100>}
// CHECK-LABEL: ray.graph @waves
// CHECK-SAME: attributes {predicted_makespan_us = 400 : i64, uncosted_work = 0 : i64}
ray.graph @waves() {
  %m = ray.map @Shard() shards 12 : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  %s = ray.task @Sum(%m) : (!ray.ref<!ray.opaque<"std::vector<int64_t>">>) -> !ray.ref<i64>
  ray.output
}

// -----

// Over a group of 2 one-CPU bundles, 6 shards of 100 us run 2 at a time:
// 3 waves (the group's bundles, not the nodes' free capacity, decide).
ray.remote_func @Shard : (i64) -> i64 {cost = #ray.cost<duration_us = 100>}
// CHECK-LABEL: ray.graph @in_group
// CHECK-SAME: attributes {predicted_makespan_us = 300 : i64, uncosted_work = 0 : i64}
ray.graph @in_group() {
  %pg = ray.placement_group pack { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  %m = ray.map @Shard() shards 6 in %pg {strategy = #ray.strategy<placement_group>} : () -> !ray.ref<!ray.opaque<"std::vector<int64_t>">>
  ray.output
}
