#pragma once

// The embedded runtime: everything in the driver process. Tasks run on a
// thread pool sized by the "CPU" resource; objects live in an in-process
// store; each actor has its own thread(s). It implements the same
// RuntimeInterface the cluster runtime will.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "absl/functional/function_ref.h"
#include "embedded/actor_manager.h"
#include "embedded/mailbox.h"
#include "embedded/object_table.h"
#include "embedded/ready_queue.h"
#include "embedded/task.h"
#include "embedded/timeline.h"
#include "embedded/user_call.h"
#include "embedded/worker_threads.h"
#include "gcs/gcs.h"
#include "raycc/runtime/api/config.h"
#include "raycc/runtime/api/errors.h"
#include "raycc/runtime/api/object_ref_handle.h"
#include "raycc/runtime/api/remote_registry.h"
#include "raycc/runtime/api/runtime_factory.h"
#include "raycc/runtime/common/resource_set.h"
#include "raylet/local_resources.h"
#include "scheduling/policy_options.h"

namespace raycc::internal {

class EmbeddedRuntime final : public ManagedRuntime, private embedded::ActorHost {
 public:
  /// Validates `config` (throws RayccError on a bad resource) and starts the
  /// worker threads.
  explicit EmbeddedRuntime(const Config& config);
  /// Stops: running tasks finish, queued ones are dropped, actors stop;
  /// then writes the timeline (Config.timeline_path). Idempotent.
  absl::Status Finish() override;
  ~EmbeddedRuntime() override;

  std::shared_ptr<ObjectRefHandle> SubmitTask(const RemoteFunction& function, std::vector<TaskArgument> args,
                                              const CallOptions& options) override;
  std::vector<ObjectId> SubmitTasks(
      std::vector<BatchedTask> tasks,
      const std::vector<std::vector<std::pair<std::string, double>>>& demands) override;
  ActorId CreateActor(const RemoteFunction& factory, std::vector<TaskArgument> args,
                      const ActorOptions& options) override;
  ObjectId SubmitActorTask(const ActorId& actor, const RemoteMethod& method, std::vector<TaskArgument> args,
                           const CallOptions& options) override;
  void KillActor(const ActorId& actor, bool no_restart) override;
  bool CancelTask(const ObjectId& id) override;
  PlacementGroupId CreatePlacementGroup(
      const std::vector<std::vector<std::pair<std::string, double>>>& bundles,
      PlacementGroupStrategy strategy, const std::string& name,
      const std::vector<std::string>& bundle_nodes) override;
  bool WaitPlacementGroup(const PlacementGroupId& id, int64_t timeout_ms) override;
  void RemovePlacementGroup(const PlacementGroupId& id) override;
  std::optional<std::pair<ActorId, std::string>> GetNamedActor(const std::string& name) override;
  std::vector<PlacementGroupInfo> ListPlacementGroups() override;
  int CurrentActorRestarts() const override;
  ObjectId Put(std::string bytes) override;
  ObjectId PutValue(std::shared_ptr<const void> value, const std::type_info& type,
                    std::string (*serialize)(const void*)) override;
  std::shared_ptr<const void> GetValue(const ObjectId& id, const std::type_info& type,
                                       int64_t timeout_ms) override;
  std::vector<std::shared_ptr<const void>> GetValues(const std::vector<ObjectId>& ids,
                                                     const std::type_info& type, int64_t timeout_ms) override;
  std::shared_ptr<const std::string> Get(const ObjectId& id, int64_t timeout_ms) override;
  std::vector<bool> Wait(const std::vector<ObjectId>& ids, int num_objects, int64_t timeout_ms) override;
  void AddObjectRef(const ObjectId& id) override;
  void RemoveObjectRef(const ObjectId& id) override;
  size_t LiveObjects() override;

  // Introspection, for tests: false once Finish has begun (no task or
  // graph node starts after that); graph runs started so far.
  bool accepting() const { return accepting_.load(); }
  uint64_t graph_runs_started() const { return graph_runs_started_.load(); }
  // Graph runs with lanes in placement groups this runtime keeps track of
  // (alive, or ended and not yet pruned).
  size_t group_runs_held() {
    Locked lock = Lock();
    return group_runs_.size();
  }
  // Actors this runtime holds (alive, or ended and not yet reaped).
  size_t actors_held() {
    Locked lock = Lock();
    return actors_.size();
  }

