// Graph runs: a compiled batch of tasks executed by dataflow, off the
// runtime lock.
//
// SubmitTasks gets the tasks of a compiled graph in an order where every
// task comes after those it uses. Submitted one by one, each task would go
// through the runtime's lock several times (queued, claimed, published, its
// dependents woken), and with short tasks that lock is the whole cost: the
// run is serial however many CPUs there are. A graph run instead keeps the
// batch to itself, as Pathways dispatches a whole program:
//
//  - each node counts down the inputs it waits for, and the node that makes
//    the last one queues it in the run's own ready queue (highest priority
//    first, then plan order);
//  - nodes that ask for the same resources and placement (the compiler's
//    node, a label selector, spread, more than one CPU) form a lane with
//    its own ready queue; runners, ordinary queued tasks holding the lane's
//    demand where the scheduler placed them, take nodes from their lane's
//    queue until it is empty; a node that makes more work ready than a lane
//    has runners queues more (up to what the lane's nodes can hold at once:
//    LocalResources::Capacity). A spread lane's runners are placed by the
//    spread policy, round robin over the nodes with room, so its nodes run
//    across the cluster as spread tasks would (a runner that finds more
//    ready nodes runs them where it is, rather than placing each anew);
//  - a result only the batch reads lives in its node and is dropped when its
//    last reader is done; a result read from outside (a graph output, or a
//    later node of the plan) is also an object, completed under mu_;
//  - an object from outside the batch is pinned by the nodes that read it,
//    or hold a ref to it inside an argument's value, until they are done;
//    one a node reads that is not ready yet is waited for like a node;
//  - a runner that has run for kGraphSliceUs while other work waits in the
//    runtime's queue hands its CPU over (a fresh runner queues behind it).
//
// Whatever a plain task may do, a node may: submit nested tasks, block in
// Get (the runner's CPU is lent meanwhile), fail (its readers fail with the
// same cause), be retried, be cancelled through its result, and appear on
// the timeline.

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "embedded/embedded_runtime.h"
#include "embedded/worker_context.h"

