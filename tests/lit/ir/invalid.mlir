// Every diagnostic of the ray dialect's parsers and verifiers.
// RUN: raycc-opt %s -split-input-file -verify-diagnostics

// -----

// Types.

// expected-error @+1 {{!ray.opaque needs a non-empty C++ type name}}
ray.remote_func @f : (!ray.opaque<"">) -> ()

// -----

// expected-error @+1 {{!ray.ref element type must be a builtin integer, float, index or tensor type or !ray.opaque, got '!ray.token'}}
ray.graph @g(%x: !ray.ref<!ray.token>) { ray.output }

// -----

// expected-error @+1 {{!ray.actor needs a non-empty class name}}
ray.graph @g(%x: !ray.actor<"">) { ray.output }

// -----

// Resources.

// expected-error @+1 {{resource 'CPU': negative quantity -1.000000}}
ray.remote_func @f : () -> () resources {CPU = -1.0}

// -----

// expected-error @+1 {{resource 'GPU': quantity is NaN}}
ray.remote_func @f : () -> () resources {GPU = nan}

// -----

// expected-error @+1 {{resource 'GPU': quantity is infinite}}
ray.remote_func @f : () -> () resources {GPU = inf}

// -----

// expected-error @+1 {{resource name is empty}}
ray.remote_func @f : () -> () resources {"" = 1.0}

// -----

// expected-error @+1 {{resource name 'a b' is invalid: use letters, digits and _ . : / - and start with a letter or _}}
ray.remote_func @f : () -> () resources {"a b" = 1.0}

// -----

// expected-error @+1 {{resource 'CPU' is given twice}}
ray.remote_func @f : () -> () resources {CPU = 1.0, CPU = 2}

// -----

// expected-error @+1 {{resource 'CPU': quantity is below the resolution of 0.0001}}
ray.remote_func @f : () -> () resources {CPU = 0.00001}

// -----

// expected-error @+1 {{resource 'memory': quantity exceeds the maximum of 1e14}}
ray.remote_func @f : () -> () resources {memory = 1.0e15}

// -----

// expected-error @+1 {{expected a resource name (identifier or quoted string)}}
ray.remote_func @f : () -> () resources {1 = 1.0}

// -----

