#include "embedded/embedded_runtime.h"

#include <pthread.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <typeinfo>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/placement_group_info.h"
#include "core_worker/throw_status.h"
#include "core_worker/user_code.h"
#include "embedded/worker_context.h"
#include "raycc/runtime/gpu/gpu_devices.h"
#include "scheduling/bundle_placement.h"
#include "scheduling/pick_node.h"

namespace raycc::internal {
namespace {

/// More threads than this for one runtime or one actor is a mistake.
constexpr int kMaxThreads = 4096;

}  // namespace

thread_local ThreadContext tls;

using embedded::Invoke;
using embedded::InvokeTask;

std::string EmbeddedRuntime::What::str() const {
  return name != nullptr ? absl::StrCat(kind, *name) : std::string(kind);
}

EmbeddedRuntime::Outcome EmbeddedRuntime::Attempt(const Traced& traced, int node, int& retries_left,
                                                  bool retry_exceptions, const std::atomic<bool>* cancelled,
                                                  bool* retry, absl::FunctionRef<Outcome()> invoke) {
  double start_us = timeline_.enabled() ? timeline_.NowUs() : 0;
  Outcome outcome = invoke();
  *retry =
      outcome.error != nullptr && !outcome.error->exit_actor &&
      core_worker::RetryAfterException(retry_exceptions, retries_left,
                                       cancelled != nullptr && cancelled->load(std::memory_order_relaxed));
  if (*retry && retries_left > 0) --retries_left;
  RecordAttempt(traced, node, AttemptStatus(outcome.error != nullptr, *retry), start_us);
  return outcome;
}

void EmbeddedRuntime::FinishLocked(const ObjectId& result, Outcome outcome, const std::string& function,
                                   Object* object) {
  if (outcome.error) {
    outcome.error->function = function;
    outcome.error->where = Where();
    CompleteLocked(result, nullptr, std::move(outcome.error), object);
  } else if (outcome.typed.value) {
    Object& o = object != nullptr ? *object : ObjectLocked(result);
    o.value = std::move(outcome.typed.value);
    o.type = outcome.typed.type;
    o.serialize = outcome.typed.serialize;
    CompleteLocked(result, nullptr, nullptr, &o);
  } else {
    CompleteLocked(result, std::move(outcome.data), nullptr, object);
  }
}

EmbeddedRuntime::Traced EmbeddedRuntime::TraceOf(const CallOptions& options,
                                                 const std::string& function) const {
  if (!timeline_.enabled()) return nullptr;
  return std::make_unique<const TraceInfo>(TraceInfo{options.name.empty() ? function : options.name,
                                                     options.graph, options.plan_node, timeline_.NowUs()});
}

void EmbeddedRuntime::RecordAttempt(const Traced& traced, int node, const char* status, double start_us) {
  if (!timeline_.enabled() || !traced) return;
  timeline_.Record({traced->label, traced->graph, traced->plan_node, resources_.name(node), status,
                    traced->submitted_us, start_us, timeline_.NowUs(), tls.timeline_tid});
}

EmbeddedRuntime::Object* EmbeddedRuntime::ArgObjectLocked(const ObjectId& id, const ArgObjects* objects,
                                                          size_t k) {
  if (objects != nullptr) return (*objects)[k];
  auto it = objects_.find(id);
  return it == objects_.end() ? nullptr : &it->second;
}

void EmbeddedRuntime::EnsureArgBytes(const std::vector<TaskArgument>& args,
                                     const std::vector<const std::type_info*>& types,
                                     std::unique_lock<std::mutex>& lock, const ArgObjects* objects) {
  size_t k = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const TaskArgument& arg = args[i];
    if (!arg.by_ref) continue;
    Object* object = ArgObjectLocked(arg.ref, objects, k++);
    if (object == nullptr || object->data || !object->value) continue;
    if (TakesValue(types, i, object->value.get(), object->type)) continue;
    // Pinned by this task (uses > 0): it stays, and stays put (a node map),
    // while the lock is released.
    std::shared_ptr<const void> value = object->value;
    std::string (*serialize)(const void*) = object->serialize;
    lock.unlock();
    auto bytes = std::make_shared<const std::string>(serialize(value.get()));
    lock.lock();
    if (!object->data) object->data = std::move(bytes);
  }
}

bool EmbeddedRuntime::InWorkerThread() const { return tls.runtime == this; }

bool EmbeddedRuntime::CurrentTaskCancelled() const {
  return tls.cancelled != nullptr && tls.cancelled->load(std::memory_order_relaxed);
}

std::vector<int> EmbeddedRuntime::CurrentGpuIds() const {
  return tls.gpu_ids != nullptr ? *tls.gpu_ids : std::vector<int>{};
}

std::string EmbeddedRuntime::CurrentNodeName() const {
  if (tls.runtime == nullptr || tls.node < 0) return "";
  return tls.runtime->resources_.name(tls.node);
}

EmbeddedRuntime::EmbeddedRuntime(const Config& config)
    : timeline_(config.timeline_path),
      job_(JobId::FromInt(1)),
      node_(NodeId::FromRandom()),
      driver_task_(TaskId::ForDriver(job_)) {
#if defined(__GLIBC__)
  {
    // Every thread takes mu_ for short spells: spinning briefly before
    // sleeping on it (glibc's adaptive mutex) beats a futex sleep and wake-up
    // per hand-off (measured: actor calls and nested fan-out +40-60%).
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(mu_.native_handle(), &attr);
    pthread_mutexattr_destroy(&attr);
  }
#endif
  if (absl::Status s = TimelineRecorder::Check(config.timeline_path); !s.ok()) {
    throw RayccError(absl::StrCat("Config.timeline_path: ", s.message()));
  }
  if (config.num_cpus < 0) throw RayccError("Config.num_cpus must be >= 0 (0: all hardware threads)");
  if (config.num_cpus > kMaxThreads) {
    throw RayccError(absl::StrCat("Config.num_cpus must be at most ", kMaxThreads));
  }
  std::vector<NodeConfig> nodes = config.nodes;
  int threads = config.num_cpus;
  if (nodes.empty()) {
    int cpus = config.num_cpus > 0 ? config.num_cpus : static_cast<int>(std::thread::hardware_concurrency());
    if (cpus <= 0) cpus = 1;
    std::map<std::string, double> resources = config.resources;
    if (resources.count("CPU"))
      throw RayccError("set CPUs with Config.num_cpus, not Config.resources[\"CPU\"]");
    resources["CPU"] = cpus;
    if (!resources.count("GPU")) resources["GPU"] = static_cast<double>(DiscoverGpus().devices.size());
    nodes.push_back({"embedded", resources});
    threads = cpus;
  } else if (!config.resources.empty()) {
    throw RayccError("with Config.nodes, give each node its resources; leave Config.resources empty");
  }
  double total_cpus = 0;
  for (const NodeConfig& n : nodes) {
    absl::StatusOr<ResourceSet> set = ResourceSet::Create(n.resources);
    if (!set.ok()) {
      throw RayccError(
          absl::StrCat(config.nodes.empty() ? "Config.resources" : "Config.nodes '" + n.name + "'", ": ",
                       set.status().message()));
    }
    // The control service's view of the node (the first is this process's).
    const NodeId id = resources_.size() == 0 ? node_ : NodeId::FromRandom();
    absl::StatusOr<int> added = resources_.AddNode(n.name, *set, n.labels, id);
    if (!added.ok()) throw RayccError(absl::StrCat("Config.nodes: ", added.status().message()));
    proto::NodeInfo info;
    info.set_node_id(id.Binary());
    info.set_node_name(n.name);
    set->ToProto(info.mutable_total_resources());
    for (const auto& [k, v] : n.labels) (*info.mutable_labels())[k] = v;
    if (absl::Status s = gcs_.RegisterNode(std::move(info)); !s.ok()) {
      throw RayccError(absl::StrCat("Config.nodes: ", s.message()));
    }
    auto cpu = n.resources.find("CPU");
    total_cpus += cpu == n.resources.end() ? 0 : cpu->second;
  }
  // With simulated nodes, one thread per whole CPU of the cluster (unless
  // num_cpus says otherwise); Get() starts more when tasks block.
  if (threads <= 0) threads = std::clamp(static_cast<int>(total_cpus), 1, 256);
  // Tasks a Get() runs on the caller's thread appear on this lane.
  timeline_.NameThread(0, "caller of Get (tasks run inline)", /*only_if_used=*/true);
  std::unique_lock<std::mutex> lock(mu_);
  gcs_.SetBundleReserver(&resources_.bundle_reserver());
  proto::Address driver;
  driver.set_node_id(node_.Binary());
  if (absl::Status s = gcs_.AddJob(job_, driver); !s.ok()) throw RayccError(std::string(s.message()));
  for (int i = 0; i < threads; ++i) workers_.StartLocked();
}

