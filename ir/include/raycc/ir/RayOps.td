//===- RayOps.td - ray dialect operations ------------------*- tablegen -*-===//

#ifndef RAYCC_IR_RAYOPS_TD
#define RAYCC_IR_RAYOPS_TD

include "raycc/ir/RayDialect.td"
include "raycc/ir/RayTypes.td"
include "raycc/ir/RayAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/CallInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/FunctionInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Declarations: remote functions and actor classes
//===----------------------------------------------------------------------===//

def Ray_RemoteFuncOp : Ray_Op<"remote_func", [Symbol]> {
  let summary = "declares a registered task function";
  let description = [{
    A function registered with `RAYCC_REMOTE`, callable with `ray.task`. The
    symbol is the registered name; the signature is in plain value types (a
    call may pass each argument by value or as a `!ray.ref` of it, and gets
    each result as a `!ray.ref`). `resources` are the defaults of every call
    (tasks default to 1 CPU when absent). `pure` promises no side effects, so
    an unused call may be dropped and identical calls merged.

    Example:
    ```mlir
    ray.remote_func pure @Gradient : (!ray.opaque<"std::vector<double>">,
        !ray.opaque<"std::vector<double>">) -> !ray.opaque<"std::vector<double>">
        resources {CPU = 1.0}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type,
                       UnitAttr:$pure,
                       OptionalAttr<Ray_ResourcesAttr>:$resources,
                       OptionalAttr<Ray_CostAttr>:$cost);
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name, "::mlir::FunctionType":$type), [{
      build($_builder, $_state, name, type, /*pure=*/false,
            /*resources=*/nullptr, /*cost=*/nullptr);
    }]>
  ];
  let assemblyFormat = [{
    (`pure` $pure^)? $sym_name `:` $function_type
    (`resources` custom<ResourceSet>($resources)^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Ray_ActorClassOp : Ray_Op<"actor_class", [
    Symbol, SymbolTable, NoTerminator, SingleBlock, NoRegionArguments,
    IsolatedFromAbove]> {
  let summary = "declares an actor class and its methods";
  let description = [{
    A class registered with `RAYCC_REMOTE(Class::Create, &Class::Method...)`.
    `constructor_type` is the signature of the factory (no results); the body
    holds one `ray.actor_method` per registered method. `resources` are the
    defaults of `ray.actor.create` (1 CPU to place, 0 while running).

    Example:
    ```mlir
    ray.actor_class @ParamServer : (i64) -> () {
      ray.actor_method @Apply : (!ray.opaque<"std::vector<double>">)
          -> !ray.opaque<"std::vector<double>">
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$constructor_type,
                       OptionalAttr<StrAttr>:$factory,
                       OptionalAttr<Ray_ResourcesAttr>:$resources);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name `:` $constructor_type attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The registered name of the factory ("Class::Create" by default).
    std::string getFactoryName();
  }];
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name, "::mlir::FunctionType":$ctorType)>
  ];
}