// Scheduling strategy and placement attributes.

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{unknown scheduling strategy 'fastest'; expected default, spread, node_affinity or placement_group}}
  ray.task @f() {strategy = #ray.strategy<fastest>} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{bundle index must be >= 0 (or absent for any bundle), got -2}}
  ray.task @f() {strategy = #ray.strategy<placement_group bundle -2>} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{node_affinity needs a node name}}
  ray.task @f() {strategy = #ray.strategy<node_affinity "">} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{#ray.placement needs a node name}}
  ray.task @f() {placement = #ray.placement<node = "">} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{#ray.placement bundle must be >= -1, got -5}}
  ray.task @f() {placement = #ray.placement<node = "n", bundle = -5>} : () -> ()
  ray.output
}

// -----

// Declarations.

// expected-error @+1 {{a remote function's signature must use plain value types (builtin scalars, tensors or !ray.opaque), got '!ray.token'}}
ray.remote_func @f : (!ray.token) -> ()

// -----

// expected-error @+1 {{constructor_type must have no results (the constructor makes the actor)}}
ray.actor_class @A : (i64) -> i64 {
}

// -----

// expected-error @+1 {{the constructor's signature must use plain value types}}
ray.actor_class @A : (!ray.pg) -> () {
}

// -----

ray.actor_class @A : () -> () {
  // expected-error @+1 {{cannot appear in a ray.actor_class; only ray.actor_method can}}
  ray.remote_func @f : () -> ()
}

// -----

ray.actor_class @A : () -> () {
  // expected-error @+1 {{a method's signature must use plain value types}}
  ray.actor_method @m : () -> !ray.token
}

// -----

// expected-error @+1 {{'ray.actor_method' op expects parent op 'ray.actor_class'}}
ray.actor_method @m : () -> ()

// -----

// Graphs.

ray.graph @g() -> i64 {
  // expected-error @+1 {{returns 0 value(s) but graph @g declares 1}}
  ray.output
}

// -----

ray.graph @g(%x: !ray.ref<f32>) -> !ray.ref<i64> {
  // expected-error @+1 {{output #0 has type '!ray.ref<f32>' but graph @g declares '!ray.ref<i64>'}}
  ray.output %x : !ray.ref<f32>
}

// -----

// Values never cross graphs: another graph's value is not in scope (the
// builder API's equivalent is tested in tests/ir/ray_builder_test.cpp).
ray.remote_func @f : (i64) -> i64
ray.graph @a(%x: !ray.ref<i64>) {
  ray.output
}
ray.graph @b() {
  // expected-error @+1 {{use of undeclared SSA value name}}
  %y = ray.task @f(%x) : (!ray.ref<i64>) -> !ray.ref<i64>
  ray.output
}

// -----

// Graphs are not nested.
ray.graph @a() {
  // expected-error @+1 {{symbol's parent must have the SymbolTable trait}}
  ray.graph @b() {
    ray.output
  }
  ray.output
}

// -----

// Tasks.

ray.graph @g() {
  // expected-error @+1 {{calls @nope, but no ray.remote_func of that name exists}}
  ray.task @nope() : () -> ()
  ray.output
}

// -----

ray.graph @h() { ray.output }
ray.graph @g() {
  // expected-error @+1 {{calls @h, which is a 'ray.graph', not a ray.remote_func}}
  ray.task @h() : () -> ()
  ray.output
}

// -----

ray.remote_func @f : (i64) -> i64
ray.graph @g(%a: i64) {
  // expected-error @+1 {{@f takes 1 argument(s) but 2 were given}}
  %r = ray.task @f(%a, %a) : (i64, i64) -> !ray.ref<i64>
  ray.output
}

// -----

ray.remote_func @f : (i64) -> i64
ray.graph @g(%a: f32) {
  // expected-error @+1 {{argument #0 of @f must be 'i64' or '!ray.ref<i64>', got 'f32'}}
  %r = ray.task @f(%a) : (f32) -> !ray.ref<i64>
  ray.output
}

// -----

ray.remote_func @f : (i64) -> ()
ray.graph @g(%a: i64) {
  // expected-error @+1 {{@f returns nothing, so the call yields no result or a single !ray.token}}
  %r = ray.task @f(%a) : (i64) -> !ray.ref<i64>
  ray.output
}

// -----

ray.remote_func @f : (i64) -> i64
ray.graph @g(%a: i64) {
  // expected-error @+1 {{@f returns 1 value(s) but the call yields 2}}
  %r:2 = ray.task @f(%a) : (i64) -> (!ray.ref<i64>, !ray.ref<i64>)
  ray.output
}

// -----

ray.remote_func @f : (i64) -> i64
ray.graph @g(%a: i64) {
  // expected-error @+1 {{result #0 must be '!ray.ref<i64>', got '!ray.ref<f32>'}}
  %r = ray.task @f(%a) : (i64) -> !ray.ref<f32>
  ray.output
}

// -----

ray.remote_func @f : (i64) -> i64
ray.graph @g(%a: i64) {
  // expected-error @+1 {{result #0 must be variadic of ray object reference or ray token, but got 'i64'}}
  %r = ray.task @f(%a) : (i64) -> i64
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  %pg = ray.placement_group pack { ray.bundle {CPU = 1} }
  // expected-error @+1 {{runs 'in' a placement group, so its strategy must be #ray.strategy<placement_group ...>}}
  ray.task @f() in %pg : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{has a placement_group strategy but no 'in %pg' operand naming the group}}
  ray.task @f() {strategy = #ray.strategy<placement_group bundle 0>} : () -> ()
  ray.output
}

// -----

// Label selectors: Ray's syntax, string values, never in a placement group.

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{label selector 'zone': 'in(a': 'in(' without its ')'}}
  ray.task @f() {label_selector = {zone = "in(a"}} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{label selector 'zone': 'a,b': a value may not hold '(', ')' or ','; write in(a,b) for several}}
  ray.task @f() {label_selector = {zone = "a,b"}} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{label selector 'zone': 'in(a, )': an empty value in 'in(...)'}}
  ray.task @f() {label_selector = {zone = "in(a, )"}} : () -> ()
  ray.output
}

// -----