EmbeddedRuntime::~EmbeddedRuntime() { Finish().IgnoreError(); }

namespace {

// Init's runtime when no cluster address is given.
const bool kEmbeddedRegistered =
    RegisterRuntimeFactory("embedded", [](const Config& config) -> std::unique_ptr<ManagedRuntime> {
      return std::make_unique<EmbeddedRuntime>(config);
    });

}  // namespace

absl::Status EmbeddedRuntime::Finish() {
  if (finished_) return absl::OkStatus();
  finished_ = true;
  std::vector<std::thread> threads;
  {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    accepting_.store(false);
    actors_.Stop(&threads, "the runtime was shut down");
    gcs_.MarkJobFinished(job_).IgnoreError();  // (it was added by the constructor)
    objects_cv_.notify_all();
    resume_cv_.notify_all();
    workers_.WakeAllLocked();
  }
  // Workers may start more workers until they see stopping_; join until none
  // is left.
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      workers_.TakeLocked(&threads);
      actors_.Stop(&threads, "the runtime was shut down");
    }
    if (threads.empty()) break;
    for (auto& t : threads) t.join();
    threads.clear();
  }
  actors_.DestroyInstances();
  return timeline_.Write();
}

std::string EmbeddedRuntime::Where() const {
  std::string node = tls.node >= 0 ? resources_.name(tls.node) : "embedded";
  std::string thread = tls.actor        ? absl::StrCat("actor thread ", tls.index)
                       : tls.index >= 0 ? absl::StrCat("worker thread ", tls.index)
                                        : std::string("the caller's thread (run inline by Get)");
  return absl::StrCat("node ", node, " (", node_.Hex().substr(0, 8), "), ", thread);
}

EmbeddedRuntime::Object& EmbeddedRuntime::ObjectLocked(const ObjectId& id) { return objects_[id]; }

void EmbeddedRuntime::CompleteLocked(const ObjectId& id, std::shared_ptr<const std::string> data,
                                     std::shared_ptr<const ErrorInfo> error, Object* known) {
  Object& object = known != nullptr ? *known : objects_[id];
  // Pinned while this runs: failing a dependent unpins its arguments, and
  // draining the reference events may drop the last reference; either could
  // free the object while it is still read here.
  ++object.uses;
  object.ready = true;
  object.data = std::move(data);
  object.error = std::move(error);
  object.pending.reset();
  decltype(object.dependents) dependents;
  dependents.swap(object.dependents);
  for (const std::shared_ptr<Task>& task : dependents)
    if (--task->unresolved == 0 && !task->cancelled) ReadyOrFailLocked(task);
  if (object.run_readers) {
    std::unique_ptr<Object::RunReaders> readers = std::move(object.run_readers);
    for (const auto& [run, k] : *readers) GraphInputReadyLocked(run, k);
  }
  if (object_waiters_ > 0 || object.waiters > 0) objects_cv_.notify_all();
  objects_.DrainRefEvents();
  --object.uses;
  objects_.MaybeFree(id, &object);  // a result nobody holds any more
}

void EmbeddedRuntime::AddObjectRef(const ObjectId& id) { objects_.PostRef(id, +1); }

void EmbeddedRuntime::RemoveObjectRef(const ObjectId& id) { objects_.PostRef(id, -1); }

size_t EmbeddedRuntime::LiveObjects() {
  // Until what it frees frees nothing more (a freed value may hold refs).
  size_t live = 0;
  for (int round = 0; round < 64; ++round) {
    {
      Locked lock = Lock();  // (applies the events; its end flushes what they freed)
      live = objects_.size();
    }
    if (!objects_.RefEventsPending()) break;
  }
  return live;
}

void EmbeddedRuntime::UnpinArgsLocked(const Task& task) {
  size_t k = 0;
  for (const TaskArgument& arg : task.args) {
    if (!arg.by_ref) continue;
    Object* object = task.arg_objects[k++];
    --object->uses;
    objects_.MaybeFree(arg.ref, object);
  }
  for (const TaskArgument& arg : task.args) objects_.UnpinContained(arg);
}

void EmbeddedRuntime::PinContainedLocked(const std::vector<TaskArgument>& args, const What& what) {
  if (std::optional<ObjectId> missing = objects_.PinContained(args)) throw MissingArgument(what, *missing);
}

RayccError EmbeddedRuntime::MissingArgument(const What& what, const ObjectId& id) {
  return RayccError(absl::StrCat(what.str(), ": argument object ", id.Hex(),
                                 " does not exist (freed when its last reference was dropped, or from "
                                 "another runtime)"));
}

void EmbeddedRuntime::UseArgsLocked(const std::vector<TaskArgument>& args, int sign, const What& what) {
  if (sign < 0) return objects_.UnpinArgs(args);
  if (std::optional<ObjectId> missing = objects_.PinArgs(args)) throw MissingArgument(what, *missing);
}

void EmbeddedRuntime::AcquireLocked(const Units& demand, int node, int sign) {
  if (sign > 0) {
    resources_.Acquire(demand, node);
    return;
  }
  resources_.Release(demand, node);
  // Freed resources may let waiting work run. A task waiting to resume goes
  // first; else wake an idle worker only when tasks are queued (it wakes
  // the next if more can run).
  if (resuming_ > 0) {
    resume_cv_.notify_all();
  } else if (!ready_.empty()) {
    workers_.WakeOneLocked();
  }
  if (actors_waiting_ > 0) objects_cv_.notify_all();
  if (gcs_.pending_placement_groups() > 0) TryReserveGroupsLocked();
}

void EmbeddedRuntime::ReacquireLocked(const Units& demand, int node, std::unique_lock<std::mutex>& lock) {
  if (!resources_.FitsNow(demand, node)) {
    ++resuming_;
    resume_cv_.wait(lock, [&] { return stopping_ || resources_.FitsNow(demand, node); });
    --resuming_;
  }
  resources_.Acquire(demand, node);
  // Workers held back while this thread waited may run what is left.
  if (resuming_ == 0 && !ready_.empty()) workers_.WakeOneLocked();
}

std::shared_ptr<EmbeddedRuntime::Task> EmbeddedRuntime::PopRunnableLocked(int* node) {
  // A task waiting to take its resources back (it lent them while it
  // waited) goes before new work.
  if (resuming_ > 0) return nullptr;
  return ready_.TakeFirst(
      [&](Task& task) { return (*node = resources_.PickNode(*task.demand, &task.where)) >= 0; });
}

const EmbeddedRuntime::Object* EmbeddedRuntime::FirstFailedArg(const Task& task) {
  for (const Object* arg : task.arg_objects)
    if (arg->error) return arg;  // (the first, as when it runs)
  return nullptr;
}

