// A pipeline that uses all four placement-group strategies: a strict_pack
// pair of preprocessing workers sharing a node, two GPU trainers on distinct
// nodes (strict_spread), an evaluation stage packed loosely (pack) and
// loggers spread out (spread).
//
//   raycc compile examples/mlir/placement_strategies.mlir \
//       --cluster=examples/clusters/lab.json --emit=mlir-opt

ray.remote_func pure @Preprocess : (i64) -> tensor<1024xf32> {cost = #ray.cost<duration_us = 1000, result_bytes = 4096>}
ray.remote_func @Train : (tensor<1024xf32>) -> tensor<64xf32> resources {CPU = 2, GPU = 1} {cost = #ray.cost<duration_us = 20000, result_bytes = 256>}
ray.remote_func pure @Evaluate : (tensor<64xf32>) -> f64 resources {CPU = 2} {cost = #ray.cost<duration_us = 3000>}
ray.remote_func @Log : (f64) -> () resources {CPU = 0.5}

ray.graph @pipeline() -> (!ray.ref<f64> {ray.name = "score0"}, !ray.ref<f64> {ray.name = "score1"}) {
  %prep = ray.placement_group strict_pack "prep" { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  %train = ray.placement_group strict_spread "train" { ray.bundle {CPU = 2, GPU = 1} ray.bundle {CPU = 2, GPU = 1} }
  %eval = ray.placement_group pack "eval" { ray.bundle {CPU = 2} ray.bundle {CPU = 2} }
  %logs = ray.placement_group spread "logs" { ray.bundle {CPU = 0.5} ray.bundle {CPU = 0.5} }
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %x0 = ray.task @Preprocess(%c0) in %prep {strategy = #ray.strategy<placement_group bundle 0>} : (i64) -> !ray.ref<tensor<1024xf32>>
  %x1 = ray.task @Preprocess(%c1) in %prep {strategy = #ray.strategy<placement_group bundle 1>} : (i64) -> !ray.ref<tensor<1024xf32>>
  %m0 = ray.task @Train(%x0) in %train {strategy = #ray.strategy<placement_group bundle 0>} : (!ray.ref<tensor<1024xf32>>) -> !ray.ref<tensor<64xf32>>
  %m1 = ray.task @Train(%x1) in %train {strategy = #ray.strategy<placement_group bundle 1>} : (!ray.ref<tensor<1024xf32>>) -> !ray.ref<tensor<64xf32>>
  %s0 = ray.task @Evaluate(%m0) in %eval {strategy = #ray.strategy<placement_group bundle 0>} : (!ray.ref<tensor<64xf32>>) -> !ray.ref<f64>
  %s1 = ray.task @Evaluate(%m1) in %eval {strategy = #ray.strategy<placement_group bundle 1>} : (!ray.ref<tensor<64xf32>>) -> !ray.ref<f64>
  ray.task @Log(%s0) in %logs {strategy = #ray.strategy<placement_group bundle 0>} : (!ray.ref<f64>) -> ()
  ray.task @Log(%s1) in %logs {strategy = #ray.strategy<placement_group bundle 1>} : (!ray.ref<f64>) -> ()
  ray.output %s0, %s1 : !ray.ref<f64>, !ray.ref<f64>
}