ray.actor_class @A : () -> () {}
ray.graph @g() {
  // expected-error @+1 {{label selector 'zone': the value must be a string ("v", "!v", "in(a,b)" or "!in(a,b)")}}
  %a = ray.actor.create @A() {label_selector = {zone = 3 : i64}} : () -> !ray.actor<"A">
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  %pg = ray.placement_group pack { ray.bundle {CPU = 1} }
  // expected-error @+1 {{runs in a placement group, where its bundle is: it cannot have a label_selector as well}}
  ray.task @f() in %pg {label_selector = {zone = "a"}, strategy = #ray.strategy<placement_group bundle 0>} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-note @+1 {{placement group defined here}}
  %pg = ray.placement_group spread { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  // expected-error @+1 {{bundle index 2 is out of range: the placement group has 2 bundle(s)}}
  ray.task @f() in %pg {strategy = #ray.strategy<placement_group bundle 2>} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  %pg = ray.placement_group pack {
    // expected-note @+1 {{bundle defined here}}
    ray.bundle {CPU = 1}
  }
  // expected-error @+1 {{demands {CPU = 2.0, GPU = 1.0} but bundle 0 of its placement group holds only {CPU = 1.0}}}
  ray.task @f() in %pg {resources = #ray.resources<{CPU = 2, GPU = 1}>, strategy = #ray.strategy<placement_group bundle 0>} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-note @+1 {{placement group defined here}}
  %pg = ray.placement_group pack { ray.bundle {CPU = 1} ray.bundle {GPU = 1} }
  // expected-error @+1 {{demands {CPU = 1.0, GPU = 1.0} but no bundle of its placement group holds that much}}
  ray.task @f() in %pg {resources = #ray.resources<{CPU = 1, GPU = 1}>, strategy = #ray.strategy<placement_group>} : () -> ()
  ray.output
}

// -----

ray.remote_func @f : () -> ()
ray.graph @g() {
  // expected-error @+1 {{max_retries must be >= -1 (-1: forever), got -2}}
  ray.task @f() {max_retries = -2 : i64} : () -> ()
  ray.output
}

// -----

// Actors.

ray.graph @g() {
  // expected-error @+1 {{creates @A, but no ray.actor_class of that name exists}}
  %a = ray.actor.create @A() : () -> !ray.actor<"A">
  ray.output
}

// -----

ray.actor_class @A : () -> () {}
ray.actor_class @B : () -> () {}
ray.graph @g() {
  // expected-error @+1 {{result type '!ray.actor<"B">' does not match actor class @A}}
  %a = ray.actor.create @A() : () -> !ray.actor<"B">
  ray.output
}

// -----

ray.actor_class @A : (i64) -> () {}
ray.graph @g() {
  // expected-error @+1 {{the constructor of @A takes 1 argument(s) but 0 were given}}
  %a = ray.actor.create @A() : () -> !ray.actor<"A">
  ray.output
}

// -----

ray.actor_class @A : () -> () {}
ray.graph @g() {
  // expected-error @+1 {{max_restarts must be >= -1 (-1: forever), got -3}}
  %a = ray.actor.create @A() {max_restarts = -3 : i64} : () -> !ray.actor<"A">
  ray.output
}

// -----

ray.actor_class @A : () -> () {}
ray.graph @g() {
  // expected-error @+1 {{max_concurrency must be >= 1, got 0}}
  %a = ray.actor.create @A() {max_concurrency = 0 : i64} : () -> !ray.actor<"A">
  ray.output
}

// -----

ray.actor_class @A : () -> () {}
ray.graph @g() {
  // expected-note @+1 {{bundle defined here}}
  %pg = ray.placement_group pack { ray.bundle {CPU = 1} }
  // expected-error @+1 {{demands {CPU = 4.0} but bundle 0 of its placement group holds only {CPU = 1.0}}}
  %a = ray.actor.create @A() in %pg {placement_resources = #ray.resources<{CPU = 4}>, strategy = #ray.strategy<placement_group bundle 0>} : () -> !ray.actor<"A">
  ray.output
}

// -----

ray.graph @g(%a: !ray.actor<"A">) {
  // expected-error @+1 {{calls a method of actor class 'A', but no ray.actor_class @A exists}}
  %r = ray.actor.call %a @m() : !ray.actor<"A">, () -> !ray.token
  ray.output
}

// -----

ray.actor_class @A : () -> () { ray.actor_method @m : () -> () }
ray.graph @g(%a: !ray.actor<"A">) {
  // expected-error @+1 {{actor class 'A' has no method @n}}
  %r = ray.actor.call %a @n() : !ray.actor<"A">, () -> !ray.token
  ray.output
}

// -----

ray.actor_class @A : () -> () { ray.actor_method @m : (i64) -> i64 }
ray.graph @g(%a: !ray.actor<"A">, %x: f64) {
  // expected-error @+1 {{argument #0 of A::m must be 'i64' or '!ray.ref<i64>', got 'f64'}}
  %r = ray.actor.call %a @m(%x) : !ray.actor<"A">, (f64) -> !ray.ref<i64>
  ray.output
}

// -----

ray.actor_class @A : () -> () { ray.actor_method @m : () -> () }
ray.graph @g(%a: !ray.actor<"A">) {
  // expected-error @+1 {{max_retries must be >= -1 (-1: forever), got -7}}
  ray.actor.call %a @m() {max_retries = -7 : i64} : !ray.actor<"A">, () -> ()
  ray.output
}

// -----

// Objects.

ray.graph @g(%t: !ray.pg) {
  // expected-error @+1 {{cannot store a value of type '!ray.pg' (builtin scalars, tensors or !ray.opaque only)}}
  %r = ray.put %t : !ray.pg
  ray.output
}

// -----

// Found by the fuzzer: a ref of a ref was built before it was checked.
ray.graph @g(%x: !ray.ref<i64>) {
  // expected-error @+1 {{cannot store a value of type '!ray.ref<i64>'}}
  %r = ray.put %x : !ray.ref<i64>
  ray.output
}

// -----

ray.graph @g(%x: i64) {
  // expected-error @+1 {{ray.get needs a !ray.ref, got 'i64'}}
  %v = ray.get %x : i64
  ray.output
}

// -----

ray.graph @g(%a: !ray.ref<i64>) {
  // expected-error @+1 {{num_returns must be in [1, 1] (the number of operands), got 2}}
  %t = ray.wait %a {num_returns = 2 : i64} : !ray.ref<i64>
  ray.output
}

// -----

ray.graph @g(%a: !ray.ref<i64>) {
  // expected-error @+1 {{num_returns must be in [1, 1] (the number of operands), got 0}}
  %t = ray.wait %a {num_returns = 0 : i64} : !ray.ref<i64>
  ray.output
}

// -----

ray.graph @g(%a: !ray.ref<i64>) {
  // expected-error @+1 {{timeout_ms must be >= -1 (-1: no timeout), got -2}}
  %t = ray.wait %a {num_returns = 1 : i64, timeout_ms = -2 : i64} : !ray.ref<i64>
  ray.output
}

// -----

// Placement groups.

ray.graph @g() {
  // expected-error @+1 {{unknown placement strategy 'fast'; expected pack, spread, strict_pack or strict_spread}}
  %pg = ray.placement_group fast { ray.bundle {CPU = 1} }
  ray.output
}

// -----

ray.graph @g() {
  // expected-error @+1 {{needs at least one ray.bundle}}
  %pg = ray.placement_group pack {}
  ray.output
}

// -----

ray.graph @g() {
  %pg = ray.placement_group pack {
    // expected-error @+1 {{bundle #0 reserves no resources}}
    ray.bundle {}
  }
  ray.output
}

// -----

ray.graph @g() {
  %pg = ray.placement_group pack {
    ray.bundle {CPU = 1}
    // expected-error @+1 {{cannot appear in a ray.placement_group; only ray.bundle can}}
    %c = arith.constant 1 : i64
  }
  ray.output
}

// -----

ray.graph @g() {
  // expected-error @+1 {{'ray.bundle' op expects parent op 'ray.placement_group'}}
  ray.bundle {CPU = 1}
  ray.output
}

// -----

// Fused chains.
ray.remote_func @f : (i64) -> i64
ray.remote_func @g : (f32) -> i64
ray.graph @g1(%x: i64) {
  // expected-error @+1 {{cannot fuse @f into @g: the second must take exactly the first's single result}}
  %r = ray.task @f(%x) {fused = [@f, @g]} : (i64) -> !ray.ref<i64>
  ray.output
}

// -----

ray.remote_func @f : (i64) -> i64
ray.graph @g1(%x: i64) {
  // expected-error @+1 {{fused must list at least two functions, the first being the callee}}
  %r = ray.task @f(%x) {fused = [@f]} : (i64) -> !ray.ref<i64>
  ray.output
}

// -----

ray.remote_func @f : (i64) -> i64
ray.remote_func @h : (i64) -> f64
ray.graph @g1(%x: i64) {
  // expected-error @+1 {{result #0 must be '!ray.ref<f64>', got '!ray.ref<i64>'}}
  %r = ray.task @f(%x) {fused = [@f, @h]} : (i64) -> !ray.ref<i64>
  ray.output
}

// -----

// The generic form cannot build a put whose result is not a ref of its value.
ray.graph @g(%x: i64) {
  // expected-error @+1 {{result must be '!ray.ref<i64>', got '!ray.ref<f32>'}}
  %r = "ray.put"(%x) : (i64) -> !ray.ref<f32>
  ray.output
}

// -----

// expected-error @+1 {{input #0 has type 'memref<4xf32>', which a graph cannot take}}
ray.graph @g(%m: memref<4xf32>) {
  ray.output
}

// -----

// The dialect's discardable attributes are checked.

ray.remote_func @f : (i64) -> i64
ray.graph @g(%x: i64) -> !ray.ref<i64> {
  // expected-error @+1 {{'ray.critical' takes no value}}
  %a = ray.task @f(%x) {ray.critical = 1 : i64} : (i64) -> !ray.ref<i64>
  ray.output %a : !ray.ref<i64>
}

// -----

ray.remote_func @f : (i64) -> i64
ray.graph @g(%x: i64) -> !ray.ref<i64> {
  // expected-error @+1 {{'ray.synthesized' marks a placement group the compiler made, not 'ray.task'}}
  %a = ray.task @f(%x) {ray.synthesized} : (i64) -> !ray.ref<i64>
  ray.output %a : !ray.ref<i64>
}

// -----

ray.remote_func @f : (i64) -> i64
ray.graph @g(%x: i64) -> !ray.ref<i64> {
  // expected-error @+1 {{unknown attribute 'ray.critcal' (the ray dialect knows ray.critical, ray.synthesized and ray.name)}}
  %a = ray.task @f(%x) {ray.critcal} : (i64) -> !ray.ref<i64>
  ray.output %a : !ray.ref<i64>
}

// -----

// expected-error @+1 {{'ray.name' of argument #0 must be a string}}
ray.graph @g(%x: i64 {ray.name = 3 : i64}) { ray.output }

// -----

// expected-error @+1 {{unknown attribute 'ray.nmae' on result #0 (the ray dialect knows ray.name there)}}
ray.graph @g(%x: i64) -> (i64 {ray.nmae = "out"}) { ray.output %x : i64 }

// -----

ray.graph @g() {
  // expected-error @+1 {{bundle_nodes names 1 node(s) for 2 bundle(s)}}
  %pg = ray.placement_group pack "p" attributes {bundle_nodes = ["a"]} { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  ray.output
}

// -----

ray.graph @g() {
  // expected-error @+1 {{is strict_spread, but bundle_nodes puts two of its bundles on one node}}
  %pg = ray.placement_group strict_spread "p" attributes {bundle_nodes = ["a", "a"]} { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  ray.output
}

// -----

ray.graph @g() {
  // expected-error @+1 {{is strict_pack, but bundle_nodes puts its bundles on several nodes}}
  %pg = ray.placement_group strict_pack "p" attributes {bundle_nodes = ["a", "b"]} { ray.bundle {CPU = 1} ray.bundle {CPU = 1} }
  ray.output
}

// -----

// Maps.

ray.remote_func @NoIndex : (f64) -> f64
ray.graph @g(%x: f64) {
  // expected-error @+1 {{'ray.map' op maps @NoIndex, whose first parameter must be the shard index (i64)}}
  %m = ray.map @NoIndex(%x) shards 4 : (f64) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Shard : (i64, f64) -> f64
ray.graph @g() {
  // expected-error @+1 {{'ray.map' op @Shard after its shard index takes 1 argument(s) but 0 were given}}
  %m = ray.map @Shard() shards 4 : () -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Shard : (i64, f64) -> f64
ray.graph @g(%x: f64) {
  // expected-error @+1 {{'ray.map' op result must be a !ray.ref of the std::vector of @Shard's result type (f64), got '!ray.ref<f64>'}}
  %m = ray.map @Shard(%x) shards 4 : (f64) -> !ray.ref<f64>
  ray.output
}

// -----

ray.remote_func @Shard : (i64, f64) -> f64
ray.graph @g(%x: f64) {
  // expected-error @+1 {{'ray.map' op result must be a !ray.ref of the std::vector of @Shard's result type (f64), got '!ray.ref<!ray.opaque<"std::vector<float>">>'}}
  %m = ray.map @Shard(%x) shards 4 : (f64) -> !ray.ref<!ray.opaque<"std::vector<float>">>
  ray.output
}

// -----

ray.remote_func @Effect : (i64) -> ()
ray.graph @g() {
  // expected-error @+1 {{'ray.map' op maps @Effect, which must return exactly one value}}
  %m = ray.map @Effect() shards 4 : () -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Shard : (i64) -> f64
ray.graph @g() {
  // expected-error @+1 {{'ray.map' op shards must be between 1 and 10000000, got 0}}
  %m = ray.map @Shard() shards 0 : () -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Shard : (i64) -> f64
ray.graph @g() {
  // expected-error @+1 {{'ray.map' op shards are placed by the runtime or their placement group: the strategy may be default, spread or placement_group}}
  %m = ray.map @Shard() shards 4 {strategy = #ray.strategy<node_affinity "n1">} : () -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Shard : (i64) -> f64
ray.graph @g() {
  %pg = ray.placement_group spread {
    ray.bundle {CPU = 2}
    // expected-note @+1 {{bundle defined here}}
    ray.bundle {CPU = 1}
  }
  // expected-error @+1 {{'ray.map' op runs a shard in every bundle of its placement group, but bundle 1 holds only {CPU = 1.0} of the {CPU = 2.0} a shard demands}}
  %m = ray.map @Shard() shards 4 in %pg {resources = #ray.resources<{CPU = 2}>, strategy = #ray.strategy<placement_group>} : () -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Shard : (i64) -> f64
ray.graph @g() {
  %pg = ray.placement_group spread { ray.bundle {CPU = 1} }
  // expected-error @+1 {{'ray.map' op runs 'in' a placement group, so its strategy must be #ray.strategy<placement_group ...>}}
  %m = ray.map @Shard() shards 4 in %pg : () -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Rows : (i64) -> !ray.opaque<"std::vector<double>">
ray.remote_func @Sum : (i64, !ray.opaque<"std::vector<double>">) -> f64
ray.graph @g() {
  %r = ray.map @Rows() shards 3 : () -> !ray.ref<!ray.opaque<"std::vector<std::vector<double>>">>
  // expected-error @+1 {{'ray.map' op operand #0 comes from a map of 3 shards, taken shard by shard by a map of 4}}
  %s = ray.map @Sum(%r) shards 4 {per_shard = array<i64: 0>} : (!ray.ref<!ray.opaque<"std::vector<std::vector<double>>">>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Sum : (i64, !ray.opaque<"std::vector<double>">) -> f64
ray.graph @g(%x: !ray.ref<!ray.opaque<"std::vector<std::vector<double>>">>) {
  // expected-error @+1 {{'ray.map' op operand #0 is taken shard by shard, so it must be the result of a ray.map}}
  %s = ray.map @Sum(%x) shards 4 {per_shard = array<i64: 0>} : (!ray.ref<!ray.opaque<"std::vector<std::vector<double>>">>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Rows : (i64) -> !ray.opaque<"std::vector<double>">
ray.remote_func @Sum : (i64, !ray.opaque<"std::vector<double>">) -> f64
ray.graph @g() {
  %r = ray.map @Rows() shards 4 : () -> !ray.ref<!ray.opaque<"std::vector<std::vector<double>>">>
  // expected-error @+1 {{'ray.map' op per_shard names operand #1 of 1}}
  %s = ray.map @Sum(%r) shards 4 {per_shard = array<i64: 1>} : (!ray.ref<!ray.opaque<"std::vector<std::vector<double>>">>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Rows : (i64) -> f64
ray.remote_func @Sum : (i64, !ray.opaque<"std::vector<double>">) -> f64
ray.graph @g() {
  %r = ray.map @Rows() shards 4 : () -> !ray.ref<!ray.opaque<"std::vector<double>">>
  // expected-error @+1 {{'ray.map' op operand #0 is taken shard by shard, so it must be a !ray.ref of the std::vector of '!ray.opaque<"std::vector<double>">', got '!ray.ref<!ray.opaque<"std::vector<double>">>'}}
  %s = ray.map @Sum(%r) shards 4 {per_shard = array<i64: 0>} : (!ray.ref<!ray.opaque<"std::vector<double>">>) -> !ray.ref<!ray.opaque<"std::vector<double>">>
  ray.output
}

// -----

ray.remote_func @Bytes : (i64) -> i8
ray.graph @g() {
  // expected-error @+1 {{'ray.map' op result must be a !ray.ref of the std::vector of @Bytes's result type (i8), got '!ray.ref<!ray.opaque<"std::vector<uint8_t>">>'}}
  %m = ray.map @Bytes() shards 4 : () -> !ray.ref<!ray.opaque<"std::vector<uint8_t>">>
  ray.output
}