void EmbeddedRuntime::ReadyOrFailLocked(const std::shared_ptr<Task>& task) {
  if (FirstFailedArg(*task) == nullptr) {
    MakeReadyLocked(task);
    return;
  }
  // An argument failed: so does the task, with the same cause, at once (it
  // needs no CPU for that). Iteratively: a long chain fails without
  // recursing once per task.
  failing_.push_back(task);
  if (failing_.size() > 1) return;  // (an outer call is draining the queue)
  for (size_t i = 0; i < failing_.size(); ++i) {
    std::shared_ptr<Task> t = failing_[i];
    t->started = true;
    t->done = true;
    CompleteLocked(t->result, nullptr, FirstFailedArg(*t)->error, t->result_object);
    UnpinArgsLocked(*t);
  }
  failing_.clear();
}

void EmbeddedRuntime::MakeReadyLocked(const std::shared_ptr<Task>& task) {
  ready_.Push(task);
  workers_.WakeOneLocked();
}

const EmbeddedRuntime::Demand* EmbeddedRuntime::DemandOfLocked(const CallOptions& options, bool is_task,
                                                               const What& what) {
  absl::StatusOr<const Demand*> demand;
  if (options.has_resources) {
    demand = resources_.DemandOf(options.resources);
  } else if (!is_task) {
    return resources_.none();
  } else if (resources_.task_default_feasible()) {
    return resources_.task_default();
  } else {
    demand = resources_.DemandOf({{"CPU", 1}});  // (which no node has: it says so)
  }
  if (!demand.ok()) core_worker::ThrowStatus(demand.status(), what.str());
  return *demand;
}

std::shared_ptr<ObjectRefHandle> EmbeddedRuntime::SubmitTask(const RemoteFunction& function,
                                                             std::vector<TaskArgument> args,
                                                             const CallOptions& options) {
  if (!function.invoke) throw RayccError(function.name + " is an actor factory: create it with Actor()");
  if (options.max_retries < -1) throw RayccError("SetMaxRetries: must be >= -1");
  auto task = std::make_shared<Task>();
  task->args = std::move(args);
  FillTask(*task, function, options);
  // (Made first: nothing can fail once the reference is counted. If the
  // task is refused, its drop names an object that never was: ignored.)
  auto ref = std::make_shared<ObjectRefHandle>(task->result, ObjectRefHandle::Adopt{});
  task->caller_ref = ref;
  if (!options.has_resources && options.placement_group.IsNil() && options.node_name.empty() &&
      options.label_selector.empty() && resources_.task_default_feasible() &&
      std::none_of(task->args.begin(), task->args.end(),
                   [](const TaskArgument& a) { return a.by_ref || !a.contained.empty(); })) {
    // Nothing to check against the runtime's state: skip mu_.
    task->demand = resources_.task_default();
    Post(task);
    return ref;
  }
  What what{"task ", &function.name};
  Locked lock = Lock();
  task->demand = GroupDemandLocked(options, DemandOfLocked(options, /*is_task=*/true, what), what);
  EnqueueLocked(task, function, options);
  ObjectTable::CountCallerRef(*task->result_object);
  return ref;
}

void EmbeddedRuntime::PublishToCaller(Task& task, const Outcome& outcome) {
  // (A caller that dropped its reference is not there to lock.)
  if (!outcome.error && outcome.typed.value) {
    if (std::shared_ptr<ObjectRefHandle> ref = task.caller_ref.lock()) {
      ref->Publish(outcome.typed.value, outcome.typed.type);
    }
  }
  task.caller_ref.reset();
}

std::vector<ObjectId> EmbeddedRuntime::SubmitTasks(
    std::vector<BatchedTask> tasks, const std::vector<std::vector<std::pair<std::string, double>>>& demands) {
  // Everything that can fail on the batch's own terms is checked before
  // anything is submitted, and the tasks are made and wired outside mu_.
  std::vector<TaskId> ids(tasks.size());
  std::vector<ObjectId> results(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    BatchedTask& t = tasks[i];
    if (t.function == nullptr || !t.function->invoke || t.options == nullptr) {
      throw RayccError(absl::StrCat("SubmitTasks: task ", i, " has no function or options"));
    }
    if (t.demand >= static_cast<int>(demands.size())) {
      throw RayccError(absl::StrCat("SubmitTasks: task ", i, " names resource set ", t.demand));
    }
    for (TaskArgument& arg : t.args) {
      if (arg.batch_index >= static_cast<int>(i)) {
        throw RayccError(absl::StrCat("SubmitTasks: task ", i, " uses task ", arg.batch_index,
                                      ", which does not come before it"));
      }
      if (arg.batch_index < 0) continue;
      arg.by_ref = true;
      arg.ref = results[arg.batch_index];
    }
    ids[i] = TaskId::Of(job_);
    results[i] = *ObjectId::ForReturn(ids[i], 1);
  }
  // A batch of two tasks or more runs as a graph run (graph_run.cc).
  if (tasks.size() >= 2) {
    std::shared_ptr<GraphRun> run = MakeGraphRun(tasks, ids, results);
    Locked lock = Lock();
    if (stopping_) throw RayccError("the runtime is shutting down");
    AssignLanesLocked(*run, tasks, demands);
    StartGraphRunLocked(run);
    NoteGroupRunLocked(run);
    NoteChildRunLocked(run);
    return results;
  }
  std::vector<std::shared_ptr<Task>> made(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    made[i] = std::make_shared<Task>();
    FillTask(*made[i], *tasks[i].function, *tasks[i].options, ids[i]);
    made[i]->args = std::move(tasks[i].args);
  }
  Locked lock = Lock();
  // Each resource set once, in the name of the first task that asks for it.
  std::vector<const Demand*> units(demands.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    const BatchedTask& t = tasks[i];
    if (t.demand >= 0 && !units[t.demand]) {
      CallOptions o;
      o.has_resources = true;
      o.resources = demands[t.demand];
      units[t.demand] = DemandOfLocked(o, /*is_task=*/true, What{"task ", &t.function->name});
    }
    made[i]->demand = t.demand >= 0
                          ? units[t.demand]
                          : DemandOfLocked(CallOptions{}, /*is_task=*/true, What{"task ", &t.function->name});
  }
  // Then whatever can fail against the runtime's state, for every task,
  // before any is queued: a batch goes in whole or not at all.
  if (stopping_) throw RayccError("the runtime is shutting down");
  for (size_t i = 0; i < tasks.size(); ++i) {
    const BatchedTask& t = tasks[i];
    Task& task = *made[i];
    What what{"task ", &t.function->name};
    if (!t.options->placement_group.IsNil()) task.demand = GroupDemandLocked(*t.options, task.demand, what);
    (void)PlacementLocked(*t.options, *task.demand, what);
    for (const TaskArgument& arg : task.args) {
      if (arg.by_ref && arg.batch_index < 0 && !objects_.contains(arg.ref))
        throw MissingArgument(what, arg.ref);
      for (const ObjectId& id : arg.contained)
        if (!objects_.contains(id)) throw MissingArgument(what, id);
    }
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    const BatchedTask& t = tasks[i];
    const std::shared_ptr<Task>& task = made[i];
    EnqueueLocked(task, *t.function, *t.options);
    // Let workers start on the first tasks while the rest come in. (Results
    // to release are counted only below, so none is freed before a later
    // task of the batch pins it.)
    if (i % kSubmitChunk == kSubmitChunk - 1 && i + 1 < tasks.size()) {
      lock.unlock();
      embedded::garbage.Flush();
      std::this_thread::yield();
      lock.lock();
      CatchUpLocked();
    }
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!tasks[i].release_result) continue;
    auto it = objects_.find(results[i]);
    if (it == objects_.end()) continue;
    it->second.counted = true;
    objects_.MaybeFree(results[i]);
  }
  return results;
}

