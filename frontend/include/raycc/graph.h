#pragma once

/// \file
/// The graph DSL: describe a task/actor graph symbolically, with the same
/// registered functions and the same option names as the runtime API, and
/// let `raycc compile` trace, check, optimize and place it ahead of time.
///
///   RAYCC_REMOTE(LoadShard, Gradient, ParamServer::Create,
///   &ParamServer::Apply);
///
///   RAYCC_GRAPH(train_step, raycc::GraphBuilder& g, int64_t shards) {
///     auto pg = g.PlacementGroup({{{"CPU", 1}}, {{"CPU", 1}}},
///     raycc::PlacementStrategy::kSpread); auto ps =
///     g.Actor(ParamServer::Create).SetResources({{"CPU",
///     1}}).Call(int64_t{8}); auto w = g.Input<std::vector<double>>("w"); for
///     (int64_t i = 0; i < shards; ++i) {
///       auto data = g.Task(LoadShard).SetPlacementGroup(pg, i % 2).Call(i);
///       auto grad = g.Task(Gradient).Call(w, data);
///       w = ps.Task(&ParamServer::Apply).Call(grad);
///     }
///     g.Output("w", w);
///   }
///
/// A graph's parameters after the builder are trace-time values
/// (`raycc compile --param shards=4`). Values are typed: passing a Value<A>
/// where the function takes a B does not compile. Every builder call records
/// its source location, which becomes the op's MLIR location, so compiler
/// diagnostics name the user's file, line and column. docs/dsl.md is the
/// guide.

#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <source_location>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "raycc/api.h"
#include "raycc/frontend/trace.h"

namespace raycc {

class GraphBuilder;

namespace internal {
/// The demangled name of a type.
std::string DemangledName(const std::type_info &type);
} // namespace internal

/// The stable name of a C++ type in the IR (`!ray.opaque<"name">`).
/// Specialize for your own types to choose the spelling; the default is the
/// demangled type name.
template <typename T, typename = void> struct TypeName {
  static std::string Get() { return internal::DemangledName(typeid(T)); }
};

namespace internal {
template <typename T> std::string NameOf() { return TypeName<T>::Get(); }
} // namespace internal

#define RAYCC_INTERNAL_TYPE_NAME(type, spelling)                               \
  template <> struct TypeName<type> {                                          \
    static std::string Get() { return spelling; }                              \
  }
RAYCC_INTERNAL_TYPE_NAME(bool, "bool");
RAYCC_INTERNAL_TYPE_NAME(char, "char");
RAYCC_INTERNAL_TYPE_NAME(int8_t, "int8_t");
RAYCC_INTERNAL_TYPE_NAME(int16_t, "int16_t");
RAYCC_INTERNAL_TYPE_NAME(int32_t, "int32_t");
RAYCC_INTERNAL_TYPE_NAME(int64_t, "int64_t");
RAYCC_INTERNAL_TYPE_NAME(uint8_t, "uint8_t");
RAYCC_INTERNAL_TYPE_NAME(uint16_t, "uint16_t");
RAYCC_INTERNAL_TYPE_NAME(uint32_t, "uint32_t");
RAYCC_INTERNAL_TYPE_NAME(uint64_t, "uint64_t");
RAYCC_INTERNAL_TYPE_NAME(float, "float");
RAYCC_INTERNAL_TYPE_NAME(double, "double");
RAYCC_INTERNAL_TYPE_NAME(std::string, "std::string");
#undef RAYCC_INTERNAL_TYPE_NAME

template <typename T> struct TypeName<std::vector<T>> {
  static std::string Get() {
    return "std::vector<" + internal::NameOf<T>() + ">";
  }
};
template <typename K, typename V> struct TypeName<std::map<K, V>> {
  static std::string Get() {
    return "std::map<" + internal::NameOf<K>() + "," + internal::NameOf<V>() +
           ">";
  }
};
template <typename A, typename B> struct TypeName<std::pair<A, B>> {
  static std::string Get() {
    return "std::pair<" + internal::NameOf<A>() + "," + internal::NameOf<B>() +
           ">";
  }
};

namespace internal {

/// The IR type of a C++ type: integers and bool are builtin integers,
/// floating point builtin floats, everything else opaque.
template <typename T> trace::Type GraphType() {
  using D = std::decay_t<T>;
  if constexpr (std::is_same_v<D, bool>) {
    return {trace::Type::Kind::kInteger, 1, ""};
  } else if constexpr (std::is_integral_v<D>) {
    return {trace::Type::Kind::kInteger, 8 * sizeof(D), ""};
  } else if constexpr (std::is_floating_point_v<D>) {
    return {trace::Type::Kind::kFloat, 8 * sizeof(D), ""};
  } else {
    return {trace::Type::Kind::kOpaque, 0, NameOf<D>()};
  }
}

trace::SourceLocation ToTrace(const std::source_location &loc);

template <typename R> trace::Type ResultType() {
  if constexpr (std::is_void_v<R>) {
    return {};
  } else {
    return GraphType<R>();
  }
}

template <typename Params, size_t... I>
std::vector<trace::Type> ParamTypes(std::index_sequence<I...>) {
  return {GraphType<std::tuple_element_t<I, Params>>()...};
}

/// The non-template core of the builder (raycc_graph): the graph being
/// recorded and the checks that need no types.
class GraphBuilderCore {
public:
  explicit GraphBuilderCore(trace::Graph *graph);
  ~GraphBuilderCore();
  GraphBuilderCore(const GraphBuilderCore &) = delete;
  GraphBuilderCore &operator=(const GraphBuilderCore &) = delete;

