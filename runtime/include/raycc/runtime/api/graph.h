#pragma once

/// \file
/// Compiled graphs: LoadGraph reads a `raycc compile` artifact and Execute
/// dispatches a whole graph at once, every task submitted with its
/// dependencies pre-wired and the priorities the compiler chose (the Pathways
/// manner). Tasks inside may still spawn dynamic work.

#include <concepts>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "raycc/runtime/api/errors.h"
#include "raycc/runtime/api/serialization.h"
#include "raycc/runtime/common/id.h"

namespace raycc {

template <typename T>
class ObjectRef;
namespace internal {
class ObjectRefHandle;
}  // namespace internal

/// The most shards a map (g.Map, a plan's MAP node) may have: each is a
/// task. (The IR's ray.map states the same limit: MapOp::kMaxShards.)
inline constexpr int64_t kMaxMapShards = 10'000'000;

/// A graph input: an object (from Put or a task) or a plain value.
class GraphInput {
 public:
  template <typename T>
  GraphInput(const ObjectRef<T>& ref) : by_ref_(true), ref_(ref.ID()) {}  // NOLINT: implicit by design
  /// An actor (an ActorHandle) for a graph that calls an actor it does not
  /// create (`g.ActorInput<C>(name)`).
  template <typename H>
  requires requires(const H& h) {
    { h.ID() } -> std::convertible_to<ActorId>;
  }
  GraphInput(const H& actor) : actor_(actor.ID()), is_actor_(true) {}  // NOLINT: implicit by design
  /// A value, serialized now.
  template <typename T>
  static GraphInput Value(const T& value) {
    GraphInput in;
    in.value_ = Serialize(value);
    return in;
  }
  /// A value already serialized (msgpack bytes), as a tool that does not
  /// know the C++ type would pass it.
  static GraphInput Serialized(std::string bytes) {
    GraphInput in;
    in.value_ = std::move(bytes);
    return in;
  }
  bool by_ref() const { return by_ref_; }
  bool is_actor() const { return is_actor_; }
  const ActorId& actor() const { return actor_; }
  const ObjectId& ref() const { return ref_; }
  const std::string& value() const { return value_; }

 private:
  GraphInput() = default;
  bool by_ref_ = false;
  ObjectId ref_;
  std::string value_;
  ActorId actor_;
  bool is_actor_ = false;
};

/// The outputs of one execution, by name.
class GraphOutputs {
 public:
  /// The output `name` as a ref to a T; throws RayccError for an unknown name.
  template <typename T>
  ObjectRef<T> Get(const std::string& name) const {
    auto it = outputs_.find(name);
    if (it == outputs_.end()) throw RayccError("graph has no output named '" + name + "'");
    return ObjectRef<T>(it->second);
  }
  /// The outputs' objects, alive while this (or a copy) is.
  const std::map<std::string, ObjectId>& ids() const { return outputs_; }
  /// Waits until every node of the execution has settled (ran or failed):
  /// the outputs, the tasks and calls whose results nothing reads (done for
  /// their effects, such as logging) and the execution's clean-up (its
  /// placement groups removed). Returns how those unread ones failed, as
  /// "name: error" (an output's failure is its own Get's). Call it before
  /// Shutdown when every node must have run: Shutdown does not wait.
  std::vector<std::string> Wait() const;

