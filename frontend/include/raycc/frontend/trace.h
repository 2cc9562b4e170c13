#pragma once

/// \file
/// What tracing a graph program records: a plain, MLIR-free description of
/// one graph (values, operations, inputs, outputs, the functions they call,
/// and every error with the user's source location). The graph builder
/// (<raycc/graph.h>) fills it inside the user's task library; the frontend
/// (raycc_frontend) turns it into the `ray` dialect. Keeping MLIR out of this
/// layer keeps task libraries lean: workers load them too.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace raycc {
class GraphBuilder;
} // namespace raycc

namespace raycc::trace {

/// A place in the user's C++ source (std::source_location).
struct SourceLocation {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
};

/// A C++ type as the IR sees it.
struct Type {
  enum class Kind { kInteger, kFloat, kOpaque, kNone };
  Kind kind = Kind::kNone;
  /// Bits, for integers (1 is bool) and floats.
  unsigned width = 0;
  /// The stable name of an opaque type ("std::vector<double>").
  std::string name;
  friend bool operator==(const Type &, const Type &) = default;
};

/// What a value in a graph is.
enum class ValueKind {
  kRef,            ///< an object: a task result or a graph input
  kConstant,       ///< a number known at trace time
  kActor,          ///< an actor handle
  kPlacementGroup, ///< a placement group
  kToken,          ///< completion of a call with no result
};

struct Value {
  ValueKind kind = ValueKind::kRef;
  /// The type of the object or constant; the class name for actors.
  Type type;
  std::string actor_class;
  /// For constants.
  std::variant<int64_t, double> constant;
};

/// A remote function or actor method the graph calls.
struct Function {
  enum class Kind { kTask, kFactory, kMethod };
  Kind kind = Kind::kTask;
  /// The name RAYCC_REMOTE registered ("Gradient", "ParamServer::Create",
  /// "ParamServer::Apply").
  std::string registered_name;
  /// For factories and methods: the actor class ("ParamServer").
  std::string actor_class;
  std::vector<Type> params;
  /// kNone for void (and for factories).
  Type result;
  /// Declared free of side effects (RAYCC_PURE): the compiler may drop a
  /// call whose result is unused and merge equal calls.
  bool pure = false;
  friend bool operator==(const Function &, const Function &) = default;
};

/// Options set with the builder's setters; unset ones keep the defaults.
struct CallOptions {
  std::optional<std::map<std::string, double>> resources;
  std::optional<int64_t> max_retries;
  bool retry_exceptions = false;
  std::string name;
  /// Index of a kPlacementGroup value, and the bundle (-1: any).
  std::optional<uint32_t> placement_group;
  int64_t bundle_index = -1;
  /// "spread" asks the scheduler to spread; empty is the default strategy.
  std::string strategy;
  /// A node affinity (cluster node name), hard unless `node_soft`.
  std::string node_name;
  bool node_soft = false;
  /// Only nodes whose labels match (Ray's syntax: "v", "!v", "in(a,b)",
  /// "!in(a,b)").
  std::map<std::string, std::string> label_selector;
  std::optional<int64_t> max_restarts;
  std::optional<int64_t> max_concurrency;
  /// Larger runs first among ready work (the critical-path pass keeps it).
  std::optional<int64_t> priority;
  /// Cost hints for the passes (#ray.cost): 0 means unknown.
  uint64_t cost_duration_us = 0;
  uint64_t cost_result_bytes = 0;
};

enum class OpKind {
  kConstant,
  kTask,
  kActorCreate,
  kActorCall,
  kActorKill,
  kPlacementGroup,
  kMap, ///< one task per shard: f(i, args...) for i in [0, shards)
};

struct Op {
  OpKind kind = OpKind::kTask;
  SourceLocation loc;
  /// Index into Graph::functions (tasks, actor creations and calls).
  uint32_t function = 0;
  /// Values used, in order; for actor calls and kills the actor first.
  std::vector<uint32_t> operands;
  /// The value defined (every op defines exactly one).
  uint32_t result = 0;
  CallOptions options;
  /// For placement groups.
  std::vector<std::map<std::string, double>> bundles;
  int strategy = 0; ///< raycc::PlacementStrategy
  /// For maps: how many shards, and the operands (positions) taken shard by
  /// shard (raycc::PerShard).
  int64_t shards = 0;
  std::vector<uint32_t> per_shard;
};

struct NamedValue {
  std::string name;
  uint32_t value = 0;
  SourceLocation loc;
};

struct Diagnostic {
  SourceLocation loc;
  std::string message;
};

/// One traced graph.
struct Graph {
  std::string name;
  SourceLocation loc;
  std::vector<Value> values;
  std::vector<Op> ops;
  std::vector<NamedValue> inputs;
  std::vector<NamedValue> outputs;
  std::vector<Function> functions;
  /// Errors found while tracing; a graph with errors is not compiled.
  std::vector<Diagnostic> errors;
};

/// A graph program's entry, as RAYCC_GRAPH registers it.
struct GraphEntry {
  std::string name;
  SourceLocation loc;
  /// The trace-time parameters after the builder: names and C++ types.
  std::vector<std::pair<std::string, std::string>> params;
  /// Traces the graph with the parameter values given as text (parsed as
  /// the parameter types; throws std::invalid_argument naming a bad one).
  std::function<void(GraphBuilder &, const std::vector<std::string> &)> trace;
  /// Set when the registration itself is wrong; tracing reports it.
  std::string error;
};

/// The graphs registered in this process; thread-safe.
class GraphRegistry {
public:
  static GraphRegistry &Instance();
  /// Keeps the first entry of a name; a second is reported by Duplicates().
  bool Add(GraphEntry entry);
  /// "name (file:line)" of every entry refused as a duplicate.
  std::vector<std::string> Duplicates() const;
  /// In registration order.
  std::vector<const GraphEntry *> Entries() const;
  const GraphEntry *Find(const std::string &name) const;

private:
  struct Impl;
  GraphRegistry();
  std::unique_ptr<Impl> impl_;
};

/// Functions declared pure with RAYCC_PURE, by registry key; thread-safe.
void AddPureFunction(const std::string &key);
bool IsPureFunction(const std::string &key);

/// Traces `entry` with `param_values` (name -> text). Missing or malformed
/// values and exceptions thrown by the graph body become errors of the
/// result, located at the last op traced before (else at the graph).
Graph TraceGraph(const GraphEntry &entry,
                 const std::map<std::string, std::string> &param_values);

/// The graph TraceGraph is tracing now, or null: what a crash report of
/// the graph's code names (its name and its last op). Not synchronized:
/// read it only from the tracing thread, or once that thread is stopped.
const Graph *GraphBeingTraced();

} // namespace raycc::trace
