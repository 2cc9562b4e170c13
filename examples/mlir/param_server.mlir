// One step of data-parallel training with a parameter server, as the graph
// DSL traces it (see the DSL example in docs): load four shards of the digits
// data in a spread placement group, compute a gradient per shard, apply them
// in order on the parameter-server actor.
//
//   raycc compile examples/mlir/param_server.mlir --cluster=examples/clusters/lab.json -o ps.rcx

ray.remote_func pure @LoadShard : (i64) -> !ray.opaque<"std::vector<double>"> resources {CPU = 1}
    {cost = #ray.cost<duration_us = 2000, result_bytes = 460800>}
ray.remote_func pure @Gradient : (!ray.opaque<"std::vector<double>">, !ray.opaque<"std::vector<double>">)
    -> !ray.opaque<"std::vector<double>"> {cost = #ray.cost<duration_us = 800, result_bytes = 5200>}
ray.actor_class @ParamServer : (i64) -> () attributes {factory = "ParamServer::Create"} {
  ray.actor_method @Apply : (!ray.opaque<"std::vector<double>">) -> !ray.opaque<"std::vector<double>">
}

ray.graph @train_step(%w: !ray.ref<!ray.opaque<"std::vector<double>">> {ray.name = "w"})
    -> (!ray.ref<!ray.opaque<"std::vector<double>">> {ray.name = "w"}) {
  %pg = ray.placement_group spread "shards" {
    ray.bundle {CPU = 1}
    ray.bundle {CPU = 1}
  } loc("train_step.cc":14:13)
  %dim = arith.constant 650 : i64
  %ps = ray.actor.create @ParamServer(%dim) {resources = #ray.resources<{CPU = 1}>}
      : (i64) -> !ray.actor<"ParamServer"> loc("train_step.cc":15:13)
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c3 = arith.constant 3 : i64
  %d0 = ray.task @LoadShard(%c0) in %pg {strategy = #ray.strategy<placement_group bundle 0>}
      : (i64) -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":18:16)
  %g0 = ray.task @Gradient(%w, %d0) : (!ray.ref<!ray.opaque<"std::vector<double>">>, !ray.ref<!ray.opaque<"std::vector<double>">>)
      -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":19:16)
  %w1 = ray.actor.call %ps @Apply(%g0) : !ray.actor<"ParamServer">, (!ray.ref<!ray.opaque<"std::vector<double>">>)
      -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":20:9)
  %d1 = ray.task @LoadShard(%c1) in %pg {strategy = #ray.strategy<placement_group bundle 1>}
      : (i64) -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":18:16)
  %g1 = ray.task @Gradient(%w1, %d1) : (!ray.ref<!ray.opaque<"std::vector<double>">>, !ray.ref<!ray.opaque<"std::vector<double>">>)
      -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":19:16)
  %w2 = ray.actor.call %ps @Apply(%g1) : !ray.actor<"ParamServer">, (!ray.ref<!ray.opaque<"std::vector<double>">>)
      -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":20:9)
  %d2 = ray.task @LoadShard(%c2) in %pg {strategy = #ray.strategy<placement_group bundle 0>}
      : (i64) -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":18:16)
  %g2 = ray.task @Gradient(%w2, %d2) : (!ray.ref<!ray.opaque<"std::vector<double>">>, !ray.ref<!ray.opaque<"std::vector<double>">>)
      -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":19:16)
  %w3 = ray.actor.call %ps @Apply(%g2) : !ray.actor<"ParamServer">, (!ray.ref<!ray.opaque<"std::vector<double>">>)
      -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":20:9)
  %d3 = ray.task @LoadShard(%c3) in %pg {strategy = #ray.strategy<placement_group bundle 1>}
      : (i64) -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":18:16)
  %g3 = ray.task @Gradient(%w3, %d3) : (!ray.ref<!ray.opaque<"std::vector<double>">>, !ray.ref<!ray.opaque<"std::vector<double>">>)
      -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":19:16)
  %w4 = ray.actor.call %ps @Apply(%g3) : !ray.actor<"ParamServer">, (!ray.ref<!ray.opaque<"std::vector<double>">>)
      -> !ray.ref<!ray.opaque<"std::vector<double>">> loc("train_step.cc":20:9)
  ray.output %w4 : !ray.ref<!ray.opaque<"std::vector<double>">>
}