 private:
  friend class Graph;
  friend class GraphRunner;
  std::map<std::string, ObjectId> outputs_;
  // What Wait waits for besides the outputs (by node name): the nodes
  // nothing waits for, and the clean-up task.
  std::vector<std::pair<std::string, ObjectId>> settle_;
  // References that keep the outputs (and what wait nodes watch) alive; the
  // graph's other objects are freed once the tasks that use them are done.
  std::vector<std::shared_ptr<internal::ObjectRefHandle>> keep_;
};

class GraphRunner;
struct GraphRunResult;

/// A loaded, validated ExecPlan.
class Graph {
 public:
  /// Submits the whole graph; inputs by name (every plan input must be
  /// given). Throws RayccError naming a missing or unknown input. Each
  /// execution has its own actors and placement groups, made for it and
  /// ended with it.
  GraphOutputs Execute(const std::map<std::string, GraphInput>& inputs) const;
  /// The graph set up to be executed many times, as Ray's compiled graphs
  /// are (see GraphRunner): at most `max_inflight` (>= 1) executions at
  /// once. Throws RayccError for max_inflight < 1.
  GraphRunner Prepare(int max_inflight = 2) const;
  /// Executes the graph `n` (>= 1) times with the same inputs through a
  /// GraphRunner of `max_inflight`, and returns once every execution has
  /// settled and the runner is closed.
  GraphRunResult Run(const std::map<std::string, GraphInput>& inputs, int n, int max_inflight = 2) const;
  const std::string& name() const;
  /// Number of plan nodes.
  size_t size() const;
  /// The inputs Execute takes: name and IR type, in order.
  std::vector<std::pair<std::string, std::string>> inputs() const;

  struct State;
  // What a GraphRunner's executions share: groups, actors.
  struct Persistent;

 private:
  friend Graph LoadGraph(const std::string& path, const std::string& graph_name);
  friend class GraphRunner;
  // Execute, or (with `persistent`) one execution of a GraphRunner.
  GraphOutputs Submit(const std::map<std::string, GraphInput>& inputs, Persistent* persistent) const;
  std::shared_ptr<const State> state_;
};

/// A graph executed many times. Its placement groups are reserved once, by
/// the first execution, and its actors are made by the first execution and
/// live on through the others (their state carries over, as in Ray's
/// compiled graphs); the later executions submit only the tasks and calls,
/// and skip the tasks and calls that only feed actor constructors. Up to
/// `max_inflight` executions run at once: execution k+1 overlaps k, and
/// Execute waits for the oldest to settle when that many are unsettled.
/// A kill of an actor the graph makes takes effect at Close. Close (or the
/// destructor) waits for every execution, then ends the actors and removes
/// the groups. One thread at a time.
class GraphRunner {
 public:
  GraphRunner(GraphRunner&&) noexcept;
  GraphRunner& operator=(GraphRunner&&) noexcept;
  ~GraphRunner();
  /// Submits one execution (as Graph::Execute), after waiting for the
  /// oldest one when `max_inflight` are unsettled. Throws RayccError after
  /// Close, or as Graph::Execute does.
  GraphOutputs Execute(const std::map<std::string, GraphInput>& inputs);
  /// Waits for every execution, then ends the actors and removes the
  /// placement groups. Returns how the nodes nothing reads failed, in every
  /// execution, as "execution k: node i (name): error" (k from 1), the
  /// ones found while Execute waited included. Idempotent.
  std::vector<std::string> Close();
  /// Executions submitted so far.
  int64_t executions() const;
  /// How many times Execute waited for an earlier execution to settle.
  int64_t waits() const;
  /// Executions submitted and not yet known settled.
  size_t in_flight() const;

  struct Session;

 private:
  friend class Graph;
  explicit GraphRunner(std::unique_ptr<Session> session);
  std::unique_ptr<Session> session_;
};

/// What Graph::Run returns.
struct GraphRunResult {
  /// The last execution's outputs.
  GraphOutputs last;
  /// How nodes failed in any execution, as "execution k: ..." (k from 1):
  /// the unread nodes of every execution, and the outputs of all but the
  /// last (the last's are read from `last`), in the order found.
  std::vector<std::string> failures;
};

/// Reads `path` (an .rcx artifact) and returns its graph `graph_name` (or its
/// only graph when empty). Throws RayccError when the file is not an
/// artifact, the graph does not exist, the plan is malformed, or a function
/// it calls is not registered in this process.
Graph LoadGraph(const std::string& path, const std::string& graph_name = "");

}  // namespace raycc