  /// The builder tracing on this thread; throws std::logic_error outside
  /// of tracing (a graph value kept and used after its graph was traced).
  static GraphBuilderCore &Active();
  /// Unique per builder ever made: values carry it so a value of another
  /// graph is recognized even when its builder's memory is reused.
  uint64_t serial() const { return serial_; }

  trace::Graph &graph() { return *graph_; }
  /// Records an error at `loc`; tracing continues so every error is found.
  void Error(const trace::SourceLocation &loc, std::string message);
  uint32_t AddValue(trace::Value value);
  /// Appends `op`, defining a new value `result`; returns its index.
  uint32_t AddOp(trace::Op op, trace::Value result);
  /// The index of `function` in the graph's table (added once).
  uint32_t AddFunction(trace::Function function,
                       const trace::SourceLocation &loc);
  /// The registered name of the function or factory with registry key
  /// `key`, or an error at `loc` ("... is not registered") and "".
  std::string RegisteredFunction(const std::string &key, const void *address,
                                 const trace::SourceLocation &loc);
  std::string RegisteredMethod(const std::string &key,
                               const trace::SourceLocation &loc);
  /// Checks that value `id` (owned by `owner`) may be used here.
  bool CheckOperand(uint64_t owner, uint32_t id, const char *what,
                    const trace::SourceLocation &loc);
  void AddInput(std::string name, uint32_t value,
                const trace::SourceLocation &loc);
  void AddOutput(std::string name, uint32_t value,
                 const trace::SourceLocation &loc);
  /// The actor class a factory's registered name implies.
  static std::string ActorClassOf(const std::string &factory_name,
                                  const std::type_info &type);