def Ray_ActorMethodOp : Ray_Op<"actor_method", [
    Symbol, HasParent<"ActorClassOp">]> {
  let summary = "declares a method of an actor class";
  let description = [{
    Signature in plain value types, as for `ray.remote_func`. Its registered
    name is `Class::method`.

    Example: `ray.actor_method @Add : (i64) -> i64`
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type);
  let assemblyFormat = "$sym_name `:` $function_type attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Graphs
//===----------------------------------------------------------------------===//

def Ray_GraphOp : Ray_Op<"graph", [
    FunctionOpInterface, IsolatedFromAbove]> {
  let summary = "a named task and actor graph";
  let description = [{
    One graph, as `RAYCC_GRAPH` traces it. Arguments are the graph's inputs
    (bound when it is executed; their names are in the `ray.name` argument
    attribute), results its outputs (names in the `ray.name` result attribute).
    The body is a single block in a valid dataflow order, ended by
    `ray.output`. Values never cross graphs. `ray-assign-placement` sets
    `predicted_makespan_us`, how long the graph should take on its cluster,
    and `uncosted_work`, how many tasks and actor calls had no cost (they
    count as 1 us).

    Example:
    ```mlir
    ray.graph @double(%x: !ray.ref<i64> {ray.name = "x"}) -> (!ray.ref<i64> {ray.name = "y"}) {
      %y = ray.task @Twice(%x) : (!ray.ref<i64>) -> !ray.ref<i64>
      ray.output %y : !ray.ref<i64>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type,
                       OptionalAttr<StrAttr>:$sym_visibility,
                       OptionalAttr<DictArrayAttr>:$arg_attrs,
                       OptionalAttr<DictArrayAttr>:$res_attrs,
                       OptionalAttr<I64Attr>:$predicted_makespan_us,
                       OptionalAttr<I64Attr>:$uncosted_work);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name, "::mlir::FunctionType":$type)>
  ];
  let extraClassDeclaration = [{
    ::mlir::Region *getCallableRegion() { return &getBody(); }
    ::llvm::ArrayRef<::mlir::Type> getArgumentTypes() {
      return getFunctionType().getInputs();
    }
    ::llvm::ArrayRef<::mlir::Type> getResultTypes() {
      return getFunctionType().getResults();
    }
    /// The block holding the graph's ops.
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
  }];
}

def Ray_OutputOp : Ray_Op<"output", [
    Pure, HasParent<"GraphOp">, ReturnLike, Terminator]> {
  let summary = "the outputs of a graph";
  let description = [{
    Ends a `ray.graph`; the operands are the graph's outputs, matching its
    result types. Example: `ray.output %w : !ray.ref<f64>`
  }];
  let arguments = (ins Variadic<AnyType>:$outputs);
  let assemblyFormat = "attr-dict ($outputs^ `:` type($outputs))?";
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ::mlir::ValueRange()); }]>];
}

//===----------------------------------------------------------------------===//
// Remote work
//===----------------------------------------------------------------------===//

// Options every remote call shares; the names match the runtime API's
// setters (SetResources, SetMaxRetries, SetName, ...).
defvar Ray_CommonCallOptions = (ins
  OptionalAttr<I64Attr>:$max_retries,
  OptionalAttr<I64Attr>:$priority,
  OptionalAttr<Ray_CostAttr>:$cost,
  OptionalAttr<StrAttr>:$name
);

// Options of work the scheduler places (tasks and actor creation).
// `label_selector` limits the nodes by their labels, in Ray's syntax:
// {zone = "a", tier = "!spot", region = "in(eu,us)"} (SetLabelSelector).
defvar Ray_PlacedOptions = (ins
  OptionalAttr<Ray_ResourcesAttr>:$resources,
  OptionalAttr<Ray_SchedulingStrategyAttr>:$strategy,
  OptionalAttr<Ray_PlacementAttr>:$placement,
  OptionalAttr<DictionaryAttr>:$label_selector
);

def Ray_TaskOp : Ray_Op<"task", [
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "calls a remote function";
  let description = [{
    Submits a call of `callee` (a `ray.remote_func`). Each argument is a plain
    value or a `!ray.ref` of the parameter type; the task starts once every
    ref argument's object exists. Each result is a `!ray.ref` of the callee's
    result type; a callee without results may yield one `!ray.token`.

    `in %pg` with `strategy = #ray.strategy<placement_group bundle N>` runs the
    task in bundle N of a placement group. Resources not given come from the
    callee (`ray-infer-resources`). `fused = [@f, @g, ...]` (made by
    `ray-fuse-tasks`) runs the chain `g(f(args))` as one task: `callee` is the
    first function, the results are the last one's. `label_selector =
    {zone = "a", tier = "!spot", rack = "in(r1,r2)"}` lets it run only on
    nodes whose labels match (Ray's syntax; not with `in %pg`).

    Example:
    ```mlir
    %g = ray.task @Gradient(%w, %shard) in %pg {max_retries = 3 : i64,
        resources = #ray.resources<{CPU = 1.0}>,
        strategy = #ray.strategy<placement_group bundle 0>}
        : (!ray.ref<f64>, f64) -> !ray.ref<f64>
    ```
  }];
  let arguments = !con((ins FlatSymbolRefAttr:$callee,
                            Variadic<AnyType>:$args,
                            Optional<Ray_PG>:$pg,
                            UnitAttr:$retry_exceptions,
                            OptionalAttr<FlatSymbolRefArrayAttr>:$fused),
                       Ray_PlacedOptions, Ray_CommonCallOptions);
  let results = (outs Variadic<Ray_RefOrToken>:$results);
  let assemblyFormat = [{
    $callee `(` $args `)` (`in` $pg^)? attr-dict `:` functional-type($args, $results)
  }];
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::mlir::TypeRange":$results, "::llvm::StringRef":$callee,
                   "::mlir::ValueRange":$args)>,
    /// Result types follow from the callee's signature.
    OpBuilder<(ins "RemoteFuncOp":$callee, "::mlir::ValueRange":$args)>
  ];
}

def Ray_MapOp : Ray_Op<"map", [
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "calls a remote function once per shard (SPMD)";
  let description = [{
    One op for `shards` tasks of the same function: shard `i` (0 <= i <
    shards) calls `callee(i, args...)`, so the callee's first parameter is an
    `i64` (the shard index) and `args` are its other parameters, the same for
    every shard (values or `!ray.ref`s, as for `ray.task`). The result is a
    `!ray.ref` of `std::vector<R>` (R: the callee's result type) holding the
    shards' results in shard order, made once every shard is done; a shard
    that fails fails it. Each shard is a task with the op's `resources`
    (inferred from the callee when not given); the runtime places the shards
    as it places tasks (`strategy = #ray.strategy<spread>` spreads them), so
    the IR stays one op whatever the shard count.

    `per_shard = array<i64: k, ...>` lists operands taken shard by shard:
    operand `k` is the result of another `ray.map` with the same shard count
    (a `!ray.ref` of `std::vector<T>`, T the callee's parameter after the
    index), and shard `i` receives that map's shard `i`, not the whole
    vector, so a pipeline of maps moves each shard's data once (a map read
    only this way is not gathered).

    `in %pg` with `#ray.strategy<placement_group>` runs the shards over the
    group's bundles as over a mesh: shard `i` in bundle `i mod B` (B: the
    group's bundle count), so the group, reserved all or nothing, gangs them
    (every bundle must hold a shard's resources); `placement_group bundle k`
    runs every shard in bundle `k`.

    Example (a data-parallel step over 100,000 shards):
    ```mlir
    %grads = ray.map @Gradient(%w) shards 100000
        : (!ray.ref<!ray.opaque<"std::vector<double>">>)
        -> !ray.ref<!ray.opaque<"std::vector<std::vector<double>>">>
    ```
  }];
  let arguments = !con((ins FlatSymbolRefAttr:$callee,
                            Variadic<AnyType>:$args,
                            Optional<Ray_PG>:$pg,
                            I64Attr:$shards,
                            OptionalAttr<DenseI64ArrayAttr>:$per_shard,
                            UnitAttr:$retry_exceptions,
                            OptionalAttr<Ray_ResourcesAttr>:$resources,
                            OptionalAttr<Ray_SchedulingStrategyAttr>:$strategy,
                            OptionalAttr<DictionaryAttr>:$label_selector),
                       Ray_CommonCallOptions);
  let results = (outs Ray_AnyRef:$result);
  let assemblyFormat = [{
    $callee `(` $args `)` `shards` $shards (`in` $pg^)? attr-dict `:` functional-type($args, $result)
  }];
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Type":$result, "::llvm::StringRef":$callee,
                   "::mlir::ValueRange":$args, "int64_t":$shards)>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The most shards a map may have (the runtime makes each a task; its
    /// own limit, raycc::kMaxMapShards, is the same).
    static constexpr int64_t kMaxShards = 10'000'000;
    /// The operands taken shard by shard (per_shard; none when unset).
    ::llvm::ArrayRef<int64_t> getPerShardOperands() {
      if (auto attr = getPerShardAttr())
        return attr.asArrayRef();
      return {};
    }
  }];
}

def Ray_ActorCreateOp : Ray_Op<"actor.create", [
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "creates an actor";
  let description = [{
    Places and starts an actor of class `actor_class` with the constructor
    arguments (values or refs). `resources` are held while the actor runs and
    `placement_resources` while it is placed (defaults: 0 and 1 CPU).
    `name` makes it a named actor; `label_selector` limits its nodes as for
    `ray.task`. Never removed, even when unused.

    Example:
    ```mlir
    %ps = ray.actor.create @ParamServer(%c8) {max_restarts = 1 : i64}
        : (i64) -> !ray.actor<"ParamServer">
    ```
  }];
  let arguments = !con((ins FlatSymbolRefAttr:$actor_class,
                            Variadic<AnyType>:$args,
                            Optional<Ray_PG>:$pg,
                            OptionalAttr<I64Attr>:$max_restarts,
                            OptionalAttr<I64Attr>:$max_concurrency,
                            OptionalAttr<Ray_ResourcesAttr>:$placement_resources),
                       Ray_PlacedOptions, Ray_CommonCallOptions);
  let results = (outs Ray_AnyActor:$actor);
  let builders = [
    /// Creates an actor of `cls`; the result type follows from the class.
    OpBuilder<(ins "ActorClassOp":$cls, "::mlir::ValueRange":$args)>
  ];
  let assemblyFormat = [{
    $actor_class `(` $args `)` (`in` $pg^)? attr-dict `:` functional-type($args, $actor)
  }];
  let hasVerifier = 1;
}

def Ray_ActorCallOp : Ray_Op<"actor.call", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "calls a method of an actor";
  let description = [{
    Calls `method` on the actor `%actor`. Calls from one caller run in
    submission order on actors with `max_concurrency` 1, so calls are never
    reordered, merged or dropped by the compiler. Arguments and results as for
    `ray.task`.

    Example:
    ```mlir
    %w2 = ray.actor.call %ps @Apply(%g) : !ray.actor<"ParamServer">,
        (!ray.ref<f64>) -> !ray.ref<f64>
    ```
  }];
  let arguments = !con((ins Ray_AnyActor:$actor,
                            FlatSymbolRefAttr:$method,
                            Variadic<AnyType>:$args),
                       Ray_CommonCallOptions);
  let results = (outs Variadic<Ray_RefOrToken>:$results);
  let builders = [
    /// Calls `method` on `actor`; result types follow from the method.
    OpBuilder<(ins "::mlir::Value":$actor, "ActorMethodOp":$method,
                   "::mlir::ValueRange":$args)>
  ];
  let assemblyFormat = [{
    $actor $method `(` $args `)` attr-dict `:` qualified(type($actor)) `,`
    functional-type($args, $results)
  }];
  let hasVerifier = 1;
}