void EmbeddedRuntime::FillTask(Task& task, const RemoteFunction& function, const CallOptions& options,
                               const TaskId& id) const {
  task.id = id.IsNil() ? TaskId::Of(job_) : id;
  if (tls.runtime == this && tls.demand != nullptr) task.parent = tls.task;
  task.function = &function;
  task.result = *ObjectId::ForReturn(task.id, 1);
  task.priority = options.priority;
  task.retries_left = options.max_retries;
  task.retry_exceptions = options.retry_exceptions;
  // (What needs no check; EnqueueLocked resolves the rest: PlacementLocked.)
  task.where.spread = options.spread;
  task.where.affinity_soft = options.node_soft;
  task.traced = TraceOf(options, function.name);
}

ObjectId EmbeddedRuntime::Post(const std::shared_ptr<Task>& task) {
  if (!accepting_.load(std::memory_order_relaxed)) throw RayccError("the runtime is shutting down");
  ObjectId result = task->result;
  inbox_.Post(task);
  // A worker that found nothing to do announces itself before it looks at
  // the inbox a last time (both seq_cst): either it sees this task, or this
  // sees it and wakes it (worker_threads.h).
  if (workers_.AnyParking()) Lock();
  return result;
}

EmbeddedRuntime::Locked EmbeddedRuntime::Lock() {
  embedded::garbage.Flush();  // what this thread freed under mu_ last time
  Locked lock(mu_);
  CatchUpLocked();
  return lock;
}

void EmbeddedRuntime::CatchUpLocked() {
  objects_.DrainRefEvents();  // (frees first, then brings the inbox in)
  DrainInboxLocked();
}

void EmbeddedRuntime::DrainInboxLocked() {
  if (!inbox_.pending()) return;
  inbox_.TakeAll(draining_);
  for (size_t i = 0; i < draining_.size(); ++i) {
    // (Both the tasks and the table are likely out of cache.)
    if (i + 2 * ObjectTable::kPrefetchAhead < draining_.size())
      __builtin_prefetch(&draining_[i + 2 * ObjectTable::kPrefetchAhead]->result);
    if (i + ObjectTable::kPrefetchAhead < draining_.size())
      objects_.prefetch(draining_[i + ObjectTable::kPrefetchAhead]->result);
    const std::shared_ptr<Task>& task = draining_[i];
    task->sequence = next_sequence_++;
    task->result_object = &ObjectLocked(task->result);
    task->result_object->pending = task;
    ObjectTable::CountCallerRef(*task->result_object);
    MakeReadyLocked(task);
  }
  draining_.clear();
}

scheduling::PolicyOptions EmbeddedRuntime::PlacementLocked(const CallOptions& options, const Demand& demand,
                                                           const What& what) {
  raylet::PlacementRequest request;
  request.spread = options.spread;
  request.node_name = options.node_name;
  request.node_soft = options.node_soft;
  request.label_selector = options.label_selector;
  absl::StatusOr<scheduling::PolicyOptions> where = resources_.PlacementOf(request, demand);
  if (!where.ok()) core_worker::ThrowStatus(where.status(), what.str());
  return *where;
}

void EmbeddedRuntime::EnqueueLocked(const std::shared_ptr<Task>& task, const RemoteFunction& function,
                                    const CallOptions& options) {
  if (stopping_) throw RayccError("the runtime is shutting down");
  task->where = PlacementLocked(options, *task->demand, What{"task ", &function.name});
  // Every argument object must exist (else nothing is pinned); then each is
  // pinned, and the task waits for those not ready yet.
  absl::InlinedVector<Object*, 4> deps;
  for (const TaskArgument& arg : task->args) {
    if (!arg.by_ref) continue;
    auto it = objects_.find(arg.ref);
    if (it == objects_.end()) throw MissingArgument(What{"task ", &function.name}, arg.ref);
    deps.push_back(&it->second);  // (a node map: stable while it grows)
  }
  PinContainedLocked(task->args, What{"task ", &function.name});
  for (Object* dep : deps) {
    ++dep->uses;
    if (dep->ready) continue;
    ++task->unresolved;
    dep->dependents.push_back(task);
  }
  task->arg_objects = std::move(deps);  // (pinned: they stay, and stay put)
  task->sequence = next_sequence_++;
  task->result_object = &ObjectLocked(task->result);
  task->result_object->pending = task;  // exists (pending) from now on
  if (task->unresolved == 0) ReadyOrFailLocked(task);
}

std::shared_ptr<const EmbeddedRuntime::ErrorInfo> EmbeddedRuntime::CollectArgsLocked(
    const std::vector<TaskArgument>& args, const std::vector<const std::type_info*>& types,
    CollectedArgs* out, const ArgObjects* objects) {
  out->keep.clear();
  out->views.clear();
  out->keep.reserve(args.size());
  out->views.reserve(args.size());
  size_t k = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const TaskArgument& arg = args[i];
    if (!arg.by_ref) {
      out->views.emplace_back(arg.value);
      continue;
    }
    Object& object = *ArgObjectLocked(arg.ref, objects, k++);  // (pinned: it exists)
    if (object.error) return object.error;
    if (TakesValue(types, i, object.value.get(), object.type)) {
      out->keep.push_back(object.value);
      out->views.emplace_back(object.value.get());
    } else {
      const std::shared_ptr<const std::string>& bytes = BytesLocked(object);
      out->keep.push_back(bytes);
      out->views.emplace_back(*bytes);
    }
  }
  return nullptr;
}

void EmbeddedRuntime::RunTask(const std::shared_ptr<Task>& task, std::unique_lock<std::mutex>& lock) {
  task->started = true;
  const RemoteFunction& f = *task->function;
  EnsureArgBytes(task->args, f.arg_types, lock, &task->arg_objects);
  CollectedArgs collected;
  std::shared_ptr<const ErrorInfo> error =
      CollectArgsLocked(task->args, f.arg_types, &collected, &task->arg_objects);
  if (error) {  // a dependency failed: so does this task, with the same cause
    AcquireLocked(task->demand->units, task->node, -1);
    task->done = true;
    CompleteLocked(task->result, nullptr, error, task->result_object);
    UnpinArgsLocked(*task);
    return;
  }
  task->gpu_ids = resources_.TakeGpus(*task->demand, task->node);
  tls.demand = &task->demand->cpu;
  tls.gpu_ids = &task->gpu_ids;
  tls.task = task->id;
  tls.node = task->node;
  tls.cancelled = &task->cancelled;
  lock.unlock();
  embedded::garbage.Flush();
  auto started = std::chrono::steady_clock::now();
  bool retry = false;
  Outcome outcome = Attempt(task->traced, task->node, task->retries_left, task->retry_exceptions,
                            &task->cancelled, &retry, [&] { return InvokeTask(f, collected.views); });
  double took_us = MicrosSince(started);
  lock.lock();
  NoteDurationLocked(f, took_us);
  tls.cancelled = nullptr;
  tls.demand = nullptr;
  tls.gpu_ids = nullptr;
  resources_.ReleaseGpus(*task->demand, task->node, task->gpu_ids);
  task->gpu_ids.clear();
  AcquireLocked(task->demand->units, task->node, -1);
  tls.node = -1;
  if (task->cancelled) {  // cancelled while it ran: its result is settled already
    UnpinArgsLocked(*task);
    return;
  }
  if (retry) {
    MakeReadyLocked(task);  // same sequence: it keeps its place
    return;
  }
  task->done = true;
  PublishToCaller(*task, outcome);
  FinishLocked(task->result, std::move(outcome), f.name, task->result_object);
  UnpinArgsLocked(*task);
}

double EmbeddedRuntime::MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
}