  static constexpr uint32_t kNoValue = ~uint32_t{0};

private:
  trace::Graph *graph_;
  uint64_t serial_;
  GraphBuilderCore *previous_;
};

} // namespace internal

/// A value in a graph: the future object a task or actor call yields, or a
/// graph input. Value<void> is the completion of a call without a result.
template <typename T> class Value {
public:
  Value() = default;
  uint32_t id() const { return id_; }

private:
  friend class GraphBuilder;
  template <typename> friend class GraphActor;
  template <typename, typename> friend class GraphCall;
  Value(uint64_t owner, uint32_t id) : owner_(owner), id_(id) {}
  uint64_t owner_ = 0; ///< the builder's serial
  uint32_t id_ = internal::GraphBuilderCore::kNoValue;
};

/// A placement group in a graph.
class GraphPlacementGroup {
public:
  GraphPlacementGroup() = default;
  int BundleCount() const { return bundle_count_; }

private:
  friend class GraphBuilder;
  template <typename, typename> friend class GraphCall;
  GraphPlacementGroup(uint64_t owner, uint32_t id, int bundles)
      : owner_(owner), id_(id), bundle_count_(bundles) {}
  uint64_t owner_ = 0;
  uint32_t id_ = internal::GraphBuilderCore::kNoValue;
  int bundle_count_ = 0;
};

template <typename C> class GraphActor;
template <typename T> class ShardOf;

namespace internal {
/// What a GraphCall records.
struct TaskKind {};
struct ActorCreateKind {};
struct ActorCallKind {};
struct MapKind {};

/// std::tuple<B...> for std::tuple<A, B...>: a map's parameters after the
/// shard index.
template <typename T> struct TupleTailOf;
template <typename A, typename... B> struct TupleTailOf<std::tuple<A, B...>> {
  using type = std::tuple<B...>;
};
template <typename T> using TupleTail = typename TupleTailOf<T>::type;
} // namespace internal

/// One call being built: g.Task(f), g.Actor(C::Create) or actor.Task(&C::m),
/// with the runtime API's setters, finished by Call(args...). `Kind` is the
/// op kind; F the function or member-function pointer.
template <typename F, typename Kind> class GraphCall {
  using Traits = internal::FunctionTraits<F>;

public:
  using Result = typename Traits::Result;

  /// Resources the call needs, replacing the default (tasks: 1 CPU).
  GraphCall &SetResources(const std::map<std::string, double> &resources) {
    static_assert(!kIsActorCall, "an actor call runs on its actor's resources: "
                                 "set them on g.Actor(...)");
    op_.options.resources = resources;
    return *this;
  }
  GraphCall &SetResource(const std::string &name, double quantity) {
    static_assert(!kIsActorCall, "an actor call runs on its actor's resources: "
                                 "set them on g.Actor(...)");
    if (!op_.options.resources)
      op_.options.resources.emplace();
    (*op_.options.resources)[name] = quantity;
    return *this;
  }
  GraphCall &SetMaxRetries(int retries) {
    op_.options.max_retries = retries;
    return *this;
  }
  GraphCall &SetRetryExceptions(bool retry) {
    static_assert(std::is_same_v<Kind, internal::TaskKind> || kIsMap,
                  "SetRetryExceptions is for tasks and maps");
    op_.options.retry_exceptions = retry;
    return *this;
  }
  GraphCall &SetName(std::string name) {
    op_.options.name = std::move(name);
    return *this;
  }
  /// Among work ready at once, larger priorities run first. Kept by the
  /// critical-path pass (which sets the others from the graph's longest
  /// paths).
  GraphCall &SetPriority(int64_t priority) {
    op_.options.priority = priority;
    return *this;
  }
  /// What the call costs, for the passes (#ray.cost): how long it runs and
  /// how large its result is (0: unknown). The critical path is measured in
  /// these durations; fusion and placement weigh the result sizes.
  GraphCall &SetCost(std::chrono::microseconds duration,
                     uint64_t result_bytes = 0) {
    if (duration.count() < 0) {
      Core().Error(op_.loc, "SetCost: the duration must not be negative");
      return *this;
    }
    op_.options.cost_duration_us = static_cast<uint64_t>(duration.count());
    op_.options.cost_result_bytes = result_bytes;
    return *this;
  }
  /// Runs in bundle `bundle_index` of `pg` (-1: any bundle). A map's
  /// shards with -1 run over the bundles as over a mesh: shard i in bundle
  /// i mod (the bundle count), gang-scheduled by the group.
  GraphCall &SetPlacementGroup(const GraphPlacementGroup &pg,
                               int64_t bundle_index = -1) {
    static_assert(!kIsActorCall, "an actor call runs where its actor is: place "
                                 "the actor with g.Actor(...)");
    if (Core().CheckOperand(pg.owner_, pg.id_, "placement group", op_.loc)) {
      if (bundle_index < -1 || bundle_index >= pg.bundle_count_) {
        Core().Error(op_.loc, "bundle index " + std::to_string(bundle_index) +
                                  " is out of range: the placement group has " +
                                  std::to_string(pg.bundle_count_) +
                                  " bundle(s)");
      }
      op_.options.placement_group = pg.id_;
      op_.options.bundle_index = bundle_index;
    }
    return *this;
  }
  GraphCall &SetSchedulingStrategy(SchedulingStrategy strategy) {
    static_assert(!kIsActorCall, "an actor call runs where its actor is: place "
                                 "the actor with g.Actor(...)");
    op_.options.strategy =
        strategy == SchedulingStrategy::kSpread ? "spread" : "";
    return *this;
  }
  /// Runs on the cluster node `node`; with `soft`, elsewhere when it cannot.
  GraphCall &SetNodeAffinity(std::string node, bool soft = false) {
    static_assert(!kIsActorCall, "an actor call runs where its actor is: place "
                                 "the actor with g.Actor(...)");
    static_assert(!kIsMap, "a map's shards are placed by the runtime: use "
                           "SetSchedulingStrategy, SetLabelSelector or "
                           "SetPlacementGroup");
    op_.options.node_name = std::move(node);
    op_.options.node_soft = soft;
    return *this;
  }
  /// Runs only on nodes whose labels match `selector`, in Ray's syntax:
  /// {{"zone", "a"}} (equals), {{"tier", "!spot"}} (not, or absent),
  /// {{"region", "in(eu,us)"}} (one of), {{"gpu", "!in(k80,p4)"}}. As the
  /// runtime API's SetLabelSelector; the compiler places the call on such a
  /// node of the cluster description (its "labels").
  GraphCall &
  SetLabelSelector(const std::map<std::string, std::string> &selector) {
    static_assert(!kIsActorCall, "an actor call runs where its actor is: place "
                                 "the actor with g.Actor(...)");
    op_.options.label_selector = selector;
    return *this;
  }
  /// Actors: restarts after the actor dies.
  GraphCall &SetMaxRestarts(int restarts) {
    static_assert(std::is_same_v<Kind, internal::ActorCreateKind>,
                  "SetMaxRestarts is for g.Actor(...)");
    op_.options.max_restarts = restarts;
    return *this;
  }
  /// Actors: calls that may run at once.
  GraphCall &SetMaxConcurrency(int concurrency) {
    static_assert(std::is_same_v<Kind, internal::ActorCreateKind>,
                  "SetMaxConcurrency is for g.Actor(...)");
    op_.options.max_concurrency = concurrency;
    return *this;
  }

  /// Records the call. Arguments are Values of exactly the parameter types
  /// or numbers (constants); anything else does not compile. A builder may
  /// record several calls with the same options.
  ///
  /// A map's call takes the function's arguments after the shard index
  /// (every shard gets the same ones).
  template <typename... Args> auto Call(Args &&...args) {
    static_assert(sizeof...(Args) + (kIsMap ? 1 : 0) == Traits::kArity,
                  "wrong number of arguments for the remote function");
    trace::Op op = op_;
    if constexpr (kIsMap) {
      AddArguments<internal::TupleTail<typename Traits::Params>>(
          op, std::index_sequence_for<Args...>{}, std::forward<Args>(args)...);
    } else {
      AddArguments<typename Traits::Params>(
          op, std::index_sequence_for<Args...>{}, std::forward<Args>(args)...);
    }
    return Finish(std::move(op));
  }

private:
  static constexpr bool kIsActorCall =
      std::is_same_v<Kind, internal::ActorCallKind>;
  static constexpr bool kIsMap = std::is_same_v<Kind, internal::MapKind>;

  /// The builder, checked to be still tracing (a call builder kept past its
  /// graph's tracing must not touch a finished builder).
  internal::GraphBuilderCore &Core() const {
    internal::GraphBuilderCore &active = internal::GraphBuilderCore::Active();
    if (&active != core_ || active.serial() != serial_) {
      throw std::logic_error(
          "a call builder was used outside the tracing of its graph");
    }
    return active;
  }

  friend class GraphBuilder;
  template <typename> friend class GraphActor;

  GraphCall(internal::GraphBuilderCore *core, trace::Op op)
      : core_(core), serial_(core->serial()), op_(std::move(op)) {}

  template <typename P, typename A> void AddArgument(trace::Op &op, A &&arg) {
    using D = std::decay_t<A>;
    if constexpr (std::is_same_v<D, Value<P>>) {
      Core().CheckOperand(arg.owner_, arg.id_, "argument", op.loc);
      op.operands.push_back(arg.id_);
    } else if constexpr (std::is_same_v<D, ShardOf<P>>) {
      static_assert(kIsMap, "raycc::PerShard is for the arguments of g.Map");
      Core().CheckOperand(arg.all_.owner_, arg.all_.id_, "argument", op.loc);
      op.per_shard.push_back(static_cast<uint32_t>(op.operands.size()));
      op.operands.push_back(arg.all_.id_);
    } else {
      static_assert(!internal::IsObjectRef<D>::value,
                    "an ObjectRef is a run-time object; in a graph pass a "
                    "raycc::Value (g.Input, a task's result)");
      static_assert(std::is_arithmetic_v<P> && std::is_arithmetic_v<D>,
                    "an argument must be a raycc::Value of the parameter's "
                    "type, or a number; pass other "
                    "values as a graph input (g.Input<T>(name)) or produce "
                    "them with a task");
      trace::Value constant;
      constant.kind = trace::ValueKind::kConstant;
      constant.type = internal::GraphType<P>();
      if constexpr (std::is_floating_point_v<P>) {
        constant.constant = static_cast<double>(static_cast<P>(arg));
      } else {
        constant.constant = static_cast<int64_t>(static_cast<P>(arg));
      }
      trace::Op def;
      def.kind = trace::OpKind::kConstant;
      def.loc = op.loc;
      op.operands.push_back(Core().AddOp(std::move(def), std::move(constant)));
    }
  }

  template <typename Params, typename... Args, size_t... I>
  void AddArguments(trace::Op &op, std::index_sequence<I...>, Args &&...args) {
    (AddArgument<std::tuple_element_t<I, Params>>(op, std::forward<Args>(args)),
     ...);
  }

  auto Finish(trace::Op op);

  internal::GraphBuilderCore *core_;
  uint64_t serial_;
  /// The call as set up so far; each Call() records a copy.
  trace::Op op_;
};

/// Shard i of a map's value, for shard i of another map of as many shards:
/// `g.Map(Grad, n).Call(raycc::PerShard(data), w)` gives shard i of Grad
/// shard i of `data` (a g.Map's Value<std::vector<T>>), not the whole
/// vector, so a pipeline of maps moves each shard's data once.
template <typename T> class ShardOf {
public:
  explicit ShardOf(const Value<std::vector<T>> &all) : all_(all) {}

private:
  template <typename, typename> friend class GraphCall;
  Value<std::vector<T>> all_;
};
template <typename T> ShardOf<T> PerShard(const Value<std::vector<T>> &all) {
  return ShardOf<T>(all);
}

/// An actor in a graph, from g.Actor(C::Create)...Call(args).
template <typename C> class GraphActor {
public:
  GraphActor() = default;
  /// A call of method `m` on this actor; calls run in the order traced.
  template <typename M>
  GraphCall<M, internal::ActorCallKind>
  Task(M m, std::source_location loc = std::source_location::current()) {
    static_assert(std::is_member_function_pointer_v<M>,
                  "actor.Task takes a method pointer: &C::Method");
    static_assert(
        std::is_base_of_v<typename internal::FunctionTraits<M>::Class, C>,
        "the method belongs to another class than the actor's");
    internal::GraphBuilderCore &core = internal::GraphBuilderCore::Active();
    trace::Op op;
    op.kind = trace::OpKind::kActorCall;
    op.loc = internal::ToTrace(loc);
    trace::Function f;
    f.kind = trace::Function::Kind::kMethod;
    f.registered_name = core.RegisteredMethod(internal::KeyOf(m), op.loc);
    f.actor_class = class_name_;
    using Traits = internal::FunctionTraits<M>;
    f.params = internal::ParamTypes<typename Traits::Params>(
        std::make_index_sequence<Traits::kArity>{});
    f.result = internal::ResultType<typename Traits::Result>();
    op.function = core.AddFunction(std::move(f), op.loc);
    // A failed check is an error of the graph, which is then not built; the
    // operand stays so the call keeps its shape.
    core.CheckOperand(owner_, id_, "actor", op.loc);
    op.operands.push_back(id_);
    return GraphCall<M, internal::ActorCallKind>(&core, std::move(op));
  }
  /// Kills the actor once every call traced before has been submitted.
  void Kill(std::source_location loc = std::source_location::current()) {
    internal::GraphBuilderCore &core = internal::GraphBuilderCore::Active();
    trace::Op op;
    op.kind = trace::OpKind::kActorKill;
    op.loc = internal::ToTrace(loc);
    if (!core.CheckOperand(owner_, id_, "actor", op.loc))
      return;
    op.operands.push_back(id_);
    core.AddOp(std::move(op), trace::Value{.kind = trace::ValueKind::kToken});
  }

private:
  template <typename, typename> friend class GraphCall;
  friend class GraphBuilder;
  GraphActor(uint64_t owner, uint32_t id, std::string class_name)
      : owner_(owner), id_(id), class_name_(std::move(class_name)) {}
  uint64_t owner_ = 0;
  uint32_t id_ = internal::GraphBuilderCore::kNoValue;
  std::string class_name_;
};

template <typename F, typename Kind>
auto GraphCall<F, Kind>::Finish(trace::Op op) {
  internal::GraphBuilderCore &core = Core();
  if constexpr (std::is_same_v<Kind, internal::ActorCreateKind>) {
    using C = std::remove_pointer_t<Result>;
    std::string cls = core.graph().functions[op.function].actor_class;
    trace::Value actor{.kind = trace::ValueKind::kActor, .actor_class = cls};
    uint32_t id = core.AddOp(std::move(op), std::move(actor));
    return GraphActor<C>(core.serial(), id, cls);
  } else if constexpr (kIsMap) {
    trace::Value result;
    result.kind = trace::ValueKind::kRef;
    result.type = internal::GraphType<std::vector<Result>>();
    uint32_t id = core.AddOp(std::move(op), std::move(result));
    return Value<std::vector<Result>>(core.serial(), id);
  } else {
    trace::Value result;
    if constexpr (std::is_void_v<Result>) {
      result.kind = trace::ValueKind::kToken;
    } else {
      result.kind = trace::ValueKind::kRef;
      result.type = internal::GraphType<Result>();
    }
    uint32_t id = core.AddOp(std::move(op), std::move(result));
    return Value<Result>(core.serial(), id);
  }
}

/// Records a graph; RAYCC_GRAPH bodies receive one.
class GraphBuilder : public internal::GraphBuilderCore {
public:
  using internal::GraphBuilderCore::GraphBuilderCore;