def Ray_ActorKillOp : Ray_Op<"actor.kill"> {
  let summary = "kills an actor";
  let description = [{
    Kills the actor; with `no_restart` it is not restarted even when it has
    restarts left. The token completes once the kill was delivered.

    Example: `%done = ray.actor.kill %ps {no_restart} : !ray.actor<"ParamServer">`
  }];
  let arguments = (ins Ray_AnyActor:$actor, UnitAttr:$no_restart);
  let results = (outs Ray_Token:$done);
  let assemblyFormat = "$actor attr-dict `:` qualified(type($actor))";
}

//===----------------------------------------------------------------------===//
// Objects
//===----------------------------------------------------------------------===//

def Ray_PutOp : Ray_Op<"put", [Pure]> {
  let summary = "stores a value as an object";
  let description = [{
    Example: `%r = ray.put %x : i64` (a `!ray.ref<i64>`).
  }];
  let arguments = (ins AnyType:$value);
  let results = (outs Ray_AnyRef:$ref);
  // The result type follows from the value's; the directive rejects a value
  // type no ref can hold before building the ref type.
  let assemblyFormat = "$value attr-dict `:` custom<PutType>(type($value), type($ref))";
  let hasVerifier = 1;
}

def Ray_GetOp : Ray_Op<"get", [
    Pure,
    TypesMatchWith<"value has the ref's element type", "ref", "value",
                   "::llvm::cast<::raycc::ray::RefType>($_self).getElementType()">]> {
  let summary = "fetches the value of an object";
  let description = [{
    Waits for the object and yields its value. `get(put(x))` folds to `x`.
    Example: `%x = ray.get %r : !ray.ref<i64>`
  }];
  let arguments = (ins Ray_AnyRef:$ref);
  let results = (outs AnyType:$value);
  let assemblyFormat = "$ref attr-dict `:` custom<GetType>(type($ref), type($value))";
  let hasFolder = 1;
}