void EmbeddedRuntime::NoteDurationLocked(const RemoteFunction& f, double us) {
  auto [it, added] = durations_.try_emplace(&f, us);
  if (!added) it->second = 0.8 * it->second + 0.2 * us;
}

bool EmbeddedRuntime::BatchesWith(const Task& task, const Task& first) {
  // (One function per batch: its run time is what says the batch is short.)
  return task.function == first.function && task.demand == first.demand && !task.where.spread &&
         task.where.affinity < 0 && task.where.labels == nullptr && !task.cancelled;
}

void EmbeddedRuntime::ClaimMoreLocked(Batch* batch) {
  const Task& first = *batch->tasks[0];
  if (resources_.size() != 1 || first.demand->gpu != 0 || !BatchesWith(first, first)) return;
  auto duration = durations_.find(first.function);
  if (duration == durations_.end() || duration->second >= kShortTaskUs) return;
  // A share of the ready queue, so other workers find work too.
  size_t share = ready_.size() / std::max<size_t>(1, workers_.started());
  size_t limit = std::min(kMaxBatch, 1 + share);
  while (batch->tasks.size() < limit && !ready_.empty()) {
    if (!BatchesWith(*ready_.Front(), first)) break;
    ready_.Front()->node = first.node;
    batch->tasks.push_back(ready_.PopFront());
  }
}

void EmbeddedRuntime::RunBatch(Batch* batch, std::unique_lock<std::mutex>& lock) {
  // Claimed tasks count as started (Cancel, inline runs and placement-group
  // removal leave them alone). Their arguments are collected now, under mu_.
  size_t n = batch->tasks.size();
  batch->args.resize(n);
  batch->outcomes.assign(n, Outcome{});
  batch->state.assign(n, Batch::kClaimed);
  // All before the first EnsureArgBytes, which may release mu_.
  for (size_t i = 0; i < n; ++i) batch->tasks[i]->started = true;
  for (size_t i = 0; i < n; ++i) {
    Task& task = *batch->tasks[i];
    const RemoteFunction& f = *task.function;
    EnsureArgBytes(task.args, f.arg_types, lock, &task.arg_objects);
    if (std::shared_ptr<const ErrorInfo> error =
            CollectArgsLocked(task.args, f.arg_types, &batch->args[i], &task.arg_objects)) {
      task.done = true;
      CompleteLocked(task.result, nullptr, error, task.result_object);
      UnpinArgsLocked(task);
      batch->state[i] = Batch::kPublished;
    }
  }
  batch->end = n;
  batch->published = 0;
  batch->running = 0;
  const Demand* demand = batch->tasks[0]->demand;
  int node = batch->tasks[0]->node;
  tls.demand = &demand->cpu;
  tls.node = node;
  tls.batch = batch;
  lock.unlock();
  embedded::garbage.Flush();
  auto started = std::chrono::steady_clock::now();
  // (batch->end shrinks when a task blocks: SettleBatchLocked)
  for (size_t i = 0; i < batch->end; ++i) {
    batch->running = i;
    if (batch->state[i] != Batch::kClaimed) continue;
    // A long batch gives the rest back, so they are not held up behind it.
    if (i > 0 && MicrosSince(started) > kShortTaskUs * kMaxBatch) {
      lock.lock();
      SettleBatchLocked(batch);
      lock.unlock();
      if (i >= batch->end) break;
    }
    Task& task = *batch->tasks[i];
    if (task.cancelled) {  // cancelled while claimed: nothing to run
      batch->state[i] = Batch::kRan;
      continue;
    }
    tls.task = task.id;
    tls.cancelled = &task.cancelled;
    const RemoteFunction& f = *task.function;
    bool retry = false;
    batch->outcomes[i] = Attempt(task.traced, node, task.retries_left, task.retry_exceptions, &task.cancelled,
                                 &retry, [&] { return InvokeTask(f, batch->args[i].views); });
    batch->state[i] = retry ? Batch::kRetry : Batch::kRan;
  }
  batch->running = batch->end;
  double took_us = MicrosSince(started);
  lock.lock();
  tls.cancelled = nullptr;
  tls.batch = nullptr;
  tls.demand = nullptr;
  tls.node = -1;
  NoteDurationLocked(*batch->tasks[0]->function, took_us / std::max<size_t>(1, batch->end));
  PublishLocked(batch, batch->end);
  AcquireLocked(demand->units, node, -1);
}

void EmbeddedRuntime::PublishLocked(Batch* batch, size_t upto) {
  for (size_t i = batch->published; i < upto; ++i) {
    Task& task = *batch->tasks[i];
    if (task.cancelled && batch->state[i] != Batch::kPublished) {
      UnpinArgsLocked(task);  // (its result is settled already)
    } else if (batch->state[i] == Batch::kRetry) {
      MakeReadyLocked(batch->tasks[i]);  // same sequence: it keeps its place
    } else if (batch->state[i] == Batch::kRan) {
      task.done = true;
      PublishToCaller(task, batch->outcomes[i]);
      FinishLocked(task.result, std::move(batch->outcomes[i]), task.function->name, task.result_object);
      UnpinArgsLocked(task);
    }
    batch->state[i] = Batch::kPublished;
    batch->args[i] = CollectedArgs{};
  }
  batch->published = std::max(batch->published, upto);
}

void EmbeddedRuntime::SettleBatchLocked(Batch* batch) {
  PublishLocked(batch, batch->running);
  for (size_t i = batch->running + 1; i < batch->end; ++i) {
    if (batch->state[i] != Batch::kClaimed) continue;
    batch->args[i] = CollectedArgs{};
    batch->state[i] = Batch::kPublished;  // (given back: nothing to publish)
    if (batch->tasks[i]->cancelled) {     // (its result is settled already)
      UnpinArgsLocked(*batch->tasks[i]);
      continue;
    }
    batch->tasks[i]->started = false;
    MakeReadyLocked(batch->tasks[i]);
  }
  batch->end = std::min(batch->end, batch->running + 1);
}

bool EmbeddedRuntime::TryRunInlineLocked(const ObjectId& id, std::unique_lock<std::mutex>& lock) {
  constexpr int kMaxInlineDepth = 32;
  if (tls.inline_depth >= kMaxInlineDepth || stopping_) return false;
  auto object = objects_.find(id);
  if (object == objects_.end() || !object->second.pending || object->second.pending->started) return false;
  std::shared_ptr<Task> task = object->second.pending;
  // (Not queued while its arguments are pending.)
  if (task->cancelled || !ready_.Contains(*task)) return false;
  // The caller (a task itself, maybe) lends its resources while it waits.
  const Units* mine = tls.runtime == this ? static_cast<const Units*>(tls.demand) : nullptr;
  int my_node = tls.node;
  if (mine != nullptr) AcquireLocked(*mine, my_node, -1);
  int node = resources_.PickNode(*task->demand, &task->where);
  if (node >= 0) {
    ready_.Remove(*task);
    task->node = node;
    AcquireLocked(task->demand->units, node, +1);
    ThreadContext saved = tls;
    tls.runtime = this;
    tls.inline_depth = saved.inline_depth + 1;
    // Short tasks queued behind it come along as a batch: a caller reading
    // many results (Get of each in turn) reads the next ones ready.
    Batch batch;
    batch.tasks.push_back(task);
    if (saved.batch == nullptr) ClaimMoreLocked(&batch);
    if (batch.tasks.size() == 1) {
      RunTask(task, lock);
    } else {
      RunBatch(&batch, lock);
    }
    tls = saved;
    for (auto& t : batch.tasks) embedded::garbage.tasks.push_back(std::move(t));
  }
  if (mine != nullptr) ReacquireLocked(*mine, my_node, lock);
  return node >= 0;
}