  // The calling thread's worker context (see ManagedRuntime).
  bool InWorkerThread() const override;
  std::string CurrentNodeName() const override;
  std::vector<int> CurrentGpuIds() const override;
  bool CurrentTaskCancelled() const override;

 private:
  using Units = scheduling::Units;
  // A task's or actor's resource demand, interned by resources_: calls with
  // the same options share one, so a submission copies no map.
  using Demand = raylet::Demand;
  // Names a call in an error message ("task f"); made into text only when
  // there is an error to report.
  struct What {
    const char* kind = "";
    const std::string* name = nullptr;
    std::string str() const;
  };
  // The objects (embedded/object_table.h) and tasks (embedded/task.h).
  using ErrorInfo = embedded::ErrorInfo;
  using Contents = embedded::Contents;
  using Object = embedded::Object;
  using ObjectTable = embedded::ObjectTable;
  using ObjectMap = ObjectTable::Map;
  using TraceInfo = embedded::TraceInfo;
  using Traced = embedded::Traced;
  using Task = embedded::Task;
  using ArgObjects = embedded::ArgObjects;
  // A compiled batch run by dataflow (graph_run.cc).
  using GraphRun = embedded::GraphRun;

  // Running user code (embedded/user_call.h) and actors
  // (embedded/actor_manager.h).
  using Outcome = embedded::Outcome;
  using CollectedArgs = embedded::CollectedArgs;
  using Actor = embedded::Actor;
  using ActorCall = embedded::ActorCall;
  // All below require mu_ held unless noted.
  Object& ObjectLocked(const ObjectId& id);
  /// Where a call may run (raylet::LocalResources::PlacementOf); a
  /// malformed selector throws RayccError, and a hard pin or a selector no
  /// node can ever satisfy for `demand` throws InfeasibleError naming why.
  scheduling::PolicyOptions PlacementLocked(const CallOptions& options, const Demand& demand,
                                            const What& what);
  /// Hands a successful task's value to its caller's reference too, so Get
  /// reads it there. Under mu_, just before the result completes.
  static void PublishToCaller(Task& task, const Outcome& outcome);
  /// Unpins a task's argument objects (UseArgsLocked -1, without lookups).
  void UnpinArgsLocked(const Task& task);
  /// Pins the objects the arguments' values mention; throws, pinning
  /// nothing, when one does not exist.
  void PinContainedLocked(const std::vector<TaskArgument>& args, const What& what);
  /// Cancels `task` (pending or running) and, recursively, the tasks it
  /// submitted that have not finished. False when it is done already.
  using Children = absl::flat_hash_map<TaskId, std::vector<std::shared_ptr<Task>>>;
  bool CancelLocked(const std::shared_ptr<Task>& task, const Children& children);
  /// Who submitted what, among the tasks not done: one pass over the objects.
  Children ChildrenLocked() const;
  /// Cancels the tasks `parent` submitted, and theirs.
  void CancelChildrenLocked(const TaskId& parent, const Children& children);
  /// The k-th ObjectRef argument's object: from `objects` when given, else
  /// looked up (null when gone).
  Object* ArgObjectLocked(const ObjectId& id, const ArgObjects* objects, size_t k);
  /// Pins (+1) or unpins (-1) the objects `args` take by reference; pinning
  /// throws RayccError, pinning nothing, when one does not exist.
  void UseArgsLocked(const std::vector<TaskArgument>& args, int sign, const What& what);
  static RayccError MissingArgument(const What& what, const ObjectId& id);
  /// The object's bytes, made now for a value stored as is.
  static const std::shared_ptr<const std::string>& BytesLocked(Object& object);
  /// Waits (running the task inline when it can) until `id` is ready, and
  /// throws the error it holds, if any.
  Object& WaitReadyLocked(const ObjectId& id, int64_t timeout_ms, std::unique_lock<std::mutex>& lock,
                          const char* what);
  void CompleteLocked(const ObjectId& id, std::shared_ptr<const std::string> data,
                      std::shared_ptr<const ErrorInfo> error, Object* known = nullptr);
  /// Takes (+1) or gives back (-1) `demand` on `node`; giving back wakes
  /// what may now run (a worker, a task waiting to resume, an actor waiting
  /// for room, a placement group).
  void AcquireLocked(const Units& demand, int node, int sign);
  /// Takes `demand` on `node` again for a task that lent it while it waited
  /// (Get, an inline run): waits until it fits, so resources are never
  /// over-committed. Workers start no new work while one waits here.
  void ReacquireLocked(const Units& demand, int node, std::unique_lock<std::mutex>& lock);
  int resuming_ = 0;  // threads in ReacquireLocked
  std::condition_variable resume_cv_;
  /// The first ready task (by priority) that fits somewhere, and its node.
  std::shared_ptr<Task> PopRunnableLocked(int* node);
  // Blocks until `done()` (evaluated under mu_) or the deadline; gives back
  // the calling task's resources while it waits. Returns done().
  // `object`, when given, is the one object `done` waits for: completions of
  // other objects then do not wake this thread.
  bool BlockUntil(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done, int64_t timeout_ms,
                  const ObjectId* object = nullptr);
  /// The demand `options` ask for (checked: a malformed or infeasible one
  /// throws, naming `what`), interned.
  const Demand* DemandOfLocked(const CallOptions& options, bool is_task, const What& what);
  /// Queues a task whose arguments are ready, and wakes a worker for it.
  void MakeReadyLocked(const std::shared_ptr<Task>& task);
  /// MakeReadyLocked for a task whose arguments all exist now, or, when one
  /// of them failed, fails the task with the same cause without running it.
  void ReadyOrFailLocked(const std::shared_ptr<Task>& task);
  /// The task's first argument object that holds an error, or null.
  static const Object* FirstFailedArg(const Task& task);
  std::vector<std::shared_ptr<Task>> failing_;  // (ReadyOrFailLocked's queue)
  // SubmitTask's work once `task` has its demand: options, ids, dependency
  // wiring, the ready queue. Requires mu_.
  // (The task is filled already: FillTask.)
  void EnqueueLocked(const std::shared_ptr<Task>& task, const RemoteFunction& function,
                     const CallOptions& options);
  // SubmitTasks releases mu_ after every this many tasks.
  static constexpr size_t kSubmitChunk = 512;