def Ray_WaitOp : Ray_Op<"wait", [NoMemoryEffect]> {
  let summary = "waits until some of the given objects exist";
  let description = [{
    The token completes once `num_returns` of the operands are ready, or after
    `timeout_ms` milliseconds (-1: no timeout), like `ray.wait`. Two waits on
    the same operands with the same options are one.

    Example: `%t = ray.wait %a, %b {num_returns = 1 : i64} : !ray.ref<i64>, !ray.token`
  }];
  let arguments = (ins Variadic<Ray_RefOrToken>:$refs,
                       I64Attr:$num_returns,
                       DefaultValuedAttr<I64Attr, "-1">:$timeout_ms);
  let results = (outs Ray_Token:$ready);
  let assemblyFormat = "$refs attr-dict `:` type($refs)";
  let hasVerifier = 1;
  let hasCanonicalizeMethod = 1;
}

def Ray_JoinOp : Ray_Op<"join", [Pure]> {
  let summary = "completes when all operands are complete";
  let description = [{
    Orders work without data: the token completes when every operand (token
    or object) is complete. Example: `%t = ray.join %a, %b : !ray.token, !ray.ref<i64>`
  }];
  let arguments = (ins Variadic<Ray_RefOrToken>:$inputs);
  let results = (outs Ray_Token:$done);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Placement groups
//===----------------------------------------------------------------------===//

def Ray_PlacementGroupOp : Ray_Op<"placement_group", [
    NoTerminator, SingleBlock, NoRegionArguments]> {
  let summary = "reserves resource bundles together (gang scheduling)";
  let description = [{
    All bundles are reserved, or none. The body lists the bundles in order
    (bundle 0 first). Never removed, even when unused: a reservation is an
    effect. `bundle_nodes` (set by `ray-assign-placement`) names the node of
    each bundle: one per bundle, one node for `strict_pack`, distinct nodes
    for `strict_spread`.

    Example:
    ```mlir
    %pg = ray.placement_group strict_spread "pg" {
      ray.bundle {CPU = 1.0}
      ray.bundle {CPU = 1.0, GPU = 1.0}
    }
    ```
  }];
  let arguments = (ins Ray_PlacementStrategyAttr:$strategy,
                       OptionalAttr<StrAttr>:$name,
                       OptionalAttr<StrArrayAttr>:$bundle_nodes);
  let results = (outs Ray_PG:$pg);
  let regions = (region SizedRegion<1>:$bundles);
  let assemblyFormat = [{
    custom<PGStrategy>($strategy) ($name^)? attr-dict-with-keyword $bundles
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The bundles, in index order.
    ::llvm::SmallVector<class BundleOp> getBundleOps();
  }];
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "PlacementStrategy":$strategy,
                   "::llvm::ArrayRef<ResourcesAttr>":$bundles)>
  ];
}

def Ray_BundleOp : Ray_Op<"bundle", [HasParent<"PlacementGroupOp">]> {
  let summary = "one bundle of a placement group";
  let description = [{
    A resource set reserved on one node. Example: `ray.bundle {CPU = 1.0, GPU = 1.0}`
  }];
  let arguments = (ins Ray_ResourcesAttr:$resources);
  let assemblyFormat = "custom<ResourceSet>($resources) attr-dict";
}

#endif // RAYCC_IR_RAYOPS_TD