  /// A graph input named `name`: an object of type T the caller passes to
  /// Execute (or `raycc run --input name=...`).
  template <typename T>
  Value<T> Input(std::string name,
                 std::source_location loc = std::source_location::current()) {
    static_assert(!std::is_void_v<T>, "an input holds a value");
    uint32_t id = AddValue(trace::Value{.kind = trace::ValueKind::kRef,
                                        .type = internal::GraphType<T>()});
    AddInput(std::move(name), id, internal::ToTrace(loc));
    return Value<T>(serial(), id);
  }

  /// An actor input named `name`: an actor of class C the caller creates
  /// and passes to Execute (an ActorHandle<C>), so its state lives across
  /// executions. Calls on it run in the order traced.
  template <typename C>
  GraphActor<C>
  ActorInput(std::string name,
             std::source_location loc = std::source_location::current()) {
    static_assert(std::is_class_v<C>, "ActorInput<C>: C is the actor class");
    std::string cls = internal::NameOf<C>();
    uint32_t id = AddValue(
        trace::Value{.kind = trace::ValueKind::kActor, .actor_class = cls});
    AddInput(std::move(name), id, internal::ToTrace(loc));
    return GraphActor<C>(serial(), id, cls);
  }

  /// An output named `name`: what Execute returns.
  template <typename T>
  void Output(std::string name, const Value<T> &value,
              std::source_location loc = std::source_location::current()) {
    trace::SourceLocation where = internal::ToTrace(loc);
    if (CheckOperand(value.owner_, value.id_, "output", where))
      AddOutput(std::move(name), value.id_, where);
  }

