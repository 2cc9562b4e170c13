// RUN: raycc-opt %s --ray-critical-path -split-input-file | FileCheck %s

// A diamond with cost hints: A(100) -> B(500) -> D(10) and A -> C(50) -> D.
// b-levels (longest path to the end): D 10, B 510, C 60, A 610; the critical
// path is A, B, D.
ray.remote_func @A : () -> i64 {cost = #ray.cost<duration_us = 100>}
ray.remote_func @B : (i64) -> i64 {cost = #ray.cost<duration_us = 500>}
ray.remote_func @C : (i64) -> i64 {cost = #ray.cost<duration_us = 50>}
ray.remote_func @D : (i64, i64) -> i64 {cost = #ray.cost<duration_us = 10>}
// CHECK-LABEL: ray.graph @diamond
// CHECK: ray.task @A() {priority = 610 : i64, ray.critical}
// CHECK: ray.task @B(%{{.*}}) {priority = 510 : i64, ray.critical}
// CHECK: ray.task @C(%{{.*}}) {priority = 60 : i64} :
// CHECK: ray.task @D(%{{.*}}, %{{.*}}) {priority = 10 : i64, ray.critical}
ray.graph @diamond() -> !ray.ref<i64> {
  %a = ray.task @A() : () -> !ray.ref<i64>
  %b = ray.task @B(%a) : (!ray.ref<i64>) -> !ray.ref<i64>
  %c = ray.task @C(%a) : (!ray.ref<i64>) -> !ray.ref<i64>
  %d = ray.task @D(%b, %c) : (!ray.ref<i64>, !ray.ref<i64>) -> !ray.ref<i64>
  ray.output %d : !ray.ref<i64>
}

// -----

// Without hints every task counts 1; a cost on the op beats its callee's; a
// priority the user set is kept; actor calls are ordered on their actor.
// Paths: F(%a) -> add -> add is 3 long, create -> add -> add 3, the costed
// F 7: only it is critical.
ray.remote_func @F : (i64) -> i64
ray.actor_class @Acc : () -> () { ray.actor_method @add : (i64) -> i64 }
// CHECK-LABEL: ray.graph @units
// CHECK: ray.task @F(%arg0) {priority = 3 : i64} :
// CHECK: ray.task @F(%arg0) {cost = #ray.cost<duration_us = 7>, priority = 7 : i64, ray.critical}
// CHECK: ray.task @F(%arg0) {priority = 99 : i64} :
// CHECK: ray.actor.create @Acc() {priority = 3 : i64} :
// CHECK: ray.actor.call %{{.*}} @add(%{{.*}}) {priority = 2 : i64} :
// CHECK: ray.actor.call %{{.*}} @add(%{{.*}}) {priority = 1 : i64} :
ray.graph @units(%x: i64) -> (!ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>) {
  %a = ray.task @F(%x) : (i64) -> !ray.ref<i64>
  %b = ray.task @F(%x) {cost = #ray.cost<duration_us = 7>} : (i64) -> !ray.ref<i64>
  %c = ray.task @F(%x) {priority = 99 : i64} : (i64) -> !ray.ref<i64>
  %acc = ray.actor.create @Acc() : () -> !ray.actor<"Acc">
  %s1 = ray.actor.call %acc @add(%a) : !ray.actor<"Acc">, (!ray.ref<i64>) -> !ray.ref<i64>
  %s2 = ray.actor.call %acc @add(%x) : !ray.actor<"Acc">, (i64) -> !ray.ref<i64>
  ray.output %b, %c, %s2 : !ray.ref<i64>, !ray.ref<i64>, !ray.ref<i64>
}
