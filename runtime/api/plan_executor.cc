// LoadGraph and Graph::Execute: an ExecPlan run on the current runtime.
//
// Nodes are submitted in plan order (a topological order), each operand
// pre-wired to the object of the node that makes it. Fused chains run as one
// task. Every compiler decision is kept:
// - placement groups: each Execute creates the plan's groups and waits until
//   all are reserved (an infeasible group is an InfeasibleError, one not
//   reserved within RAYCC_PLACEMENT_GROUP_TIMEOUT_MS a RayccError) before
//   anything is submitted; tasks and actors run in their bundles; the
//   groups are removed once the work in them is settled (a builtin task of
//   the run waits for it), or at once when Execute fails;
// - placement (PlanPlacement.node_name): a hard constraint on a runtime that
//   has every node the plan names, else a preference, said once per LoadGraph;
// - actor resources: held while the actor lives, which ends with the run
//   (once the calls on it are settled): nothing outside holds its handle;
// - control dependencies: a kill waits for the calls before it; calls on a
//   sequential actor are ordered by the actor; any other dependency through
//   a gate, a builtin task that completes once the dependencies are settled
//   (made or failed), taken as one more (ignored) argument.
//
// A GraphRunner (Graph::Prepare, Graph::Run) executes the plan many times:
// its first execution makes the groups and actors, which the later ones
// reuse (Graph::Persistent), skipping what only feeds actor constructors;
// at most max_inflight executions are unsettled at once; Close ends the
// actors and removes the groups.

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "raycc/api.h"
#include "raycc/proto/artifact.pb.h"
#include "raycc/proto/exec_plan.pb.h"
#include "raycc/runtime/common/artifact_file.h"
#include "raycc/runtime/common/resource_set.h"
#include "rpc/content_hash.h"
#include "scheduling/label_selector.h"