  /// A task calling the registered function `f`.
  template <typename F>
  GraphCall<F *, internal::TaskKind>
  Task(F *f, std::source_location loc = std::source_location::current()) {
    static_assert(std::is_function_v<F>,
                  "g.Task takes a function registered with RAYCC_REMOTE");
    using Traits = internal::FunctionTraits<F *>;
    trace::Op op;
    op.kind = trace::OpKind::kTask;
    op.loc = internal::ToTrace(loc);
    trace::Function fn;
    fn.kind = trace::Function::Kind::kTask;
    fn.registered_name = RegisteredFunction(
        internal::KeyOf(f), reinterpret_cast<const void *>(f), op.loc);
    fn.params = internal::ParamTypes<typename Traits::Params>(
        std::make_index_sequence<Traits::kArity>{});
    fn.result = internal::ResultType<typename Traits::Result>();
    fn.pure = trace::IsPureFunction(internal::KeyOf(f));
    op.function = AddFunction(std::move(fn), op.loc);
    return GraphCall<F *, internal::TaskKind>(this, std::move(op));
  }

  /// `shards` tasks of the registered function `f`, one op in the graph
  /// (SPMD): shard i calls f(i, args...) with the arguments given to
  /// Call(args...), and the map's value is the std::vector of the shards'
  /// results in shard order. f's first parameter is the shard index
  /// (int64_t). The shards run where the runtime places them, spread with
  /// SetSchedulingStrategy(kSpread), or over a placement group's bundles
  /// (SetPlacementGroup); 1 to kMaxMapShards (10,000,000) shards.
  template <typename F>
  GraphCall<F *, internal::MapKind>
  Map(F *f, int64_t shards,
      std::source_location loc = std::source_location::current()) {
    static_assert(std::is_function_v<F>,
                  "g.Map takes a function registered with RAYCC_REMOTE");
    using Traits = internal::FunctionTraits<F *>;
    static_assert(
        Traits::kArity >= 1 &&
            std::is_same_v<
                std::decay_t<std::tuple_element_t<0, typename Traits::Params>>,
                int64_t>,
        "g.Map's function takes the shard index (int64_t) first");
    static_assert(!std::is_void_v<typename Traits::Result>,
                  "g.Map's function returns each shard's result");
    static_assert(!std::is_same_v<typename Traits::Result, char> &&
                      !std::is_same_v<typename Traits::Result, unsigned char>,
                  "g.Map's shards cannot return char or unsigned char "
                  "(msgpack keeps a vector of them as bytes): return int8_t "
                  "or a wider integer");
    static_assert(!internal::IsObjectRef<typename Traits::Result>::value,
                  "g.Map's shards cannot return an ObjectRef: the gathered "
                  "vector would not keep its object alive");
    GraphCall<F *, internal::TaskKind> task = Task(f, loc);
    trace::Op op = task.op_;
    op.kind = trace::OpKind::kMap;
    op.shards = shards;
    if (shards < 1 || shards > kMaxMapShards)
      Error(op.loc, "g.Map: the shard count must be between 1 and " +
                        std::to_string(kMaxMapShards) + ", got " +
                        std::to_string(shards));
    return GraphCall<F *, internal::MapKind>(this, std::move(op));
  }
  /// An actor created by the registered factory `factory` (static C*
  /// C::Create(...)).
  template <typename F>
  GraphCall<F *, internal::ActorCreateKind>
  Actor(F *factory,
        std::source_location loc = std::source_location::current()) {
    using Traits = internal::FunctionTraits<F *>;
    using R = typename Traits::Result;
    static_assert(std::is_pointer_v<R> &&
                      std::is_class_v<std::remove_pointer_t<R>>,
                  "g.Actor takes a factory returning a pointer to the actor "
                  "class: static C* C::Create(...)");
    trace::Op op;
    op.kind = trace::OpKind::kActorCreate;
    op.loc = internal::ToTrace(loc);
    trace::Function fn;
    fn.kind = trace::Function::Kind::kFactory;
    fn.registered_name =
        RegisteredFunction(internal::KeyOf(factory),
                           reinterpret_cast<const void *>(factory), op.loc);
    fn.actor_class =
        ActorClassOf(fn.registered_name, typeid(std::remove_pointer_t<R>));
    fn.params = internal::ParamTypes<typename Traits::Params>(
        std::make_index_sequence<Traits::kArity>{});
    op.function = AddFunction(std::move(fn), op.loc);
    return GraphCall<F *, internal::ActorCreateKind>(this, std::move(op));
  }