void EmbeddedRuntime::WorkerLoop(int index) {
#if defined(__GLIBC__)
  pthread_setname_np(pthread_self(), absl::StrCat("raycc-worker-", index).substr(0, 15).c_str());
#endif
  tls.runtime = this;
  tls.index = index;
  tls.timeline_tid = index + 1;
  timeline_.NameThread(tls.timeline_tid, absl::StrCat("worker ", index));
  Locked lock = Lock();
  Batch batch;
  while (true) {
    std::shared_ptr<Task> task;
    int node = -1;
    while (true) {
      DrainInboxLocked();
      if (stopping_ || (task = PopRunnableLocked(&node)) != nullptr) break;
      workers_.Park(lock, [&] { return inbox_.pending(std::memory_order_seq_cst); });  // (see Post)
    }
    if (stopping_) break;
    task->node = node;
    AcquireLocked(task->demand->units, node, +1);
    if (task->run) {  // a runner of a graph run
      if (!ready_.empty()) workers_.WakeOneLocked();
      RunGraph(task, lock);
      embedded::garbage.tasks.push_back(std::move(task));
      continue;
    }
    batch.tasks.clear();
    batch.tasks.push_back(std::move(task));
    ClaimMoreLocked(&batch);
    // More ready work than this thread: pass the wake-up on.
    if (!ready_.empty()) workers_.WakeOneLocked();
    if (batch.tasks.size() == 1) {
      RunTask(batch.tasks[0], lock);
    } else {
      RunBatch(&batch, lock);
    }
    for (auto& t : batch.tasks) embedded::garbage.tasks.push_back(std::move(t));
  }
  tls = ThreadContext{};
}

bool EmbeddedRuntime::BlockUntil(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done,
                                 int64_t timeout_ms, const ObjectId* object) {
  if (done()) return true;
  // A task of a batch that blocks: what ran before it is published (a
  // waiter may need it) and what would run after it is given back.
  if (tls.runtime == this && tls.batch != nullptr) SettleBatchLocked(static_cast<Batch*>(tls.batch));
  const Units* demand = tls.runtime == this ? static_cast<const Units*>(tls.demand) : nullptr;
  int node = tls.node;
  if (demand != nullptr) {
    // Give the CPU back so nested work can run, and make sure a thread is
    // free to run it: nested fan-out cannot deadlock the pool.
    AcquireLocked(*demand, node, -1);
    if (workers_.IdleLocked() == 0 && !stopping_) workers_.StartLocked();
  }
  auto stop_or_done = [&] { return stopping_ || done(); };
  bool ok;
  // (The object is held by the caller's reference: it stays in objects_,
  // though the map may move it.)
  if (object != nullptr) {
    ++objects_[*object].waiters;
  } else {
    ++object_waiters_;
  }
  if (timeout_ms < 0) {
    objects_cv_.wait(lock, stop_or_done);
    ok = done();
  } else {
    ok = objects_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), stop_or_done) && done();
  }
  if (object != nullptr) {
    --objects_[*object].waiters;
  } else {
    --object_waiters_;
  }
  // Take the resources again, waiting for them if others took them
  // meanwhile (before any new task starts): never over capacity.
  if (demand != nullptr) ReacquireLocked(*demand, node, lock);
  if (!ok && stopping_) throw RayccError("the runtime was shut down while waiting");
  return ok;
}

const std::shared_ptr<const std::string>& EmbeddedRuntime::BytesLocked(Object& object) {
  if (!object.data && object.value) {
    object.data = std::make_shared<const std::string>(object.serialize(object.value.get()));
  }
  return object.data;
}

EmbeddedRuntime::Object& EmbeddedRuntime::WaitReadyLocked(const ObjectId& id, int64_t timeout_ms,
                                                          std::unique_lock<std::mutex>& lock,
                                                          const char* what) {
  auto it = objects_.find(id);
  if (it == objects_.end()) {
    throw RayccError(absl::StrCat(what, ": unknown object ", id.Hex(), " (from another runtime?)"));
  }
  if (!it->second.ready) {
    // (A batch gives back its tasks first: the one waited for may be one.)
    if (tls.runtime == this && tls.batch != nullptr) SettleBatchLocked(static_cast<Batch*>(tls.batch));
    if (timeout_ms < 0) TryRunInlineLocked(id, lock);
    bool ready = BlockUntil(
        lock, [&] { return objects_[id].ready; }, timeout_ms, &id);
    if (!ready) {
      throw GetTimeoutError(
          absl::StrCat(what, ": object ", id.Hex(), " was not ready within ", timeout_ms, " ms"));
    }
    it = objects_.find(id);  // (the map may have moved it)
  }
  Object& object = it->second;
  if (object.error) {
    const ErrorInfo& e = *object.error;
    if (e.actor_died) throw ActorDiedError(e.message);
    if (e.cancelled) throw TaskCancelledError(e.message);
    throw TaskError(e.function, e.type, e.message, e.where);
  }
  return object;
}

std::shared_ptr<const std::string> EmbeddedRuntime::Get(const ObjectId& id, int64_t timeout_ms) {
  Locked lock = Lock();
  return BytesLocked(WaitReadyLocked(id, timeout_ms, lock, "Get"));
}

std::shared_ptr<const void> EmbeddedRuntime::GetValue(const ObjectId& id, const std::type_info& type,
                                                      int64_t timeout_ms) {
  Locked lock = Lock();
  Object& object = WaitReadyLocked(id, timeout_ms, lock, "Get");
  if (object.value && *object.type == type) return object.value;
  return nullptr;
}

std::vector<std::shared_ptr<const void>> EmbeddedRuntime::GetValues(const std::vector<ObjectId>& ids,
                                                                    const std::type_info& type,
                                                                    int64_t timeout_ms) {
  // One lock for many objects (most of them ready, typically), given up
  // every so often so workers can publish meanwhile.
  constexpr size_t kPerLock = 256;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0));
  auto left_ms = [&]() -> int64_t {
    if (timeout_ms < 0) return -1;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return std::max<int64_t>(left.count(), 0);
  };
  std::vector<std::shared_ptr<const void>> values(ids.size());
  for (size_t begin = 0; begin < ids.size(); begin += kPerLock) {
    Locked lock = Lock();
    for (size_t i = begin; i < std::min(ids.size(), begin + kPerLock); ++i) {
      Object& object = WaitReadyLocked(ids[i], left_ms(), lock, "Get");
      if (object.value && *object.type == type) values[i] = object.value;
    }
  }
  return values;
}

std::vector<bool> EmbeddedRuntime::Wait(const std::vector<ObjectId>& ids, int num_objects,
                                        int64_t timeout_ms) {
  Locked lock = Lock();
  for (const ObjectId& id : ids)
    if (!objects_.contains(id)) throw RayccError("Wait: unknown object " + id.Hex());
  auto count = [&] {
    int n = 0;
    for (const ObjectId& id : ids) n += objects_[id].ready;
    return n;
  };
  BlockUntil(
      lock, [&] { return count() >= num_objects; }, timeout_ms);
  std::vector<bool> ready;
  for (const ObjectId& id : ids) ready.push_back(objects_[id].ready);
  return ready;
}

ObjectId EmbeddedRuntime::PutValue(std::shared_ptr<const void> value, const std::type_info& type,
                                   std::string (*serialize)(const void*)) {
  if (!value || serialize == nullptr) throw RayccError("Put: no value");
  TaskId owner = tls.runtime == this && tls.demand != nullptr ? tls.task : driver_task_;
  ObjectId id = *ObjectId::ForPut(owner, next_put_++ % ObjectId::kMaxIndex + 1);
  Locked lock = Lock();
  Object& object = ObjectLocked(id);
  object.value = std::move(value);
  object.type = &type;
  object.serialize = serialize;
  ObjectTable::CountCallerRef(object);
  CompleteLocked(id, nullptr, nullptr, &object);
  return id;
}

