// RUN: raycc-opt %s --ray-verify-graph -split-input-file -verify-diagnostics

ray.actor_class @A : () -> () { ray.actor_method @m : () -> i64 }
ray.graph @call_after_kill() -> !ray.ref<i64> {
  %a = ray.actor.create @A() : () -> !ray.actor<"A">
  %r = ray.actor.call %a @m() : !ray.actor<"A">, () -> !ray.ref<i64>
  // expected-note @+1 {{the actor is killed here}}
  %k = ray.actor.kill %a : !ray.actor<"A">
  // expected-error @+1 {{calls an actor that was already killed}}
  %s = ray.actor.call %a @m() : !ray.actor<"A">, () -> !ray.ref<i64>
  ray.output %s : !ray.ref<i64>
}

// -----

ray.actor_class @A : () -> () { ray.actor_method @m : () -> i64 }
ray.graph @double_kill(%a: !ray.actor<"A">) {
  // expected-note @+1 {{the actor is killed here}}
  %k1 = ray.actor.kill %a : !ray.actor<"A">
  // expected-error @+1 {{kills an actor that was already killed}}
  %k2 = ray.actor.kill %a : !ray.actor<"A">
  ray.output
}

// -----

ray.actor_class @A : () -> () { ray.actor_method @m : () -> i64 }
ray.graph @unused_actor() {
  // expected-warning @+1 {{actor of class @A is created but never called}}
  %a = ray.actor.create @A() : () -> !ray.actor<"A">
  ray.output
}

// -----

ray.remote_func pure @P : (i64) -> i64
ray.remote_func @I : (i64) -> i64
ray.graph @dead_work(%x: i64) -> !ray.ref<i64> {
  // expected-warning @+1 {{result reaches no output and no op with effects; ray-dead-task-elim removes it}}
  %dead = ray.task @P(%x) : (i64) -> !ray.ref<i64>
  // Feeds an impure task: live.
  %fed = ray.task @P(%x) : (i64) -> !ray.ref<i64>
  %effect = ray.task @I(%fed) : (!ray.ref<i64>) -> !ray.ref<i64>
  %out = ray.task @P(%x) : (i64) -> !ray.ref<i64>
  ray.output %out : !ray.ref<i64>
}

// -----

// A graph that breaks no rule passes unchanged and silently.
ray.actor_class @A : () -> () { ray.actor_method @m : () -> i64 }
ray.graph @fine() -> !ray.ref<i64> {
  %a = ray.actor.create @A() : () -> !ray.actor<"A">
  %r = ray.actor.call %a @m() : !ray.actor<"A">, () -> !ray.ref<i64>
  %k = ray.actor.kill %a : !ray.actor<"A">
  ray.output %r : !ray.ref<i64>
}