  /// A placement group reserving `bundles` together (all or none).
  GraphPlacementGroup
  PlacementGroup(std::vector<std::map<std::string, double>> bundles,
                 PlacementStrategy strategy = PlacementStrategy::kPack,
                 std::string name = "",
                 std::source_location loc = std::source_location::current());
};

namespace internal {

/// Splits the text of a RAYCC_GRAPH parameter list into (type, name) pairs.
std::vector<std::pair<std::string, std::string>>
SplitGraphParams(const char *text);

/// A trace-time parameter's value from text; throws std::invalid_argument.
template <typename P>
P ParseGraphParam(const std::string &name, const std::string &text);
template <>
int64_t ParseGraphParam<int64_t>(const std::string &name,
                                 const std::string &text);
template <>
double ParseGraphParam<double>(const std::string &name,
                               const std::string &text);
template <>
bool ParseGraphParam<bool>(const std::string &name, const std::string &text);
template <>
std::string ParseGraphParam<std::string>(const std::string &name,
                                         const std::string &text);

template <typename P>
P ParseParam(const std::string &name, const std::string &text) {
  using D = std::decay_t<P>;
  if constexpr (std::is_same_v<D, bool> || std::is_same_v<D, std::string>) {
    return ParseGraphParam<D>(name, text);
  } else if constexpr (std::is_integral_v<D>) {
    D value{};
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
      throw std::invalid_argument(
          "parameter '" + name + "' is an integer from " +
          std::to_string(std::numeric_limits<D>::min()) + " to " +
          std::to_string(std::numeric_limits<D>::max()) + "; got '" + text +
          "'");
    }
    return value;
  } else if constexpr (std::is_floating_point_v<D>) {
    return static_cast<D>(ParseGraphParam<double>(name, text));
  } else {
    static_assert(std::is_arithmetic_v<D>,
                  "graph parameters are numbers, bools or std::string");
  }
}

template <typename... P, size_t... I>
void InvokeGraph(void (*body)(GraphBuilder &, P...), GraphBuilder &g,
                 const std::vector<std::pair<std::string, std::string>> &params,
                 const std::vector<std::string> &values,
                 std::index_sequence<I...>) {
  // Braced initialization parses left to right: the first bad one is named.
  std::tuple<std::decay_t<P>...> parsed{
      ParseParam<P>(params[I + 1].second, values[I])...};
  std::apply([&](auto &...p) { body(g, p...); }, parsed);
}

bool AddGraph(trace::GraphEntry entry);

template <typename... F> bool RegisterPure(F *...fs) {
  static_assert((std::is_function_v<F> && ...),
                "RAYCC_PURE takes functions registered with RAYCC_REMOTE");
  (trace::AddPureFunction(KeyOf(fs)), ...);
  return true;
}

template <typename... P>
bool RegisterGraph(const char *name, const char *signature,
                   void (*body)(GraphBuilder &, P...),
                   std::source_location loc) {
  trace::GraphEntry entry;
  entry.name = name;
  entry.loc = ToTrace(loc);
  auto params = SplitGraphParams(signature);
  if (params.size() != sizeof...(P) + 1) {
    // The text did not split into the real parameters (a macro in the
    // parameter list, say): report it instead of guessing names.
    entry.error = "cannot read the names of the graph's " +
                  std::to_string(sizeof...(P)) + " parameter(s) from '" +
                  signature + "': spell them out in RAYCC_GRAPH";
    params.resize(sizeof...(P) + 1);
  }
  for (size_t i = 1; i < params.size(); ++i)
    entry.params.push_back(params[i]);
  entry.trace = [body, params](GraphBuilder &g,
                               const std::vector<std::string> &values) {
    InvokeGraph(body, g, params, values, std::index_sequence_for<P...>{});
  };
  return AddGraph(std::move(entry));
}

} // namespace internal
} // namespace raycc

