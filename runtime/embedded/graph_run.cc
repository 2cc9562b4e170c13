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
//  - runners, ordinary queued tasks of one CPU each, take nodes from that
//    queue until it is empty; a node that makes more work ready than there
//    are runners queues more (up to the node's CPUs);
//  - a result only the batch reads lives in its node and is dropped when its
//    last reader is done; a result read from outside (a graph output, or a
//    later node of the plan) is also an object, completed under mu_;
//  - an object from outside the batch is pinned by the nodes that read it
//    until they are done; one not ready yet is waited for like a node;
//  - a runner that has run for kGraphSliceUs while other work waits in the
//    runtime's queue hands its CPU over (a fresh runner queues behind it).
//
// Whatever a plain task may do, a node may: submit nested tasks, block in
// Get (the runner's CPU is lent meanwhile), fail (its readers fail with the
// same cause), be retried, be cancelled through its result, and appear on
// the timeline.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "embedded/embedded_runtime.h"
#include "embedded/worker_context.h"

namespace raycc::internal {

struct EmbeddedRuntime::GraphNode {
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
  bool kept = false;                        // read outside the run: its result is an object too
  Object* published = nullptr;              // that object, once the run starts
  TaskId task;
  ObjectId id;
  int64_t priority = 0;
  int retries_left = 0;
  bool retry_exceptions = false;
  Traced traced;
  // Cancellation (of a published node): Cancel stores its error, then sets
  // `cancelled`, then races the node for `settled`; whoever sets `settled`
  // decides the result.
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

struct EmbeddedRuntime::GraphRun {
  explicit GraphRun(size_t n) : nodes(n) {}
  std::vector<GraphNode> nodes;
  std::mutex mu;               // guards ready and runners (taken after mu_, never before)
  std::vector<int32_t> ready;  // a heap: see Before
  int runners = 0;
  int max_runners = 1;
  // The ready queue's order: higher priority, then earlier in the plan.
  bool Before(int32_t a, int32_t b) const {
    if (nodes[a].priority != nodes[b].priority) return nodes[a].priority > nodes[b].priority;
    return a < b;
  }
  void Push(int32_t k) {
    ready.push_back(k);
    std::push_heap(ready.begin(), ready.end(), [this](int32_t a, int32_t b) { return Before(b, a); });
  }
  int32_t Pop() {
    std::pop_heap(ready.begin(), ready.end(), [this](int32_t a, int32_t b) { return Before(b, a); });
    int32_t k = ready.back();
    ready.pop_back();
    return k;
  }
  // Queues `k` (under mu); returns how many runners to add for it (a
  // runner that finds the queue empty again just ends).
  int PushAndCountSpawn(int32_t k) {
    Push(k);
    if (runners >= max_runners) return 0;
    ++runners;
    return 1;
  }
};

bool EmbeddedRuntime::PlainBatch(
    const std::vector<BatchedTask>& tasks,
    const std::vector<std::vector<std::pair<std::string, double>>>& demands) const {
  if (resources_.size() != 1 || tasks.size() < 2) return false;
  // (A node without a whole CPU: the task-by-task path says it is infeasible.)
  const scheduling::Units& total = resources_.nodes().node(0).total;
  auto cpu = total.find("CPU");
  if (cpu == total.end() || cpu->second < FixedPoint::kScale) return false;
  // Submitted by a task: its tasks are that task's children (Cancel of it
  // cancels them), which only the task-by-task path tracks.
  if (tls.runtime == this && tls.demand != nullptr) return false;
  // Whether each resource set is one CPU, as a task with no resources set
  // asks (looked at once per set, when a task first names it).
  std::vector<int8_t> one_cpu(demands.size(), -1);
  for (const BatchedTask& t : tasks) {
    const CallOptions& options = *t.options;
    if (!options.placement_group.IsNil() || !options.node_name.empty() || options.spread ||
        !options.label_selector.empty())
      return false;
    if (t.demand >= 0) {
      int8_t& ok = one_cpu[t.demand];
      if (ok < 0) {
        const auto& set = demands[t.demand];
        ok = set.size() == 1 && set[0].first == "CPU" && set[0].second == 1;
      }
      if (!ok) return false;
    }
    for (const TaskArgument& arg : t.args)
      if (!arg.contained.empty()) return false;
  }
  return true;
}

std::shared_ptr<EmbeddedRuntime::GraphRun> EmbeddedRuntime::MakeGraphRun(
    std::vector<BatchedTask>& tasks, const std::vector<TaskId>& ids,
    const std::vector<ObjectId>& results) const {
  size_t n = tasks.size();
  auto run = std::make_shared<GraphRun>(n);
  run->max_runners =
      std::max<int>(1, static_cast<int>(resources_.nodes().node(0).total.at("CPU") / FixedPoint::kScale));
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
  }
  for (size_t i = 0; i < run->nodes.size(); ++i) {
    GraphNode& node = run->nodes[i];
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
  if (!run->ready.empty()) {
    int runners = std::min<int>(run->max_runners, static_cast<int>(run->ready.size()));
    run->runners = runners;
    SpawnRunnersLocked(run, runners, run->nodes[run->ready.front()].priority);
  }
}

void EmbeddedRuntime::GraphInputReadyLocked(const std::shared_ptr<GraphRun>& run, int32_t k) {
  if (run->nodes[k].unresolved.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  int spawn;
  int64_t priority;
  {
    std::lock_guard<std::mutex> guard(run->mu);
    spawn = run->PushAndCountSpawn(k);
    priority = run->nodes[run->ready.front()].priority;
  }
  if (spawn > 0) SpawnRunnersLocked(run, spawn, priority);
}

void EmbeddedRuntime::SpawnRunnersLocked(const std::shared_ptr<GraphRun>& run, int n, int64_t priority) {
  for (int i = 0; i < n; ++i) {
    auto runner = std::make_shared<Task>();
    runner->run = run;
    runner->demand = resources_.task_default();
    runner->priority = priority;
    runner->sequence = next_sequence_++;
    runner->started = true;  // (nothing cancels or runs it inline)
    MakeReadyLocked(runner);
  }
}

void EmbeddedRuntime::RunGraph(const std::shared_ptr<Task>& runner, std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<GraphRun> run = runner->run;
  int node = runner->node;
  tls.demand = &runner->demand->cpu;
  tls.node = node;
  lock.unlock();
  garbage_.Flush();
  auto slice = std::chrono::steady_clock::now();
  int32_t k;
  {
    std::lock_guard<std::mutex> guard(run->mu);
    k = PopGraphNode(*run);
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
        priority = run->nodes[run->ready.front()].priority;
      }
      SpawnRunnersLocked(run, 1, priority);
      break;  // (mu_ held)
    }
    lock.unlock();
  }
  tls.demand = nullptr;
  tls.node = -1;
  tls.task = TaskId();
  if (!lock.owns_lock()) lock.lock();
  AcquireLocked(runner->demand->units, node, -1);
}

int32_t EmbeddedRuntime::PopGraphNode(GraphRun& run) {
  if (!run.ready.empty() && accepting_.load(std::memory_order_relaxed)) return run.Pop();
  --run.runners;  // (this runner ends)
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
                          [&] { return InvokeTask(f, collected.views); });
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
  bool publish = n.published != nullptr && !n.settled.exchange(true);
  if (n.published != nullptr && !publish) error = n.cancel_error;
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
  bool pins = false;
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
  int spawn = 0;
  int64_t priority = 0;  // (of the first node waiting, for new runners)
  int32_t next;
  {
    std::lock_guard<std::mutex> guard(run->mu);
    for (int32_t r : woken) run->Push(r);
    // This runner takes one; more runners for the rest, while CPUs allow.
    if (woken.size() > 1) {
      spawn = std::max(
          0, std::min<int>(static_cast<int>(run->ready.size()) - 1, run->max_runners - run->runners));
      run->runners += spawn;
      priority = run->nodes[run->ready.front()].priority;
    }
    next = PopGraphNode(*run);
  }
  if (!publish && !pins && spawn == 0) return next;
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
  if (pins) {  // the objects from outside it read may go
    n.ForEachRef([&](const TaskArgument& arg, size_t k) {
      if (arg.batch_index >= 0) return;
      // (From outside: an Object, which this node pinned.)
      Object* object = static_cast<Object*>(n.arg_objects[k]);
      --object->uses;
      MaybeFreeLocked(arg.ref, object);
    });
  }
  if (spawn > 0) SpawnRunnersLocked(run, spawn, priority);
  return next;
}

bool EmbeddedRuntime::CancelGraphNodeLocked(GraphRun& run, int k) {
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
  n.cancelled.store(true);                         // (after cancel_error: who sees the flag reads it)
  if (n.settled.exchange(true)) return false;      // it finished just now: its result stands
  CancelChildrenLocked(n.task, ChildrenLocked());  // the tasks it submitted, and theirs
  // Its result fails now (a running node's return is dropped); the nodes
  // that read it fail with the same error when it is done.
  n.published->run = nullptr;
  n.published->run_node = -1;
  CompleteLocked(n.id, nullptr, info, n.published);
  return true;
}

}  // namespace raycc::internal
