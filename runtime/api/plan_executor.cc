// LoadGraph and Graph::Execute: an ExecPlan run on the current runtime.
//
// Nodes are submitted in plan order (a topological order), each operand
// pre-wired to the object of the node that makes it. Fused chains run as one
// task. Placements and placement groups name nodes of a cluster; the embedded
// runtime has one node and runs everything there, keeping the priorities.

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "raycc/api.h"
#include "raycc/proto/artifact.pb.h"
#include "raycc/proto/exec_plan.pb.h"
#include "raycc/runtime/common/artifact_file.h"
#include "raycc/runtime/common/resource_set.h"

namespace raycc {

using internal::ArgBuffers;
using internal::RemoteFunction;
using internal::RemoteMethod;
using internal::RemoteRegistry;
using internal::TaskArgument;

struct Graph::State {
  proto::ExecPlan plan;
  // Per node: what it calls (null when not a call).
  std::vector<const RemoteFunction*> functions;
  std::vector<const RemoteMethod*> methods;
  // Prepared once: each node's call options and, for tasks, the index of its
  // resource set in `demands` (tasks of a graph share a few).
  std::vector<internal::CallOptions> options;
  std::vector<int> demand;
  std::vector<std::vector<std::pair<std::string, double>>> demands;
  // Per node: its result is read after the batch it is submitted in (see
  // LoadGraph); the others are released to the runtime with their batch.
  std::vector<bool> kept;
  // Per task node: its arguments prepared once, and where Execute fills in
  // the rest (an input, or the result of a node of an earlier batch).
  struct Patch {
    int arg;
    bool input;
    int source;
  };
  std::vector<std::vector<internal::TaskArgument>> arg_template;
  std::vector<std::vector<Patch>> arg_patches;
};

namespace {

[[noreturn]] void Fail(const std::string& path, const std::string& graph, const std::string& message) {
  throw RayccError(absl::StrCat(path, ": graph @", graph, ": ", message));
}

// A fused chain g(f(args)) as one function, registered once per chain and
// kept for the life of the process (tasks refer to it by pointer).
const RemoteFunction* FusedFunction(const std::vector<const RemoteFunction*>& chain) {
  std::vector<std::string> names;
  for (const RemoteFunction* f : chain) names.push_back(f->name);
  std::string name = absl::StrJoin(names, "+");
  RemoteRegistry& registry = RemoteRegistry::Instance();
  if (const RemoteFunction* existing = registry.FunctionByName(name)) return existing;
  RemoteFunction fused;
  fused.name = name;
  fused.arity = chain.front()->arity;
  fused.invoke = [chain](const ArgBuffers& args) {
    std::string value = chain.front()->invoke(args);
    for (size_t i = 1; i < chain.size(); ++i) value = chain[i]->invoke({value});
    return value;
  };
  registry.AddFunction("fused:" + name, std::move(fused));
  return registry.FunctionByName(name);
}

// Completes when enough of its arguments (object ids, by value) are ready.
std::string WaitFor(const ArgBuffers& args) {
  int num = internal::DecodeArg<int>(args[0]);
  int64_t timeout = internal::DecodeArg<int64_t>(args[1]);
  std::vector<ObjectId> ids;
  for (size_t i = 2; i < args.size(); ++i)
    ids.push_back(*ObjectId::FromBinary(internal::DecodeArg<std::string>(args[i])));
  internal::CurrentRuntime().Wait(ids, num, timeout);
  return Serialize(msgpack::type::nil_t());
}

const RemoteFunction& BuiltinWait() {
  static const RemoteFunction* wait = [] {
    RemoteFunction f;
    f.name = "raycc.wait";
    f.invoke = WaitFor;
    RemoteRegistry::Instance().AddFunction("builtin:raycc.wait", std::move(f));
    return RemoteRegistry::Instance().FunctionByName("raycc.wait");
  }();
  return *wait;
}

// Completes when all its (by-reference) arguments exist.
const RemoteFunction& BuiltinJoin() {
  static const RemoteFunction* join = [] {
    RemoteFunction f;
    f.name = "raycc.join";
    f.invoke = [](const ArgBuffers&) { return Serialize(msgpack::type::nil_t()); };
    RemoteRegistry::Instance().AddFunction("builtin:raycc.join", std::move(f));
    return RemoteRegistry::Instance().FunctionByName("raycc.join");
  }();
  return *join;
}

internal::CallOptions OptionsOf(const proto::ExecPlan& plan, const proto::PlanNode& node) {
  internal::CallOptions options;
  options.name = node.name();
  options.graph = plan.graph_name();
  options.plan_node = node.id();
  // Where the compiler placed it, as a preference (a node of that name may
  // not exist here); an explicit strategy in the plan wins.
  options.node_name = node.placement().node_name();
  if (node.scheduling().has_spread()) {
    options.spread = true;
    options.node_name.clear();
  } else if (node.scheduling().has_node_affinity()) {
    options.node_name = node.scheduling().node_affinity().node_name();
    options.node_soft = node.scheduling().node_affinity().soft();
  }
  options.priority = node.priority();
  options.max_retries = node.max_retries();
  options.retry_exceptions = node.retry_exceptions();
  if (node.kind() == proto::TASK) {
    options.has_resources = true;
    for (const auto& [name, units] : node.resources().quantities()) {
      options.resources.emplace_back(name, static_cast<double>(units) / FixedPoint::kScale);
    }
  }
  return options;
}

}  // namespace

/// True when a function the plan calls is not registered in this process.
bool NeedsTaskLibrary(const proto::ExecPlan& plan) {
  RemoteRegistry& registry = RemoteRegistry::Instance();
  for (const proto::PlanNode& node : plan.nodes()) {
    switch (node.kind()) {
      case proto::TASK:
        for (const auto& f : node.fused_functions()) {
          if (registry.FunctionByName(f.name()) == nullptr) return true;
        }
        if (node.fused_functions_size() == 0 && registry.FunctionByName(node.function().name()) == nullptr) {
          return true;
        }
        break;
      case proto::ACTOR_CREATE:
        if (registry.FunctionByName(node.function().name()) == nullptr) return true;
        break;
      case proto::ACTOR_CALL:
        if (registry.MethodByName(node.function().name()) == nullptr) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

/// Loads the artifact's task library once per process (by content): its
/// RAYCC_REMOTE registrations fill the registry. The library stays loaded.
void LoadTaskLibrary(const std::string& path, const proto::Artifact& artifact) {
  static std::mutex mu;
  static std::set<size_t> loaded;
  std::lock_guard<std::mutex> lock(mu);
  size_t key = std::hash<std::string>()(artifact.task_library());
  if (loaded.count(key) > 0) return;
  const char* tmp = std::getenv("TMPDIR");
  std::string file = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/raycc-task-library-XXXXXX");
  int fd = mkstemp(file.data());
  if (fd < 0) throw RayccError(absl::StrCat(path, ": cannot write its task library to ", file));
  const std::string& bytes = artifact.task_library();
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  close(fd);
  void* handle = written == bytes.size() ? dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL) : nullptr;
  std::string why = handle == nullptr ? (written == bytes.size() ? dlerror() : "short write") : "";
  unlink(file.c_str());  // the mapping outlives the name
  if (handle == nullptr) {
    throw RayccError(
        absl::StrCat(path, ": cannot load its task library ", artifact.task_library_name(), ": ", why));
  }
  loaded.insert(key);
}

Graph LoadGraph(const std::string& path, const std::string& graph_name) {
  absl::StatusOr<proto::Artifact> artifact = ReadArtifact(path);
  if (!artifact.ok()) throw RayccError(std::string(artifact.status().message()));
  const proto::ExecPlan* plan = nullptr;
  std::vector<std::string> names;
  for (const proto::ExecPlan& p : artifact->plans()) {
    names.push_back(p.graph_name());
    if (p.graph_name() == graph_name || (graph_name.empty() && artifact->plans_size() == 1)) plan = &p;
  }
  if (plan == nullptr) {
    throw RayccError(absl::StrCat(
        path, ": ",
        graph_name.empty() ? "holds several graphs; name one" : "has no graph named '" + graph_name + "'",
        " (graphs: ", absl::StrJoin(names, ", "), ")"));
  }
  const std::string& name = plan->graph_name();
  if (plan->format_version() != 1)
    Fail(path, name, absl::StrCat("plan format ", plan->format_version(), " is not supported"));
  if (!artifact->task_library().empty() && NeedsTaskLibrary(*plan)) LoadTaskLibrary(path, *artifact);
  auto state = std::make_shared<Graph::State>();
  state->plan = *plan;
  RemoteRegistry& registry = RemoteRegistry::Instance();
  for (int i = 0; i < plan->nodes_size(); ++i) {
    const proto::PlanNode& node = plan->nodes(i);
    if (node.id() != static_cast<uint32_t>(i))
      Fail(path, name, absl::StrCat("node ", i, " has id ", node.id()));
    for (const proto::PlanOperand& operand : node.operands()) {
      if (operand.has_node_result() && operand.node_result().node() >= static_cast<uint32_t>(i)) {
        Fail(path, name,
             absl::StrCat("node ", i, " uses node ", operand.node_result().node(),
                          ", which does not come before it"));
      }
      if (operand.has_graph_input() && operand.graph_input() >= static_cast<uint32_t>(plan->inputs_size())) {
        Fail(path, name,
             absl::StrCat("node ", i, " uses input ", operand.graph_input(), ", which does not exist"));
      }
    }
    const RemoteFunction* function = nullptr;
    const RemoteMethod* method = nullptr;
    auto lookup = [&](const std::string& fn) {
      const RemoteFunction* f = registry.FunctionByName(fn);
      if (f == nullptr) {
        Fail(path, name,
             absl::StrCat("node ", i, " calls '", fn,
                          "', which is not registered in this process (RAYCC_REMOTE)"));
      }
      return f;
    };
    switch (node.kind()) {
      case proto::TASK:
        if (node.fused_functions_size() > 0) {
          std::vector<const RemoteFunction*> chain;
          for (const auto& f : node.fused_functions()) chain.push_back(lookup(f.name()));
          function = FusedFunction(chain);
        } else {
          function = lookup(node.function().name());
        }
        break;
      case proto::ACTOR_CREATE:
        function = lookup(node.function().name());
        break;
      case proto::ACTOR_CALL:
        method = registry.MethodByName(node.function().name());
        if (method == nullptr) {
          Fail(path, name,
               absl::StrCat("node ", i, " calls method '", node.function().name(),
                            "', which is not registered in this process (RAYCC_REMOTE)"));
        }
        break;
      case proto::ACTOR_KILL:
        break;
      case proto::PUT:
      case proto::GET:
        if (node.operands_size() != 1) {
          Fail(path, name,
               absl::StrCat("node ", i, " (put/get) has ", node.operands_size(), " operands, not 1"));
        }
        break;
      case proto::WAIT:
      case proto::JOIN:
        break;
      default:
        Fail(path, name, absl::StrCat("node ", i, " has an unknown kind ", node.kind()));
    }
    if (node.kind() == proto::ACTOR_CALL || node.kind() == proto::ACTOR_KILL) {
      const proto::PlanOperand* actor = node.operands_size() > 0 ? &node.operands(0) : nullptr;
      bool created = actor != nullptr && actor->has_node_result() &&
                     plan->nodes(actor->node_result().node()).kind() == proto::ACTOR_CREATE;
      bool input = actor != nullptr && actor->has_graph_input() &&
                   absl::StartsWith(plan->inputs(actor->graph_input()).type().ir_type(), "!ray.actor<");
      if (!created && !input) {
        Fail(path, name,
             absl::StrCat("node ", i,
                          " acts on something that is neither an actor the graph creates nor an "
                          "actor input"));
      }
    }
    state->functions.push_back(function);
    state->methods.push_back(method);
  }
  for (const proto::PlanOutput& out : plan->outputs()) {
    const proto::PlanOperand& v = out.value();
    bool ok = v.has_node_result()
                  ? v.node_result().node() < static_cast<uint32_t>(plan->nodes_size())
                  : !v.has_graph_input() || v.graph_input() < static_cast<uint32_t>(plan->inputs_size());
    if (!ok || (!v.has_node_result() && !v.has_graph_input())) {
      Fail(path, name, absl::StrCat("output '", out.name(), "' refers to no node or input of the plan"));
    }
  }
  std::map<std::vector<std::pair<std::string, double>>, int> seen;
  for (const proto::PlanNode& node : plan->nodes()) {
    state->options.push_back(OptionsOf(*plan, node));
    int index = -1;
    if (node.kind() == proto::TASK) {
      auto [it, added] = seen.try_emplace(state->options.back().resources, static_cast<int>(seen.size()));
      if (added) state->demands.push_back(it->first);
      index = it->second;
    }
    state->demand.push_back(index);
  }
  // A task's result that only tasks of its own batch (a run of consecutive
  // tasks) use is released to the runtime with the batch: freed once those
  // tasks are done. Kept are the outputs, and results that anything else
  // uses (later batches, actor calls, waits that watch them by id).
  std::vector<bool>& kept = state->kept;
  kept.assign(plan->nodes_size(), false);
  std::vector<int> run(plan->nodes_size(), -1);
  std::vector<int> in_run(plan->nodes_size(), -1);  // position inside its run
  for (int i = 0, r = 0, k = 0; i < plan->nodes_size(); ++i) {
    if (plan->nodes(i).kind() == proto::TASK) {
      run[i] = r;
      in_run[i] = k++;
    } else {
      ++r;
      k = 0;
    }
  }
  // Each task's arguments, as far as they are known before an execution:
  // constants, and results of tasks of its own batch (by position). The rest
  // (graph inputs, results of earlier batches) are patched in by Execute.
  state->arg_template.resize(plan->nodes_size());
  state->arg_patches.resize(plan->nodes_size());
  for (int i = 0; i < plan->nodes_size(); ++i) {
    const proto::PlanNode& node = plan->nodes(i);
    if (node.kind() != proto::TASK) continue;
    std::vector<TaskArgument>& args = state->arg_template[i];
    for (int k = 0; k < node.operands_size(); ++k) {
      const proto::PlanOperand& operand = node.operands(k);
      TaskArgument arg;
      if (operand.has_graph_input()) {
        state->arg_patches[i].push_back({k, true, static_cast<int>(operand.graph_input())});
      } else if (operand.has_node_result()) {
        int producer = static_cast<int>(operand.node_result().node());
        arg.by_ref = true;
        if (run[producer] == run[i]) {
          arg.batch_index = in_run[producer];
        } else {
          state->arg_patches[i].push_back({k, false, producer});
        }
      } else {
        arg.value = operand.constant();
      }
      args.push_back(std::move(arg));
    }
  }
  for (const proto::PlanOutput& out : plan->outputs())
    if (out.value().has_node_result()) kept[out.value().node_result().node()] = true;
  for (int i = 0; i < plan->nodes_size(); ++i) {
    for (const auto& operand : plan->nodes(i).operands()) {
      if (!operand.has_node_result()) continue;
      int producer = operand.node_result().node();
      if (run[i] < 0 || run[i] != run[producer]) kept[producer] = true;
    }
  }
  Graph graph;
  graph.state_ = std::move(state);
  return graph;
}

const std::string& Graph::name() const { return state_->plan.graph_name(); }
size_t Graph::size() const { return state_->plan.nodes_size(); }

std::vector<std::pair<std::string, std::string>> Graph::inputs() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const proto::PlanInput& in : state_->plan.inputs()) out.emplace_back(in.name(), in.type().ir_type());
  return out;
}

GraphOutputs Graph::Execute(const std::map<std::string, GraphInput>& inputs) const {
  const proto::ExecPlan& plan = state_->plan;
  internal::RuntimeInterface& runtime = internal::CurrentRuntime();
  std::vector<const GraphInput*> bound;
  for (const proto::PlanInput& in : plan.inputs()) {
    auto it = inputs.find(in.name());
    if (it == inputs.end()) {
      throw RayccError(absl::StrCat("graph @", plan.graph_name(), ": input '", in.name(), "' is not given"));
    }
    bool wants_actor = absl::StartsWith(in.type().ir_type(), "!ray.actor<");
    if (wants_actor != it->second.is_actor()) {
      throw RayccError(absl::StrCat(
          "graph @", plan.graph_name(), ": input '", in.name(), "' ",
          wants_actor ? "is an actor: pass an ActorHandle" : "is an object: pass an ObjectRef or a value",
          " (", in.type().ir_type(), ")"));
    }
    bound.push_back(&it->second);
  }
  for (const auto& [input_name, value] : inputs) {
    bool known = false;
    for (const proto::PlanInput& in : plan.inputs()) known |= in.name() == input_name;
    if (!known)
      throw RayccError(absl::StrCat("graph @", plan.graph_name(), " has no input named '", input_name, "'"));
  }
  // What each node made: an object, or (actor creation) an actor.
  std::vector<ObjectId> objects(plan.nodes_size());
  std::vector<ActorId> actors(plan.nodes_size());
  auto argument = [&](const proto::PlanOperand& operand) {
    TaskArgument arg;
    if (operand.has_graph_input()) {
      const GraphInput& in = *bound[operand.graph_input()];
      arg.by_ref = in.by_ref();
      arg.ref = in.ref();
      arg.value = in.value();
    } else if (operand.has_node_result()) {
      arg.by_ref = true;
      arg.ref = objects[operand.node_result().node()];
    } else {
      arg.value = operand.constant();
    }
    return arg;
  };
  // The actor an operand names: created by the graph, or given as an input.
  auto actor_of = [&](const proto::PlanOperand& operand) -> const ActorId& {
    if (operand.has_node_result()) return actors[operand.node_result().node()];
    return bound[operand.graph_input()]->actor();
  };
  // What the runtime returns comes with a reference for us (see
  // RuntimeInterface): held here until Execute returns.
  std::vector<std::shared_ptr<internal::ObjectRefHandle>> counted;
  auto keep = [&](std::shared_ptr<internal::ObjectRefHandle> handle) {
    ObjectId id = handle->id();
    counted.push_back(std::move(handle));
    return id;
  };
  auto adopt = [&](const ObjectId& id) {
    return keep(std::make_shared<internal::ObjectRefHandle>(id, internal::ObjectRefHandle::Adopt{}));
  };
  std::vector<bool> adopted(plan.nodes_size(), false);
  std::vector<ObjectId> watched;  // what wait nodes watch
  auto ref_of = [&](const proto::PlanOperand& operand) {
    TaskArgument arg = argument(operand);
    return arg.by_ref ? arg.ref : adopt(runtime.Put(arg.value));
  };
  const std::vector<bool>& kept = state_->kept;
  std::vector<bool> released(plan.nodes_size(), false);
  // Runs of consecutive tasks are submitted as one batch; a task in the
  // batch refers to an earlier one by its position.
  std::vector<internal::BatchedTask> batch;
  std::vector<int> batch_nodes;
  batch.reserve(plan.nodes_size());
  batch_nodes.reserve(plan.nodes_size());
  auto flush = [&] {
    if (batch.empty()) return;
    std::vector<ObjectId> ids = runtime.SubmitTasks(std::move(batch), state_->demands);
    for (size_t k = 0; k < ids.size(); ++k) {
      objects[batch_nodes[k]] = ids[k];
    }
    batch.clear();
    batch_nodes.clear();
  };
  for (int i = 0; i < plan.nodes_size(); ++i) {
    const proto::PlanNode& node = plan.nodes(i);
    std::vector<TaskArgument> args;
    if (node.kind() != proto::TASK) {
      flush();
      args.reserve(node.operands_size());
    }
    switch (node.kind()) {
      case proto::TASK: {
        args = state_->arg_template[i];
        for (const State::Patch& patch : state_->arg_patches[i]) {
          TaskArgument& arg = args[patch.arg];
          if (patch.input) {
            const GraphInput& in = *bound[patch.source];
            arg.by_ref = in.by_ref();
            arg.ref = in.ref();
            arg.value = in.value();
          } else {
            arg.ref = objects[patch.source];
          }
        }
        batch_nodes.push_back(i);
        batch.push_back(
            {state_->functions[i], std::move(args), &state_->options[i], state_->demand[i], !kept[i]});
        released[i] = !kept[i];
        break;
      }
      case proto::ACTOR_CREATE: {
        for (const auto& operand : node.operands()) args.push_back(argument(operand));
        internal::ActorOptions options;
        options.call = state_->options[i];
        options.max_restarts = node.actor().max_restarts();
        options.max_concurrency = std::max(1, node.actor().max_concurrency());
        options.name = node.actor().name();
        actors[i] = runtime.CreateActor(*state_->functions[i], std::move(args), options);
        break;
      }
      case proto::ACTOR_CALL: {
        const ActorId& actor = actor_of(node.operands(0));
        for (int k = 1; k < node.operands_size(); ++k) args.push_back(argument(node.operands(k)));
        objects[i] =
            adopt(runtime.SubmitActorTask(actor, *state_->methods[i], std::move(args), state_->options[i]));
        adopted[i] = true;
        break;
      }
      case proto::ACTOR_KILL:
        runtime.KillActor(actor_of(node.operands(0)), /*no_restart=*/true);
        objects[i] = adopt(runtime.Put(Serialize(msgpack::type::nil_t())));
        adopted[i] = true;
        break;
      case proto::PUT:
        objects[i] = ref_of(node.operands(0));
        break;
      case proto::GET:
        // A get inside a graph is the value of the object: the same object.
        objects[i] = ref_of(node.operands(0));
        break;
      case proto::JOIN: {
        for (const auto& operand : node.operands()) args.push_back(argument(operand));
        internal::CallOptions none;
        none.has_resources = true;
        objects[i] = keep(runtime.SubmitTask(BuiltinJoin(), std::move(args), none));
        adopted[i] = true;
        break;
      }
      case proto::WAIT: {
        args.push_back({false, {}, Serialize(static_cast<int>(node.wait().num_returns()))});
        args.push_back({false, {}, Serialize(static_cast<int64_t>(node.wait().timeout_ms()))});
        for (const auto& operand : node.operands()) {
          ObjectId id = ref_of(operand);
          watched.push_back(id);  // (by id: kept alive with the outputs)
          args.push_back({false, {}, Serialize(id.Binary())});
        }
        internal::CallOptions none;
        none.has_resources = true;
        objects[i] = keep(runtime.SubmitTask(BuiltinWait(), std::move(args), none));
        adopted[i] = true;
        break;
      }
      default:
        break;
    }
  }
  flush();
  GraphOutputs outputs;
  for (const proto::PlanOutput& out : plan.outputs()) outputs.outputs_[out.name()] = ref_of(out.value());
  // Count what the caller may still read (`kept`). Every other object of the
  // graph is counted too (a reference made and dropped), and freed as soon
  // as the tasks that use it are done; released task results are already.
  for (int i = 0; i < plan.nodes_size(); ++i) {
    if (!objects[i].IsNil() && !released[i] && !adopted[i])
      counted.push_back(std::make_shared<internal::ObjectRefHandle>(objects[i]));
  }
  for (const auto& [name, id] : outputs.outputs_)
    outputs.keep_.push_back(std::make_shared<internal::ObjectRefHandle>(id));
  for (const ObjectId& id : watched) outputs.keep_.push_back(std::make_shared<internal::ObjectRefHandle>(id));
  return outputs;
}

}  // namespace raycc