/// Declares functions free of side effects, so the compiler may drop calls
/// whose results are unused and merge equal calls: `RAYCC_PURE(Tokenize,
/// Count);`
#define RAYCC_PURE(...)                                                        \
  [[maybe_unused]] static const bool RAYCC_INTERNAL_CONCAT(                    \
      raycc_pure_registered_, __COUNTER__) =                                   \
      ::raycc::internal::RegisterPure(__VA_ARGS__)

/// Defines and registers a graph: `RAYCC_GRAPH(name, raycc::GraphBuilder& g,
/// int64_t n) { ... }`. Parameters after the builder are trace-time values.
#define RAYCC_GRAPH(name, ...)                                                 \
  static void RAYCC_INTERNAL_CONCAT(raycc_graph_body_, name)(__VA_ARGS__);     \
  [[maybe_unused]] static const bool RAYCC_INTERNAL_CONCAT(                    \
      raycc_graph_registered_, name) =                                         \
      ::raycc::internal::RegisterGraph(                                        \
          #name, #__VA_ARGS__,                                                 \
          &RAYCC_INTERNAL_CONCAT(raycc_graph_body_, name),                     \
          std::source_location::current());                                    \
  static void RAYCC_INTERNAL_CONCAT(raycc_graph_body_, name)(__VA_ARGS__)