  // A compiled batch of tasks runs as a graph run, in the Pathways manner:
  // its dependencies are counted down by the nodes themselves and its ready
  // nodes queue in the run, so mu_ is not taken per task; only the results
  // read from outside the batch become objects. Nodes of one demand and
  // placement form a lane; runners (tasks holding the lane's demand where
  // the scheduler put them) take nodes from their lane's queue. See
  // graph_run.cc.
  using GraphNode = embedded::GraphNode;
  using GraphLane = embedded::GraphLane;
  // Checks every task's demand and placement as the task-by-task path does
  // (throwing the same errors) and puts each node of `run` in its lane.
  void AssignLanesLocked(GraphRun& run, const std::vector<BatchedTask>& tasks,
                         const std::vector<std::vector<std::pair<std::string, double>>>& demands);
  // The most runners one lane has at once (more would only wait for room).
  static constexpr int kMaxGraphRunners = 1024;
  // The run of a batch, wired, its tasks' arguments moved in, its parent
  // the task submitting it, if any (no lock).
  std::shared_ptr<GraphRun> MakeGraphRun(std::vector<BatchedTask>& tasks, const std::vector<TaskId>& ids,
                                         const std::vector<ObjectId>& results) const;
  // Runs with lanes in placement groups, so that removing a group fails
  // their work there (FailGroupLanesLocked); expired ones are pruned.
  std::vector<std::weak_ptr<GraphRun>> group_runs_;
  size_t group_runs_kept_ = 0;  // its size after the last pruning

