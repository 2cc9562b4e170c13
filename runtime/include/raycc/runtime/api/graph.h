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
  std::map<std::string, ObjectId> outputs_;
  // What Wait waits for besides the outputs (by node name): the nodes
  // nothing waits for, and the clean-up task.
  std::vector<std::pair<std::string, ObjectId>> settle_;
  // References that keep the outputs (and what wait nodes watch) alive; the
  // graph's other objects are freed once the tasks that use them are done.
  std::vector<std::shared_ptr<internal::ObjectRefHandle>> keep_;
};

/// A loaded, validated ExecPlan.
class Graph {
 public:
  /// Submits the whole graph; inputs by name (every plan input must be
  /// given). Throws RayccError naming a missing or unknown input.
  GraphOutputs Execute(const std::map<std::string, GraphInput>& inputs) const;
  const std::string& name() const;
  /// Number of plan nodes.
  size_t size() const;
  /// The inputs Execute takes: name and IR type, in order.
  std::vector<std::pair<std::string, std::string>> inputs() const;

  struct State;

 private:
  friend Graph LoadGraph(const std::string& path, const std::string& graph_name);
  std::shared_ptr<const State> state_;
};

/// Reads `path` (an .rcx artifact) and returns its graph `graph_name` (or its
/// only graph when empty). Throws RayccError when the file is not an
/// artifact, the graph does not exist, the plan is malformed, or a function
/// it calls is not registered in this process.
Graph LoadGraph(const std::string& path, const std::string& graph_name = "");

}  // namespace raycc