namespace raycc::internal {

namespace embedded {

struct GraphNode {
  const RemoteFunction* function = nullptr;
  std::vector<TaskArgument> args;
  // Per ObjectRef argument, in order: what it reads (a node's `result` when
  // the argument's batch_index names the node, else an Object of objects_,
  // pinned by this node).
  absl::InlinedVector<Contents*, 4> arg_objects;
  absl::InlinedVector<int32_t, 4> readers;  // the nodes that take its result
  std::atomic<int> unresolved{0};           // inputs not done yet
  std::atomic<int> unread{0};               // readers not done yet
  Contents result;                          // once done: its value, bytes or error
  int32_t lane = 0;                         // (GraphRun::lanes)
  bool kept = false;                        // read outside the run: its result is an object too
  bool holds_refs = false;                  // refs inside its arguments' values (pinned while it runs)
  Object* published = nullptr;              // that object, once the run starts
  TaskId task;
  ObjectId id;
  int64_t priority = 0;
  int retries_left = 0;
  bool retry_exceptions = false;
  Traced traced;
  // Cancellation (of its result, or of the task that submitted the run):
  // Cancel stores its error, then sets `cancelled`, then races the node for
  // `settled`; whoever sets `settled` decides the result.
  std::shared_ptr<const ErrorInfo> cancel_error;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> started{false};  // its code was called
  std::atomic<bool> settled{false};
  // f(argument, its position among the ObjectRef arguments), for each
  // ObjectRef argument.
  template <typename F>
  void ForEachRef(F&& f) const {
    size_t k = 0;
    for (const TaskArgument& arg : args)
      if (arg.by_ref) f(arg, k++);
  }
};

// The nodes of a run that share a demand and a placement, and the runners
// (tasks holding that demand where they were placed) that run them.
struct GraphLane {
  const raylet::Demand* demand = nullptr;
  scheduling::PolicyOptions where;
  std::vector<int32_t> ready;  // a heap: see GraphRun::Before
  int runners = 0;
  int max_runners = 1;
};

struct GraphRun {
  explicit GraphRun(size_t n) : nodes(n) {}
  std::vector<GraphNode> nodes;
  std::vector<GraphLane> lanes;  // (set before the run starts; a lane's demand and
                                 // placement change under mu_ only when its group goes)
  bool in_groups = false;        // a lane runs in a placement group's bundles
  TaskId parent;                 // the task that submitted it (nil: not a task)
  std::mutex mu;                 // guards each lane's ready and runners (taken after mu_, never before)
  // The ready queues' order: higher priority, then earlier in the plan.
  bool Before(int32_t a, int32_t b) const {
    if (nodes[a].priority != nodes[b].priority) return nodes[a].priority > nodes[b].priority;
    return a < b;
  }
  void Push(int32_t k) {
    std::vector<int32_t>& ready = lanes[nodes[k].lane].ready;
    ready.push_back(k);
    std::push_heap(ready.begin(), ready.end(), [this](int32_t a, int32_t b) { return Before(b, a); });
  }
  int32_t Pop(GraphLane& lane) {
    std::pop_heap(lane.ready.begin(), lane.ready.end(),
                  [this](int32_t a, int32_t b) { return Before(b, a); });
    int32_t k = lane.ready.back();
    lane.ready.pop_back();
    return k;
  }
  // The priority of `lane`'s first ready node, for new runners.
  int64_t FirstPriority(const GraphLane& lane) const { return nodes[lane.ready.front()].priority; }
  // Queues `k` (under mu); returns how many runners to add to its lane for
  // it (a runner that finds the queue empty again just ends).
  int PushAndCountSpawn(int32_t k) {
    Push(k);
    GraphLane& lane = lanes[nodes[k].lane];
    if (lane.runners >= lane.max_runners) return 0;
    ++lane.runners;
    return 1;
  }
};

}  // namespace embedded

std::shared_ptr<EmbeddedRuntime::GraphRun> EmbeddedRuntime::MakeGraphRun(
    std::vector<BatchedTask>& tasks, const std::vector<TaskId>& ids,
    const std::vector<ObjectId>& results) const {
  size_t n = tasks.size();
  auto run = std::make_shared<GraphRun>(n);
  // Submitted by a task: the run's nodes are its children (Cancel of it
  // cancels them).
  if (tls.runtime == this && tls.demand != nullptr) run->parent = tls.task;
  for (size_t i = 0; i < n; ++i) {
    GraphNode& node = run->nodes[i];
    BatchedTask& t = tasks[i];
    node.function = t.function;
    node.task = ids[i];
    node.id = results[i];
    node.priority = t.options->priority;
    node.retries_left = t.options->max_retries;
    node.retry_exceptions = t.options->retry_exceptions;
    node.kept = !t.release_result;
    node.traced = TraceOf(*t.options, t.function->name);
    node.args = std::move(t.args);
    for (const TaskArgument& arg : node.args) node.holds_refs = node.holds_refs || !arg.contained.empty();
    node.ForEachRef([&](const TaskArgument& arg, size_t) {
      if (arg.batch_index < 0) {  // an object from outside: found when the run starts
        node.arg_objects.push_back(nullptr);
        return;
      }
      GraphNode& source = run->nodes[arg.batch_index];
      node.arg_objects.push_back(&source.result);
      source.readers.push_back(static_cast<int32_t>(i));
      // (Not shared yet: plain increments, no atomic read-modify-write.)
      source.unread.store(source.unread.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      node.unresolved.store(node.unresolved.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    });
  }
  return run;
}

void EmbeddedRuntime::AssignLanesLocked(
    GraphRun& run, const std::vector<BatchedTask>& tasks,
    const std::vector<std::vector<std::pair<std::string, double>>>& demands) {
  // Each (options, resource set) pair is checked once, as the task-by-task
  // path checks every task (a malformed or infeasible one throws, naming
  // the first task that asks for it); its lane is found or made.
  // (A task with no placement is in its resource set's lane whatever its
  // options: one entry for all of them, as a compiled plan's options are
  // one per node.)
  absl::flat_hash_map<std::pair<const CallOptions*, int>, int32_t> lane_of;
  std::pair<const CallOptions*, int> last_key;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const BatchedTask& t = tasks[i];
    const CallOptions& o = *t.options;
    const bool placed =
        o.spread || !o.node_name.empty() || !o.label_selector.empty() || !o.placement_group.IsNil();
    const std::pair<const CallOptions*, int> key(placed ? t.options : nullptr, t.demand);
    if (i > 0 && key == last_key) {  // (the common case: as the task before it)
      run.nodes[i].lane = run.nodes[i - 1].lane;
      continue;
    }
    last_key = key;
    auto [it, added] = lane_of.try_emplace(key, 0);
    if (added) {
      What what{"task ", &t.function->name};
      const Demand* demand;
      if (t.demand >= 0) {
        CallOptions asks;
        asks.has_resources = true;
        asks.resources = demands[t.demand];
        demand = DemandOfLocked(asks, /*is_task=*/true, what);
      } else {
        demand = DemandOfLocked(CallOptions{}, /*is_task=*/true, what);
      }
      // (In a placement group: the demand on its bundle's resources.)
      demand = GroupDemandLocked(o, demand, what);
      run.in_groups = run.in_groups || !o.placement_group.IsNil();
      scheduling::PolicyOptions where = PlacementLocked(*t.options, *demand, what);
      auto same = std::find_if(run.lanes.begin(), run.lanes.end(), [&](const GraphLane& lane) {
        return lane.demand == demand && lane.where.spread == where.spread &&
               lane.where.affinity == where.affinity && lane.where.affinity_soft == where.affinity_soft &&
               lane.where.labels == where.labels;
      });
      if (same == run.lanes.end()) {
        GraphLane& lane = run.lanes.emplace_back();
        lane.demand = demand;
        lane.where = where;
        lane.max_runners = resources_.Capacity(*demand, where, kMaxGraphRunners);
        same = run.lanes.end() - 1;
      }
      it->second = static_cast<int32_t>(same - run.lanes.begin());
    }
    run.nodes[i].lane = it->second;
  }
}

void EmbeddedRuntime::StartGraphRunLocked(const std::shared_ptr<GraphRun>& run) {
  graph_runs_started_.fetch_add(1, std::memory_order_relaxed);
  // Every object it reads from outside must exist (checked before anything
  // changes: a batch goes in whole or not at all).
  for (const GraphNode& node : run->nodes) {
    node.ForEachRef([&](const TaskArgument& arg, size_t) {
      if (arg.batch_index < 0 && !objects_.contains(arg.ref)) {
        throw MissingArgument(What{"task ", &node.function->name}, arg.ref);
      }
    });
    if (!node.holds_refs) continue;
    for (const TaskArgument& arg : node.args)
      for (const ObjectId& id : arg.contained)
        if (!objects_.contains(id)) throw MissingArgument(What{"task ", &node.function->name}, id);
  }
  for (size_t i = 0; i < run->nodes.size(); ++i) {
    GraphNode& node = run->nodes[i];
    // The refs inside its values stay until it is done, as a task's do.
    if (node.holds_refs) (void)objects_.PinContained(node.args);  // (all exist: checked above)
    node.ForEachRef([&](const TaskArgument& arg, size_t k) {
      if (arg.batch_index >= 0) return;
      Object& object = objects_.find(arg.ref)->second;
      ++object.uses;  // (until this node is done)
      node.arg_objects[k] = &object;
      if (!object.ready) {  // waited for: CompleteLocked counts it down
        if (!object.run_readers) object.run_readers = std::make_unique<Object::RunReaders>();
        object.run_readers->emplace_back(run, static_cast<int32_t>(i));
        node.unresolved.fetch_add(1, std::memory_order_relaxed);
      }
    });
    if (node.kept) {
      Object& object = ObjectLocked(node.id);
      object.run = run;
      object.run_node = static_cast<int>(i);
      node.published = &object;
    }
  }
  for (size_t i = 0; i < run->nodes.size(); ++i)
    if (run->nodes[i].unresolved.load(std::memory_order_relaxed) == 0) run->Push(static_cast<int32_t>(i));
  for (size_t l = 0; l < run->lanes.size(); ++l) {
    GraphLane& lane = run->lanes[l];
    if (lane.ready.empty()) continue;
    lane.runners = std::min<int>(lane.max_runners, static_cast<int>(lane.ready.size()));
    SpawnRunnersLocked(run, static_cast<int32_t>(l), lane.runners, run->FirstPriority(lane));
  }
}

void EmbeddedRuntime::GraphInputReadyLocked(const std::shared_ptr<GraphRun>& run, int32_t k) {
  if (run->nodes[k].unresolved.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  int spawn;
  int64_t priority;
  const int32_t lane = run->nodes[k].lane;
  {
    std::lock_guard<std::mutex> guard(run->mu);
    spawn = run->PushAndCountSpawn(k);
    priority = run->FirstPriority(run->lanes[lane]);
  }
  if (spawn > 0) SpawnRunnersLocked(run, lane, spawn, priority);
}

void EmbeddedRuntime::SpawnRunnersLocked(const std::shared_ptr<GraphRun>& run, int32_t lane, int n,
                                         int64_t priority) {
  for (int i = 0; i < n; ++i) {
    auto runner = std::make_shared<Task>();
    runner->run = run;
    runner->lane = lane;
    runner->demand = run->lanes[lane].demand;
    runner->where = run->lanes[lane].where;
    runner->priority = priority;
    runner->sequence = next_sequence_++;
    runner->started = true;  // (nothing cancels or runs it inline)
    MakeReadyLocked(runner);
  }
}

void EmbeddedRuntime::RunGraph(const std::shared_ptr<Task>& runner, std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<GraphRun> run = runner->run;
  GraphLane& lane = run->lanes[runner->lane];
  int node = runner->node;
  tls.demand = &runner->demand->cpu;
  tls.node = node;
  // A runner of a GPU lane holds its devices while it runs the lane's
  // nodes, as a GPU task holds them while it runs (GetGpuIds).
  std::vector<int> gpus;
  if (runner->demand->gpu != 0) gpus = resources_.TakeGpus(*runner->demand, node);
  tls.gpu_ids = &gpus;
  lock.unlock();
  embedded::garbage.Flush();
  auto slice = std::chrono::steady_clock::now();
  int32_t k;
  {
    std::lock_guard<std::mutex> guard(run->mu);
    k = PopGraphNode(*run, lane);
  }
  // The clock is read every few nodes while they are short (reading it costs
  // about what a short node does): how many to run before the next read. At
  // most 8, so a switch to long nodes overruns the slice by 8 of them.
  int until_check = 1;
  int since_slice = 0;
  while (k >= 0) {
    k = RunGraphNode(run, k, node);  // (and takes the next one)
    ++since_slice;
    if (--until_check > 0) continue;
    double us = MicrosSince(slice);
    if (us < kGraphSliceUs) {
      // About half the nodes the rest of the slice holds, at this pace.
      double per_node = us / since_slice;
      until_check =
          static_cast<int>(std::clamp((kGraphSliceUs - us) / 2 / std::max(per_node, 0.01), 1.0, 8.0));
      continue;
    }
    if (k < 0) break;
    // Its slice is over: other work waiting in the runtime's queue gets
    // this CPU, and a fresh runner queues behind it (in this one's place).
    slice = std::chrono::steady_clock::now();
    since_slice = 0;
    until_check = 1;
    lock.lock();
    DrainInboxLocked();  // (tasks posted meanwhile are waiting work too)
    if (!ready_.empty()) {
      int64_t priority;
      {
        std::lock_guard<std::mutex> guard(run->mu);
        run->Push(k);  // (taken, not started: back in its place)
        priority = run->FirstPriority(lane);
      }
      SpawnRunnersLocked(run, runner->lane, 1, priority);
      break;  // (mu_ held)
    }
    lock.unlock();
  }
  tls.demand = nullptr;
  tls.node = -1;
  tls.task = TaskId();
  tls.gpu_ids = nullptr;
  if (!lock.owns_lock()) lock.lock();
  if (runner->demand->gpu != 0) resources_.ReleaseGpus(*runner->demand, node, gpus);
  AcquireLocked(runner->demand->units, node, -1);
}

int32_t EmbeddedRuntime::PopGraphNode(GraphRun& run, GraphLane& lane) {
  if (!lane.ready.empty() && accepting_.load(std::memory_order_relaxed)) return run.Pop(lane);
  --lane.runners;  // (this runner ends)
  return -1;
}

int32_t EmbeddedRuntime::RunGraphNode(const std::shared_ptr<GraphRun>& run, int k, int node) {
  GraphNode& n = run->nodes[k];
  const RemoteFunction& f = *n.function;
  Outcome outcome;
  std::shared_ptr<const ErrorInfo> error;  // why it failed, if it did
  if (n.cancelled.load()) {
    error = n.cancel_error;  // (stored before the flag was set)
  } else {
    // Its arguments: constants, results of nodes done before it, objects it
    // pins. None of the fields read here changes once its object is ready,
    // except the bytes of an object held as a value, which are not read: a
    // value wanted as bytes is serialized for this reader.
    CollectedArgs collected;
    collected.views.reserve(n.args.size());
    size_t j = 0;
    for (size_t a = 0; a < n.args.size() && !error; ++a) {
      const TaskArgument& arg = n.args[a];
      if (!arg.by_ref) {
        collected.views.emplace_back(arg.value);
        continue;
      }
      const Contents& object = *n.arg_objects[j++];
      if (object.error) {
        error = object.error;  // a dependency failed: so does this node, with the same cause
      } else if (!object.value) {
        collected.keep.push_back(object.data);
        collected.views.emplace_back(*object.data);
      } else if (TakesValue(f.arg_types, a, object.value.get(), object.type)) {
        collected.keep.push_back(object.value);
        collected.views.emplace_back(object.value.get());
      } else {
        auto bytes = std::make_shared<const std::string>(object.serialize(object.value.get()));
        collected.views.emplace_back(*bytes);
        collected.keep.push_back(std::move(bytes));
      }
    }
    if (!error) {
      tls.task = n.task;
      tls.cancelled = &n.cancelled;
      n.started.store(true);
      for (bool retry = true; retry;) {
        outcome = Attempt(n.traced, node, n.retries_left, n.retry_exceptions, &n.cancelled, &retry,
                          [&] { return embedded::InvokeTask(f, collected.views); });
      }
      tls.cancelled = nullptr;
      if (outcome.error) {
        outcome.error->function = f.name;
        outcome.error->where = Where();
        error = outcome.error;
      }
    }
  }
  // Whoever settles a published node decides its result: this node, or a
  // Cancel that came first (whose error its readers then get too).
  const bool first = !n.settled.exchange(true);
  if (!first) error = n.cancel_error;  // (a running node's return is dropped)
  const bool publish = first && n.published != nullptr;
  // Its result, for the nodes that read it.
  n.result.error = error;
  if (!error) {
    n.result.data = outcome.data;
    n.result.value = outcome.typed.value;
    n.result.type = outcome.typed.type;
    n.result.serialize = outcome.typed.serialize;
  }
  // Inputs it was the last to read are dropped, and readers it was the last
  // input of are queued.
  bool pins = n.holds_refs;
  n.ForEachRef([&](const TaskArgument& arg, size_t) {
    if (arg.batch_index < 0) {
      pins = true;
      return;
    }
    GraphNode& source = run->nodes[arg.batch_index];
    if (source.unread.fetch_sub(1, std::memory_order_acq_rel) == 1) source.result = Contents{};
  });
  if (n.readers.empty()) n.result = Contents{};
  // Readers it was the last input of (counted down outside run->mu).
  absl::InlinedVector<int32_t, 4> woken;
  for (int32_t r : n.readers)
    if (run->nodes[r].unresolved.fetch_sub(1, std::memory_order_acq_rel) == 1) woken.push_back(r);
  // Runners to add, per lane: (lane, how many, the priority they queue at).
  absl::InlinedVector<std::tuple<int32_t, int, int64_t>, 2> spawn;
  int32_t next;
  {
    std::lock_guard<std::mutex> guard(run->mu);
    for (int32_t r : woken) run->Push(r);
    // This runner takes one of its own lane; more runners for the rest,
    // while the lane's nodes have room for them.
    if (run->lanes.size() == 1) {  // (the common case, without the lane bookkeeping)
      GraphLane& lane = run->lanes[0];
      if (woken.size() > 1) {
        const int more =
            std::max(0, std::min(static_cast<int>(lane.ready.size()) - 1, lane.max_runners - lane.runners));
        if (more > 0) {
          lane.runners += more;
          spawn.emplace_back(0, more, run->FirstPriority(lane));
        }
      }
      woken.clear();  // (looked at)
    }
    for (size_t w = 0; w < woken.size(); ++w) {
      const int32_t l = run->nodes[woken[w]].lane;
      bool seen = false;
      for (size_t v = 0; v < w && !seen; ++v) seen = run->nodes[woken[v]].lane == l;
      if (seen) continue;  // (each lane once)
      GraphLane& lane = run->lanes[l];
      const int ready = static_cast<int>(lane.ready.size()) - (l == n.lane ? 1 : 0);
      const int more = std::max(0, std::min(ready, lane.max_runners - lane.runners));
      if (more == 0) continue;
      lane.runners += more;
      spawn.emplace_back(l, more, run->FirstPriority(lane));
    }
    next = PopGraphNode(*run, run->lanes[n.lane]);
  }
  if (!publish && !pins && spawn.empty()) return next;
  Locked lock = Lock();
  if (publish) {  // for those outside the run
    n.published->run = nullptr;
    n.published->run_node = -1;
    if (error) {
      CompleteLocked(n.id, nullptr, error, n.published);
    } else {
      FinishLocked(n.id, std::move(outcome), f.name, n.published);
    }
  }
  if (pins) {  // the objects from outside it read, or holds refs to, may go
    n.ForEachRef([&](const TaskArgument& arg, size_t k) {
      if (arg.batch_index >= 0) return;
      // (From outside: an Object, which this node pinned.)
      Object* object = static_cast<Object*>(n.arg_objects[k]);
      --object->uses;
      objects_.MaybeFree(arg.ref, object);
    });
    if (n.holds_refs)
      for (const TaskArgument& arg : n.args) objects_.UnpinContained(arg);
  }
  for (const auto& [l, more, priority] : spawn) SpawnRunnersLocked(run, l, more, priority);
  return next;
}

void EmbeddedRuntime::NoteGroupRunLocked(const std::shared_ptr<GraphRun>& run) {
  if (!run->in_groups) return;
  // (Runs that ended are dropped once the list has doubled since the last
  // look: it stays about as long as the runs alive, at O(1) a run.)
  if (group_runs_.size() >= 2 * group_runs_kept_ + 16) {
    std::erase_if(group_runs_, [](const std::weak_ptr<GraphRun>& r) { return r.expired(); });
    group_runs_kept_ = group_runs_.size();
  }
  group_runs_.push_back(run);
}

namespace {

// f(run, lane index) for each lane of the runs in `runs` still alive.
template <typename F>
void ForEachLane(const std::vector<std::weak_ptr<embedded::GraphRun>>& runs, F&& f) {
  for (const std::weak_ptr<embedded::GraphRun>& weak : runs) {
    std::shared_ptr<embedded::GraphRun> run = weak.lock();
    if (!run) continue;
    for (size_t l = 0; l < run->lanes.size(); ++l) f(run, static_cast<int32_t>(l));
  }
}

}  // namespace

void EmbeddedRuntime::FailGroupLanesLocked(const std::string& suffix) {
  const Demand* nothing = *resources_.DemandOf({});
  std::vector<std::pair<GraphRun*, int32_t>> failed;  // (run, lane)
  ForEachLane(group_runs_, [&](const std::shared_ptr<GraphRun>& run, int32_t l) {
    GraphLane& lane = run->lanes[l];
    if (!lane.demand->InGroup(suffix)) return;
    failed.emplace_back(run.get(), l);
    // Its nodes that have not started fail, as queued tasks of the group
    // do, when a runner takes them (their readers fail with the same
    // cause); runners need nothing now to do that, anywhere.
    for (GraphNode& n : run->nodes) {
      if (n.lane != l || n.started.load() || n.settled.load() || n.cancelled.load()) continue;
      n.cancel_error = GroupRemoved(n.function->name);
      n.cancelled.store(true);  // (after cancel_error: who sees the flag reads it)
    }
    lane.demand = nothing;
    lane.where = scheduling::PolicyOptions{};
  });
  if (failed.empty()) return;
  // Runners of those lanes waiting for the group's resources take nothing
  // instead.
  ready_.ForEach([&](Task& task) {
    if (!task.run) return;
    for (const auto& [run, l] : failed) {
      if (task.run.get() != run || task.lane != l) continue;
      task.demand = nothing;
      task.where = scheduling::PolicyOptions{};
    }
  });
}

void EmbeddedRuntime::GrowGroupLanesLocked(const std::vector<PlacementGroupId>& reserved) {
  std::vector<std::string> suffixes;
  for (const PlacementGroupId& id : reserved) {
    gcs_.VisitPlacementGroup(
        id, [&](const gcs::PlacementGroupRecord& group) { suffixes.push_back(group.suffix); });
  }
  ForEachLane(group_runs_, [&](const std::shared_ptr<GraphRun>& run, int32_t l) {
    GraphLane& lane = run->lanes[l];
    if (std::none_of(suffixes.begin(), suffixes.end(),
                     [&](const std::string& suffix) { return lane.demand->InGroup(suffix); }))
      return;
    const int capacity = resources_.Capacity(*lane.demand, lane.where, kMaxGraphRunners);
    int more = 0;
    int64_t priority = 0;
    {
      std::lock_guard<std::mutex> guard(run->mu);
      if (capacity <= lane.max_runners) return;
      lane.max_runners = capacity;
      more = std::min(static_cast<int>(lane.ready.size()), capacity) - lane.runners;
      if (more <= 0) return;
      lane.runners += more;
      priority = run->FirstPriority(lane);
    }
    SpawnRunnersLocked(run, l, more, priority);
  });
}

bool EmbeddedRuntime::CancelGraphNodeLocked(GraphRun& run, int k, const Children& children) {
  GraphNode& n = run.nodes[k];
  if (n.settled.load() || n.cancelled.load()) return false;
  auto info = std::make_shared<ErrorInfo>();
  info->cancelled = true;
  info->function = n.function->name;
  info->message = n.started.load() ? "task " + n.function->name +
                                         " was cancelled while it ran (its result is dropped; "
                                         "raycc::IsCancelled() told it)"
                                   : "task " + n.function->name + " was cancelled before it ran";
  n.cancel_error = info;
  n.cancelled.store(true);                     // (after cancel_error: who sees the flag reads it)
  if (n.settled.exchange(true)) return false;  // it finished just now: its result stands
  CancelChildrenLocked(n.task, children);      // the tasks it submitted, and theirs
  // The nodes that read it fail with the same error when it is done (a
  // running node's return is dropped); its object, if it has one, fails now.
  if (n.published == nullptr) return true;
  n.published->run = nullptr;
  n.published->run_node = -1;
  CompleteLocked(n.id, nullptr, info, n.published);
  return true;
}

void EmbeddedRuntime::NoteChildRunLocked(const std::shared_ptr<GraphRun>& run) {
  if (run->parent.IsNil()) return;
  // (Parents whose runs all ended are dropped once the map has doubled
  // since the last look: it stays about as large as the parents with runs
  // alive, at O(1) a run.)
  if (child_runs_.size() >= 2 * child_runs_kept_ + 16) {
    absl::erase_if(child_runs_, [](auto& entry) {
      std::erase_if(entry.second.runs, [](const std::weak_ptr<GraphRun>& r) { return r.expired(); });
      entry.second.kept = entry.second.runs.size();
      return entry.second.runs.empty();
    });
    child_runs_kept_ = child_runs_.size();
  }
  ChildRuns& mine = child_runs_[run->parent];
  // (A task that submits batches in a loop: its own runs that ended are
  // dropped once its list has doubled since the last look.)
  if (mine.runs.size() >= 2 * mine.kept + 16) {
    std::erase_if(mine.runs, [](const std::weak_ptr<GraphRun>& r) { return r.expired(); });
    mine.kept = mine.runs.size();
  }
  mine.runs.push_back(run);
}

void EmbeddedRuntime::CancelChildRunsLocked(const TaskId& parent, const Children& children) {
  auto mine = child_runs_.find(parent);
  if (mine == child_runs_.end()) return;
  // (Copied: cancelling a node cancels the runs it submitted, which may add
  // to the map.)
  std::vector<std::weak_ptr<GraphRun>> runs = mine->second.runs;
  for (const std::weak_ptr<GraphRun>& weak : runs) {
    std::shared_ptr<GraphRun> run = weak.lock();
    if (!run) continue;
    for (size_t k = 0; k < run->nodes.size(); ++k) CancelGraphNodeLocked(*run, static_cast<int>(k), children);
  }
}

}  // namespace raycc::internal