  void NoteGroupRunLocked(const std::shared_ptr<GraphRun>& run);
  // Runs submitted by a task, by that task: Cancel of it cancels their
  // nodes (CancelChildRunsLocked). Parents whose runs all ended are pruned.
  struct ChildRuns {
    std::vector<std::weak_ptr<GraphRun>> runs;
    size_t kept = 0;  // its size after the last pruning
  };
  absl::flat_hash_map<TaskId, ChildRuns> child_runs_;
  size_t child_runs_kept_ = 0;  // its size after the last pruning
  void NoteChildRunLocked(const std::shared_ptr<GraphRun>& run);
  // Cancels the nodes of the runs `parent` submitted (and, through them,
  // what they submitted).
  void CancelChildRunsLocked(const TaskId& parent, const Children& children);
  // The placement group whose resources end in `suffix` is being removed:
  // the nodes of runs' lanes in it that have not started fail (as its
  // queued tasks do), and those lanes' runners need nothing to do that.
  void FailGroupLanesLocked(const std::string& suffix);
  // Why a task (`function`) in a removed placement group did not run.
  static std::shared_ptr<ErrorInfo> GroupRemoved(const std::string& function);
  // Groups were reserved: runs' lanes in them that started while they were
  // pending (one runner: there was no room to count) get as many runners
  // as the bundles now hold.
  void GrowGroupLanesLocked(const std::vector<PlacementGroupId>& reserved);
  // Starts `run` (MissingArgument, changing nothing, when an object it
  // reads from outside does not exist).
  void StartGraphRunLocked(const std::shared_ptr<GraphRun>& run);
  // An object node `k` of `run` reads from outside is ready.
  void GraphInputReadyLocked(const std::shared_ptr<GraphRun>& run, int32_t k);
  // A runner hands its CPU over after this long when other work waits.
  static constexpr double kGraphSliceUs = 1000;
  // Queues `n` more runners of `run`'s lane `lane`, at `priority` in the
  // ready queue.
  void SpawnRunnersLocked(const std::shared_ptr<GraphRun>& run, int32_t lane, int n, int64_t priority);
  // A runner's work: mu_ held on entry and on return, not between.
  void RunGraph(const std::shared_ptr<Task>& runner, std::unique_lock<std::mutex>& lock);
  // Runs node `k` of `run` on this thread (mu_ not held); returns the node
  // it takes next (-1: none, and this runner ends).
  int32_t RunGraphNode(const std::shared_ptr<GraphRun>& run, int k, int node);
  // The next node of `lane`'s ready queue (run.mu held), or -1 when there
  // is none or the runtime stops: then the calling runner is no longer
  // counted.
  int32_t PopGraphNode(GraphRun& run, GraphLane& lane);
  // Cancels node `k` of `run` (through its result, or its parent's
  // cancellation), and what it submitted: false when it was done already.
  bool CancelGraphNodeLocked(GraphRun& run, int k, const Children& children);
  // The task's fields that come from its options (no runtime state).
  // (A nil `id`: a fresh one.)
  void FillTask(Task& task, const RemoteFunction& function, const CallOptions& options,
                const TaskId& id = TaskId()) const;
  // Submits a task that needs no check against the runtime's state (no
  // ObjectRef arguments, default resources and placement) without taking
  // mu_: it waits in the inbox for whoever takes mu_ next.
  ObjectId Post(const std::shared_ptr<Task>& task);
  /// mu_, held by Lock(): once it is released, what this thread freed under
  /// it is destroyed (a user's thread may not call in again for a long
  /// time, and a freed value may be large).
  class Locked : public std::unique_lock<std::mutex> {
   public:
    explicit Locked(std::mutex& mu) : std::unique_lock<std::mutex>(mu) {}
    Locked(Locked&&) noexcept = default;
    Locked& operator=(Locked&&) = delete;
    ~Locked() {
      if (owns_lock()) unlock();
      embedded::garbage.Flush();
    }
  };
  /// Takes mu_, applies the queued reference events and brings in the
  /// inbox: every entry point that looks at objects or tasks takes mu_ this
  /// way.
  Locked Lock();
  /// What Lock() does once it holds mu_ (also for a caller taking it again).
  void CatchUpLocked();
  void DrainInboxLocked();

  void WorkerLoop(int index);