ObjectId EmbeddedRuntime::Put(std::string bytes) {
  TaskId owner = tls.runtime == this && tls.demand != nullptr ? tls.task : driver_task_;
  ObjectId id = *ObjectId::ForPut(owner, next_put_++ % ObjectId::kMaxIndex + 1);
  Locked lock = Lock();
  Object& object = ObjectLocked(id);
  ObjectTable::CountCallerRef(object);
  CompleteLocked(id, std::make_shared<const std::string>(std::move(bytes)), nullptr, &object);
  return id;
}

ActorId EmbeddedRuntime::CreateActor(const RemoteFunction& factory, std::vector<TaskArgument> args,
                                     const ActorOptions& options) {
  if (!factory.create) throw RayccError(factory.name + " is not an actor factory (it must return C*)");
  if (options.max_concurrency < 1 || options.max_concurrency > kMaxThreads) {
    throw RayccError(absl::StrCat("SetMaxConcurrency: must be from 1 to ", kMaxThreads));
  }
  ReapEndedActors();
  auto actor = std::make_shared<Actor>();
  actor->id = ActorId::Of(job_);
  actor->factory = &factory;
  actor->ctor_args = std::move(args);
  if (options.max_restarts < -1) throw RayccError("SetMaxRestarts: must be >= -1 (-1: always)");
  actor->restarts_left = options.max_restarts;
  actor->traced =
      TraceOf(CallOptions{.graph = options.call.graph, .plan_node = options.call.plan_node}, factory.name);
  What what{"actor ", &factory.name};
  Locked lock = Lock();
  if (stopping_) throw RayccError("the runtime is shutting down");
  // It holds its resources while alive (default: none), on a node its
  // options allow; with no room now, it waits for some (its first thread
  // places it): never over capacity.
  actor->held = GroupDemandLocked(options.call, DemandOfLocked(options.call, /*is_task=*/false, what), what);
  actor->group = options.call.placement_group;
  actor->where = PlacementLocked(options.call, *actor->held, what);
  proto::ActorSpec spec;
  spec.set_actor_id(actor->id.Binary());
  spec.set_job_id(job_.Binary());
  spec.set_class_name(factory.actor_type);
  spec.mutable_creation_function()->set_name(factory.name);
  spec.set_max_restarts(options.max_restarts);
  spec.set_max_concurrency(options.max_concurrency);
  spec.set_name(options.name);
  if (absl::Status s = gcs_.RegisterActor(spec); !s.ok()) throw RayccError(std::string(s.message()));
  ActorId id = actor->id;
  actors_.Start(std::move(actor), options.max_concurrency);
  return id;
}

ObjectId EmbeddedRuntime::SubmitActorTask(const ActorId& actor_id, const RemoteMethod& method,
                                          std::vector<TaskArgument> args, const CallOptions& options) {
  auto call = std::make_shared<ActorCall>();
  call->method = &method;
  call->args = std::move(args);
  call->result = *ObjectId::ForReturn(TaskId::Of(job_), 1);
  call->retries_left = options.max_retries;
  call->retry_exceptions = options.retry_exceptions;
  call->traced = TraceOf(options, method.name);
  Locked lock = Lock();
  actors_.CheckKnown(actor_id);
  UseArgsLocked(call->args, +1, What{"actor call ", &method.name});
  ObjectTable::CountCallerRef(ObjectLocked(call->result));
  ObjectId result = call->result;
  actors_.Submit(actor_id, std::move(call));
  return result;
}

const EmbeddedRuntime::Demand* EmbeddedRuntime::GroupDemandLocked(const CallOptions& options,
                                                                  const Demand* demand, const What& what) {
  if (options.placement_group.IsNil()) return demand;
  bool live = false;
  absl::StatusOr<const Demand*> in_group;
  gcs_.VisitPlacementGroup(options.placement_group, [&](const gcs::PlacementGroupRecord& group) {
    live = group.state != proto::PG_REMOVED;
    if (live)
      in_group = resources_.InGroup(*demand, options.placement_group, options.bundle_index, group.bundles);
  });
  if (!live) {
    throw RayccError(what.str() + ": placement group " + options.placement_group.Hex() +
                     " does not exist or was removed");
  }
  if (!in_group.ok()) core_worker::ThrowStatus(in_group.status(), what.str());
  return *in_group;
}

std::shared_ptr<EmbeddedRuntime::ErrorInfo> EmbeddedRuntime::GroupRemoved(const std::string& function) {
  auto info = std::make_shared<ErrorInfo>();
  info->cancelled = true;
  info->function = function;
  info->message = "task " + function + " did not run: its placement group was removed";
  return info;
}

void EmbeddedRuntime::TryReserveGroupsLocked() {
  std::vector<PlacementGroupId> reserved = gcs_.ReservePending();
  if (reserved.empty()) return;
  if (!group_runs_.empty()) GrowGroupLanesLocked(reserved);
  objects_cv_.notify_all();
  workers_.WakeAllLocked();
}

std::vector<PlacementGroupInfo> EmbeddedRuntime::ListPlacementGroups() {
  Locked lock = Lock();
  std::vector<PlacementGroupInfo> out;
  for (const proto::PlacementGroupInfo& info : gcs_.GetAllPlacementGroups())
    out.push_back(ToPlacementGroupInfo(info));
  return out;
}

int EmbeddedRuntime::CurrentActorRestarts() const {
  if (tls.runtime != this || tls.actor_restarts == nullptr) return -1;
  return tls.actor_restarts->load(std::memory_order_relaxed);
}

PlacementGroupId EmbeddedRuntime::CreatePlacementGroup(
    const std::vector<std::vector<std::pair<std::string, double>>>& bundles, PlacementGroupStrategy strategy,
    const std::string& name, const std::vector<std::string>& bundle_nodes) {
  absl::StatusOr<std::vector<ResourceSet>> bundle_sets = gcs::BundleResourceSets(bundles, name);
  if (!bundle_sets.ok()) throw RayccError(std::string(bundle_sets.status().message()));
  std::vector<ResourceSet> sets = *std::move(bundle_sets);
  PlacementGroupId id = PlacementGroupId::Of(job_);
  Locked lock = Lock();
  absl::Status created = gcs_.CreatePlacementGroup(
      id, name, static_cast<scheduling::BundleStrategy>(strategy), sets, bundle_nodes);
  if (!created.ok()) {
    // (The GCS's infeasible status is kResourceExhausted: raycc::IsInfeasible.)
    if (created.code() == absl::StatusCode::kResourceExhausted) {
      throw InfeasibleError(std::string(created.message()));
    }
    throw RayccError(std::string(created.message()));
  }
  // (The GCS reserved it now if it fits.)
  objects_cv_.notify_all();
  workers_.WakeAllLocked();
  return id;
}

bool EmbeddedRuntime::WaitPlacementGroup(const PlacementGroupId& id, int64_t timeout_ms) {
  Locked lock = Lock();
  if (!gcs_.GetPlacementGroupState(id).ok()) throw RayccError("unknown placement group " + id.Hex());
  auto state = [&] {
    absl::StatusOr<proto::PlacementGroupState> s = gcs_.GetPlacementGroupState(id);
    return s.ok() ? *s : proto::PG_REMOVED;  // (forgotten: removed long ago)
  };
  return BlockUntil(
             lock, [&] { return state() != proto::PG_PENDING; }, timeout_ms) &&
         state() == proto::PG_CREATED;
}

