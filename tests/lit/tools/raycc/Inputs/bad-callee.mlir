ray.graph @g() {
  %x = ray.task @nope() : () -> !ray.ref<i64>
  ray.output
}