  // Short tasks of one demand run as a batch on one worker: claimed
  // together, run one after another holding the demand once, and published
  // together, so the runtime lock is taken once per batch rather than per
  // task. A task is short when its function's recent runs averaged under
  // kShortTaskUs; the first runs of a function are never batched.
  static constexpr double kShortTaskUs = 20;
  static constexpr size_t kMaxBatch = 16;
  struct Batch {
    enum State : char { kClaimed, kRan, kRetry, kPublished };
    std::vector<std::shared_ptr<Task>> tasks;
    std::vector<CollectedArgs> args;
    std::vector<Outcome> outcomes;
    std::vector<State> state;
    size_t running = 0;    // the task running now; those before it have run
    size_t published = 0;  // [0, published) are published
    size_t end = 0;        // [end, size) were given back
  };
  /// Adds to `batch` (holding its first task) ready tasks that can share
  /// its run, when its function is short.
  void ClaimMoreLocked(Batch* batch);
  /// `task` may run in the batch `first` starts (same function and demand,
  /// no placement preference, not cancelled).
  static bool BatchesWith(const Task& task, const Task& first);
  /// Runs a claimed batch (mu_ held on entry and exit, released meanwhile).
  void RunBatch(Batch* batch, std::unique_lock<std::mutex>& lock);
  /// Completes the batch's tasks before `upto` that ran.
  void PublishLocked(Batch* batch, size_t upto);
  /// Publishes what ran before the running task and gives back the tasks
  /// after it (it blocks, or the batch runs long).
  void SettleBatchLocked(Batch* batch);
  void NoteDurationLocked(const RemoteFunction& f, double us);
  static double MicrosSince(std::chrono::steady_clock::time_point start);
  absl::flat_hash_map<const RemoteFunction*, double> durations_;  // recent run time, µs
  // Get() of the result of a task that is ready but not started runs the
  // task on the calling thread (the caller would only wait for it): no
  // thread hand-off for a synchronous call, and nested fan-out runs its
  // children inline instead of starting threads. False when it cannot
  // (the task is not ready, has no room, or inline runs nest too deep).
  bool TryRunInlineLocked(const ObjectId& id, std::unique_lock<std::mutex>& lock);
  void RunTask(const std::shared_ptr<Task>& task, std::unique_lock<std::mutex>& lock);
  // Resolves arguments (all ready) for a callee taking `types`: an object
  // held as a value of the parameter's type is passed as that value, any
  // other as bytes. Returns the first error among them instead, if any.
  // Requires mu_.
  std::shared_ptr<const ErrorInfo> CollectArgsLocked(const std::vector<TaskArgument>& args,
                                                     const std::vector<const std::type_info*>& types,
                                                     CollectedArgs* out, const ArgObjects* objects = nullptr);
  /// Joins the threads of actors that ended and forgets them (the actor
  /// directory still says how they died): a program that creates and kills
  /// actors, as a compiled graph does on every execution, keeps neither
  /// their threads nor their state. (Takes mu_; call without it.)
  void ReapEndedActors();
  int actors_waiting_ = 0;  // actors waiting for room (on objects_cv_)
  // The actors' host (embedded::ActorHost): see there.
  void RunActorThread(Actor& actor, int index,
                      absl::FunctionRef<void(std::unique_lock<std::mutex>&)> body) override;
  bool Stopping() const override { return stopping_; }
  void WaitUntil(std::unique_lock<std::mutex>& lock, absl::FunctionRef<bool()> done, bool for_room) override;
  bool ArgsReady(const std::vector<TaskArgument>& args) override;
  std::shared_ptr<const ErrorInfo> CollectArgs(const std::vector<TaskArgument>& args,
                                               const std::vector<const std::type_info*>& types,
                                               std::unique_lock<std::mutex>& lock,
                                               CollectedArgs* out) override;
  void UseArgs(const std::vector<TaskArgument>& args, int sign, const std::string& what) override;
  void FailCall(const ObjectId& result, std::shared_ptr<const ErrorInfo> error) override;
  void FinishCall(const ObjectId& result, Outcome outcome, const std::string& function) override;
  bool Place(Actor& actor) override;
  void Unplace(Actor& actor) override;
  NodeId NodeIdOf(int node) const override;
  void SetThreadNode(int node) override;
  Outcome AttemptCall(const Traced& traced, int node, int& retries_left, bool retry_exceptions, bool* retry,
                      absl::FunctionRef<Outcome()> invoke) override;
  // Completes `result` with `outcome`, naming `function` and this thread in
  // an error. Requires mu_.
  void FinishLocked(const ObjectId& result, Outcome outcome, const std::string& function,
                    Object* object = nullptr);
  // What the timeline will say of a call submitted now with `options`.
  Traced TraceOf(const CallOptions& options, const std::string& function) const;
  // Records one attempt of `traced` on `node` that started at `start_us`.
  void RecordAttempt(const Traced& traced, int node, const char* status, double start_us);
  /// One attempt of user code, the same for a task, a task of a batch, a
  /// graph node and an actor call: runs `invoke`, sets `*retry` when it
  /// raised and runs again (core_worker::RetryAfterException; the retry is
  /// counted off `retries_left`), and records the attempt on the timeline.
  /// Whether a retry is queued again or run at once is the caller's. Called
  /// without mu_.
  Outcome Attempt(const Traced& traced, int node, int& retries_left, bool retry_exceptions,
                  const std::atomic<bool>* cancelled, bool* retry, absl::FunctionRef<Outcome()> invoke);
  // Makes the bytes of argument objects held as values, outside mu_ (which
  // it releases and takes again), so serializing a large value never holds
  // up the runtime.
  void EnsureArgBytes(const std::vector<TaskArgument>& args, const std::vector<const std::type_info*>& types,
                      std::unique_lock<std::mutex>& lock, const ArgObjects* objects = nullptr);
  std::string Where() const;