void EmbeddedRuntime::RemovePlacementGroup(const PlacementGroupId& id) {
  Locked lock = Lock();
  std::string suffix;
  bool live = false;
  gcs_.VisitPlacementGroup(id, [&](const gcs::PlacementGroupRecord& group) {
    live = group.state != proto::PG_REMOVED;
    suffix = group.suffix;
  });
  if (!live) return;
  // Tasks still waiting to run in the group would wait forever: fail them.
  std::vector<std::shared_ptr<Task>> doomed;
  for (const auto& [result, object] : objects_) {
    if (object.pending && !object.pending->started && object.pending->demand->InGroup(suffix))
      doomed.push_back(object.pending);
  }
  // All are marked first: failing one must not fail another (a dependent
  // among them) behind this loop's back.
  for (const std::shared_ptr<Task>& task : doomed) task->cancelled = true;
  for (const std::shared_ptr<Task>& task : doomed) {
    if (task->done) continue;
    task->done = true;
    ready_.Remove(*task);
    CompleteLocked(task->result, nullptr, GroupRemoved(task->function->name));
    UnpinArgsLocked(*task);
  }
  FailGroupLanesLocked(suffix);  // and graph runs' work in it
  actors_.GroupRemoved(id);      // and its actors (their running calls finish)
  // The GCS gives the bundles back (running tasks in the group give theirs
  // back to names nothing asks for any more) and reserves what now fits.
  if (absl::Status s = gcs_.RemovePlacementGroup(id); !s.ok()) throw RayccError(std::string(s.message()));
  workers_.WakeAllLocked();
  objects_cv_.notify_all();
}

bool EmbeddedRuntime::CancelTask(const ObjectId& id) {
  Locked lock = Lock();
  auto it = objects_.find(id);
  if (it == objects_.end()) return false;
  if (it->second.run) {
    std::shared_ptr<GraphRun> run = it->second.run;  // (the object lets go of it)
    return CancelGraphNodeLocked(*run, it->second.run_node, ChildrenLocked());
  }
  if (!it->second.pending) return false;
  std::shared_ptr<Task> task = it->second.pending;
  if (task->cancelled || task->done) return false;
  return CancelLocked(task, ChildrenLocked());
}

EmbeddedRuntime::Children EmbeddedRuntime::ChildrenLocked() const {
  Children children;
  for (const auto& [oid, object] : objects_)
    if (object.pending && !object.pending->parent.IsNil())
      children[object.pending->parent].push_back(object.pending);
  return children;
}

void EmbeddedRuntime::CancelChildrenLocked(const TaskId& parent, const Children& children) {
  CancelChildRunsLocked(parent, children);
  auto mine = children.find(parent);
  if (mine == children.end()) return;
  for (const std::shared_ptr<Task>& child : mine->second) CancelLocked(child, children);
}

bool EmbeddedRuntime::CancelLocked(const std::shared_ptr<Task>& task, const Children& children) {
  if (task->cancelled || task->done) return false;
  task->cancelled = true;
  // Then the tasks it submitted (a dependent failing meanwhile is done).
  CancelChildrenLocked(task->id, children);
  if (task->done) return true;
  task->done = true;
  bool queued = false;  // (waiting to run: not started, or between retries)
  if (ready_.Remove(*task)) queued = true;
  bool ran = task->started;
  auto info = std::make_shared<ErrorInfo>();
  info->cancelled = true;
  info->function = task->function->name;
  info->message =
      ran ? "task " + task->function->name +
                " was cancelled while it ran (its result is dropped; raycc::IsCancelled() told it)"
          : "task " + task->function->name + " was cancelled before it ran";
  CompleteLocked(task->result, nullptr, info, task->result_object);
  // A running task unpins its arguments when it returns; one that will not
  // run again does so now.
  if (!ran || queued) UnpinArgsLocked(*task);
  return true;
}

std::optional<std::pair<ActorId, std::string>> EmbeddedRuntime::GetNamedActor(const std::string& name) {
  Locked lock = Lock();
  std::optional<proto::ActorInfo> info = gcs_.GetNamedActor("", name);
  if (!info) return std::nullopt;
  return std::make_pair(*ActorId::FromBinary(info->spec().actor_id()), info->spec().class_name());
}

void EmbeddedRuntime::KillActor(const ActorId& actor_id, bool no_restart) {
  Locked lock = Lock();
  actors_.Kill(actor_id, no_restart);
  objects_cv_.notify_all();
}

void EmbeddedRuntime::ReapEndedActors() {
  std::vector<std::thread> threads;
  {
    Locked lock = Lock();
    threads = actors_.TakeEnded();
  }
  for (std::thread& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // (an ended actor's own thread, in its destructor: it is leaving)
    } else {
      t.join();
    }
  }
}

void EmbeddedRuntime::RunActorThread(Actor& actor, int index,
                                     absl::FunctionRef<void(std::unique_lock<std::mutex>&)> body) {
  tls.runtime = this;
  tls.index = index;
  tls.actor = true;
  tls.actor_restarts = &actor.restarts;
  tls.gpu_ids = &actor.gpu_ids;
  tls.timeline_tid = next_actor_tid_++;
  timeline_.NameThread(tls.timeline_tid, absl::StrCat("actor ", actor.factory->name, " ",
                                                      actor.id.Hex().substr(0, 8), " thread ", index));
  {
    Locked lock = Lock();
    body(lock);
  }
  tls = ThreadContext{};
}

void EmbeddedRuntime::WaitUntil(std::unique_lock<std::mutex>& lock, absl::FunctionRef<bool()> done,
                                bool for_room) {
  if (for_room) ++actors_waiting_;
  ++object_waiters_;
  objects_cv_.wait(lock, [&] { return done(); });
  --object_waiters_;
  if (for_room) --actors_waiting_;
}

bool EmbeddedRuntime::ArgsReady(const std::vector<TaskArgument>& args) {
  for (const TaskArgument& a : args)
    if (a.by_ref && !objects_[a.ref].ready) return false;
  return true;
}

std::shared_ptr<const EmbeddedRuntime::ErrorInfo> EmbeddedRuntime::CollectArgs(
    const std::vector<TaskArgument>& args, const std::vector<const std::type_info*>& types,
    std::unique_lock<std::mutex>& lock, CollectedArgs* out) {
  EnsureArgBytes(args, types, lock);
  return CollectArgsLocked(args, types, out);
}

void EmbeddedRuntime::UseArgs(const std::vector<TaskArgument>& args, int sign, const std::string& what) {
  UseArgsLocked(args, sign, What{"", &what});
}

void EmbeddedRuntime::FailCall(const ObjectId& result, std::shared_ptr<const ErrorInfo> error) {
  CompleteLocked(result, nullptr, std::move(error));
}

void EmbeddedRuntime::FinishCall(const ObjectId& result, Outcome outcome, const std::string& function) {
  FinishLocked(result, std::move(outcome), function);
}

bool EmbeddedRuntime::Place(Actor& actor) {
  if (actor.node >= 0) return true;
  int node = resources_.PickNode(*actor.held, &actor.where);
  if (node < 0) return false;
  actor.node = node;
  AcquireLocked(actor.held->units, node, +1);
  actor.gpu_ids = resources_.TakeGpus(*actor.held, node);
  return true;
}

void EmbeddedRuntime::Unplace(Actor& actor) {
  resources_.ReleaseGpus(*actor.held, actor.node, actor.gpu_ids);
  AcquireLocked(actor.held->units, actor.node, -1);
}

NodeId EmbeddedRuntime::NodeIdOf(int node) const { return resources_.id(node); }

void EmbeddedRuntime::SetThreadNode(int node) { tls.node = node; }

EmbeddedRuntime::Outcome EmbeddedRuntime::AttemptCall(const Traced& traced, int node, int& retries_left,
                                                      bool retry_exceptions, bool* retry,
                                                      absl::FunctionRef<Outcome()> invoke) {
  return Attempt(traced, node, retries_left, retry_exceptions, nullptr, retry, invoke);
}

}  // namespace raycc::internal
