// Eight independent tasks of 100 ms each, one CPU apiece (tools/raycc/sky.test).
ray.remote_func @Work : (i64) -> i64 {cost = #ray.cost<duration_us = 100000>}
ray.graph @batch(%x: i64) {
  %0 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %1 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %2 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %3 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %4 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %5 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %6 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  %7 = ray.task @Work(%x) : (i64) -> !ray.ref<i64>
  ray.output
}