namespace raycc {

using internal::ArgBuffers;
using internal::RemoteFunction;
using internal::RemoteMethod;
using internal::RemoteRegistry;
using internal::TaskArgument;

struct Graph::State {
  proto::ExecPlan plan;
  // The artifact's task library, when this process loaded it for the plan:
  // a runtime with worker processes ships it to them (once per runtime).
  std::shared_ptr<const std::string> task_library;
  std::string artifact_path;
  mutable std::mutex shipped_mu;
  mutable const internal::RuntimeInterface* shipped_to = nullptr;
  // Per node: what it calls (null when not a call).
  std::vector<const RemoteFunction*> functions;
  std::vector<const RemoteMethod*> methods;
  // Prepared once: each node's call options and, for tasks, the index of its
  // resource set in `demands` (tasks of a graph share a few).
  std::vector<internal::CallOptions> options;
  std::vector<int> demand;
  std::vector<std::vector<std::pair<std::string, double>>> demands;
  // Per node: a map whose shards another map reads shard by shard (their
  // results are kept, one object each, for the execution), and a map whose
  // whole vector something reads (an operand, an output, a gate, or nothing
  // at all: then its end is waited for): only then is it gathered.
  std::vector<bool> shard_read, whole_read;
  // The resource set that asks for nothing (a map's gather: shards holding
  // every CPU, in a group or not, never keep it from running).
  int no_demand = -1;
  // Per node: its result is read after the batch it is submitted in (see
  // LoadGraph); the others are released to the runtime with their batch.
  std::vector<bool> kept;
  // Per node: nothing waits for it to settle (no node takes its result or
  // is ordered after it; a wait node, which may settle first, does not
  // count), and it is no output (its reader sees how it failed).
  // GraphOutputs::Wait waits for these and the outputs: every other node
  // settles before one of them starts. `sink_name` names each in a failure.
  std::vector<bool> sink;
  std::vector<std::string> sink_name;
  // Per task node: its arguments prepared once, and where Execute fills in
  // the rest (an input, or the result of a node of an earlier batch).
  struct Patch {
    int arg;
    bool input;
    int source;
  };
  std::vector<std::vector<internal::TaskArgument>> arg_template;
  std::vector<std::vector<Patch>> arg_patches;
  // Per node: its placement group (index into plan.placement_groups, -1:
  // none) and bundle (-1: any).
  std::vector<int> group;
  std::vector<int> bundle;
  // Per grouped actor creation and the calls on such actors: what the
  // removal of an execution's groups waits for (besides grouped tasks).
  std::vector<bool> uses_group;
  // Per node: the control dependencies nothing else orders it after (see
  // LoadGraph), which it waits for through a gate; a task with any starts
  // a new batch.
  std::vector<std::vector<int>> gates;
  std::vector<bool> breaks;
  // The compiler's placement (PlanPlacement.node_name), settled against the
  // runtime the graph first runs on: the options Execute submits with.
  struct Placed {
    const void* runtime = nullptr;
    std::vector<internal::CallOptions> options;
    // The runtime has every node the plan names: the compiler's placement
    // (of nodes and of group bundles) is hard.
    bool hard = false;
  };
  mutable std::mutex placed_mu;
  mutable std::shared_ptr<const Placed> placed;
  mutable std::atomic<bool> warned{false};
  // Per node: it only feeds actor constructors (an actor's creation, or a
  // task, actor call, put, get or join that some node reads or is gated
  // after, and only such nodes). A GraphRunner's later executions skip
  // these: their actors are the first execution's. (So a node they run has
  // a reader or a gate they run too, or is an output or a sink:
  // GraphOutputs::Wait covers it, unless a reader is a call on a dead actor,
  // which fails at once.)
  std::vector<bool> setup_only;
  // The plan kills an actor (Execute then notes the calls before a kill).
  bool has_kill = false;
};

// A GraphRunner's executions share, once the first has made them, the
// placement groups (reserved) and the actors.
struct Graph::Persistent {
  bool made = false;  // the first execution was submitted
  std::vector<PlacementGroupId> groups;
  std::vector<internal::CallOptions> in_groups;  // the options, in those groups
  std::vector<ActorId> actors;                   // per node: the actor it made (nil: none)
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

// Ids passed by value (args[from...]), as the builtins below take them.
std::vector<ObjectId> IdsOf(const ArgBuffers& args, size_t from) {
  std::vector<ObjectId> ids;
  for (size_t i = from; i < args.size(); ++i)
    ids.push_back(*ObjectId::FromBinary(internal::DecodeArg<std::string>(args[i])));
  return ids;
}

// Waits until every object of `ids` is settled (made or failed).
void WaitAll(internal::RuntimeInterface& runtime, const std::vector<ObjectId>& ids) {
  if (!ids.empty()) runtime.Wait(ids, static_cast<int>(ids.size()), -1);
}

// A map's operand given by value up to this size is copied into each
// shard's call; a larger one is put once and passed by reference.
constexpr size_t kMapInlineBytes = 256;

// Registers a builtin task under `name` (the plan executor's own work, not
// the user's); call once per builtin and keep the result.
const RemoteFunction* RegisterBuiltin(const std::string& name,
                                      std::function<std::string(const ArgBuffers&)> invoke) {
  RemoteFunction f;
  f.name = name;
  f.arity = RemoteFunction::kAnyArity;
  f.invoke = std::move(invoke);
  RemoteRegistry::Instance().AddFunction("builtin:" + name, std::move(f));
  return RemoteRegistry::Instance().FunctionByName(name);
}

// Completes when enough of its arguments (object ids, by value) are ready.
std::string WaitFor(const ArgBuffers& args) {
  int num = internal::DecodeArg<int>(args[0]);
  int64_t timeout = internal::DecodeArg<int64_t>(args[1]);
  size_t count = static_cast<size_t>(internal::DecodeArg<int>(args[2]));
  std::vector<ObjectId> ids = IdsOf(args, 3);
  if (ids.size() > count) ids.resize(count);
  internal::CurrentRuntime().Wait(ids, num, timeout);
  return Serialize(msgpack::type::nil_t());
}

const RemoteFunction& BuiltinWait() {
  static const RemoteFunction* wait = RegisterBuiltin("raycc.wait", WaitFor);
  return *wait;
}

// Kills an actor once the calls ordered before the kill are done: args[0]
// is the actor's id, the rest the ids of those calls' results (kept alive by
// the argument as contained references).
std::string KillAfter(const ArgBuffers& args) {
  ActorId actor = *ActorId::FromBinary(internal::DecodeArg<std::string>(args[0]));
  internal::RuntimeInterface& runtime = internal::CurrentRuntime();
  WaitAll(runtime, IdsOf(args, 1));
  runtime.KillActor(actor, /*no_restart=*/true);
  return Serialize(msgpack::type::nil_t());
}

const RemoteFunction& BuiltinKillAfter() {
  static const RemoteFunction* kill = RegisterBuiltin("raycc.kill_actor", KillAfter);
  return *kill;
}

// A gate: completes (nil) once every object it names is settled, made or
// failed. A node with control dependencies takes it as one more by-reference
// argument, so it runs only after them, and their failures stay theirs.
const RemoteFunction& BuiltinAfter() {
  static const RemoteFunction* after = RegisterBuiltin("raycc.after", [](const ArgBuffers& args) {
    WaitAll(internal::CurrentRuntime(), IdsOf(args, 0));
    return Serialize(msgpack::type::nil_t());
  });
  return *after;
}

// Ends an execution once its work is settled, in two steps: once the work
// in its placement groups is settled it removes them; once the calls on the
// actors it created are, it kills those (nothing outside the run holds their
// handles; their resources come back). Not both at once: an actor outside
// the groups may be waiting for room the groups hold. args: the number of
// groups, of actors, of objects of the first step; then the group ids, the
// actor ids, the first step's objects, the second's (all kept alive by the
// first argument as contained references).
const RemoteFunction& BuiltinFinishRun() {
  static const RemoteFunction* finish = RegisterBuiltin("raycc.finish_run", [](const ArgBuffers& args) {
    size_t groups = internal::DecodeArg<int>(args[0]);
    size_t actors = internal::DecodeArg<int>(args[1]);
    size_t first = internal::DecodeArg<int>(args[2]);
    std::vector<ObjectId> ids = IdsOf(args, 3 + groups + actors);
    internal::RuntimeInterface& runtime = internal::CurrentRuntime();
    WaitAll(runtime, std::vector<ObjectId>(ids.begin(), ids.begin() + first));
    for (size_t g = 0; g < groups; ++g)
      runtime.RemovePlacementGroup(
          *PlacementGroupId::FromBinary(internal::DecodeArg<std::string>(args[3 + g])));
    WaitAll(runtime, std::vector<ObjectId>(ids.begin() + first, ids.end()));
    for (size_t a = 0; a < actors; ++a)
      runtime.KillActor(*ActorId::FromBinary(internal::DecodeArg<std::string>(args[3 + groups + a])),
                        /*no_restart=*/true);
    return Serialize(msgpack::type::nil_t());
  });
  return *finish;
}

// Completes when all its (by-reference) arguments exist.
const RemoteFunction& BuiltinJoin() {
  static const RemoteFunction* join =
      RegisterBuiltin("raycc.join", [](const ArgBuffers&) { return Serialize(msgpack::type::nil_t()); });
  return *join;
}

// A map's result: the std::vector of its shards' results, in shard order.
// Each argument is one shard's msgpack bytes, so the vector's are an array
// header and those bytes one after another (whatever the element type).
const RemoteFunction& BuiltinGather() {
  static const RemoteFunction* gather = RegisterBuiltin("raycc.gather", [](const ArgBuffers& args) {
    msgpack::sbuffer header;
    msgpack::packer<msgpack::sbuffer>(header).pack_array(static_cast<uint32_t>(args.size()));
    size_t size = header.size();
    for (const internal::ArgView& arg : args) size += arg.bytes.size();
    std::string out;
    out.reserve(size);
    out.append(header.data(), header.size());
    for (const internal::ArgView& arg : args) out.append(arg.bytes);
    return out;
  });
  return *gather;
}

// Every process that loads the runtime has the builtins a plan may use: a
// cluster's workers look a task's function up by name, and they never run
// a plan themselves.
[[maybe_unused]] const bool kBuiltinsRegistered = [] {
  BuiltinWait();
  BuiltinKillAfter();
  BuiltinAfter();
  BuiltinFinishRun();
  BuiltinJoin();
  BuiltinGather();
  return true;
}();

internal::CallOptions OptionsOf(const proto::ExecPlan& plan, const proto::PlanNode& node) {
  internal::CallOptions options;
  options.name = node.name();
  options.graph = plan.graph_name();
  options.plan_node = node.id();
  // (Where the compiler placed it is settled per runtime: PlacedOptions.)
  for (const auto& [key, spec] : node.scheduling().label_selector()) options.label_selector[key] = spec;
  if (node.scheduling().has_spread()) {
    options.spread = true;
  } else if (node.scheduling().has_node_affinity()) {
    options.node_name = node.scheduling().node_affinity().node_name();
    options.node_soft = node.scheduling().node_affinity().soft();
  }
  options.priority = node.priority();
  options.max_retries = node.max_retries();
  options.retry_exceptions = node.retry_exceptions();
  // Tasks ask what the plan says; so do actors, when the plan gives them
  // any (held while they live, which ends with the run: Execute).
  if (node.kind() == proto::TASK || node.kind() == proto::MAP ||
      (node.kind() == proto::ACTOR_CREATE && !node.resources().quantities().empty())) {
    options.has_resources = true;
    for (const auto& [name, units] : node.resources().quantities()) {
      options.resources.emplace_back(name, static_cast<double>(units) / FixedPoint::kScale);
    }
  }
  return options;
}

// The node the compiler placed `node` on, when that is all that decides
// where it runs (no strategy of the user's, no placement group).
const std::string& CompilerNode(const proto::PlanNode& node) {
  static const std::string none;
  const proto::PlanScheduling& s = node.scheduling();
  if (s.has_spread() || s.has_node_affinity() || s.has_placement_group()) return none;
  switch (node.kind()) {
    case proto::TASK:
    case proto::ACTOR_CREATE:
      return node.placement().node_name();
    default:
      return none;
  }
}

// Whether the runtime has a node named `name`: a call that must run there
// and asks for nothing is refused (InfeasibleError) when it has not.
bool HasNode(internal::RuntimeInterface& runtime, const std::string& name) {
  internal::CallOptions only;
  only.has_resources = true;
  only.node_name = name;
  only.node_soft = false;
  only.name = "raycc.probe";
  try {
    runtime.SubmitTask(BuiltinJoin(), {}, only);
    return true;
  } catch (const InfeasibleError&) {
    return false;
  }
}

// The graph's call options on `runtime`: the compiler's placement is a hard
// constraint when the runtime has every node the plan names (the cluster it
// was compiled for), else a preference for the named nodes it has, with one
// warning per LoadGraph.
std::shared_ptr<const Graph::State::Placed> PlacedOptions(const Graph::State& state,
                                                          internal::RuntimeInterface& runtime) {
  std::lock_guard<std::mutex> lock(state.placed_mu);
  if (state.placed && state.placed->runtime == &runtime) return state.placed;
  auto placed = std::make_shared<Graph::State::Placed>();
  placed->runtime = &runtime;
  placed->options = state.options;
  const proto::ExecPlan& plan = state.plan;
  std::map<std::string, bool> exists;
  for (const proto::PlanNode& node : plan.nodes())
    if (const std::string& n = CompilerNode(node); !n.empty()) exists.emplace(n, false);
  for (const proto::PlanPlacementGroup& pg : plan.placement_groups())
    for (const std::string& n : pg.bundle_nodes()) exists.emplace(n, false);
  std::vector<std::string> missing;
  for (auto& [name, here] : exists) {
    here = HasNode(runtime, name);
    if (!here) missing.push_back(name);
  }
  for (int i = 0; i < plan.nodes_size(); ++i) {
    const std::string& n = CompilerNode(plan.nodes(i));
    if (n.empty() || !exists[n]) continue;
    placed->options[i].node_name = n;
    placed->options[i].node_soft = !missing.empty();
  }
  placed->hard = missing.empty();
  if (!missing.empty() && !state.warned.exchange(true)) {
    std::cerr << "raycc: graph @" << plan.graph_name() << " was placed for cluster '"
              << (plan.cluster_name().empty() ? "?" : plan.cluster_name())
              << "', but this runtime has no node named " << absl::StrJoin(missing, ", ")
              << ": its placement is only a preference here\n";
  }
  state.placed = placed;
  return placed;
}

internal::PlacementGroupStrategy StrategyOf(proto::PlacementStrategy s) {
  switch (s) {
    case proto::SPREAD:
      return internal::PlacementGroupStrategy::kSpread;
    case proto::STRICT_PACK:
      return internal::PlacementGroupStrategy::kStrictPack;
    case proto::STRICT_SPREAD:
      return internal::PlacementGroupStrategy::kStrictSpread;
    default:
      return internal::PlacementGroupStrategy::kPack;
  }
}

// How long Execute waits for a feasible placement group to be reserved
// (others may hold the room it needs): RAYCC_PLACEMENT_GROUP_TIMEOUT_MS,
// else a minute.
int64_t GroupTimeoutMs() {
  const char* v = std::getenv("RAYCC_PLACEMENT_GROUP_TIMEOUT_MS");
  if (v == nullptr || *v == '\0') return 60000;
  return std::strtoll(v, nullptr, 10);
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
      case proto::MAP:
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
  if (!artifact.task_library_sha256().empty()) {
    // Before dlopen: a damaged library's initializers would run (and may
    // crash) as it loads.
    const std::string sha256 = rpc::Sha256Hex(artifact.task_library());
    if (sha256 != artifact.task_library_sha256()) {
      throw RayccError(absl::StrCat(path, ": cannot load its task library ", artifact.task_library_name(),
                                    ": it is damaged (its SHA-256 is ", sha256, ", the artifact records ",
                                    artifact.task_library_sha256(), ")"));
    }
  }
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
  auto state = std::make_shared<Graph::State>();
  if (!artifact->task_library().empty() && NeedsTaskLibrary(*plan)) {
    LoadTaskLibrary(path, *artifact);
    state->task_library = std::make_shared<const std::string>(artifact->task_library());
    state->artifact_path = path;
  }
  state->plan = *plan;
  state->shard_read.assign(plan->nodes_size(), false);
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
      if (absl::StartsWith(fn, "raycc.")) {  // (the executor's own builtins take what it gives them)
        Fail(path, name, absl::StrCat("node ", i, " calls '", fn, "', a name reserved for the runtime"));
      }
      const RemoteFunction* f = registry.FunctionByName(fn);
      if (f == nullptr) {
        Fail(path, name,
             absl::StrCat("node ", i, " calls '", fn,
                          "', which is not registered in this process (RAYCC_REMOTE)"));
      }
      return f;
    };
    // A callee gets exactly the arguments it takes: a plan that gives it
    // more or fewer is refused here (the call would read past them).
    auto check_arity = [&](const std::string& callee, size_t takes, size_t given) {
      if (takes != given) {
        Fail(path, name,
             absl::StrCat("node ", i, " calls '", callee, "', which takes ", takes, " argument(s), with ",
                          given));
      }
    };
    const size_t operands = static_cast<size_t>(node.operands_size());
    switch (node.kind()) {
      case proto::TASK:
        if (node.fused_functions_size() > 0) {
          std::vector<const RemoteFunction*> chain;
          for (const auto& f : node.fused_functions()) {
            chain.push_back(lookup(f.name()));
            if (!chain.back()->invoke) {
              Fail(path, name,
                   absl::StrCat("node ", i, " fuses '", f.name(), "', which is not a task function"));
            }
            // (Each function after the first takes the one before's result.)
            if (chain.size() > 1) check_arity(f.name(), chain.back()->arity, 1);
          }
          check_arity(chain.front()->name, chain.front()->arity, operands);
          function = FusedFunction(chain);
        } else {
          function = lookup(node.function().name());
          if (!function->invoke) {
            Fail(path, name,
                 absl::StrCat("node ", i, " calls '", function->name,
                              "' as a task, but it is an actor factory"));
          }
          check_arity(function->name, function->arity, operands);
        }
        break;
      case proto::MAP:
        if (node.shards() < 1 || node.shards() > kMaxMapShards) {
          Fail(path, name,
               absl::StrCat("node ", i, " maps over ", node.shards(), " shards (1 to ", kMaxMapShards, ")"));
        }
        function = lookup(node.function().name());
        if (!function->invoke) {
          Fail(path, name,
               absl::StrCat("node ", i, " maps '", function->name,
                            "', which is an actor factory, not a task"));
        }
        // (Shard i calls it with i, then the operands.)
        check_arity(function->name, function->arity, operands + 1);
        for (uint32_t k : node.per_shard()) {
          const proto::PlanOperand* operand = k < operands ? &node.operands(k) : nullptr;
          const proto::PlanNode* producer = operand != nullptr && operand->has_node_result() &&
                                                    operand->node_result().node() < static_cast<uint32_t>(i)
                                                ? &plan->nodes(operand->node_result().node())
                                                : nullptr;
          if (producer == nullptr || producer->kind() != proto::MAP || producer->shards() != node.shards()) {
            Fail(path, name,
                 absl::StrCat("node ", i, " takes operand ", k,
                              " shard by shard, but it is not the result of an earlier map of ",
                              node.shards(), " shards"));
          }
          state->shard_read[operand->node_result().node()] = true;
        }
        if (!function->arg_types.empty() && *function->arg_types[0] != typeid(int64_t)) {
          Fail(path, name,
               absl::StrCat("node ", i, " maps '", function->name,
                            "', whose first parameter is not the shard index (int64_t)"));
        }
        break;
      case proto::ACTOR_CREATE:
        function = lookup(node.function().name());
        if (!function->create) {
          Fail(path, name,
               absl::StrCat("node ", i, " creates an actor with '", function->name,
                            "', which is not an actor factory (a static C* C::Create(...))"));
        }
        check_arity(function->name, function->arity, operands);
        break;
      case proto::ACTOR_CALL:
        method = registry.MethodByName(node.function().name());
        if (method == nullptr) {
          Fail(path, name,
               absl::StrCat("node ", i, " calls method '", node.function().name(),
                            "', which is not registered in this process (RAYCC_REMOTE)"));
        }
        if (operands == 0) Fail(path, name, absl::StrCat("node ", i, " calls a method on no actor"));
        check_arity(method->name, method->arity, operands - 1);  // (operand 0: the actor)
        break;
      case proto::ACTOR_KILL:
        if (operands != 1) {
          Fail(path, name, absl::StrCat("node ", i, " (an actor kill) has ", operands, " operands, not 1"));
        }
        break;
      case proto::PUT:
      case proto::GET:
        if (node.operands_size() != 1) {
          Fail(path, name,
               absl::StrCat("node ", i, " (put/get) has ", node.operands_size(), " operands, not 1"));
        }
        break;
      case proto::WAIT:
        if (node.wait().num_returns() < 1 || node.wait().num_returns() > operands) {
          Fail(path, name,
               absl::StrCat("node ", i, " waits for ", node.wait().num_returns(), " of its ", operands,
                            " operands (at least 1, at most all)"));
        }
        break;
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
  for (const proto::PlanPlacementGroup& pg : plan->placement_groups()) {
    if (pg.bundles_size() == 0)
      Fail(path, name, absl::StrCat("placement group ", pg.index(), " has no bundles"));
  }
  // Placement groups: which group and bundle each node runs in.
  state->group.assign(plan->nodes_size(), -1);
  state->bundle.assign(plan->nodes_size(), -1);
  state->uses_group.assign(plan->nodes_size(), false);
  for (int i = 0; i < plan->nodes_size(); ++i) {
    const proto::PlanNode& node = plan->nodes(i);
    if (!node.scheduling().label_selector().empty()) {
      std::map<std::string, std::string> selector(node.scheduling().label_selector().begin(),
                                                  node.scheduling().label_selector().end());
      if (absl::StatusOr<scheduling::LabelSelector> parsed = scheduling::ParseLabelSelector(selector);
          !parsed.ok()) {
        Fail(path, name, absl::StrCat("node ", i, ": ", parsed.status().message()));
      }
      if (node.scheduling().has_placement_group())
        Fail(path, name, absl::StrCat("node ", i, " runs in a placement group and has a label selector"));
      if (node.kind() != proto::TASK && node.kind() != proto::MAP && node.kind() != proto::ACTOR_CREATE)
        Fail(path, name,
             absl::StrCat("node ", i, " has a label selector, which only tasks, maps and actors take"));
    }
    if (!node.scheduling().has_placement_group()) {
      // (A call on an actor that lives in a group uses the group too.)
      if (node.kind() == proto::ACTOR_CALL && node.operands(0).has_node_result())
        state->uses_group[i] = state->group[node.operands(0).node_result().node()] >= 0;
      continue;
    }
    const auto& in = node.scheduling().placement_group();
    if (in.placement_group() >= static_cast<uint32_t>(plan->placement_groups_size())) {
      Fail(path, name,
           absl::StrCat("node ", i, " runs in placement group ", in.placement_group(),
                        ", which does not exist"));
    }
    // (A map naming no bundle runs over them all: Execute.)
    int bundle = in.bundle_index() >= 0 || node.kind() == proto::MAP ? in.bundle_index()
                                                                     : node.placement().bundle_index();
    if (bundle >= plan->placement_groups(in.placement_group()).bundles_size()) {
      Fail(path, name,
           absl::StrCat("node ", i, " runs in bundle ", bundle, " of placement group ", in.placement_group(),
                        ", which does not exist"));
    }
    state->group[i] = static_cast<int>(in.placement_group());
    state->bundle[i] = bundle < 0 ? -1 : bundle;
    state->uses_group[i] = true;
  }
  // Control dependencies: an actor call after an earlier call on the same
  // actor (or its creation) is ordered by the actor itself when it runs one
  // call at a time; a kill waits for the calls before it (Execute). Every
  // other dependency is waited for through a gate.
  state->gates.resize(plan->nodes_size());
  state->breaks.assign(plan->nodes_size(), false);
  auto same_actor = [&](const proto::PlanNode& a, const proto::PlanNode& b) {
    if (a.operands_size() == 0 || !a.operands(0).has_node_result()) return false;
    uint32_t actor = a.operands(0).node_result().node();
    if (plan->nodes(actor).kind() != proto::ACTOR_CREATE || plan->nodes(actor).actor().max_concurrency() > 1)
      return false;
    if (b.id() == actor) return true;
    return b.kind() == proto::ACTOR_CALL && b.operands(0).has_node_result() &&
           b.operands(0).node_result().node() == actor;
  };
  for (int i = 0; i < plan->nodes_size(); ++i) {
    const proto::PlanNode& node = plan->nodes(i);
    for (uint32_t dep : node.control_deps()) {
      if (dep >= static_cast<uint32_t>(i)) {
        Fail(path, name,
             absl::StrCat("node ", i, " is ordered after node ", dep, ", which does not come before it"));
      }
      const proto::PlanNode& before = plan->nodes(dep);
      if (before.kind() == proto::ACTOR_CREATE) continue;  // (made no object; calls wait for it)
      if (node.kind() == proto::ACTOR_CALL && same_actor(node, before)) continue;
      state->gates[i].push_back(static_cast<int>(dep));
    }
    if (state->gates[i].empty()) continue;
    switch (node.kind()) {
      case proto::TASK:
        state->functions[i] = internal::GatedFunction(state->functions[i]);
        state->breaks[i] = true;
        break;
      case proto::MAP:  // (every shard takes the gate)
      case proto::ACTOR_CREATE:
        state->functions[i] = internal::GatedFunction(state->functions[i]);
        break;
      case proto::ACTOR_CALL:
        state->methods[i] = internal::GatedMethod(state->methods[i]);
        break;
      case proto::ACTOR_KILL:
      case proto::JOIN:
      case proto::WAIT:
        break;
      default:
        // A put or a get makes no new work: the object it names is the
        // ordering there is.
        state->gates[i].clear();
    }
  }
  for (const proto::PlanNode& node : plan->nodes()) state->has_kill |= node.kind() == proto::ACTOR_KILL;
  state->setup_only.assign(plan->nodes_size(), false);
  std::vector<bool> read(plan->nodes_size(), false), needed(plan->nodes_size(), false);
  for (const proto::PlanOutput& out : plan->outputs())
    if (out.value().has_node_result()) needed[out.value().node_result().node()] = true;
  for (int i = plan->nodes_size() - 1; i >= 0; --i) {  // (readers come after what they read)
    const proto::PlanNode& node = plan->nodes(i);
    switch (node.kind()) {
      case proto::ACTOR_CREATE:
        state->setup_only[i] = true;
        break;
      case proto::TASK:
      case proto::MAP:
      case proto::PUT:
      case proto::GET:
      case proto::JOIN:
      case proto::ACTOR_CALL:  // (a call whose result only a constructor reads)
        state->setup_only[i] = read[i] && !needed[i];
        break;
      default:
        break;
    }
    for (const auto& operand : node.operands()) {
      if (!operand.has_node_result()) continue;
      read[operand.node_result().node()] = true;
      if (!state->setup_only[i]) needed[operand.node_result().node()] = true;
    }
    // A node ordered before this one (a gate) counts as read by it. (The
    // order a sequential actor keeps itself, between its calls, is not a
    // gate and counts for nothing.)
    for (int dep : state->gates[i]) {
      read[dep] = true;
      if (!state->setup_only[i]) needed[dep] = true;
    }
  }
  // A setup-only task is a batch of its own, and so starts the task after
  // it: a runner's later executions skip it whole, and every other batch
  // keeps its positions.
  for (int i = 0; i < plan->nodes_size(); ++i) {
    if (!state->setup_only[i] || plan->nodes(i).kind() != proto::TASK) continue;
    state->breaks[i] = true;
    if (i + 1 < plan->nodes_size()) state->breaks[i + 1] = true;
  }
  std::map<std::vector<std::pair<std::string, double>>, int> seen;
  for (const proto::PlanNode& node : plan->nodes()) {
    state->options.push_back(OptionsOf(*plan, node));
    int index = -1;
    if (node.kind() == proto::TASK || node.kind() == proto::MAP) {
      auto [it, added] = seen.try_emplace(state->options.back().resources, static_cast<int>(seen.size()));
      if (added) state->demands.push_back(it->first);
      index = it->second;
    }
    state->demand.push_back(index);
  }
  {
    auto [it, added] = seen.try_emplace({}, static_cast<int>(seen.size()));
    if (added) state->demands.push_back(it->first);
    state->no_demand = it->second;
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
    bool task = plan->nodes(i).kind() == proto::TASK;
    if (!task || state->breaks[i]) {
      ++r;
      k = 0;
    }
    if (task) {
      run[i] = r;
      in_run[i] = k++;
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
    // What a gate, a kill or the removal of the groups watches by id.
    for (int dep : state->gates[i]) kept[dep] = true;
    if (state->uses_group[i]) kept[i] = true;
  }
  state->sink.assign(plan->nodes_size(), true);
  for (const proto::PlanNode& node : plan->nodes()) {
    // A wait may settle before what it watches; an actor's creation makes
    // no object to wait on; a put or a get keeps no gate (see above).
    if (node.kind() == proto::WAIT || node.kind() == proto::ACTOR_CREATE) continue;
    for (const auto& operand : node.operands())
      if (operand.has_node_result()) state->sink[operand.node_result().node()] = false;
    if (node.kind() == proto::PUT || node.kind() == proto::GET) continue;
    for (uint32_t dep : node.control_deps()) state->sink[dep] = false;
  }
  for (const proto::PlanOutput& out : plan->outputs())
    if (out.value().has_node_result()) state->sink[out.value().node_result().node()] = false;
  state->sink_name.resize(plan->nodes_size());
  for (int i = 0; i < plan->nodes_size(); ++i) {
    const proto::PlanNode& node = plan->nodes(i);
    if (state->sink[i])
      state->sink_name[i] =
          absl::StrCat("node ", i, " (", node.name().empty() ? node.function().name() : node.name(), ")");
  }
  // A sink's result is kept (a task nothing reads is there for its effect;
  // its result is small), so that GraphOutputs::Wait can wait for it.
  for (int i = 0; i < plan->nodes_size(); ++i)
    if (state->sink[i]) kept[i] = true;
  // Maps read whole (gathered) or only shard by shard (not gathered).
  std::vector<bool>& whole = state->whole_read;
  whole = state->sink;
  for (const proto::PlanOutput& out : plan->outputs())
    if (out.value().has_node_result()) whole[out.value().node_result().node()] = true;
  for (int i = 0; i < plan->nodes_size(); ++i) {
    const proto::PlanNode& node = plan->nodes(i);
    for (int k = 0; k < node.operands_size(); ++k) {
      if (!node.operands(k).has_node_result()) continue;
      if (node.kind() == proto::MAP && absl::c_linear_search(node.per_shard(), static_cast<uint32_t>(k)))
        continue;
      whole[node.operands(k).node_result().node()] = true;
    }
    for (int dep : state->gates[i]) whole[dep] = true;
    for (uint32_t dep : node.control_deps()) whole[dep] = true;
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
  return Submit(inputs, nullptr);
}

GraphOutputs Graph::Submit(const std::map<std::string, GraphInput>& inputs, Persistent* persistent) const {
  const proto::ExecPlan& plan = state_->plan;
  // A runner's later execution: the first's groups and actors.
  const bool again = persistent != nullptr && persistent->made;
  internal::RuntimeInterface& runtime = internal::CurrentRuntime();
  if (state_->task_library != nullptr) {
    std::lock_guard<std::mutex> lock(state_->shipped_mu);
    if (state_->shipped_to != &runtime) {
      runtime.AddTaskLibrary(state_->task_library, state_->artifact_path);
      state_->shipped_to = &runtime;
    }
  }
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
  // Where the compiler placed each node, as far as this runtime has it.
  std::shared_ptr<const State::Placed> placed = PlacedOptions(*state_, runtime);
  const std::vector<internal::CallOptions>* options = &placed->options;
  // The plan's placement groups, created and reserved (all bundles or none)
  // before anything runs, for this execution alone: removed once its work
  // in them is settled, or at once when the execution fails.
  std::vector<PlacementGroupId> groups;
  bool groups_handed_over = false;
  ObjectId finish;               // (raycc.finish_run's result, when the execution has one)
  std::vector<ActorId> created;  // the actors this execution made
  auto remove_groups = [&] {
    if (groups_handed_over) return;
    for (const ActorId& id : created) runtime.KillActor(id, /*no_restart=*/true);
    for (const PlacementGroupId& id : groups) runtime.RemovePlacementGroup(id);
    groups.clear();
  };
  std::vector<internal::CallOptions> in_groups;
  if (again) {
    if (!persistent->groups.empty()) options = &persistent->in_groups;
  } else if (plan.placement_groups_size() > 0) {
    try {
      for (const proto::PlanPlacementGroup& pg : plan.placement_groups()) {
        std::vector<std::vector<std::pair<std::string, double>>> bundles;
        for (const proto::ResourceSet& bundle : pg.bundles()) {
          bundles.emplace_back();
          for (const auto& [name, units] : bundle.quantities())
            bundles.back().emplace_back(name, static_cast<double>(units) / FixedPoint::kScale);
        }
        // Bundles go where the compiler put them, on the cluster it placed for.
        std::vector<std::string> bundle_nodes;
        if (placed->hard) bundle_nodes.assign(pg.bundle_nodes().begin(), pg.bundle_nodes().end());
        groups.push_back(
            runtime.CreatePlacementGroup(bundles, StrategyOf(pg.strategy()), pg.name(), bundle_nodes));
      }
      int64_t timeout_ms = GroupTimeoutMs();
      for (int g = 0; g < plan.placement_groups_size(); ++g) {
        if (runtime.WaitPlacementGroup(groups[g], timeout_ms)) continue;
        const proto::PlanPlacementGroup& pg = plan.placement_groups(g);
        throw RayccError(absl::StrCat("graph @", plan.graph_name(), ": placement group ",
                                      pg.name().empty() ? absl::StrCat(g) : "'" + pg.name() + "'", " (",
                                      pg.bundles_size(), " bundles, ",
                                      proto::PlacementStrategy_Name(pg.strategy()),
                                      ") was not reserved within ", timeout_ms,
                                      " ms: the runtime could hold it, but others hold the room it needs "
                                      "(RAYCC_PLACEMENT_GROUP_TIMEOUT_MS sets how long to wait)"));
      }
    } catch (const InfeasibleError& e) {
      remove_groups();
      throw InfeasibleError(absl::StrCat("graph @", plan.graph_name(), ": ", e.what()));
    } catch (...) {
      remove_groups();
      throw;
    }
    in_groups = *options;
    for (int i = 0; i < plan.nodes_size(); ++i) {
      if (state_->group[i] < 0) continue;
      in_groups[i].placement_group = groups[state_->group[i]];
      in_groups[i].bundle_index = state_->bundle[i];
    }
    options = &in_groups;
  }
  // What each node made: an object, or (actor creation) an actor.
  std::vector<ObjectId> objects(plan.nodes_size());
  std::vector<ActorId> actors(plan.nodes_size());
  // What each map another map reads shard by shard made: one object per
  // shard.
  std::vector<std::vector<ObjectId>> shard_objects(plan.nodes_size());
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
  // Per actor: the results of the calls submitted to it so far, which a
  // kill waits for (calls run in submission order).
  absl::flat_hash_map<ActorId, std::vector<ObjectId>> calls_on;
  auto ref_of = [&](const proto::PlanOperand& operand) {
    TaskArgument arg = argument(operand);
    return arg.by_ref ? arg.ref : adopt(runtime.Put(arg.value));
  };
  // A by-value argument naming objects by id, which it keeps alive.
  auto ids_argument = [](std::string value, std::vector<ObjectId> ids) {
    TaskArgument arg{false, {}, std::move(value)};
    arg.contained = std::move(ids);
    return arg;
  };
  // Whether node `i` calls (or kills) an actor this execution created.
  auto node_calls_created = [&](int i) {
    const proto::PlanNode& node = plan.nodes(i);
    return (node.kind() == proto::ACTOR_CALL || node.kind() == proto::ACTOR_KILL) &&
           node.operands(0).has_node_result();
  };
  internal::CallOptions builtin;
  builtin.has_resources = true;  // (asks for nothing: never waits for room)
  builtin.in_owner = true;       // (it reads this execution's objects by id)
  // The gate of node `i`: one more argument, made once its control
  // dependencies are settled.
  auto gate = [&](int i) {
    std::vector<ObjectId> deps;
    for (int dep : state_->gates[i])
      if (!objects[dep].IsNil()) deps.push_back(objects[dep]);
    std::vector<TaskArgument> args;
    for (const ObjectId& id : deps) args.push_back({false, {}, Serialize(id.Binary())});
    if (!args.empty()) args.front().contained = deps;
    TaskArgument arg;
    arg.by_ref = true;
    arg.ref = keep(runtime.SubmitTask(BuiltinAfter(), std::move(args), builtin));
    return arg;
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
  try {
    for (int i = 0; i < plan.nodes_size(); ++i) {
      const proto::PlanNode& node = plan.nodes(i);
      if (node.kind() != proto::TASK || state_->breaks[i]) flush();
      if (again && state_->setup_only[i]) {  // (a batch of its own, if a task: LoadGraph)
        if (node.kind() == proto::ACTOR_CREATE) actors[i] = persistent->actors[i];
        continue;
      }
      std::vector<TaskArgument> args;
      if (node.kind() != proto::TASK) args.reserve(node.operands_size() + 1);
      bool gated = !state_->gates[i].empty();
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
          if (gated) args.push_back(gate(i));
          batch_nodes.push_back(i);
          batch.push_back(
              {state_->functions[i], std::move(args), &(*options)[i], state_->demand[i], !kept[i]});
          released[i] = !kept[i];
          break;
        }
        case proto::ACTOR_CREATE: {
          for (const auto& operand : node.operands()) args.push_back(argument(operand));
          if (gated) args.push_back(gate(i));
          internal::ActorOptions actor_options;
          actor_options.call = (*options)[i];
          actor_options.max_restarts = node.actor().max_restarts();
          actor_options.max_concurrency = std::max(1, node.actor().max_concurrency());
          actor_options.name = node.actor().name();
          actors[i] = runtime.CreateActor(*state_->functions[i], std::move(args), actor_options);
          created.push_back(actors[i]);
          break;
        }
        case proto::ACTOR_CALL: {
          const ActorId& actor = actor_of(node.operands(0));
          for (int k = 1; k < node.operands_size(); ++k) args.push_back(argument(node.operands(k)));
          if (gated) args.push_back(gate(i));
          objects[i] =
              adopt(runtime.SubmitActorTask(actor, *state_->methods[i], std::move(args), (*options)[i]));
          adopted[i] = true;
          if (state_->has_kill) calls_on[actor].push_back(objects[i]);
          break;
        }
        case proto::ACTOR_KILL: {
          // After the calls ordered before it (every call on the actor so
          // far, and its control dependencies): a task that waits for them,
          // then kills; its result, nil, says the kill is done.
          const ActorId& actor = actor_of(node.operands(0));
          std::vector<ObjectId> before = std::move(calls_on[actor]);
          calls_on[actor].clear();
          for (int dep : state_->gates[i])
            if (!objects[dep].IsNil()) before.push_back(objects[dep]);
          // A runner's own actors live on to its Close: here the kill only
          // waits for the calls before it (they settle with the execution).
          bool kill = persistent == nullptr || !node.operands(0).has_node_result();
          if (kill) args.push_back(ids_argument(Serialize(actor.Binary()), before));
          for (const ObjectId& id : before) args.push_back({false, {}, Serialize(id.Binary())});
          if (!kill && !args.empty()) args.front().contained = before;
          objects[i] =
              keep(runtime.SubmitTask(kill ? BuiltinKillAfter() : BuiltinAfter(), std::move(args), builtin));
          adopted[i] = true;
          break;
        }
        case proto::MAP: {
          // Its own batch (the tasks before it were flushed): the shards,
          // each called with its index, then the task that gathers their
          // results into the map's.
          // A value is put once and passed to every shard by reference,
          // not copied into each (an operand taken shard by shard is
          // replaced below).
          for (const auto& operand : node.operands()) {
            TaskArgument& arg = args.emplace_back(argument(operand));
            if (!arg.by_ref && arg.value.size() > kMapInlineBytes)
              arg = TaskArgument{true, adopt(runtime.Put(std::move(arg.value))), {}};
          }
          if (gated) args.push_back(gate(i));
          const int64_t shards = node.shards();
          // Over a placement group's bundles as over a mesh (no bundle
          // named): shard s runs in bundle s mod B.
          const internal::CallOptions& base = (*options)[i];
          std::vector<internal::CallOptions> mesh;
          if (state_->group[i] >= 0 && state_->bundle[i] < 0) {
            mesh.assign(plan.placement_groups(state_->group[i]).bundles_size(), base);
            for (size_t b = 0; b < mesh.size(); ++b) mesh[b].bundle_index = static_cast<int>(b);
          }
          std::vector<internal::BatchedTask> tasks;
          tasks.reserve(shards + 1);
          for (int64_t s = 0; s < shards; ++s) {
            std::vector<TaskArgument> shard_args;
            shard_args.reserve(args.size() + 1);
            shard_args.push_back({false, {}, Serialize(s)});
            shard_args.insert(shard_args.end(), args.begin(), args.end());
            // (An operand taken shard by shard: that map's shard s.)
            for (uint32_t k : node.per_shard()) {
              TaskArgument& arg = shard_args[k + 1];
              arg.by_ref = true;
              arg.ref = shard_objects[node.operands(k).node_result().node()][s];
            }
            tasks.push_back({state_->functions[i], std::move(shard_args),
                             mesh.empty() ? &base : &mesh[s % mesh.size()], state_->demand[i],
                             !state_->shard_read[i]});
          }
          // The gather, when something reads the whole vector (not a map
          // read only shard by shard), at the map's priority; on the
          // timeline as raycc.gather, not as one more shard.
          internal::CallOptions gather;  // (alive until SubmitTasks returns)
          if (state_->whole_read[i]) {
            gather.priority = base.priority;
            gather.graph = base.graph;
            gather.plan_node = base.plan_node;
            std::vector<TaskArgument> parts(shards);
            for (int64_t s = 0; s < shards; ++s) parts[s].batch_index = static_cast<int>(s);
            tasks.push_back({&BuiltinGather(), std::move(parts), &gather, state_->no_demand, !kept[i]});
          }
          std::vector<ObjectId> ids = runtime.SubmitTasks(std::move(tasks), state_->demands);
          if (state_->whole_read[i]) {
            objects[i] = ids.back();
            released[i] = !kept[i];
            ids.pop_back();
          }
          if (state_->shard_read[i]) {  // (counted now: freed once their readers are done)
            for (const ObjectId& id : ids) counted.push_back(std::make_shared<internal::ObjectRefHandle>(id));
            shard_objects[i] = std::move(ids);
          }
          break;
        }
        case proto::PUT:
          objects[i] = ref_of(node.operands(0));
          break;
        case proto::GET:
          // A get inside a graph is the value of the object: the same object.
          objects[i] = ref_of(node.operands(0));
          break;
        case proto::JOIN: {
          for (const auto& operand : node.operands()) args.push_back(argument(operand));
          if (gated) args.push_back(gate(i));
          objects[i] = keep(runtime.SubmitTask(BuiltinJoin(), std::move(args), builtin));
          adopted[i] = true;
          break;
        }
        case proto::WAIT: {
          args.push_back({false, {}, Serialize(static_cast<int>(node.wait().num_returns()))});
          args.push_back({false, {}, Serialize(static_cast<int64_t>(node.wait().timeout_ms()))});
          args.push_back({false, {}, Serialize(static_cast<int>(node.operands_size()))});
          for (const auto& operand : node.operands()) {
            ObjectId id = ref_of(operand);
            watched.push_back(id);  // (by id: kept alive with the outputs)
            args.push_back({false, {}, Serialize(id.Binary())});
          }
          if (gated) args.push_back(gate(i));  // (after the watched ids: ignored)
          objects[i] = keep(runtime.SubmitTask(BuiltinWait(), std::move(args), builtin));
          adopted[i] = true;
          break;
        }
        default:
          break;
      }
    }
    flush();
    if (persistent != nullptr) {
      // The runner's Close ends the groups and actors, after its last
      // execution. (An execution has settled once its outputs and the
      // nodes nothing reads have: every other node settles before one of
      // those starts, a wait's not counting as a read (LoadGraph). So its
      // work in the groups and calls on the actors are done by then, with
      // no task to wait for them.)
      if (!again) {
        persistent->groups = std::move(groups);
        persistent->in_groups = std::move(in_groups);
        persistent->actors = actors;
        persistent->made = true;
      }
      groups_handed_over = true;
    } else if (!groups.empty() || !created.empty()) {
      // The run ends once every task in its groups and every call on the
      // actors it created is settled.
      std::vector<ObjectId> in_groups_ids, calls;
      for (int i = 0; i < plan.nodes_size(); ++i) {
        if (objects[i].IsNil()) continue;
        if (state_->uses_group[i]) in_groups_ids.push_back(objects[i]);
        if (node_calls_created(i)) calls.push_back(objects[i]);
      }
      std::vector<ObjectId> all = in_groups_ids;
      all.insert(all.end(), calls.begin(), calls.end());
      std::vector<TaskArgument> args;
      args.push_back(ids_argument(Serialize(static_cast<int>(groups.size())), all));
      args.push_back({false, {}, Serialize(static_cast<int>(created.size()))});
      args.push_back({false, {}, Serialize(static_cast<int>(in_groups_ids.size()))});
      for (const PlacementGroupId& id : groups) args.push_back({false, {}, Serialize(id.Binary())});
      for (const ActorId& id : created) args.push_back({false, {}, Serialize(id.Binary())});
      for (const ObjectId& id : all) args.push_back({false, {}, Serialize(id.Binary())});
      finish = keep(runtime.SubmitTask(BuiltinFinishRun(), std::move(args), builtin));
      groups_handed_over = true;
    }
  } catch (...) {
    remove_groups();
    throw;
  }
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
  auto settle = [&](std::string name, const ObjectId& id) {
    outputs.settle_.emplace_back(std::move(name), id);
    outputs.keep_.push_back(std::make_shared<internal::ObjectRefHandle>(id));
  };
  for (int i = 0; i < plan.nodes_size(); ++i)
    if (state_->sink[i] && !objects[i].IsNil()) settle(state_->sink_name[i], objects[i]);
  if (!finish.IsNil())
    settle("the end of the execution (its placement groups removed, its actors killed)", finish);
  return outputs;
}

std::vector<std::string> GraphOutputs::Wait() const {
  std::vector<ObjectId> ids;
  for (const auto& [name, id] : settle_) ids.push_back(id);
  for (const auto& [name, id] : outputs_) ids.push_back(id);
  internal::RuntimeInterface& runtime = internal::CurrentRuntime();
  WaitAll(runtime, ids);
  std::vector<std::string> failures;
  for (const auto& [name, id] : settle_) {
    try {
      (void)runtime.Get(id, 0);
    } catch (const RayccError& e) {
      failures.push_back(name + ": " + e.what());
    }
  }
  return failures;
}

struct GraphRunner::Session {
  Graph graph;
  int max_inflight = 2;
  Graph::Persistent persistent;
  // The executions not yet known settled, oldest first, with their number.
  std::deque<std::pair<int64_t, GraphOutputs>> in_flight;
  std::atomic<int64_t> executions{0};  // (read by other threads: a test, a monitor)
  std::atomic<int64_t> waits{0};
  bool closed = false;
  std::vector<std::string> failures;
  // The executions before this one report their outputs' failures too
  // (Graph::Run, whose caller reads only the last's).
  int64_t outputs_before = 0;

  // Waits for the oldest execution; notes how its unread nodes failed.
  void SettleOldest() {
    auto [k, outputs] = in_flight.front();
    std::vector<std::string> unread = outputs.Wait();
    in_flight.pop_front();  // (only once it is known settled)
    for (std::string& failure : unread) failures.push_back(absl::StrCat("execution ", k, ": ", failure));
    if (k >= outputs_before) return;
    internal::RuntimeInterface& runtime = internal::CurrentRuntime();
    for (const auto& [name, id] : outputs.ids()) {
      try {
        (void)runtime.Get(id, 0);
      } catch (const RayccError& e) {
        failures.push_back(absl::StrCat("execution ", k, ": output '", name, "': ", e.what()));
      }
    }
  }
};

GraphRunner::GraphRunner(std::unique_ptr<Session> session) : session_(std::move(session)) {}
GraphRunner::GraphRunner(GraphRunner&&) noexcept = default;
GraphRunner& GraphRunner::operator=(GraphRunner&& other) noexcept {
  if (this != &other) {
    GraphRunner old(std::move(*this));  // (closed as it goes)
    session_ = std::move(other.session_);
  }
  return *this;
}

GraphRunner::~GraphRunner() {
  if (!session_) return;
  try {
    Close();
  } catch (const std::exception&) {  // (the runtime is gone: nothing to end)
  }
}

GraphRunner Graph::Prepare(int max_inflight) const {
  if (max_inflight < 1) {
    throw RayccError(
        absl::StrCat("graph @", name(), ": max_inflight must be at least 1 (got ", max_inflight, ")"));
  }
  auto session = std::make_unique<GraphRunner::Session>();
  session->graph = *this;
  session->max_inflight = max_inflight;
  return GraphRunner(std::move(session));
}

GraphOutputs GraphRunner::Execute(const std::map<std::string, GraphInput>& inputs) {
  if (!session_ || session_->closed) throw RayccError("GraphRunner::Execute: the runner is closed");
  Session& s = *session_;
  while (static_cast<int>(s.in_flight.size()) >= s.max_inflight) {
    ++s.waits;
    s.SettleOldest();
  }
  GraphOutputs outputs = s.graph.Submit(inputs, &s.persistent);
  s.in_flight.emplace_back(++s.executions, outputs);
  return outputs;
}

std::vector<std::string> GraphRunner::Close() {
  if (!session_) return {};
  Session& s = *session_;
  if (s.closed) return s.failures;
  s.closed = true;
  // The actors and groups end however the waiting ends (it throws when the
  // runtime shuts down meanwhile).
  struct End {
    Session& s;
    ~End() {
      if (!IsInitialized()) return;
      try {
        internal::RuntimeInterface& runtime = internal::CurrentRuntime();
        for (const ActorId& id : s.persistent.actors)
          if (!id.IsNil()) runtime.KillActor(id, /*no_restart=*/true);
        for (const PlacementGroupId& id : s.persistent.groups) runtime.RemovePlacementGroup(id);
      } catch (const std::exception& e) {
        std::cerr << "raycc: GraphRunner of @" << s.graph.name() << ": " << e.what() << "\n";
      }
    }
  } end{s};
  while (!s.in_flight.empty()) s.SettleOldest();
  return s.failures;
}

int64_t GraphRunner::executions() const { return session_ ? session_->executions.load() : 0; }
int64_t GraphRunner::waits() const { return session_ ? session_->waits.load() : 0; }
size_t GraphRunner::in_flight() const { return session_ ? session_->in_flight.size() : 0; }

GraphRunResult Graph::Run(const std::map<std::string, GraphInput>& inputs, int n, int max_inflight) const {
  if (n < 1) throw RayccError(absl::StrCat("graph @", name(), ": Run needs n >= 1 (got ", n, ")"));
  GraphRunner runner = Prepare(max_inflight);
  runner.session_->outputs_before = n;  // (the last's outputs are the caller's)
  GraphRunResult result;
  for (int k = 1; k <= n; ++k) result.last = runner.Execute(inputs);
  result.failures = runner.Close();
  return result;
}

}  // namespace raycc