  TimelineRecorder timeline_;
  std::atomic<int> next_actor_tid_{1000000};  // worker threads are 1, 2, ...
  bool finished_ = false;

  // Tasks submitted by Post, in order, until DrainInboxLocked (seq_cst: the
  // workers' sleep protocol, see Post).
  Mailbox<std::shared_ptr<Task>, std::memory_order_seq_cst> inbox_;
  std::vector<std::shared_ptr<Task>> draining_;  // (mu_) reused, so its capacity stays
  std::atomic<bool> accepting_{true};
  std::atomic<uint64_t> graph_runs_started_{0};

  std::mutex mu_;
  std::condition_variable objects_cv_;  // an object became ready
  bool stopping_ = false;

  JobId job_;
  NodeId node_;
  TaskId driver_task_;
  // The raylet's part: the logical nodes (one unless Config.nodes), each
  // its own resources and GPU devices; the demands of calls and where they
  // may run; placement-group bundles reserved on the nodes.
  raylet::LocalResources resources_;
  // The objects, guarded by mu_ (ObjectRef count changes are posted to it
  // without mu_). Its reference events are applied before the inbox comes
  // in, and those for objects a posted task makes after.
  ObjectTable objects_{[this] { DrainInboxLocked(); }};
  ReadyQueue<Task> ready_;  // higher priority first, then submission order
  uint64_t next_sequence_ = 0;
  std::atomic<uint32_t> next_put_{1};
  // The worker threads: parked while there is nothing to run, woken one at
  // a time as work comes, one more started when a task blocks with none idle.
  embedded::WorkerThreads workers_{[this](int index) { WorkerLoop(index); }};
  int object_waiters_ = 0;  // threads in objects_cv_.wait
  // The control service (node table, actor directory and names, placement
  // groups, the job), in this process; it reserves placement groups on the
  // logical nodes through resources_' bundle reserver.
  // Called with mu_ held (the lock order is mu_, then the Gcs's own).
  gcs::Gcs gcs_;
  // The actors: their instances, threads, call queues and lives.
  embedded::ActorManager actors_{*this, gcs_, job_};
  /// Reserves the placement groups that fit now; wakes what waits for them.
  void TryReserveGroupsLocked();
  const Demand* GroupDemandLocked(const CallOptions& options, const Demand* demand, const What& what);
};

}  // namespace raycc::internal
