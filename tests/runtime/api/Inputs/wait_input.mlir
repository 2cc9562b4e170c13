// A graph that waits on its input and returns it: given a value (not an
// ObjectRef), the executor puts it, and the wait finds it by id.
ray.graph @watch(%x: !ray.ref<i64> {ray.name = "x"}) -> (!ray.ref<i64> {ray.name = "x"}, !ray.token {ray.name = "ready"}) {
  %ready = ray.wait %x {num_returns = 1 : i64, timeout_ms = 10000 : i64} : !ray.ref<i64>
  ray.output %x, %ready : !ray.ref<i64>, !ray.token
}
