#include "core_worker/cluster_runtime.h"

#include <dlfcn.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/server.h>
#include <grpcpp/server_context.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/placement_group_info.h"
#include "core_worker/memory_store.h"
#include "core_worker/placement_group_client.h"
#include "core_worker/reference_counter.h"
#include "core_worker/task_executor.h"
#include "core_worker/task_submitter.h"
#include "core_worker/thread_set.h"
#include "core_worker/throw_status.h"
#include "embedded/timeline.h"
#include "gcs/bundle_reserver_interface.h"
#include "gcs/gcs_rpc_client.h"
#include "gcs/placement_group_manager.h"
#include "object_store/shared_object_store.h"
#include "raycc/proto/raylet_service.grpc.pb.h"
#include "raycc/proto/worker_service.grpc.pb.h"
#include "raycc/runtime/api/errors.h"
#include "raycc/runtime/api/object_ref_handle.h"
#include "raycc/runtime/api/shared_bytes.h"
#include "raycc/runtime/common/resource_set.h"
#include "rpc/auth.h"
#include "rpc/content_hash.h"
#include "rpc/server.h"
#include "rpc/session.h"
#include "scheduling/label_selector.h"

namespace raycc::core_worker {
namespace {

constexpr char kCodeNamespace[] = "code";

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

/// The task a worker thread is running (null on other threads).
thread_local const proto::TaskSpec* t_task = nullptr;
/// While a worker thread runs a task: the references it serialized (the
/// result's among them), so that the caller can be registered as their
/// borrower before the reply leaves.
thread_local std::vector<ObjectId>* t_serialized = nullptr;
// While this worker runs an actor's constructor or method: the actor's
// restarts so far (its creation task's attempt number); -1 otherwise.
thread_local int t_actor_restarts = -1;
// While this worker runs a task or an actor's call: the GPU devices its
// lease holds (GetGpuIds), the node's device numbers, as in the embedded
// runtime: the task passes one to cudaSetDevice. (The process's
// CUDA_VISIBLE_DEVICES is not changed per task: CUDA reads it once, and a
// worker serves many leases; setenv beside other threads is unsafe.)
thread_local std::vector<int> t_gpus;

MemoryStore::Deadline DeadlineAfter(int64_t timeout_ms) {
  if (timeout_ms < 0) return std::nullopt;
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
}

[[noreturn]] void ThrowObjectError(const ObjectError& e) {
  switch (e.kind) {
    case ObjectError::Kind::kTask:
      throw TaskError(e.function, e.type, e.message, e.where);
    case ObjectError::Kind::kWorkerDied:
      throw WorkerDiedError(e.message);
    case ObjectError::Kind::kActorDied:
      throw ActorDiedError(e.message);
    case ObjectError::Kind::kCancelled:
      throw TaskCancelledError(e.message);
    case ObjectError::Kind::kInfeasible:
      throw InfeasibleError(e.message);
    case ObjectError::Kind::kLost:
      throw ObjectLostError(e.message);
    case ObjectError::Kind::kSystem:
      break;
  }
  throw RayccError(e.message);
}

class ClusterRuntime;

/// CoreWorkerService of a worker process: tasks pushed by their owners.
class WorkerService final : public proto::CoreWorkerService::Service {
 public:
  WorkerService(ClusterRuntime& runtime, std::string token) : runtime_(runtime), auth_(std::move(token)) {}
  grpc::Status PushTask(grpc::ServerContext* context, const proto::PushTaskRequest* request,
                        proto::PushTaskReply* reply) override;
  grpc::Status PushTasks(grpc::ServerContext* context, const proto::PushTasksRequest* request,
                         proto::PushTasksReply* reply) override;
  grpc::Status Exit(grpc::ServerContext* context, const proto::ExitRequest* request,
                    proto::ExitReply* reply) override;
  grpc::Status GetObjectStatus(grpc::ServerContext* context, const proto::GetObjectStatusRequest* request,
                               proto::GetObjectStatusReply* reply) override;
  grpc::Status UpdateBorrowers(grpc::ServerContext* context, const proto::UpdateBorrowersRequest* request,
                               proto::UpdateBorrowersReply* reply) override;
  grpc::Status KillActor(grpc::ServerContext* context, const proto::KillActorOnWorkerRequest* request,
                         proto::KillActorOnWorkerReply* reply) override;

 private:
  ClusterRuntime& runtime_;
  rpc::TokenCheck auth_;
};

class ClusterRuntime final : public internal::ManagedRuntime {
 public:
  /// Joins as a driver (worker false) or as the worker process a raylet
  /// started (the RAYCC_WORKER_* environment).
  ClusterRuntime(std::string gcs_address, bool worker, std::string worker_program = "",
                 std::string timeline_path = "");
  ~ClusterRuntime() override { (void)Finish(); }

  // Tasks and objects.
  std::shared_ptr<internal::ObjectRefHandle> SubmitTask(const internal::RemoteFunction& function,
                                                        std::vector<internal::TaskArgument> args,
                                                        const internal::CallOptions& options) override;
  std::vector<ObjectId> SubmitTasks(
      std::vector<internal::BatchedTask> tasks,
      const std::vector<std::vector<std::pair<std::string, double>>>& demands) override;
  bool CancelTask(const ObjectId& id) override;
  ObjectId Put(std::string bytes) override;
  ObjectId PutValue(std::shared_ptr<const void> value, const std::type_info& type,
                    std::string (*serialize)(const void*)) override;
  ObjectId PutContiguous(std::shared_ptr<const void> value, const std::type_info& type,
                         std::string (*serialize)(const void*), std::string_view head,
                         std::string_view body) override;
  ObjectId PutSized(std::shared_ptr<const void> value, const std::type_info& type,
                    std::string (*serialize)(const void*), size_t (*size_of)(const void*),
                    bool (*write_into)(const void*, char*, size_t)) override;
  std::shared_ptr<const void> GetValue(const ObjectId& id, const std::type_info& type,
                                       int64_t timeout_ms) override;
  std::vector<std::shared_ptr<const void>> GetValues(const std::vector<ObjectId>& ids,
                                                     const std::type_info& type, int64_t timeout_ms) override;
  std::shared_ptr<const std::string> Get(const ObjectId& id, int64_t timeout_ms) override;
  void AddObjectRef(const ObjectId& id) override { refs_.AddLocalRef(id); }
  void AddTaskLibrary(const std::shared_ptr<const std::string>& bytes, const std::string& origin) override;
  std::string OwnerOf(const ObjectId& id) override;
  void BorrowRef(const ObjectId& id, const std::string& owner) override;
  void RemoveObjectRef(const ObjectId& id) override { refs_.RemoveLocalRef(id); }
  size_t LiveObjects() override { return store_.size(); }
  std::vector<bool> Wait(const std::vector<ObjectId>& ids, int num_objects, int64_t timeout_ms) override;

  // Actors: created by their owner on a worker it leases and holds; calls
  // pushed to that worker in order, by one pusher thread per actor and
  // caller process.
  ActorId CreateActor(const internal::RemoteFunction& factory, std::vector<internal::TaskArgument> args,
                      const internal::ActorOptions& options) override;
  ObjectId SubmitActorTask(const ActorId& actor, const internal::RemoteMethod& method,
                           std::vector<internal::TaskArgument> args,
                           const internal::CallOptions& options) override;
  void KillActor(const ActorId& actor, bool no_restart) override;
  std::optional<std::pair<ActorId, std::string>> GetNamedActor(const std::string& name) override;
  std::vector<internal::PlacementGroupInfo> ListPlacementGroups() override;
  int CurrentActorRestarts() const override { return t_actor_restarts; }

  // Placement groups: reserved by the GCS on the raylets (two-phase);
  // work in a bundle asks for the group's renamed resources, and its lease
  // goes to the bundle's node.
  PlacementGroupId CreatePlacementGroup(
      const std::vector<std::vector<std::pair<std::string, double>>>& bundles,
      internal::PlacementGroupStrategy strategy, const std::string& name,
      const std::vector<std::string>& bundle_nodes) override;
  bool WaitPlacementGroup(const PlacementGroupId& id, int64_t timeout_ms) override;
  void RemovePlacementGroup(const PlacementGroupId& id) override;

  // Life cycle and the calling thread.
  absl::Status Finish() override;
  void Serve() override;
  bool InWorkerThread() const override { return t_task != nullptr; }
  std::string CurrentNodeName() const override { return worker_ ? node_name_ : std::string(); }
  std::vector<int> CurrentGpuIds() const override { return t_gpus; }
  bool CurrentTaskCancelled() const override { return false; }

  // WorkerService.
  grpc::Status HandlePushTask(const proto::PushTaskRequest& request, proto::PushTaskReply* reply);
  grpc::Status HandleGetObjectStatus(const proto::GetObjectStatusRequest& request,
                                     proto::GetObjectStatusReply* reply, grpc::ServerContext* context);
  void HandleUpdateBorrowers(const proto::UpdateBorrowersRequest& request,
                             proto::UpdateBorrowersReply* reply);
  /// A kill of an actor this process owns, from another process.
  grpc::Status HandleKillActor(const proto::KillActorOnWorkerRequest& request);
  void RequestExit();

 private:
  /// A submitted task until it is done: its arguments being resolved, then
  /// queued or running.
  struct Pending {
    std::mutex mu;
    proto::TaskSpec spec;
    int unresolved = 1;  // (one for the submission itself, dropped last)
    std::shared_ptr<const ObjectError> failed_dependency;
    bool cancelled = false;
    bool in_owner = false;       // runs here, on a thread of its own (CallOptions::in_owner)
    std::vector<ObjectId> uses;  // objects it keeps alive until done
  };

  /// An actor as this process sees it: its owner creates and restarts it;
  /// any caller queues calls here, and the pusher thread sends them in order.
  struct Actor {
    ActorId id;
    std::string class_name;
    std::mutex mu;
    std::condition_variable cv;
    enum class State { kPending, kAlive, kDead } state = State::kPending;
    std::string death_cause;
    std::string address;  // the worker, while alive
    std::string worker_id;
    std::string node_id;  // its node, while alive
    std::deque<std::shared_ptr<Pending>> calls;
    uint64_t next_sequence = 0;
    bool stop = false;
    // The owner's part.
    bool owned = false;
    proto::TaskSpec creation;
    // Constructor arguments passed as references: (argument index, object),
    // counted until the pusher reads their values into `creation` (which
    // restarts reuse).
    std::vector<std::pair<int, ObjectId>> ctor_refs;
    int restarts_left = 0;
    bool create = false;  // (re)create it next
    TaskSubmitter::Lease lease;
    bool leased = false;
    std::thread pusher;
  };

  std::shared_ptr<Actor> FindActor(const ActorId& id, bool known_only);
  /// The owner's kill (`cause` says by whom).
  void KillOwnedActor(const std::shared_ptr<Actor>& actor, bool no_restart, const std::string& cause);
  /// The pusher thread of `actor`.
  void RunActor(const std::shared_ptr<Actor>& actor);
  /// (Owner, pusher thread.) Leases a worker and runs the creation task;
  /// false with the actor dead (or stopping) if it cannot.
  bool CreateOnWorker(Actor& actor);
  /// (Owner, pusher thread.) Reads the values of the constructor's
  /// reference arguments into the creation task, waiting for them; false,
  /// with the actor dead, when one failed (or the actor stopped).
  bool ResolveConstructorArgs(Actor& actor);
  /// (Caller, pusher thread.) Finds the actor's worker through the GCS.
  void LocateActor(Actor& actor);
  /// Ends the actor for good; its queued calls fail with `cause`.
  void MarkDeadLocked(Actor& actor, const std::string& cause);
  void FailCall(const std::shared_ptr<Pending>& call, const std::string& cause);

  void JoinAsDriver();
  void JoinAsWorker();
  /// Serves CoreWorkerService on `host` (drivers too: they own objects
  /// others borrow) and sets self_.
  void StartServer(const std::string& host);

  // Ownership on the wire.
  /// A reference this process held is gone: a borrowed one is released to
  /// its owner (in the background), a result's nested borrows unpinned.
  void OnFreed(const ObjectId& id, const std::string& owner);
  /// Registers `borrower` (a worker id) with the owner of each of `ids`
  /// (synchronously); the ids the owner no longer has.
  std::vector<ObjectId> RegisterBorrower(const std::string& owner, const std::vector<ObjectId>& ids,
                                         const proto::Address& borrower);
  /// (Owner.) Notes where a borrower is reached, for the watch.
  void NoteBorrower(const proto::Address& borrower);
  /// (Owner.) Every second, asks each borrower whether it is there; one
  /// that is gone releases everything it borrowed.
  void WatchBorrowers();
  /// Starts fetching a borrowed object's value from its owner, once.
  void EnsureFetched(const ObjectId& id);
  void Fetch(const ObjectId& id, const std::string& owner);
  /// The background sender of borrower releases.
  void RunReleases();
  /// A result arrived holding references: this process borrows them while
  /// the result lives.
  void AdoptNestedRefs(const ObjectId& result, const proto::ReturnObject& object);
  /// The CoreWorkerService of the process at `address` (proto::Address
  /// bytes: an owner or a borrower), with "host:port" in `*where`; null for
  /// a malformed address.
  std::shared_ptr<proto::CoreWorkerService::Stub> WorkerStub(const std::string& address, std::string* where);
  /// Registers `borrower` for each of `refs` (ours: here; borrowed: with
  /// their owners) and lists them, with their owners, in `out`: whoever
  /// gets `out` borrows them. (A result's references for its task's
  /// caller; a value's for whoever fetched it.)
  void LendRefs(const std::vector<ObjectId>& refs, const proto::Address& borrower, proto::ReturnObject* out);
  void UploadCode();
  /// The spec of a call to `function`, without arguments.
  proto::TaskSpec MakeSpec(const internal::RemoteFunction& function, const internal::CallOptions& options);
  /// Adds the arguments, resolves the references among them and queues the
  /// task once they are ready; its result is owned already. `enqueue` (if
  /// set) sees the task before any argument can resolve (an actor call
  /// takes its place in the actor's queue there).
  void SubmitSpec(proto::TaskSpec spec, std::vector<internal::TaskArgument> args,
                  const std::function<void(const std::shared_ptr<Pending>&)>& enqueue = nullptr,
                  bool in_owner = false);
  /// Runs an in_owner task on a thread of this process.
  void RunInOwner(const std::shared_ptr<Pending>& pending);
  ThreadSet in_owner_threads_;
  /// Set as Finish begins: waits in this process end (RayccError).
  std::atomic<bool> finishing_{false};
  void Dispatch(const std::shared_ptr<Pending>& pending);
  /// The task is done (ran, failed, or could not run).
  void OnTaskDone(const proto::TaskSpec& task, const proto::PushTaskReply* reply, const ObjectError* error);
  void Complete(const std::string& task_id, ObjectValue value);
  ObjectId ResultOf(const proto::TaskSpec& task) const;
  /// Waits for `ids` (a worker's task gives its resources back meanwhile).
  std::vector<bool> WaitReady(const std::vector<ObjectId>& ids, size_t num_ready,
                              MemoryStore::Deadline deadline);
  void NotifyBlocked(bool blocked);
  [[noreturn]] void ThrowUnknown(const char* what, const ObjectId& id) const;

  const bool worker_;
  const std::string gcs_address_;
  const std::string worker_program_;  // (empty: this program)
  /// Task libraries the workers load ("sha256:<hash>"), in the order added.
  std::mutex libraries_mu_;
  std::vector<std::string> libraries_;
  /// Uploads `bytes` to the GCS KV as code/<sha256> unless it is there;
  /// the hash.
  std::string UploadBytes(std::string bytes, const std::string& what);
  void FillFunction(proto::FunctionDescriptor* descriptor, const std::string& name,
                    const std::string& signature);
  std::string token_;
  std::unique_ptr<gcs::GcsRpcClient> gcs_;
  // Placement groups created and removed in batches (after gcs_: it uses it).
  std::unique_ptr<PlacementGroupClient> groups_client_;
  std::string raylet_address_;
  std::unique_ptr<proto::RayletService::Stub> raylet_;
  JobId job_;
  TaskId driver_task_;
  WorkerId worker_id_;
  std::string node_name_;
  // The driver's timeline of the work it owns (Config.timeline_path; null
  // when none): each attempt as its worker timed it, on a lane per worker
  // process, written at Finish.
  std::unique_ptr<internal::TimelineRecorder> timeline_;
  std::mutex lanes_mu_;
  absl::flat_hash_map<std::pair<std::string, int>, int> lanes_;  // (node, pid) -> tid
  void TagForTimeline(proto::TaskSpec& spec, const internal::CallOptions& options) const;
  void RecordAttempt(const proto::TaskSpec& task, const proto::PushTaskReply* reply, const char* status);
  // One attempt on the driver's timeline (`timing`: where and when it ran,
  // null when it never did).
  void RecordTimed(const std::string& name, const std::string& graph, int64_t plan_node, const char* status,
                   double submitted_unix_us, const proto::TaskTiming* timing);
  // A worker's: the attempts of the tasks it submitted, for its next reply
  // (RecordAttempt), at most kMaxNestedAttempts (more are dropped).
  static constexpr int kMaxNestedAttempts = 100000;
  std::mutex nested_attempts_mu_;
  google::protobuf::RepeatedPtrField<proto::NestedAttempt> nested_attempts_;
  std::string code_hash_;

  MemoryStore store_;
  /// The node's shared-memory object store (null: none), mapped here; this
  /// node's id (binary); and the objects this process owns that live there
  /// (deleted from it when freed, or when this process finishes).
  std::unique_ptr<object_store::SharedObjectStore> shm_;
  std::string node_id_;
  std::mutex shm_mu_;
  absl::flat_hash_set<ObjectId> in_shm_;
  /// Owned objects whose primary copy is in another node's store, by the
  /// raylet that frees them there.
  absl::flat_hash_map<ObjectId, std::string> remote_primaries_;
  /// The raylets of the nodes that pulled a copy of an owned object for a
  /// task (PrepareForNode): freed there with the object.
  absl::flat_hash_map<ObjectId, absl::flat_hash_set<std::string>> copies_;
  std::atomic<bool> shm_full_said_{false};
  /// Values at least this big go to the node's store (smaller ones stay in
  /// the owner's memory and travel inline).
  static constexpr size_t kStoreAtLeast = 100 << 10;
  /// Maps the node's store (`name` empty: the node has none).
  void OpenObjectStore(const std::string& name);
  /// Writes `bytes` into the node's store as `id` (a primary copy, sealed);
  /// false when it stays out (no store, too small, or the store is full:
  /// said once).
  /// `full`: where a store that cannot take it says why (a Put then fails
  /// with ObjectStoreFullError); without it, the object stays in memory.
  bool WriteToStore(const ObjectId& id, absl::Span<const std::string_view> parts,
                    std::string* full = nullptr);
  /// WriteToStore of `size` bytes that `fill` writes into the room made for
  /// them (false from `fill`: the object is dropped, and so is this).
  bool WriteToStore(const ObjectId& id, size_t size, const std::function<bool(char*)>& fill,
                    std::string* full);
  /// Runs `serialize` (which packs a value) collecting the ObjectRefs it
  /// writes, each pinned by OwnerOf; what it throws passes through, the
  /// pins it took given back.
  template <typename F>
  std::vector<ObjectId> Mentions(F&& serialize) {
    std::vector<ObjectId> mentioned;
    std::vector<ObjectId>* outer = std::exchange(t_serialized, &mentioned);
    try {
      serialize();
    } catch (...) {
      t_serialized = outer;
      for (const ObjectId& ref : mentioned) refs_.RemoveTaskUse(ref);
      throw;
    }
    t_serialized = outer;
    return mentioned;
  }
  /// The bytes a value serialized straight into the store would take, by a
  /// first pass (`size_of`); nullopt when it takes the usual path instead:
  /// no store, small, or it mentions ObjectRefs (the usual path pins them).
  std::optional<size_t> StoreSizeOf(const void* value, size_t (*size_of)(const void*));
  /// WriteToStore of those `size` bytes, written by a second pass
  /// (`write_into`) straight into the store: no buffer.
  bool WriteValueToStore(const ObjectId& id, const void* value, size_t size,
                         bool (*write_into)(const void*, char*, size_t), std::string* full);
  /// WriteToStore for an object this process owns: its value, read in place.
  std::optional<ObjectValue> PutInStore(const ObjectId& id, absl::Span<const std::string_view> parts,
                                        std::string* full = nullptr);
  /// A user's Put the store cannot take: ObjectStoreFullError.
  [[noreturn]] static void ThrowStoreFull(const std::string& why);
  /// How long a user's Put waits for room in a full store before it fails:
  /// $RAYCC_OBJECT_STORE_FULL_WAIT_MS, else kStoreFullWaitMs.
  static std::chrono::milliseconds StoreFullWait();
  static constexpr int64_t kStoreFullWaitMs = 3000;
  using View = std::shared_ptr<const object_store::ObjectView>;
  /// Notes an object this process owns as living in the node's store
  /// (deleted from it when freed); its value, read through `view`.
  ObjectValue OwnInStore(const ObjectId& id);
  /// `id` read in this node's store; when it is not here and `holder` is
  /// given (another node's raylet), pulled from there first: once, and once
  /// more if the copy was evicted before it was read.
  /// `copies`: other nodes' raylets holding a copy, tried before `holder`.
  absl::StatusOr<View> ReadOrPull(const ObjectId& id, const std::string& holder,
                                  const google::protobuf::RepeatedPtrField<std::string>* copies = nullptr);
  /// Makes a new object this process owns, holding `value`, with the
  /// caller's reference counted.
  ObjectId AddOwnedObject(const ObjectId& id, ObjectValue value);
  /// An owned object is gone: its copy in the node's store goes too.
  void DropFromStore(const ObjectId& id);
  /// Arguments left as references to this node's store are inlined for a
  /// task whose node is not known (`node_id` empty); a worker on a known
  /// node reads them in place or has its raylet (`raylet`, when known) pull
  /// them: that copy is freed with the object.
  void PrepareForNode(proto::TaskSpec* spec, const std::string& node_id, std::string raylet = "");
  /// The raylet ("host:port") of node `node_id` (binary), from the GCS's
  /// node table (cached); empty when unknown.
  std::string RayletOfNode(const std::string& node_id);
  std::mutex raylets_mu_;
  absl::flat_hash_map<std::string, std::string> raylets_;  // (raylets_mu_) node id -> raylet
  /// Has this node's raylet pull `id` from the raylet at `holder` into this
  /// node's store.
  absl::Status FetchFromNode(const ObjectId& id, const std::string& holder,
                             const google::protobuf::RepeatedPtrField<std::string>* copies = nullptr);
  uint64_t copies_next_ = 0;  // (shm_mu_) turns the copies offered to pullers
  /// The id of the next object this process (or the task running here) puts.
  ObjectId NextPutId();
  /// Put of big SharedBytes, written straight into the node's store; nullopt
  /// when they take the usual path (small, no store, the store full).
  std::optional<ObjectId> PutSharedBytes(const SharedBytes& bytes);
  /// Writes an object of these bytes straight into the node's store and
  /// owns it; nullopt when it is small, or there is no store or no room.
  std::optional<ObjectId> PutParts(absl::Span<const std::string_view> parts);
  /// The object once ready (waiting up to `timeout_ms`); throws its error.
  ObjectValue ReadyValue(const ObjectId& id, int64_t timeout_ms);
  /// `value` readable here: one in another node's store is pulled into this
  /// node's first (throws, naming the holder, when it cannot be).
  ObjectValue Localize(const ObjectId& id, ObjectValue value);
  /// What a reader of `type` gets without a copy: SharedBytes viewing an
  /// object in the node's store; null otherwise (it reads bytes).
  static std::shared_ptr<const void> InPlace(const ObjectValue& value, const std::type_info& type);
  ReferenceCounter refs_{[this](const ObjectId& id, const std::string& owner) { OnFreed(id, owner); }};
  /// This process's CoreWorkerService address (an owner's identity on the
  /// wire), and those bytes.
  proto::Address self_;
  std::string self_bytes_;

  std::mutex borrow_mu_;
  std::condition_variable borrow_cv_;
  bool borrow_stop_ = false;
  /// Releases to send, by owner.
  absl::flat_hash_map<std::string, std::vector<ObjectId>> releases_;
  /// Frees to send to other nodes' raylets, by raylet (DropFromStore).
  absl::flat_hash_map<std::string, std::vector<ObjectId>> remote_frees_;
  /// Results here whose values hold borrowed references (pinned meanwhile).
  absl::flat_hash_map<ObjectId, std::vector<ObjectId>> nested_;
  absl::flat_hash_set<ObjectId> fetching_;  // (borrowed objects with a fetch started)
  ThreadSet fetchers_;
  std::thread releaser_;
  std::thread borrower_watch_;
  /// Borrowers of this process's objects, by worker id: where to reach them.
  absl::flat_hash_map<std::string, proto::Address> borrower_addresses_;
  /// Liveness rounds in a row each borrower has not answered.
  absl::flat_hash_map<std::string, int> borrower_misses_;
  static constexpr int kBorrowerMisses = 3;
  /// Failed calls in a row after which a borrowed object's owner is dead.
  static constexpr int kOwnerTries = 4;
  absl::flat_hash_map<std::string, std::shared_ptr<proto::CoreWorkerService::Stub>> worker_stubs_;
  std::unique_ptr<TaskSubmitter> submitter_;
  std::atomic<uint32_t> puts_{0};

  /// The bundles of each placement group this process has used (a group's
  /// bundles never change), for checking what is asked of them.
  std::vector<ResourceSet> GroupBundles(const PlacementGroupId& id, const std::string& what);
  std::mutex groups_mu_;
  absl::flat_hash_map<PlacementGroupId, std::vector<ResourceSet>> groups_;

  std::mutex actors_mu_;
  absl::flat_hash_map<ActorId, std::shared_ptr<Actor>> actors_;
  /// A worker's own actor instances (created by tasks pushed to it).
  struct Instance {
    void* self = nullptr;
    const internal::RemoteFunction* factory = nullptr;
    int restarts = 0;       // before this instance (WasCurrentActorRestarted)
    std::vector<int> gpus;  // the GPU devices its lease holds (its creation's)
    std::string exited;     // set when a method called ExitActor: the call's name
    std::mutex mu;          // calls run one at a time (max_concurrency 1)
  };
  std::mutex instances_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Instance>> instances_;  // by actor id

  std::mutex pending_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Pending>> pending_;  // by task id

  // A worker's server, and its way out.
  std::unique_ptr<WorkerService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::mutex exit_mu_;
  std::condition_variable exit_cv_;
  bool exit_requested_ = false;
  std::once_flag finished_;
};

grpc::Status WorkerService::PushTask(grpc::ServerContext* context, const proto::PushTaskRequest* request,
                                     proto::PushTaskReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  return runtime_.HandlePushTask(*request, reply);
}

grpc::Status WorkerService::PushTasks(grpc::ServerContext* context, const proto::PushTasksRequest* request,
                                      proto::PushTasksReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  for (const proto::PushTaskRequest& task : request->tasks()) {
    grpc::Status status = runtime_.HandlePushTask(task, reply->add_replies());
    if (!status.ok()) return status;  // (a stale lease: none of them is for this worker)
  }
  return grpc::Status::OK;
}

grpc::Status WorkerService::Exit(grpc::ServerContext* context, const proto::ExitRequest*,
                                 proto::ExitReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  reply->set_success(true);
  runtime_.RequestExit();
  return grpc::Status::OK;
}

grpc::Status WorkerService::GetObjectStatus(grpc::ServerContext* context,
                                            const proto::GetObjectStatusRequest* request,
                                            proto::GetObjectStatusReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  return runtime_.HandleGetObjectStatus(*request, reply, context);
}

grpc::Status WorkerService::UpdateBorrowers(grpc::ServerContext* context,
                                            const proto::UpdateBorrowersRequest* request,
                                            proto::UpdateBorrowersReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  runtime_.HandleUpdateBorrowers(*request, reply);
  return grpc::Status::OK;
}

grpc::Status WorkerService::KillActor(grpc::ServerContext* context,
                                      const proto::KillActorOnWorkerRequest* request,
                                      proto::KillActorOnWorkerReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  return runtime_.HandleKillActor(*request);
}

ClusterRuntime::ClusterRuntime(std::string gcs_address, bool worker, std::string worker_program,
                               std::string timeline_path)
    : worker_(worker), gcs_address_(std::move(gcs_address)), worker_program_(std::move(worker_program)) {
  if (!timeline_path.empty() && !worker_) {
    if (absl::Status s = internal::TimelineRecorder::Check(timeline_path); !s.ok()) {
      throw RayccError(absl::StrCat("raycc::Init: ", s.message()));
    }
    timeline_ = std::make_unique<internal::TimelineRecorder>(timeline_path);
    timeline_->SetProcessName(absl::StrCat("raycc cluster at ", gcs_address_));
  }
  absl::StatusOr<std::string> token = rpc::TokenFromEnvironment();
  if (absl::IsNotFound(token.status())) {
    // The cluster this machine started (raycc start) keeps its token.
    absl::StatusOr<rpc::Session> session = rpc::LatestSession();
    if (session.ok() && session->address == gcs_address_) token = rpc::ReadTokenFile(session->token_file);
  }
  if (!token.ok()) {
    throw RayccError(absl::StrCat(
        "raycc::Init: joining the cluster at ", gcs_address_, " needs its token: ", token.status().message(),
        " (set RAYCC_AUTH_TOKEN, or RAYCC_AUTH_TOKEN_FILE to the session's token file)"));
  }
  token_ = *token;
  gcs_ = std::make_unique<gcs::GcsRpcClient>(gcs_address_, token_);
  groups_client_ = std::make_unique<PlacementGroupClient>(*gcs_);
  if (worker_) {
    JoinAsWorker();
  } else {
    JoinAsDriver();
  }
  raylet_ = proto::RayletService::NewStub(rpc::Connect(raylet_address_));
  if (!worker_) {
    // The raylet watches this driver: if it dies (even by kill -9), what it
    // leased is released and its job ends.
    grpc::ClientContext context;
    rpc::AddToken(&context, token_);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    proto::RegisterWorkerRequest request;
    request.set_worker_id(worker_id_.Binary());
    request.set_port(port_);
    request.set_pid(::getpid());
    request.set_job_id(job_.Binary());
    request.set_is_driver(true);
    request.set_code(absl::StrCat("sha256:", code_hash_));
    proto::RegisterWorkerReply reply;
    grpc::Status status = raylet_->RegisterWorker(&context, request, &reply);
    if (!status.ok()) {
      std::fprintf(stderr,
                   "raycc::Init: the raylet at %s cannot watch this driver (%s): if it is killed, its leases "
                   "stay until its job is marked finished\n",
                   raylet_address_.c_str(), status.error_message().c_str());
    } else {
      OpenObjectStore(reply.object_store_name());
    }
    if (shm_ == nullptr && !node_id_.empty()) {
      // (No store mapped here: this driver does not claim the node, so
      // workers send its results inline rather than into a store it cannot
      // read. Nothing is owned yet, so its identity may still change.)
      node_id_.clear();
      self_.clear_node_id();
      self_bytes_ = self_.SerializeAsString();
    }
  }
  submitter_ =
      std::make_unique<TaskSubmitter>(raylet_address_, token_,
                                      [this](const proto::TaskSpec& task, const proto::PushTaskReply* reply,
                                             const ObjectError* error) { OnTaskDone(task, reply, error); });
  submitter_->SetPrepare([this](proto::TaskSpec* task, const std::string& node_id,
                                const std::string& raylet) { PrepareForNode(task, node_id, raylet); });
}

void ClusterRuntime::JoinAsDriver() {
  const std::string where = absl::StrCat("raycc::Init: cannot join the cluster at ", gcs_address_, ": ");
  absl::StatusOr<std::vector<proto::NodeInfo>> nodes = gcs_->TryGetAllNodes();
  if (!nodes.ok()) throw RayccError(absl::StrCat(where, nodes.status().message()));
  raylet_address_ = Env("RAYCC_RAYLET_ADDRESS");
  for (const proto::NodeInfo& node : *nodes) {
    if (node.state() != proto::NodeInfo::ALIVE) continue;
    const std::string address = absl::StrCat(node.raylet_address().host(), ":", node.raylet_address().port());
    if (!raylet_address_.empty() && address != raylet_address_) continue;
    raylet_address_ = address;
    node_id_ = node.node_id();  // (this driver's node: objects in its store are read in place here)
    break;
  }
  if (raylet_address_.empty()) throw RayccError(absl::StrCat(where, "it has no live node (start a raylet)"));
  absl::StatusOr<JobId> job = gcs_->NextJobId();
  if (!job.ok()) throw RayccError(absl::StrCat(where, job.status().message()));
  job_ = *job;
  driver_task_ = TaskId::ForDriver(job_);
  worker_id_ = WorkerId::FromRandom();
  std::string raylet_host;
  int raylet_port = 0;
  if (!rpc::SplitAddress(raylet_address_, &raylet_host, &raylet_port).ok()) raylet_host = "127.0.0.1";
  StartServer(raylet_host);
  absl::Status added = gcs_->AddJob(job_, self_);
  if (!added.ok()) throw RayccError(absl::StrCat(where, added.message()));
  UploadCode();
}

void ClusterRuntime::UploadCode() {
  const std::string program = worker_program_.empty() ? "/proc/self/exe" : worker_program_;
  absl::StatusOr<std::string> bytes = rpc::ReadFileBytes(program);
  if (!bytes.ok()) {
    throw RayccError(absl::StrCat("raycc::Init: cannot upload the worker program ", program,
                                  " to the cluster at ", gcs_address_, ": ", bytes.status().message()));
  }
  code_hash_ = UploadBytes(*std::move(bytes), absl::StrCat("raycc::Init: the worker program ", program));
}

std::string ClusterRuntime::UploadBytes(std::string bytes, const std::string& what) {
  const std::string where = absl::StrCat(what, ": cannot upload it to the cluster at ", gcs_address_, ": ");
  std::string hash = rpc::Sha256Hex(bytes);
  // Once per cluster: code uploaded before (by this or another driver) is there.
  absl::StatusOr<std::vector<std::string>> present = gcs_->KvKeys(kCodeNamespace, hash);
  if (!present.ok()) throw RayccError(absl::StrCat(where, present.status().message()));
  for (const std::string& key : *present) {
    if (key == hash) return hash;
  }
  absl::StatusOr<bool> put = gcs_->KvPut(kCodeNamespace, hash, std::move(bytes), /*overwrite=*/false);
  if (!put.ok()) throw RayccError(absl::StrCat(where, put.status().message()));
  return hash;
}

void ClusterRuntime::AddTaskLibrary(const std::shared_ptr<const std::string>& bytes,
                                    const std::string& origin) {
  const std::string name =
      absl::StrCat("sha256:", UploadBytes(*bytes, absl::StrCat("the task library of ", origin)));
  std::lock_guard<std::mutex> lock(libraries_mu_);
  if (std::find(libraries_.begin(), libraries_.end(), name) == libraries_.end()) libraries_.push_back(name);
}

void ClusterRuntime::FillFunction(proto::FunctionDescriptor* descriptor, const std::string& name,
                                  const std::string& signature) {
  descriptor->set_library(absl::StrCat("sha256:", code_hash_));
  descriptor->set_name(name);
  descriptor->set_signature(signature);
  std::lock_guard<std::mutex> lock(libraries_mu_);
  for (const std::string& library : libraries_) descriptor->add_task_libraries(library);
}

void ClusterRuntime::JoinAsWorker() {
  auto required = [](const char* name) {
    std::string value = Env(name);
    if (value.empty()) {
      throw RayccError(absl::StrCat("raycc::Init: this is a worker process (RAYCC_WORKER=1) but ", name,
                                    " is not set: workers are started by a raylet"));
    }
    return value;
  };
  absl::StatusOr<JobId> job = JobId::FromHex(required("RAYCC_JOB_ID"));
  absl::StatusOr<WorkerId> id = WorkerId::FromHex(required("RAYCC_WORKER_ID"));
  if (!job.ok() || !id.ok()) throw RayccError("raycc::Init: RAYCC_JOB_ID or RAYCC_WORKER_ID is malformed");
  job_ = *job;
  worker_id_ = *id;
  driver_task_ = TaskId::Of(job_);  // (puts outside any task: none in a worker)
  raylet_address_ = required("RAYCC_RAYLET_ADDRESS");
  node_name_ = Env("RAYCC_NODE_NAME");
  if (absl::StatusOr<NodeId> node = NodeId::FromHex(Env("RAYCC_NODE_ID")); node.ok())
    node_id_ = node->Binary();
  OpenObjectStore(Env("RAYCC_OBJECT_STORE"));
  if (shm_ == nullptr) node_id_.clear();  // (as a driver: no store mapped, no claim on the node)
  code_hash_ = Env("RAYCC_CODE_HASH");
  if (code_hash_.empty()) {
    absl::StatusOr<std::string> bytes = rpc::ReadFileBytes("/proc/self/exe");
    if (!bytes.ok()) throw RayccError(std::string(bytes.status().message()));
    code_hash_ = rpc::Sha256Hex(*bytes);
  }
  // The task libraries this job's functions need (a compiled graph's),
  // fetched by the raylet: loaded before any task runs here.
  for (absl::string_view path : absl::StrSplit(Env("RAYCC_TASK_LIBRARIES"), ':', absl::SkipEmpty())) {
    if (::dlopen(std::string(path).c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      throw RayccError(
          absl::StrCat("raycc::Init: this worker cannot load the task library ", path, ": ", ::dlerror()));
    }
    const size_t slash = path.rfind('/');
    libraries_.push_back(
        absl::StrCat("sha256:", path.substr(slash == absl::string_view::npos ? 0 : slash + 1)));
  }
  std::string host;
  int raylet_port = 0;
  absl::Status split = rpc::SplitAddress(raylet_address_, &host, &raylet_port);
  if (!split.ok()) throw RayccError(std::string(split.message()));
  StartServer(host);
}

void ClusterRuntime::StartServer(const std::string& host) {
  service_ = std::make_unique<WorkerService>(*this, token_);
  absl::StatusOr<std::unique_ptr<grpc::Server>> server = rpc::StartServer(host, 0, {service_.get()}, &port_);
  if (!server.ok()) throw RayccError(std::string(server.status().message()));
  server_ = *std::move(server);
  self_.set_host(host);
  self_.set_port(port_);
  self_.set_worker_id(worker_id_.Binary());
  self_.set_node_id(node_id_);
  self_bytes_ = self_.SerializeAsString();
  releaser_ = std::thread([this] { RunReleases(); });
  borrower_watch_ = std::thread([this] { WatchBorrowers(); });
}

void ClusterRuntime::Serve() {
  if (!worker_) return;
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  proto::RegisterWorkerRequest request;
  request.set_worker_id(worker_id_.Binary());
  request.set_port(port_);
  request.set_pid(::getpid());
  request.set_job_id(job_.Binary());
  proto::RegisterWorkerReply reply;
  grpc::Status status = raylet_->RegisterWorker(&context, request, &reply);
  if (!status.ok()) {
    std::fprintf(stderr, "raycc worker %s: the raylet at %s refused to register it: %s\n",
                 worker_id_.Hex().c_str(), raylet_address_.c_str(), status.error_message().c_str());
    std::fflush(stderr);
    ::_exit(1);
  }
  {
    std::unique_lock<std::mutex> lock(exit_mu_);
    exit_cv_.wait(lock, [&] { return exit_requested_; });
  }
  (void)Finish();
  std::fflush(stdout);
  std::fflush(stderr);
  // The program's main never goes on in a worker, and its statics are not
  // torn down under threads that may still hold them.
  ::_exit(0);
}

void ClusterRuntime::RequestExit() {
  std::lock_guard<std::mutex> lock(exit_mu_);
  exit_requested_ = true;
  exit_cv_.notify_all();
}

absl::Status ClusterRuntime::Finish() {
  absl::Status status;
  std::call_once(finished_, [&] {
    finishing_ = true;
    std::vector<std::shared_ptr<Actor>> actors;
    {
      std::lock_guard<std::mutex> lock(actors_mu_);
      for (auto& [id, actor] : actors_) actors.push_back(actor);
    }
    for (auto& actor : actors) {
      std::lock_guard<std::mutex> lock(actor->mu);
      actor->stop = true;
      actor->cv.notify_all();
    }
    if (groups_client_ != nullptr) groups_client_->Flush();  // (removals reach the GCS)
    if (submitter_ != nullptr) submitter_->Shutdown();       // (cancels the pushes in flight)
    in_owner_threads_.JoinAll();                             // (their waits end: finishing_)
    for (auto& actor : actors) {
      if (actor->pusher.joinable()) actor->pusher.join();
      // Actors die with their owner (as Ray's non-detached ones): the
      // raylet ends the worker by its pid.
      if (actor->owned && actor->leased) {
        submitter_->ReturnWorker(actor->lease, /*disconnect=*/true);
        (void)gcs_->MarkActorDead(actor->id, absl::StrCat("its owner (job ", job_.Hex(), ") finished"));
      }
    }
    // Borrowed references held to the end are released to their owners, and
    // primaries in other nodes' stores freed (the releaser drains its queues
    // before it stops); fetches end.
    std::vector<ObjectId> remote;
    {
      std::lock_guard<std::mutex> lock(shm_mu_);
      for (const auto& [id, raylet] : remote_primaries_) remote.push_back(id);
      for (const auto& [id, raylets] : copies_) remote.push_back(id);  // (DropFromStore ignores repeats)
    }
    for (const ObjectId& id : remote) DropFromStore(id);
    {
      std::lock_guard<std::mutex> lock(borrow_mu_);
      borrow_stop_ = true;
    }
    borrow_cv_.notify_all();
    if (releaser_.joinable()) releaser_.join();
    if (borrower_watch_.joinable()) borrower_watch_.join();
    fetchers_.JoinAll();
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    // What this process owns in the node's store goes with it.
    if (shm_ != nullptr) {
      std::lock_guard<std::mutex> lock(shm_mu_);
      for (const ObjectId& id : in_shm_) (void)shm_->Delete(id);
      in_shm_.clear();
    }
    if (!worker_ && gcs_ != nullptr) {
      // The raylets end the job's workers once they hear of it.
      absl::Status marked = gcs_->MarkJobFinished(job_);
      if (!marked.ok()) {
        status = absl::UnavailableError(absl::StrCat("raycc::Shutdown: could not tell the cluster at ",
                                                     gcs_address_, " that job ", job_.Hex(),
                                                     " finished: ", marked.message()));
      }
    }
    if (timeline_ != nullptr) {
      if (absl::Status written = timeline_->Write(); !written.ok() && status.ok()) status = written;
    }
  });
  return status;
}

void ClusterRuntime::TagForTimeline(proto::TaskSpec& spec, const internal::CallOptions& options) const {
  // The driver's tasks when it records a timeline, and the tasks they
  // submit in turn (the worker passes their attempts back: RecordAttempt).
  if (timeline_ == nullptr && (t_task == nullptr || !t_task->has_timeline())) return;
  proto::TimelineTag* tag = spec.mutable_timeline();
  tag->set_graph(options.graph);
  tag->set_plan_node(options.plan_node);
  tag->set_submitted_unix_us(internal::TimelineRecorder::UnixNowUs());
}

void ClusterRuntime::RecordAttempt(const proto::TaskSpec& task, const proto::PushTaskReply* reply,
                                   const char* status) {
  if (!task.has_timeline()) return;
  // (A compiled plan's builtins, "raycc.join" and the like, are the
  // runtime's plumbing, not the user's work.)
  const bool plumbing = absl::StartsWith(task.function().name(), "raycc.");
  const proto::TaskTiming* timing = reply != nullptr && reply->has_timing() ? &reply->timing() : nullptr;
  if (timeline_ == nullptr) {
    // A worker: its nested tasks' attempts go back with its next reply.
    std::lock_guard<std::mutex> lock(nested_attempts_mu_);
    if (!plumbing && nested_attempts_.size() < kMaxNestedAttempts) {
      proto::NestedAttempt* attempt = nested_attempts_.Add();
      attempt->set_name(task.function().name());
      attempt->set_status(status);
      attempt->set_submitted_unix_us(task.timeline().submitted_unix_us());
      if (timing != nullptr) *attempt->mutable_timing() = *timing;
    }
    if (reply != nullptr) {
      for (const proto::NestedAttempt& deeper : reply->nested()) {
        if (nested_attempts_.size() >= kMaxNestedAttempts) break;
        *nested_attempts_.Add() = deeper;
      }
    }
    return;
  }
  if (!plumbing) {
    RecordTimed(task.function().name(), task.timeline().graph(), task.timeline().plan_node(), status,
                task.timeline().submitted_unix_us(), timing);
  }
  if (reply != nullptr) {
    for (const proto::NestedAttempt& nested : reply->nested()) {
      const char* nested_status = nested.status() == "failed"    ? "failed"
                                  : nested.status() == "retried" ? "retried"
                                                                 : "finished";
      RecordTimed(nested.name(), "", -1, nested_status, nested.submitted_unix_us(),
                  nested.has_timing() ? &nested.timing() : nullptr);
    }
  }
}

void ClusterRuntime::RecordTimed(const std::string& name, const std::string& graph, int64_t plan_node,
                                 const char* status, double submitted_unix_us,
                                 const proto::TaskTiming* timing) {
  internal::TimelineRecorder::Attempt attempt;
  attempt.name = name;
  attempt.graph = graph;
  attempt.plan_node = plan_node;
  attempt.status = status;
  attempt.submitted_us = timeline_->FromUnixUs(submitted_unix_us);
  if (timing != nullptr) {
    attempt.node = timing->node_name();
    attempt.start_us = timeline_->FromUnixUs(timing->start_unix_us());
    attempt.end_us = timeline_->FromUnixUs(timing->end_unix_us());
    std::lock_guard<std::mutex> lock(lanes_mu_);
    auto [lane, added] = lanes_.try_emplace({timing->node_name(), timing->pid()}, 0);
    if (added) {
      lane->second = static_cast<int>(lanes_.size());
      timeline_->NameThread(lane->second,
                            absl::StrCat("node '", timing->node_name(), "', worker pid ", timing->pid()));
    }
    attempt.tid = lane->second;
  } else {
    // (No worker's word on it: it never ran, or its worker died under it.)
    attempt.start_us = attempt.end_us = timeline_->NowUs();
  }
  timeline_->Record(std::move(attempt));
}

grpc::Status ClusterRuntime::HandlePushTask(const proto::PushTaskRequest& request,
                                            proto::PushTaskReply* reply) {
  if (request.intended_worker_id() != worker_id_.Binary()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("PushTask: this is worker ", worker_id_.Hex(),
                                     ", not the one the task was leased to (a stale lease)"));
  }
  const proto::TaskSpec& task = request.task();
  // (When its owner records a timeline: when it ran, here.)
  const double start_unix_us = task.has_timeline() ? internal::TimelineRecorder::UnixNowUs() : 0;
  t_task = &task;
  std::vector<ObjectId> serialized;
  t_serialized = &serialized;
  // Arguments in this node's store are read in place (pinned until the task is done).
  std::vector<std::shared_ptr<const object_store::ObjectView>> read;
  RefReader read_ref = [&](const proto::TaskArg& arg) -> absl::StatusOr<internal::ArgView> {
    absl::StatusOr<ObjectId> id = ObjectId::FromBinary(arg.object_ref().object_id());
    if (!id.ok()) return id.status();
    // In another node's store: this node's raylet pulls a copy here first
    // (once, however many workers ask; a secondary copy, evicted when room
    // is needed).
    absl::StatusOr<View> view =
        ReadOrPull(*id, arg.store_node_id() != node_id_ ? arg.store_raylet() : "", &arg.store_copies());
    if (!view.ok()) return view.status();
    read.push_back(*view);
    return internal::ArgView(read.back()->bytes(), read.back());
  };
  // A big result for an owner with a node goes into this node's store,
  // serialized straight there (see below).
  const bool result_to_store = !node_id_.empty() && !task.owner_address().node_id().empty();
  ResultWriter write_result;
  if (result_to_store) {
    write_result = [this](const ObjectId& id, const internal::TypedValue& value) {
      std::optional<size_t> size = StoreSizeOf(value.value.get(), value.size_of);
      return size && WriteValueToStore(id, value.value.get(), *size, value.write_into, nullptr);
    };
  }
  if (task.type() != proto::ACTOR_TASK)
    t_gpus.assign(request.gpu_devices().begin(), request.gpu_devices().end());
  if (task.type() == proto::ACTOR_CREATION_TASK) {
    const internal::RemoteFunction* factory = nullptr;
    t_actor_restarts = static_cast<int>(task.attempt_number());
    void* self = CreateActorInstance(task, reply, &factory, read_ref);
    t_actor_restarts = -1;
    if (self != nullptr) {
      auto instance = std::make_unique<Instance>();
      instance->self = self;
      instance->factory = factory;
      instance->restarts = static_cast<int>(task.attempt_number());
      instance->gpus = t_gpus;
      std::lock_guard<std::mutex> lock(instances_mu_);
      instances_[task.actor_creation().actor_id()] = std::move(instance);
    }
  } else if (task.type() == proto::ACTOR_TASK) {
    Instance* instance = nullptr;
    {
      std::lock_guard<std::mutex> lock(instances_mu_);
      auto it = instances_.find(task.actor_task().actor_id());
      if (it != instances_.end()) instance = it->second.get();
    }
    if (instance == nullptr) {
      t_task = nullptr;
      t_serialized = nullptr;
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "PushTask: the actor is not on this worker");
    }
    std::lock_guard<std::mutex> lock(instance->mu);
    if (!instance->exited.empty()) {
      // (A call that was on its way when the actor exited.)
      reply->set_worker_exiting(true);
      proto::TaskError* error = reply->mutable_error();
      error->set_function_name(task.function().name());
      error->set_exception_type("raycc::ExitActor");
      error->set_message(absl::StrCat("the actor exited: ", instance->exited, " called ExitActor"));
      error->set_task_id(task.task_id());
    } else {
      t_actor_restarts = instance->restarts;
      t_gpus = instance->gpus;
      ExecuteMethod(task, instance->self, reply, read_ref, write_result);
      t_actor_restarts = -1;
      if (reply->worker_exiting()) instance->exited = task.function().name();
    }
  } else {
    ExecuteTask(task, reply, read_ref, write_result);
  }
  t_task = nullptr;
  t_serialized = nullptr;
  t_gpus.clear();
  read.clear();
  // A big result for an owner on this node goes into the node's store: the
  // owner reads it in place, and so do the tasks it passes it to.
  // (For an owner on another node it stays here, a primary copy the owner
  // frees; readers elsewhere pull it from this node's raylet.)
  if (!reply->has_error() && reply->return_objects_size() == 1 && result_to_store) {
    proto::ReturnObject* out = reply->mutable_return_objects(0);
    if (!out->in_plasma()) {  // (bytes made by the function's own serializer)
      absl::StatusOr<ObjectId> id = ObjectId::FromBinary(out->object_id());
      if (id.ok() && WriteToStore(*id, {out->data()})) {
        out->clear_data();
        out->set_in_plasma(true);
      }
    }
    if (out->in_plasma() && task.owner_address().node_id() != node_id_) {
      out->set_store_node_id(node_id_);
      out->set_store_raylet(raylet_address_);
    }
  }
  // The references its result holds stay alive for the caller, registered
  // as their borrower before the reply leaves.
  if (!serialized.empty() && !reply->has_error() && reply->return_objects_size() == 1) {
    LendRefs(serialized, task.owner_address(), reply->mutable_return_objects(0));
  }
  for (const ObjectId& id : serialized) refs_.RemoveTaskUse(id);
  // The workers its nested tasks leased go back before the task is done.
  submitter_->ReleaseIdle();
  if (reply->has_error()) {
    reply->mutable_error()->set_where(absl::StrCat("node '", node_name_, "', worker pid ", ::getpid()));
  }
  if (task.has_timeline()) {
    proto::TaskTiming* timing = reply->mutable_timing();
    timing->set_start_unix_us(start_unix_us);
    timing->set_end_unix_us(internal::TimelineRecorder::UnixNowUs());
    timing->set_node_name(node_name_);
    timing->set_pid(::getpid());
    std::lock_guard<std::mutex> lock(nested_attempts_mu_);
    reply->mutable_nested()->Swap(&nested_attempts_);
  }
  return grpc::Status::OK;
}

void ClusterRuntime::OpenObjectStore(const std::string& name) {
  if (name.empty()) return;
  absl::StatusOr<std::unique_ptr<object_store::SharedObjectStore>> store =
      object_store::SharedObjectStore::Open(name);
  if (!store.ok()) {
    std::fprintf(stderr, "raycc: this node's object store is out of reach (%s): objects stay in memory\n",
                 std::string(store.status().message()).c_str());
    return;
  }
  shm_ = *std::move(store);
}

bool ClusterRuntime::WriteToStore(const ObjectId& id, absl::Span<const std::string_view> parts,
                                  std::string* full) {
  size_t size = 0;
  for (std::string_view part : parts) size += part.size();
  return WriteToStore(
      id, size,
      [&](char* at) {
        for (std::string_view part : parts) {
          std::memcpy(at, part.data(), part.size());
          at += part.size();
        }
        return true;
      },
      full);
}

bool ClusterRuntime::WriteToStore(const ObjectId& id, size_t size, const std::function<bool(char*)>& fill,
                                  std::string* full) {
  if (shm_ == nullptr || size < kStoreAtLeast) return false;
  absl::StatusOr<absl::Span<char>> room = shm_->CreateObject(id, size);
  if (!room.ok() && full != nullptr && absl::IsResourceExhausted(room.status()) &&
      size <= shm_->capacity()) {  // (one larger than the store never fits: no wait)
    // A user's Put waits for room (objects freed, evicted or spilled by
    // others) before it fails, as Ray's does: the store is polled, at
    // growing intervals, until the wait is over.
    const auto wait = StoreFullWait();
    const auto deadline = std::chrono::steady_clock::now() + wait;
    auto pause = std::chrono::milliseconds(10);
    while (!room.ok() && absl::IsResourceExhausted(room.status())) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, left));
      pause = std::min(pause * 2, std::chrono::milliseconds(200));
      room = shm_->CreateObject(id, size);
    }
    if (!room.ok() && absl::IsResourceExhausted(room.status()) && wait.count() > 0) {
      room = absl::ResourceExhaustedError(
          absl::StrCat(room.status().message(), "; no room came in ", wait.count(), " ms of waiting"));
    }
  }
  if (!room.ok()) {
    if (full != nullptr && absl::IsResourceExhausted(room.status())) {
      *full = std::string(room.status().message());
    } else if (!shm_full_said_.exchange(true)) {
      std::fprintf(stderr, "raycc: %s; such objects stay in their owner's memory\n",
                   std::string(room.status().message()).c_str());
    }
    return false;
  }
  // (A serializer that throws midway leaves nothing half written behind.)
  bool filled = false;
  try {
    filled = fill(room->data());
  } catch (...) {
    shm_->Abort(id).IgnoreError();
    throw;
  }
  if (!filled) {
    shm_->Abort(id).IgnoreError();
    return false;
  }
  return shm_->Seal(id).ok();
}

std::chrono::milliseconds ClusterRuntime::StoreFullWait() {
  // (Read each time: only a full store asks, and a program may change it.)
  int64_t ms = kStoreFullWaitMs;
  if (const char* env = std::getenv("RAYCC_OBJECT_STORE_FULL_WAIT_MS"); env != nullptr && *env != '\0') {
    if (!absl::SimpleAtoi(env, &ms) || ms < 0) ms = kStoreFullWaitMs;
  }
  return std::chrono::milliseconds(ms);
}

void ClusterRuntime::ThrowStoreFull(const std::string& why) {
  throw ObjectStoreFullError(absl::StrCat("Put: ", why,
                                          " (free objects, raise --object-store-memory or "
                                          "--object-spilling-max-bytes, or give spilling more disk)"));
}

std::optional<ObjectValue> ClusterRuntime::PutInStore(const ObjectId& id,
                                                      absl::Span<const std::string_view> parts,
                                                      std::string* full) {
  if (!WriteToStore(id, parts, full)) return std::nullopt;
  return OwnInStore(id);
}

ObjectValue ClusterRuntime::OwnInStore(const ObjectId& id) {
  {
    std::lock_guard<std::mutex> lock(shm_mu_);
    in_shm_.insert(id);
  }
  // (Not pinned by its owner: the store may spill it while no one reads it.)
  ObjectValue value;
  value.in_local_store = true;
  return value;
}

absl::StatusOr<ClusterRuntime::View> ClusterRuntime::ReadOrPull(
    const ObjectId& id, const std::string& holder,
    const google::protobuf::RepeatedPtrField<std::string>* copies) {
  if (shm_ == nullptr) return absl::FailedPreconditionError("this process's node has no object store");
  absl::StatusOr<View> view = shm_->Get(id);
  for (int attempt = 0; !view.ok() && !holder.empty() && attempt < 2; ++attempt) {
    if (absl::Status fetched = FetchFromNode(id, holder, copies); !fetched.ok()) return fetched;
    view = shm_->Get(id);
  }
  return view;
}

void ClusterRuntime::DropFromStore(const ObjectId& id) {
  if (shm_ == nullptr) return;  // (nothing of this process is in any store)
  std::string remote;
  absl::flat_hash_set<std::string> copies;
  {
    std::lock_guard<std::mutex> lock(shm_mu_);
    if (auto it = copies_.find(id); it != copies_.end()) {
      copies = std::move(it->second);
      copies_.erase(it);
    }
    if (auto it = remote_primaries_.find(id); it != remote_primaries_.end()) {
      remote = std::move(it->second);
      remote_primaries_.erase(it);
    } else if (in_shm_.erase(id) == 0) {
      return;
    }
  }
  if (!copies.empty()) {  // (the copies other nodes pulled for tasks go too)
    {
      std::lock_guard<std::mutex> lock(borrow_mu_);
      for (const std::string& raylet : copies)
        if (raylet != remote) remote_frees_[raylet].push_back(id);
    }
    borrow_cv_.notify_all();
  }
  if (remote.empty()) {
    (void)shm_->Delete(id);  // (freed now, or when the last reader's view goes)
    return;
  }
  // In another node's store: its raylet frees it (sent in the background);
  // a copy pulled here for this owner's reads goes now.
  if (shm_ != nullptr) (void)shm_->Delete(id);
  {
    std::lock_guard<std::mutex> lock(borrow_mu_);
    remote_frees_[remote].push_back(id);
  }
  borrow_cv_.notify_all();
}

ObjectValue ClusterRuntime::Localize(const ObjectId& id, ObjectValue value) {
  if (value.in_local_store) {
    absl::StatusOr<View> view =
        shm_ != nullptr ? shm_->Get(id)
                        : absl::FailedPreconditionError("this process's node has no object store");
    if (absl::IsResourceExhausted(view.status())) {  // (spilled, and no room to bring it back now)
      throw ObjectStoreFullError(absl::StrCat("Get: ", view.status().message()));
    }
    if (!view.ok()) {
      ObjectError error;
      error.kind = ObjectError::Kind::kLost;
      error.message =
          absl::StrCat("object ", id.Hex(),
                       " is in this node's object store, and cannot be read: ", view.status().message());
      ThrowObjectError(error);
    }
    ObjectValue local;
    local.shm = *std::move(view);
    return local;
  }
  if (value.remote_raylet.empty() || value.error != nullptr) return value;
  absl::StatusOr<View> view = ReadOrPull(id, value.remote_raylet);
  if (!view.ok()) {
    ObjectError error;
    error.kind = ObjectError::Kind::kLost;
    error.message = absl::StrCat("object ", id.Hex(), " is in the store of the node whose raylet is at ",
                                 value.remote_raylet, ", and cannot be read here: ", view.status().message());
    ThrowObjectError(error);
  }
  ObjectValue local;
  local.shm = *std::move(view);
  return local;
}

absl::Status ClusterRuntime::FetchFromNode(const ObjectId& id, const std::string& holder,
                                           const google::protobuf::RepeatedPtrField<std::string>* copies) {
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(150));
  proto::FetchObjectRequest request;
  request.set_object_id(id.Binary());
  request.set_from(holder);
  if (copies != nullptr) *request.mutable_first_from() = *copies;
  proto::FetchObjectReply reply;
  grpc::Status status = raylet_->FetchObject(&context, request, &reply);
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("this node's raylet could not bring object ", id.Hex(), " from ", holder,
                                   ": ", status.error_message()));
}

std::string ClusterRuntime::RayletOfNode(const std::string& node_id) {
  {
    std::lock_guard<std::mutex> lock(raylets_mu_);
    if (auto it = raylets_.find(node_id); it != raylets_.end()) return it->second;
  }
  absl::StatusOr<std::vector<proto::NodeInfo>> nodes = gcs_->TryGetAllNodes();
  if (!nodes.ok()) return "";
  std::lock_guard<std::mutex> lock(raylets_mu_);
  for (const proto::NodeInfo& node : *nodes) {
    raylets_[node.node_id()] = absl::StrCat(node.raylet_address().host(), ":", node.raylet_address().port());
  }
  auto it = raylets_.find(node_id);
  return it != raylets_.end() ? it->second : "";
}

void ClusterRuntime::PrepareForNode(proto::TaskSpec* spec, const std::string& node_id, std::string raylet) {
  for (proto::TaskArg& arg : *spec->mutable_args()) {
    // A copy of an object this process owns will be pulled to that node:
    // noted, so that it goes when the object does. (An actor's calls name
    // its node only: its raylet is looked up, once per node.)
    if (!arg.store_node_id().empty() && !node_id.empty() && arg.store_node_id() != node_id &&
        raylet.empty()) {
      raylet = RayletOfNode(node_id);
    }
    if (!arg.store_node_id().empty() && !node_id.empty() && arg.store_node_id() != node_id &&
        !raylet.empty()) {
      if (absl::StatusOr<ObjectId> id = ObjectId::FromBinary(arg.object_ref().object_id()); id.ok()) {
        std::lock_guard<std::mutex> lock(shm_mu_);
        if (in_shm_.contains(*id) || remote_primaries_.contains(*id)) {
          // The nodes that pulled a copy before are offered first (a few,
          // in turn): a broadcast spreads over the copies rather than all
          // reading the primary, and a copy that is gone is passed over.
          absl::flat_hash_set<std::string>& known = copies_[*id];
          std::vector<std::string> others;
          for (const std::string& r : known)
            if (r != raylet) others.push_back(r);
          arg.clear_store_copies();
          constexpr size_t kOffered = 3;
          const size_t first = others.empty() ? 0 : copies_next_++ % others.size();
          for (size_t k = 0; k < std::min(others.size(), kOffered); ++k)
            arg.add_store_copies(others[(first + k) % others.size()]);
          known.insert(raylet);
        }
      }
    }
    // (A worker on a known node reads or pulls it; one on a node not known
    // here gets it inline.)
    if (arg.store_node_id().empty() || !node_id.empty()) continue;
    absl::StatusOr<ObjectId> id = ObjectId::FromBinary(arg.object_ref().object_id());
    bool unknown = false;
    std::optional<ObjectValue> value =
        id.ok() ? store_.Get(*id, std::chrono::steady_clock::now(), &unknown) : std::nullopt;
    // (The task pins its arguments: the value is here until it is done.)
    try {
      if (value) value = Localize(*id, *std::move(value));
    } catch (const RayccError&) {
      value.reset();  // (the task then fails on its empty argument, with the cause in its log)
    }
    arg.set_value(value ? std::string(value->Bytes()) : std::string());
    arg.clear_store_node_id();
    arg.clear_store_raylet();
  }
}

ObjectId ClusterRuntime::ResultOf(const proto::TaskSpec& task) const {
  absl::StatusOr<TaskId> id = TaskId::FromBinary(task.task_id());
  return *ObjectId::ForReturn(*id, 1);  // (our own task ids: always well formed)
}

proto::TaskSpec ClusterRuntime::MakeSpec(const internal::RemoteFunction& function,
                                         const internal::CallOptions& options) {
  // Groups created or removed here reach the GCS before the work that
  // may use them, or the room they leave (a handle passed on, say).
  if (groups_client_->busy()) groups_client_->Flush();
  proto::TaskSpec spec;
  TaskId id = TaskId::Of(job_);
  spec.set_task_id(id.Binary());
  spec.set_job_id(job_.Binary());
  spec.set_parent_task_id(t_task != nullptr ? t_task->task_id() : driver_task_.Binary());
  spec.set_depth(t_task != nullptr ? t_task->depth() + 1 : 0);
  TagForTimeline(spec, options);
  spec.set_type(proto::NORMAL_TASK);
  *spec.mutable_owner_address() = self_;
  FillFunction(spec.mutable_function(), function.name, function.signature);
  spec.set_num_returns(1);
  absl::StatusOr<ResourceSet> resources =
      options.has_resources ? ResourceSet::Create(options.resources)
                            : ResourceSet::Create(std::map<std::string, double>{{"CPU", 1.0}});
  if (!resources.ok()) {
    throw RayccError(absl::StrCat("task ", function.name, ": ", resources.status().message()));
  }
  if (!options.placement_group.IsNil()) {
    const std::string what = absl::StrCat("task ", function.name);
    absl::StatusOr<ResourceSet> in_group_demand =
        gcs::DemandInGroup(*resources, GroupBundles(options.placement_group, what), options.bundle_index,
                           options.placement_group);
    if (!in_group_demand.ok()) core_worker::ThrowStatus(in_group_demand.status(), what);
    *resources = *std::move(in_group_demand);
    proto::PlacementGroupSchedulingStrategy* in_group =
        spec.mutable_scheduling_strategy()->mutable_placement_group();
    in_group->set_placement_group_id(options.placement_group.Binary());
    in_group->set_bundle_index(options.bundle_index);
  }
  resources->ToProto(spec.mutable_required_resources());
  if (!options.placement_group.IsNil()) {
    // (placed by its group)
  } else if (options.spread) {
    spec.mutable_scheduling_strategy()->mutable_spread();
  } else if (!options.node_name.empty()) {
    std::string node_id;
    for (const proto::NodeInfo& node : gcs_->GetAllNodes()) {
      if (node.node_name() == options.node_name && node.state() == proto::NodeInfo::ALIVE)
        node_id = node.node_id();
    }
    if (node_id.empty() && !options.node_soft) {
      throw InfeasibleError(absl::StrCat("task ", function.name, " must run on node '", options.node_name,
                                         "', and the cluster has no live node of that name"));
    }
    if (!node_id.empty()) {
      proto::NodeAffinitySchedulingStrategy* affinity =
          spec.mutable_scheduling_strategy()->mutable_node_affinity();
      affinity->set_node_id(node_id);
      affinity->set_soft(options.node_soft);
    }
  }
  if (!options.label_selector.empty()) {
    absl::StatusOr<scheduling::LabelSelector> selector =
        scheduling::ParseLabelSelector(options.label_selector);
    if (!selector.ok()) {
      throw RayccError(
          absl::StrCat("task ", function.name, ": label selector: ", selector.status().message()));
    }
    spec.mutable_label_selector()->insert(options.label_selector.begin(), options.label_selector.end());
  }
  spec.set_max_retries(options.max_retries);
  spec.set_retry_exceptions(options.retry_exceptions);
  spec.set_name(options.name.empty() ? function.name : options.name);
  spec.set_priority(options.priority);
  return spec;
}

void ClusterRuntime::SubmitSpec(proto::TaskSpec spec, std::vector<internal::TaskArgument> args,
                                const std::function<void(const std::shared_ptr<Pending>&)>& enqueue,
                                bool in_owner) {
  auto pending = std::make_shared<Pending>();
  pending->in_owner = in_owner;
  std::vector<std::pair<int, ObjectId>> refs;
  for (internal::TaskArgument& arg : args) {
    proto::TaskArg* out = spec.add_args();
    for (const ObjectId& contained : arg.contained) {
      if (!refs_.Knows(contained)) ThrowUnknown("a reference inside an argument", contained);
    }
    if (arg.by_ref) {
      if (!refs_.Knows(arg.ref)) ThrowUnknown("an argument", arg.ref);
      EnsureFetched(arg.ref);
      out->mutable_object_ref()->set_object_id(arg.ref.Binary());
      refs.emplace_back(spec.args_size() - 1, arg.ref);
    } else {
      out->set_value(std::move(arg.value));
    }
  }
  // Keep what the task reads alive until it is done.
  for (internal::TaskArgument& arg : args) {
    for (const ObjectId& contained : arg.contained) pending->uses.push_back(contained);
    if (arg.by_ref) pending->uses.push_back(arg.ref);
  }
  for (const ObjectId& id : pending->uses) refs_.AddTaskUse(id);
  pending->spec = std::move(spec);
  pending->unresolved += static_cast<int>(refs.size());
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    pending_[pending->spec.task_id()] = pending;
  }
  if (enqueue) enqueue(pending);
  for (const auto& [index, id] : refs) {
    store_.OnReady(id, [this, pending, index = index](const ObjectValue& value) {
      {
        std::lock_guard<std::mutex> lock(pending->mu);
        if (value.error != nullptr) {
          if (pending->failed_dependency == nullptr) pending->failed_dependency = value.error;
        } else if (!value.remote_raylet.empty()) {
          // In the store of the node that made it: pulled from there.
          pending->spec.mutable_args(index)->set_store_node_id(value.remote_node);
          pending->spec.mutable_args(index)->set_store_raylet(value.remote_raylet);
        } else if (value.shm != nullptr || value.in_local_store) {
          // In this node's store: a worker here reads it in place; one
          // elsewhere has its raylet pull it from this node's first.
          pending->spec.mutable_args(index)->set_store_node_id(node_id_);
          pending->spec.mutable_args(index)->set_store_raylet(raylet_address_);
        } else {
          pending->spec.mutable_args(index)->set_value(*value.bytes);
        }
        if (--pending->unresolved > 0) return;
      }
      Dispatch(pending);
    });
  }
  {
    std::lock_guard<std::mutex> lock(pending->mu);
    if (--pending->unresolved > 0) return;
  }
  Dispatch(pending);
}

void ClusterRuntime::Dispatch(const std::shared_ptr<Pending>& pending) {
  std::shared_ptr<const ObjectError> failed;
  {
    std::lock_guard<std::mutex> lock(pending->mu);
    if (pending->cancelled) return;  // (reported when it was cancelled)
    failed = pending->failed_dependency;
  }
  if (failed != nullptr) {
    // As in Ray: a task whose argument failed fails with that cause.
    OnTaskDone(pending->spec, nullptr, failed.get());
    return;
  }
  if (pending->in_owner) {
    RunInOwner(pending);
    return;
  }
  if (pending->spec.type() == proto::ACTOR_TASK) {
    absl::StatusOr<ActorId> id = ActorId::FromBinary(pending->spec.actor_task().actor_id());
    if (std::shared_ptr<Actor> actor = id.ok() ? FindActor(*id, true) : nullptr) {
      std::lock_guard<std::mutex> lock(actor->mu);
      actor->cv.notify_all();
    }
    return;
  }
  submitter_->Submit(pending->spec);
}

void ClusterRuntime::RunInOwner(const std::shared_ptr<Pending>& pending) {
  if (finishing_) return;  // (shutting down: nobody waits for it)
  in_owner_threads_.Start([this, pending] {
    proto::PushTaskReply reply;
    ExecuteTask(pending->spec, &reply);
    if (reply.has_error()) reply.mutable_error()->set_where("the submitting process (in_owner)");
    OnTaskDone(pending->spec, &reply, nullptr);
  });
}

void ClusterRuntime::OnTaskDone(const proto::TaskSpec& task, const proto::PushTaskReply* reply,
                                const ObjectError* error) {
  ObjectValue value;
  if (error != nullptr) {
    RecordAttempt(task, nullptr, "failed");
    value.error = std::make_shared<const ObjectError>(*error);
  } else if (reply->has_error()) {
    const int max_retries = task.max_retries();
    const bool retry =
        task.retry_exceptions() && (max_retries < 0 || static_cast<int>(task.attempt_number()) < max_retries);
    RecordAttempt(task, reply, retry ? "retried" : "failed");
    if (retry) {
      proto::TaskSpec again = task;
      again.set_attempt_number(task.attempt_number() + 1);
      submitter_->Submit(std::move(again));
      return;
    }
    auto failure = std::make_shared<ObjectError>();
    failure->kind = ObjectError::Kind::kTask;
    failure->function = reply->error().function_name();
    failure->type = reply->error().exception_type();
    failure->message = reply->error().message();
    failure->where = reply->error().where();
    value.error = std::move(failure);
  } else if (reply->return_objects_size() != 1) {
    auto failure = std::make_shared<ObjectError>();
    failure->message = absl::StrCat("task ", task.function().name(), " returned ",
                                    reply->return_objects_size(), " objects instead of 1");
    value.error = std::move(failure);
  } else if (reply->return_objects(0).in_plasma() && !reply->return_objects(0).store_node_id().empty() &&
             reply->return_objects(0).store_node_id() != node_id_) {
    // In the store of the node that made it: readers pull it from there.
    const ObjectId result = ResultOf(task);
    value.remote_node = reply->return_objects(0).store_node_id();
    value.remote_raylet = reply->return_objects(0).store_raylet();
    {
      std::lock_guard<std::mutex> lock(shm_mu_);
      remote_primaries_[result] = value.remote_raylet;
    }
    if (reply->return_objects(0).nested_refs_size() > 0) AdoptNestedRefs(result, reply->return_objects(0));
  } else if (reply->return_objects(0).in_plasma()) {
    // A worker of this node wrote it into the store (a primary copy, which
    // this owner deletes when it is freed).
    const ObjectId result = ResultOf(task);
    if (shm_ != nullptr && shm_->Contains(result)) {
      value = OwnInStore(result);
      if (reply->return_objects(0).nested_refs_size() > 0) AdoptNestedRefs(result, reply->return_objects(0));
    } else {
      auto failure = std::make_shared<ObjectError>();
      failure->message = absl::StrCat("the result of task ", task.function().name(),
                                      " was written to the node's object store, but is not there",
                                      shm_ == nullptr ? " (this process cannot map the node's store)" : "");
      value.error = std::move(failure);
    }
  } else {
    // A big result that came back inline (it was made on another node) goes
    // into this node's store: the tasks that read it then pull it node to
    // node, once per node, rather than through this owner in every push.
    const ObjectId result = ResultOf(task);
    if (std::optional<ObjectValue> stored = PutInStore(result, {reply->return_objects(0).data()})) {
      value = *std::move(stored);
    } else {
      value.bytes = std::make_shared<const std::string>(reply->return_objects(0).data());
    }
    if (reply->return_objects(0).nested_refs_size() > 0) AdoptNestedRefs(result, reply->return_objects(0));
  }
  if (error == nullptr && !reply->has_error()) RecordAttempt(task, reply, "finished");
  Complete(task.task_id(), std::move(value));
}

void ClusterRuntime::Complete(const std::string& task_id, ObjectValue value) {
  std::shared_ptr<Pending> pending;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    auto it = pending_.find(task_id);
    if (it == pending_.end()) {  // (done already: a cancelled task's late reply)
      if (absl::StatusOr<TaskId> task = TaskId::FromBinary(task_id);
          task.ok() && (value.in_local_store || !value.remote_raylet.empty())) {
        DropFromStore(*ObjectId::ForReturn(*task, 1));
      }
      return;
    }
    pending = std::move(it->second);
    pending_.erase(it);
  }
  ObjectId result = ResultOf(pending->spec);
  if (refs_.Owns(result)) {
    store_.Put(result, std::move(value));
  } else if (value.in_local_store || !value.remote_raylet.empty()) {
    DropFromStore(result);  // (nobody refers to it any more)
  }
  for (const ObjectId& id : pending->uses) refs_.RemoveTaskUse(id);
}

std::shared_ptr<internal::ObjectRefHandle> ClusterRuntime::SubmitTask(
    const internal::RemoteFunction& function, std::vector<internal::TaskArgument> args,
    const internal::CallOptions& options) {
  proto::TaskSpec spec = MakeSpec(function, options);
  ObjectId result = ResultOf(spec);
  store_.AddPending(result);
  refs_.AddOwned(result, 1);
  try {
    SubmitSpec(std::move(spec), std::move(args), nullptr, options.in_owner);
  } catch (...) {
    refs_.RemoveLocalRef(result);
    throw;
  }
  return std::make_shared<internal::ObjectRefHandle>(result, internal::ObjectRefHandle::Adopt{});
}

std::vector<ObjectId> ClusterRuntime::SubmitTasks(
    std::vector<internal::BatchedTask> tasks,
    const std::vector<std::vector<std::pair<std::string, double>>>& demands) {
  // Whole or not at all: every spec is made (and checked) before any task
  // is queued.
  const internal::CallOptions defaults;
  std::vector<proto::TaskSpec> specs;
  specs.reserve(tasks.size());
  for (const internal::BatchedTask& task : tasks) {
    if (task.function == nullptr) throw RayccError("SubmitTasks: a task without a function");
    internal::CallOptions options = task.options != nullptr ? *task.options : defaults;
    if (task.demand >= 0) {
      if (static_cast<size_t>(task.demand) >= demands.size()) {
        throw RayccError(absl::StrCat("SubmitTasks: task ", task.function->name, " names resource set ",
                                      task.demand, " of ", demands.size()));
      }
      options.has_resources = true;
      options.resources = demands[task.demand];
    }
    specs.push_back(MakeSpec(*task.function, options));
  }
  std::vector<ObjectId> results;
  results.reserve(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    for (const internal::TaskArgument& arg : tasks[i].args) {
      if (arg.batch_index >= static_cast<int>(i)) {
        throw RayccError(absl::StrCat("SubmitTasks: task ", i, " uses the result of task ", arg.batch_index,
                                      ", which does not come before it"));
      }
    }
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    ObjectId result = ResultOf(specs[i]);
    store_.AddPending(result);
    refs_.AddOwned(result, 0, tasks[i].release_result);
    for (internal::TaskArgument& arg : tasks[i].args) {
      if (arg.batch_index >= 0) {
        arg.by_ref = true;
        arg.ref = results[arg.batch_index];
      }
    }
    SubmitSpec(std::move(specs[i]), std::move(tasks[i].args), nullptr,
               tasks[i].options != nullptr && tasks[i].options->in_owner);
    results.push_back(result);
  }
  return results;
}

bool ClusterRuntime::CancelTask(const ObjectId& id) {
  const std::string task_id = id.Task().Binary();
  std::shared_ptr<Pending> pending;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    auto it = pending_.find(task_id);
    if (it == pending_.end()) return false;
    pending = it->second;
  }
  bool resolving = false;
  {
    std::lock_guard<std::mutex> lock(pending->mu);
    resolving = pending->unresolved > 0;
    if (resolving) pending->cancelled = true;
  }
  if (!resolving) return submitter_->Cancel(task_id);  // (reports it through OnTaskDone)
  ObjectError error;
  error.kind = ObjectError::Kind::kCancelled;
  error.function = pending->spec.function().name();
  error.message = absl::StrCat("task ", error.function, " was cancelled before it ran");
  OnTaskDone(pending->spec, nullptr, &error);
  return true;
}

ObjectId ClusterRuntime::NextPutId() {
  return *ObjectId::ForPut(t_task != nullptr ? *TaskId::FromBinary(t_task->task_id()) : driver_task_,
                           puts_.fetch_add(1) + 1);
}

ObjectId ClusterRuntime::Put(std::string bytes) {
  const ObjectId id = NextPutId();
  ObjectValue value;
  std::string full;
  if (std::optional<ObjectValue> stored = PutInStore(id, {bytes}, &full)) {
    value = *std::move(stored);
  } else if (!full.empty()) {
    ThrowStoreFull(full);
  } else {
    value.bytes = std::make_shared<const std::string>(std::move(bytes));
  }
  return AddOwnedObject(id, std::move(value));
}

ObjectId ClusterRuntime::AddOwnedObject(const ObjectId& id, ObjectValue value) {
  store_.AddPending(id);
  refs_.AddOwned(id, 1);
  store_.Put(id, std::move(value));
  return id;
}

ObjectId ClusterRuntime::PutValue(std::shared_ptr<const void> value, const std::type_info& type,
                                  std::string (*serialize)(const void*)) {
  // SharedBytes go straight into the node's store: its msgpack header, then
  // the bytes, copied once (no buffer in between).
  if (type == typeid(SharedBytes)) {
    if (std::optional<ObjectId> id = PutSharedBytes(*static_cast<const SharedBytes*>(value.get())))
      return *id;
  }
  // Values cross processes as bytes; keeping the value too (zero-copy Get
  // in the owner) is the object plane's work (issue #15). The references
  // the value holds are pinned while the object lives (OwnerOf pins each
  // one it writes while t_serialized collects).
  std::string bytes;
  std::vector<ObjectId> mentioned = Mentions([&] { bytes = serialize(value.get()); });
  ObjectId id;
  try {
    id = Put(std::move(bytes));
  } catch (...) {  // (the store is full: nothing holds what it mentions)
    for (const ObjectId& ref : mentioned) refs_.RemoveTaskUse(ref);
    throw;
  }
  if (!mentioned.empty()) {
    std::lock_guard<std::mutex> lock(borrow_mu_);
    nested_[id] = std::move(mentioned);
  }
  return id;
}

std::optional<size_t> ClusterRuntime::StoreSizeOf(const void* value, size_t (*size_of)(const void*)) {
  if (shm_ == nullptr || size_of == nullptr) return std::nullopt;
  // The first pass measures; a value that mentions references (rare, and
  // small) goes the usual way, which pins them once.
  size_t size = 0;
  std::vector<ObjectId> mentioned = Mentions([&] { size = size_of(value); });
  for (const ObjectId& ref : mentioned) refs_.RemoveTaskUse(ref);
  if (!mentioned.empty() || size < kStoreAtLeast) return std::nullopt;
  return size;
}

bool ClusterRuntime::WriteValueToStore(const ObjectId& id, const void* value, size_t size,
                                       bool (*write_into)(const void*, char*, size_t), std::string* full) {
  // The second pass writes the bytes straight into the store: no buffer.
  return write_into != nullptr && WriteToStore(
                                      id, size, [&](char* at) { return write_into(value, at, size); }, full);
}

ObjectId ClusterRuntime::PutSized(std::shared_ptr<const void> value, const std::type_info& type,
                                  std::string (*serialize)(const void*), size_t (*size_of)(const void*),
                                  bool (*write_into)(const void*, char*, size_t)) {
  if (type == typeid(SharedBytes)) return PutValue(std::move(value), type, serialize);
  // (Measured first: a small value takes the usual path, and its own id.)
  std::optional<size_t> size = StoreSizeOf(value.get(), size_of);
  if (!size) return PutValue(std::move(value), type, serialize);
  const ObjectId id = NextPutId();
  std::string full;
  if (WriteValueToStore(id, value.get(), *size, write_into, &full)) return AddOwnedObject(id, OwnInStore(id));
  if (!full.empty()) ThrowStoreFull(full);
  // Small, holding references, or the store's own trouble (said once): the
  // usual way.
  return PutValue(std::move(value), type, serialize);
}

std::optional<ObjectId> ClusterRuntime::PutSharedBytes(const SharedBytes& bytes) {
  if (bytes.size() > UINT32_MAX) return std::nullopt;
  char header[5] = {static_cast<char>(0xc6)};  // bin 32
  for (int i = 0; i < 4; ++i) header[1 + i] = static_cast<char>((bytes.size() >> (8 * (3 - i))) & 0xff);
  return PutParts({std::string_view(header, sizeof(header)), bytes.view()});
}

std::optional<ObjectId> ClusterRuntime::PutParts(absl::Span<const std::string_view> parts) {
  size_t size = 0;
  for (std::string_view part : parts) size += part.size();
  if (shm_ == nullptr || size < kStoreAtLeast) return std::nullopt;
  const ObjectId id = NextPutId();
  std::string full;
  std::optional<ObjectValue> value = PutInStore(id, parts, &full);
  if (!full.empty()) ThrowStoreFull(full);
  if (!value) return std::nullopt;  // (the usual path keeps it in memory)
  return AddOwnedObject(id, *std::move(value));
}

ObjectId ClusterRuntime::PutContiguous(std::shared_ptr<const void> value, const std::type_info& type,
                                       std::string (*serialize)(const void*), std::string_view head,
                                       std::string_view body) {
  // (A value that holds references goes the usual way, which pins them;
  // the contiguous kinds hold none.)
  if (std::optional<ObjectId> id = PutParts({head, body})) return *id;
  return PutValue(std::move(value), type, serialize);
}

void ClusterRuntime::ThrowUnknown(const char* what, const ObjectId& id) const {
  throw RayccError(
      absl::StrCat(what, ": object ", id.Hex(),
                   " is not known to this process (freed already: no reference to it is held here)"));
}

void ClusterRuntime::NotifyBlocked(bool blocked) {
  // Taking the CPU back waits until the raylet has it free: the leases this
  // process holds for the tasks it waited for give it back first.
  if (!blocked) submitter_->BeginReacquire();
  absl::Cleanup end = [&] {
    if (!blocked) submitter_->EndReacquire();
  };
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  proto::NotifyWorkerBlockedRequest request;
  request.set_worker_id(worker_id_.Binary());
  request.set_blocked(blocked);
  proto::NotifyWorkerBlockedReply reply;
  grpc::Status status = raylet_->NotifyWorkerBlocked(&context, request, &reply);
  if (!status.ok()) {
    std::fprintf(stderr, "raycc worker %s: NotifyWorkerBlocked(%d) failed: %s\n", worker_id_.Hex().c_str(),
                 blocked ? 1 : 0, status.error_message().c_str());
  }
}

std::vector<bool> ClusterRuntime::WaitReady(const std::vector<ObjectId>& ids, size_t num_ready,
                                            MemoryStore::Deadline deadline) {
  std::vector<bool> ready = store_.Wait(ids, num_ready, std::chrono::steady_clock::now());
  size_t count = 0;
  for (bool r : ready) count += r ? 1 : 0;
  if (count >= num_ready || (deadline && *deadline <= std::chrono::steady_clock::now())) return ready;
  // A task that waits gives its worker's resources back meanwhile, so the
  // tasks it waits for can run on them.
  const bool blocks = worker_ && t_task != nullptr;
  if (blocks) NotifyBlocked(true);
  // In slices, so that Finish ends the waits of this process's own threads.
  constexpr auto kSlice = std::chrono::milliseconds(200);
  for (;;) {
    auto slice = std::chrono::steady_clock::now() + kSlice;
    if (deadline && *deadline < slice) slice = *deadline;
    ready = store_.Wait(ids, num_ready, slice);
    count = 0;
    for (bool r : ready) count += r ? 1 : 0;
    if (count >= num_ready || (deadline && *deadline <= std::chrono::steady_clock::now())) break;
    if (finishing_) {
      if (blocks) NotifyBlocked(false);
      throw RayccError("the cluster runtime is shutting down");
    }
  }
  if (blocks) NotifyBlocked(false);
  return ready;
}

ObjectValue ClusterRuntime::ReadyValue(const ObjectId& id, int64_t timeout_ms) {
  if (!store_.Contains(id)) ThrowUnknown("Get", id);
  EnsureFetched(id);
  if (!WaitReady({id}, 1, DeadlineAfter(timeout_ms))[0]) {
    throw GetTimeoutError(
        absl::StrCat("Get: object ", id.Hex(), " was not ready within ", timeout_ms, " ms"));
  }
  bool unknown = false;
  std::optional<ObjectValue> value = store_.Get(id, std::chrono::steady_clock::now(), &unknown);
  if (!value) ThrowUnknown("Get", id);
  if (value->error != nullptr) ThrowObjectError(*value->error);
  return Localize(id, *std::move(value));
}

std::shared_ptr<const std::string> ClusterRuntime::Get(const ObjectId& id, int64_t timeout_ms) {
  ObjectValue value = ReadyValue(id, timeout_ms);
  // (An object in the node's store is copied out here, for a reader that
  // wants bytes or a deserialized value; SharedBytes reads it in place:
  // InPlace.)
  if (value.shm != nullptr) return std::make_shared<const std::string>(value.shm->bytes());
  return value.bytes;
}

std::shared_ptr<const void> ClusterRuntime::InPlace(const ObjectValue& value, const std::type_info& type) {
  if (type != typeid(SharedBytes) || value.shm == nullptr) return nullptr;
  size_t offset = 0, size = 0;
  if (!internal::SharedBytesPayload(value.shm->bytes(), &offset, &size)) return nullptr;
  // A view into the node's store, pinned by the object's view for as long
  // as any copy of it lives.
  return std::make_shared<const SharedBytes>(value.shm, value.shm->data() + offset, size);
}

std::shared_ptr<const void> ClusterRuntime::GetValue(const ObjectId& id, const std::type_info& type,
                                                     int64_t timeout_ms) {
  // (Null: held as bytes, which the caller reads with Get and deserializes.)
  return InPlace(ReadyValue(id, timeout_ms), type);
}

std::vector<std::shared_ptr<const void>> ClusterRuntime::GetValues(const std::vector<ObjectId>& ids,
                                                                   const std::type_info& type,
                                                                   int64_t timeout_ms) {
  for (const ObjectId& id : ids) {
    if (!store_.Contains(id)) ThrowUnknown("Get", id);
    EnsureFetched(id);
  }
  std::vector<bool> ready = WaitReady(ids, ids.size(), DeadlineAfter(timeout_ms));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ready[i]) {
      throw GetTimeoutError(absl::StrCat("Get: object ", ids[i].Hex(), " (", i + 1, " of ", ids.size(),
                                         ") was not ready within ", timeout_ms, " ms"));
    }
  }
  std::vector<std::shared_ptr<const void>> values;
  values.reserve(ids.size());
  // All are ready: the first failure, in order, throws; SharedBytes are
  // read in place (other types are read as bytes by the caller).
  const bool in_place = type == typeid(SharedBytes);
  for (const ObjectId& id : ids) {
    bool unknown = false;
    std::optional<ObjectValue> value = store_.Get(id, std::chrono::steady_clock::now(), &unknown);
    if (!value) ThrowUnknown("Get", id);
    if (value->error != nullptr) ThrowObjectError(*value->error);
    values.push_back(in_place ? InPlace(Localize(id, *std::move(value)), type) : nullptr);
  }
  return values;
}

std::vector<bool> ClusterRuntime::Wait(const std::vector<ObjectId>& ids, int num_objects,
                                       int64_t timeout_ms) {
  if (num_objects < 0 || static_cast<size_t>(num_objects) > ids.size()) {
    throw RayccError(
        absl::StrCat("Wait: num_objects must be between 0 and ", ids.size(), ", got ", num_objects));
  }
  for (const ObjectId& id : ids) {
    if (!store_.Contains(id)) ThrowUnknown("Wait", id);
    EnsureFetched(id);
  }
  return WaitReady(ids, static_cast<size_t>(num_objects), DeadlineAfter(timeout_ms));
}

PlacementGroupId ClusterRuntime::CreatePlacementGroup(
    const std::vector<std::vector<std::pair<std::string, double>>>& bundles,
    internal::PlacementGroupStrategy strategy, const std::string& name,
    const std::vector<std::string>& bundle_nodes) {
  absl::StatusOr<std::vector<ResourceSet>> bundle_sets = gcs::BundleResourceSets(bundles, name);
  if (!bundle_sets.ok()) throw RayccError(std::string(bundle_sets.status().message()));
  std::vector<ResourceSet> sets = *std::move(bundle_sets);
  PlacementGroupId id = PlacementGroupId::Of(job_);
  absl::Status created =
      groups_client_->Create(id, name, static_cast<scheduling::BundleStrategy>(strategy), sets, bundle_nodes);
  if (!created.ok()) {
    // (The GCS's infeasible status is kResourceExhausted: raycc::IsInfeasible.)
    if (created.code() == absl::StatusCode::kResourceExhausted)
      throw InfeasibleError(std::string(created.message()));
    throw RayccError(std::string(created.message()));
  }
  std::lock_guard<std::mutex> lock(groups_mu_);
  groups_[id] = std::move(sets);
  return id;
}

bool ClusterRuntime::WaitPlacementGroup(const PlacementGroupId& id, int64_t timeout_ms) {
  using Clock = PlacementGroupClient::Clock;
  const std::optional<Clock::time_point> deadline =
      timeout_ms < 0 ? std::nullopt : std::optional(Clock::now() + std::chrono::milliseconds(timeout_ms));
  // Removed here, the removal on its way: it never will be.
  if (groups_client_->Removing(id)) return false;
  // A group created here: once the GCS has its creation (it may be on its
  // way), its answer says whether it was reserved then.
  bool timed_out = false;
  std::optional<PlacementGroupClient::Answer> answer = groups_client_->AnswerFor(id, deadline, &timed_out);
  if (timed_out) return false;
  if (answer) {
    if (!answer->status.ok()) {
      if (answer->status.code() == absl::StatusCode::kResourceExhausted)
        throw InfeasibleError(std::string(answer->status.message()));
      throw RayccError(std::string(answer->status.message()));
    }
    if (answer->state == proto::PG_CREATED) return true;
    if (deadline)
      timeout_ms = std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count());
  }
  absl::StatusOr<bool> ready = gcs_->WaitPlacementGroupReady(id, timeout_ms);
  if (ready.ok()) return *ready;
  if (absl::IsFailedPrecondition(ready.status())) return false;  // (removed: it never will be)
  throw RayccError(std::string(ready.status().message()));
}

void ClusterRuntime::RemovePlacementGroup(const PlacementGroupId& id) { groups_client_->Remove(id); }

std::vector<ResourceSet> ClusterRuntime::GroupBundles(const PlacementGroupId& id, const std::string& what) {
  // (One created here is known to the GCS once its creation is answered.)
  if (std::optional<PlacementGroupClient::Answer> answer = groups_client_->AnswerFor(id, std::nullopt);
      answer && !answer->status.ok()) {
    throw RayccError(absl::StrCat(what, ": placement group ", id.Hex(), ": ", answer->status.message()));
  }
  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    auto it = groups_.find(id);
    if (it != groups_.end()) return it->second;
  }
  // A group another process made (its handle was passed here).
  absl::StatusOr<proto::PlacementGroupInfo> info = gcs_->GetPlacementGroup(id);
  if (!info.ok())
    throw RayccError(absl::StrCat(what, ": placement group ", id.Hex(), ": ", info.status().message()));
  if (info->state() == proto::PG_REMOVED) {
    throw RayccError(absl::StrCat(what, ": placement group ", id.Hex(), " was removed"));
  }
  std::vector<ResourceSet> bundles;
  for (const proto::Bundle& bundle : info->spec().bundles()) {
    absl::StatusOr<ResourceSet> set = ResourceSet::FromProto(bundle.resources());
    if (!set.ok())
      throw RayccError(absl::StrCat(what, ": placement group ", id.Hex(), ": ", set.status().message()));
    bundles.push_back(*std::move(set));
  }
  std::lock_guard<std::mutex> lock(groups_mu_);
  groups_[id] = bundles;
  return bundles;
}

std::string ClusterRuntime::OwnerOf(const ObjectId& id) {
  std::optional<std::string> owner = refs_.OwnerOf(id);
  if (!owner) return std::string();  // (unknown here: freed already)
  if (t_serialized != nullptr) {
    // Pinned until the caller is registered as its borrower: the task's
    // own handle to it may go before the reply does.
    refs_.AddTaskUse(id);
    t_serialized->push_back(id);
  }
  return owner->empty() ? self_bytes_ : *owner;
}

void ClusterRuntime::BorrowRef(const ObjectId& id, const std::string& owner) {
  if (owner == self_bytes_ || !refs_.AddBorrowed(id, owner)) return;  // ours, or known here already
  store_.AddPending(id);
  // Registered before the reference is counted: whoever sent it keeps the
  // object alive until then (a task's argument, or a result the worker
  // registered this process for).
  std::vector<ObjectId> gone = RegisterBorrower(owner, {id}, self_);
  if (!gone.empty()) {
    auto error = std::make_shared<ObjectError>();
    error->message =
        absl::StrCat("object ", id.Hex(), " was freed by its owner before this process could borrow it");
    store_.Put(id, ObjectValue{nullptr, std::move(error)});
  }
}

std::shared_ptr<proto::CoreWorkerService::Stub> ClusterRuntime::WorkerStub(const std::string& bytes,
                                                                           std::string* where) {
  proto::Address address;
  if (!address.ParseFromString(bytes) || address.port() <= 0) return nullptr;
  *where = absl::StrCat(address.host(), ":", address.port());
  std::lock_guard<std::mutex> lock(borrow_mu_);
  std::shared_ptr<proto::CoreWorkerService::Stub>& stub = worker_stubs_[bytes];
  if (stub == nullptr) stub = proto::CoreWorkerService::NewStub(rpc::Connect(*where));
  return stub;
}

std::vector<ObjectId> ClusterRuntime::RegisterBorrower(const std::string& owner,
                                                       const std::vector<ObjectId>& ids,
                                                       const proto::Address& borrower) {
  std::string where;
  std::shared_ptr<proto::CoreWorkerService::Stub> stub = WorkerStub(owner, &where);
  if (stub == nullptr) return ids;
  proto::UpdateBorrowersRequest request;
  request.set_borrower_worker_id(borrower.worker_id());
  *request.mutable_borrower_address() = borrower;
  for (const ObjectId& id : ids) request.add_add(id.Binary());
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  proto::UpdateBorrowersReply reply;
  grpc::Status status = stub->UpdateBorrowers(&context, request, &reply);
  if (!status.ok()) {
    // (The owner is gone: a Get of these finds it unreachable and says so.)
    return {};
  }
  std::vector<ObjectId> gone;
  for (const std::string& bytes : reply.unknown()) {
    if (absl::StatusOr<ObjectId> id = ObjectId::FromBinary(bytes); id.ok()) gone.push_back(*id);
  }
  return gone;
}

void ClusterRuntime::OnFreed(const ObjectId& id, const std::string& owner) {
  store_.Delete(id);
  if (owner.empty()) DropFromStore(id);
  std::vector<ObjectId> nested;
  {
    std::lock_guard<std::mutex> lock(borrow_mu_);
    fetching_.erase(id);  // (borrowed again later: fetched again)
    if (auto it = nested_.find(id); it != nested_.end()) {
      nested = std::move(it->second);
      nested_.erase(it);
    }
    if (!owner.empty() && !borrow_stop_) {
      releases_[owner].push_back(id);
      borrow_cv_.notify_all();
    }
  }
  for (const ObjectId& ref : nested) refs_.RemoveTaskUse(ref);
}

void ClusterRuntime::RunReleases() {
  std::unique_lock<std::mutex> lock(borrow_mu_);
  for (;;) {
    borrow_cv_.wait(lock, [&] { return borrow_stop_ || !releases_.empty() || !remote_frees_.empty(); });
    if (releases_.empty() && remote_frees_.empty()) return;  // (stopping, and everything sent)
    absl::flat_hash_map<std::string, std::vector<ObjectId>> batch, frees;
    batch.swap(releases_);
    frees.swap(remote_frees_);
    lock.unlock();
    for (const auto& [raylet, ids] : frees) {
      auto stub = proto::RayletService::NewStub(rpc::Connect(raylet));
      proto::FreeObjectsRequest request;
      for (const ObjectId& id : ids) request.add_object_ids(id.Binary());
      grpc::ClientContext context;
      rpc::AddToken(&context, token_);
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      proto::FreeObjectsReply reply;
      (void)stub->FreeObjects(&context, request, &reply);  // (a node gone has nothing to free)
    }
    for (const auto& [owner, ids] : batch) {
      std::string where;
      std::shared_ptr<proto::CoreWorkerService::Stub> stub = WorkerStub(owner, &where);
      if (stub == nullptr) continue;
      proto::UpdateBorrowersRequest request;
      request.set_borrower_worker_id(worker_id_.Binary());
      for (const ObjectId& id : ids) request.add_remove(id.Binary());
      grpc::ClientContext context;
      rpc::AddToken(&context, token_);
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      proto::UpdateBorrowersReply reply;
      (void)stub->UpdateBorrowers(&context, request, &reply);  // (an owner gone has nothing to free)
    }
    lock.lock();
  }
}

void ClusterRuntime::NoteBorrower(const proto::Address& borrower) {
  if (borrower.port() <= 0 || borrower.worker_id().empty() || borrower.worker_id() == worker_id_.Binary())
    return;
  std::lock_guard<std::mutex> lock(borrow_mu_);
  borrower_addresses_.try_emplace(borrower.worker_id(), borrower);
}

void ClusterRuntime::WatchBorrowers() {
  constexpr auto kEvery = std::chrono::seconds(1);
  std::unique_lock<std::mutex> lock(borrow_mu_);
  while (!borrow_cv_.wait_for(lock, kEvery, [&] { return borrow_stop_; })) {
    std::vector<proto::Address> borrowers;
    for (const auto& [id, address] : borrower_addresses_) borrowers.push_back(address);
    lock.unlock();
    std::vector<proto::Address> gone;
    std::vector<std::string> answered;
    for (const proto::Address& borrower : borrowers) {
      // A cheap question any live core worker answers (a malformed id:
      // INVALID_ARGUMENT); no answer at all (UNAVAILABLE) means it is gone.
      std::string where;
      std::shared_ptr<proto::CoreWorkerService::Stub> stub = WorkerStub(borrower.SerializeAsString(), &where);
      if (stub == nullptr) continue;
      grpc::ClientContext context;
      rpc::AddToken(&context, token_);
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      proto::GetObjectStatusRequest request;
      proto::GetObjectStatusReply reply;
      grpc::Status status = stub->GetObjectStatus(&context, request, &reply);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
        answered.push_back(borrower.worker_id());
        continue;
      }
      // One refused or reset connection is not a death (a reset under load
      // is): only kBorrowerMisses unanswered rounds in a row free its borrows.
      lock.lock();
      if (++borrower_misses_[borrower.worker_id()] >= kBorrowerMisses) gone.push_back(borrower);
      lock.unlock();
    }
    for (const proto::Address& borrower : gone) refs_.RemoveBorrowerEverywhere(borrower.worker_id());
    lock.lock();
    for (const std::string& worker : answered) borrower_misses_.erase(worker);
    for (const proto::Address& borrower : gone) {
      borrower_addresses_.erase(borrower.worker_id());
      borrower_misses_.erase(borrower.worker_id());
      worker_stubs_.erase(borrower.SerializeAsString());
    }
  }
}

void ClusterRuntime::EnsureFetched(const ObjectId& id) {
  std::optional<std::string> owner = refs_.OwnerOf(id);
  if (!owner || owner->empty()) return;  // ours (or unknown): the store has it or will
  std::lock_guard<std::mutex> lock(borrow_mu_);
  if (borrow_stop_ || !fetching_.insert(id).second) return;
  fetchers_.Start([this, id, owner = *owner] { Fetch(id, owner); });
}

void ClusterRuntime::Fetch(const ObjectId& id, const std::string& owner) {
  auto fail = [&](std::string message, ObjectError::Kind kind = ObjectError::Kind::kSystem) {
    auto error = std::make_shared<ObjectError>();
    error->kind = kind;
    error->message = std::move(message);
    store_.Put(id, ObjectValue{nullptr, std::move(error)});
  };
  std::string where;
  std::shared_ptr<proto::CoreWorkerService::Stub> stub = WorkerStub(owner, &where);
  if (stub == nullptr) {
    fail(absl::StrCat("object ", id.Hex(), " came with a malformed owner address"));
    return;
  }
  // The owner answers once the value exists, or PENDING after a second (so
  // this thread sees a Shutdown, or the reference going, in time). A failed
  // call is retried with backoff (a connection reset under load is not the
  // owner's death) until kOwnerTries in a row have failed.
  int failures = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(borrow_mu_);
      if (borrow_stop_) return;
    }
    if (!refs_.Knows(id)) return;  // (nobody here wants it any more)
    proto::GetObjectStatusRequest request;
    request.set_object_id(id.Binary());
    request.set_requester_worker_id(worker_id_.Binary());
    *request.mutable_requester_address() = self_;
    request.set_wait_ms(1000);
    grpc::ClientContext context;
    rpc::AddToken(&context, token_);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(11));
    proto::GetObjectStatusReply reply;
    grpc::Status status = stub->GetObjectStatus(&context, request, &reply);
    if (!status.ok()) {
      const bool transient = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                             status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      if (transient && ++failures < kOwnerTries) {
        std::unique_lock<std::mutex> lock(borrow_mu_);
        if (borrow_cv_.wait_for(lock, std::chrono::milliseconds(100) * (1 << failures),
                                [&] { return borrow_stop_; }))
          return;
        continue;
      }
      fail(absl::StrCat("the owner of object ", id.Hex(), " (the process at ", where, ") cannot be reached",
                        transient ? absl::StrCat(" (", failures, " tries); it has probably died: ") : ": ",
                        status.error_message()),
           ObjectError::Kind::kLost);
      return;
    }
    failures = 0;
    switch (reply.status()) {
      case proto::PENDING:
        continue;
      case proto::CREATED:
        store_.Put(id, ObjectValue{std::make_shared<const std::string>(reply.object().data()), nullptr});
        if (reply.object().nested_refs_size() > 0) AdoptNestedRefs(id, reply.object());
        return;
      case proto::FAILED: {
        auto error = std::make_shared<ObjectError>();
        error->kind = static_cast<ObjectError::Kind>(reply.failure().kind());
        error->function = reply.failure().function_name();
        error->type = reply.failure().exception_type();
        error->message = reply.failure().message();
        error->where = reply.failure().where();
        store_.Put(id, ObjectValue{nullptr, std::move(error)});
        return;
      }
      default:
        fail(absl::StrCat("object ", id.Hex(), " is no longer held by its owner at ", where),
             ObjectError::Kind::kLost);
        return;
    }
  }
}

grpc::Status ClusterRuntime::HandleGetObjectStatus(const proto::GetObjectStatusRequest& request,
                                                   proto::GetObjectStatusReply* reply,
                                                   grpc::ServerContext* context) {
  absl::StatusOr<ObjectId> id = ObjectId::FromBinary(request.object_id());
  if (!id.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("GetObjectStatus: ", id.status().message()));
  }
  if (!refs_.Owns(*id)) {
    reply->set_status(proto::OUT_OF_SCOPE);
    return grpc::Status::OK;
  }
  const auto wait = std::chrono::milliseconds(std::clamp<int64_t>(request.wait_ms(), 0, 10000));
  bool unknown = false;
  std::optional<ObjectValue> value = store_.Get(*id, std::chrono::steady_clock::now() + wait, &unknown);
  if (!value) {
    reply->set_status(unknown ? proto::OUT_OF_SCOPE : proto::PENDING);
    return grpc::Status::OK;
  }
  if (value->error != nullptr) {
    reply->set_status(proto::FAILED);
    proto::ObjectFailure* failure = reply->mutable_failure();
    failure->set_kind(static_cast<proto::ObjectFailure::Kind>(value->error->kind));
    failure->set_function_name(value->error->function);
    failure->set_exception_type(value->error->type);
    failure->set_message(value->error->message);
    failure->set_where(value->error->where);
    return grpc::Status::OK;
  }
  reply->set_status(proto::CREATED);
  proto::ReturnObject* object = reply->mutable_object();
  object->set_object_id(id->Binary());
  try {
    // (A borrower reading an object that lives in another node's store gets
    // its bytes through this owner.)
    object->set_data(std::string(Localize(*id, *value).Bytes()));
  } catch (const RayccError& e) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, e.what());
  }
  // The references its value holds: the requester borrows them from now on.
  std::vector<ObjectId> nested;
  {
    std::lock_guard<std::mutex> lock(borrow_mu_);
    if (auto it = nested_.find(*id); it != nested_.end()) nested = it->second;
  }
  LendRefs(nested, request.requester_address(), object);
  return grpc::Status::OK;
}

void ClusterRuntime::HandleUpdateBorrowers(const proto::UpdateBorrowersRequest& request,
                                           proto::UpdateBorrowersReply* reply) {
  if (request.add_size() > 0 && request.has_borrower_address()) NoteBorrower(request.borrower_address());
  for (const std::string& bytes : request.add()) {
    absl::StatusOr<ObjectId> id = ObjectId::FromBinary(bytes);
    if (!id.ok() || !refs_.AddBorrower(*id, request.borrower_worker_id())) reply->add_unknown(bytes);
  }
  for (const std::string& bytes : request.remove()) {
    if (absl::StatusOr<ObjectId> id = ObjectId::FromBinary(bytes); id.ok()) {
      refs_.RemoveBorrower(*id, request.borrower_worker_id());
    }
  }
}

void ClusterRuntime::LendRefs(const std::vector<ObjectId>& refs, const proto::Address& borrower,
                              proto::ReturnObject* out) {
  absl::flat_hash_set<ObjectId> seen;
  absl::flat_hash_map<std::string, std::vector<ObjectId>> by_owner;
  bool lent_here = false;
  for (const ObjectId& id : refs) {
    if (!seen.insert(id).second) continue;
    std::optional<std::string> owner = refs_.OwnerOf(id);
    if (!owner) continue;  // (freed already: nothing to lend)
    proto::ObjectReference* nested = out->add_nested_refs();
    nested->set_object_id(id.Binary());
    (void)nested->mutable_owner_address()->ParseFromString(owner->empty() ? self_bytes_ : *owner);
    if (nested->owner_address().worker_id() == borrower.worker_id()) continue;  // (the borrower owns it)
    if (owner->empty()) {
      refs_.AddBorrower(id, borrower.worker_id());
      lent_here = true;
    } else {
      by_owner[*owner].push_back(id);
    }
  }
  if (lent_here) NoteBorrower(borrower);
  for (const auto& [owner, ids] : by_owner) (void)RegisterBorrower(owner, ids, borrower);
}

void ClusterRuntime::AdoptNestedRefs(const ObjectId& result, const proto::ReturnObject& object) {
  std::vector<ObjectId> pinned;
  for (const proto::ObjectReference& nested : object.nested_refs()) {
    absl::StatusOr<ObjectId> id = ObjectId::FromBinary(nested.object_id());
    if (!id.ok()) continue;
    const std::string owner = nested.owner_address().SerializeAsString();
    if (owner != self_bytes_) {
      // Registered with the owner for us by the worker that made the result
      // (or, for a fetched value, by the process we fetched from).
      if (refs_.AddBorrowed(*id, owner)) store_.AddPending(*id);
    } else if (!refs_.Owns(*id)) {
      continue;  // (ours, and freed already)
    }
    // Pinned while the result lives: a Get of it may read the reference.
    refs_.AddTaskUse(*id);
    pinned.push_back(*id);
  }
  if (pinned.empty()) return;
  bool keep = refs_.Knows(result);
  if (keep) {
    std::lock_guard<std::mutex> lock(borrow_mu_);
    std::vector<ObjectId>& list = nested_[result];
    list.insert(list.end(), pinned.begin(), pinned.end());
  }
  if (!keep) {
    for (const ObjectId& id : pinned) refs_.RemoveTaskUse(id);  // (nobody holds the result: let them go)
  }
}

std::shared_ptr<ClusterRuntime::Actor> ClusterRuntime::FindActor(const ActorId& id, bool known_only) {
  std::lock_guard<std::mutex> lock(actors_mu_);
  auto it = actors_.find(id);
  if (it != actors_.end()) return it->second;
  if (known_only) return nullptr;
  // A handle this process did not make (a named actor): a caller's view,
  // located through the GCS by its pusher.
  auto actor = std::make_shared<Actor>();
  actor->id = id;
  actors_[id] = actor;
  actor->pusher = std::thread([this, actor] { RunActor(actor); });
  return actor;
}

ActorId ClusterRuntime::CreateActor(const internal::RemoteFunction& factory,
                                    std::vector<internal::TaskArgument> args,
                                    const internal::ActorOptions& options) {
  if (!factory.create) throw RayccError(absl::StrCat("'", factory.name, "' is not an actor factory"));
  internal::CallOptions call = options.call;
  if (!call.has_resources) {
    // As in Ray: an actor holds no resources unless it asks for some.
    call.has_resources = true;
    call.resources.clear();
  }
  proto::TaskSpec spec = MakeSpec(factory, call);
  ActorId id = ActorId::Of(job_);
  spec.set_type(proto::ACTOR_CREATION_TASK);
  proto::ActorSpec* actor_spec = spec.mutable_actor_creation();
  actor_spec->set_actor_id(id.Binary());
  actor_spec->set_job_id(job_.Binary());
  actor_spec->set_class_name(factory.actor_type);
  *actor_spec->mutable_creation_function() = spec.function();
  actor_spec->set_max_restarts(options.max_restarts);
  actor_spec->set_max_concurrency(std::max(1, options.max_concurrency));
  actor_spec->set_name(options.name);
  *actor_spec->mutable_resources() = spec.required_resources();
  *actor_spec->mutable_owner_address() = self_;
  if (absl::Status s = gcs_->RegisterActor(*actor_spec); !s.ok()) {
    throw RayccError(absl::StrCat("Actor(", factory.name, "): ", s.message()));
  }
  auto actor = std::make_shared<Actor>();
  for (const internal::TaskArgument& arg : args) {
    if (arg.by_ref) {
      // (Read by the pusher before the creation; counted until then.)
      AddObjectRef(arg.ref);
      actor->ctor_refs.emplace_back(spec.args_size(), arg.ref);
      spec.add_args();
      continue;
    }
    spec.add_args()->set_value(arg.value);
  }
  actor->id = id;
  actor->class_name = factory.actor_type;
  actor->owned = true;
  actor->creation = std::move(spec);
  actor->restarts_left = options.max_restarts;
  actor->create = true;
  {
    std::lock_guard<std::mutex> lock(actors_mu_);
    actors_[id] = actor;
  }
  actor->pusher = std::thread([this, actor] { RunActor(actor); });
  return id;
}

ObjectId ClusterRuntime::SubmitActorTask(const ActorId& id, const internal::RemoteMethod& method,
                                         std::vector<internal::TaskArgument> args,
                                         const internal::CallOptions& options) {
  std::shared_ptr<Actor> actor = FindActor(id, false);
  proto::TaskSpec spec;
  TaskId task = TaskId::Of(job_);
  spec.set_task_id(task.Binary());
  spec.set_job_id(job_.Binary());
  spec.set_parent_task_id(t_task != nullptr ? t_task->task_id() : driver_task_.Binary());
  spec.set_type(proto::ACTOR_TASK);
  *spec.mutable_owner_address() = self_;
  FillFunction(spec.mutable_function(), method.name, method.signature);
  spec.set_num_returns(1);
  spec.set_name(options.name.empty() ? method.name : options.name);
  spec.mutable_actor_task()->set_actor_id(id.Binary());
  spec.mutable_actor_task()->set_caller_worker_id(worker_id_.Binary());
  TagForTimeline(spec, options);
  ObjectId result = ResultOf(spec);
  store_.AddPending(result);
  refs_.AddOwned(result, 1);
  try {
    SubmitSpec(std::move(spec), std::move(args), [&](const std::shared_ptr<Pending>& pending) {
      // The sequence number and the queue position are taken together:
      // calls run in the order this process made them.
      std::lock_guard<std::mutex> lock(actor->mu);
      pending->spec.mutable_actor_task()->set_sequence_number(actor->next_sequence++);
      actor->calls.push_back(pending);
      actor->cv.notify_all();
    });
  } catch (...) {
    refs_.RemoveLocalRef(result);
    throw;
  }
  return result;
}

void ClusterRuntime::FailCall(const std::shared_ptr<Pending>& call, const std::string& cause) {
  ObjectError error;
  error.kind = ObjectError::Kind::kActorDied;
  error.function = call->spec.function().name();
  error.message = cause;
  OnTaskDone(call->spec, nullptr, &error);
}

void ClusterRuntime::MarkDeadLocked(Actor& actor, const std::string& cause) {
  actor.state = Actor::State::kDead;
  actor.death_cause = cause;
  actor.cv.notify_all();
}

bool ClusterRuntime::ResolveConstructorArgs(Actor& actor) {
  while (!actor.ctor_refs.empty()) {
    auto [index, ref] = actor.ctor_refs.back();
    std::string failure;
    try {
      std::shared_ptr<const std::string> bytes;
      while (bytes == nullptr) {
        {
          std::lock_guard<std::mutex> lock(actor.mu);
          if (actor.stop) return false;
        }
        try {
          bytes = Get(ref, 1000);  // (a bounded wait: a Shutdown is seen)
        } catch (const GetTimeoutError&) {
        }
      }
      actor.creation.mutable_args(index)->set_value(*bytes);
    } catch (const RayccError& e) {
      failure = e.what();
    }
    RemoveObjectRef(ref);
    actor.ctor_refs.pop_back();
    if (!failure.empty()) {
      for (const auto& [unused, other] : actor.ctor_refs) RemoveObjectRef(other);
      actor.ctor_refs.clear();
      const std::string cause = absl::StrCat("a constructor argument failed: ", failure);
      {
        std::lock_guard<std::mutex> lock(actor.mu);
        MarkDeadLocked(actor, cause);
      }
      (void)gcs_->MarkActorDead(actor.id, cause);
      return false;
    }
  }
  return true;
}

bool ClusterRuntime::CreateOnWorker(Actor& actor) {
  const std::string what =
      absl::StrCat("actor ", actor.creation.function().name(), " (", actor.id.Hex(), ")");
  TaskSubmitter::Lease lease;
  std::string why;
  TaskSubmitter::LeaseOutcome outcome = submitter_->RequestLease(actor.creation, &lease, &why);
  if (outcome == TaskSubmitter::LeaseOutcome::kStopped) return false;
  std::string cause;
  if (outcome != TaskSubmitter::LeaseOutcome::kGranted) {
    cause = absl::StrCat(what, " could not be placed: ", why);
  } else {
    proto::PushTaskRequest request;
    *request.mutable_task() = actor.creation;
    request.set_intended_worker_id(lease.worker_id);
    for (int gpu : lease.gpu_ids) request.add_gpu_devices(gpu);
    PrepareForNode(request.mutable_task(), lease.node_id);
    proto::PushTaskReply reply;
    grpc::Status status = submitter_->Push(lease.worker, request, &reply);
    if (status.ok() && !reply.has_error()) {
      proto::Address where;
      where.set_node_id(lease.node_id);
      std::string host;
      int port = 0;
      (void)rpc::SplitAddress(lease.worker, &host, &port);
      where.set_host(host);
      where.set_port(port);
      where.set_worker_id(lease.worker_id);
      (void)gcs_->MarkActorAlive(actor.id, where);
      std::lock_guard<std::mutex> lock(actor.mu);
      actor.lease = lease;
      actor.leased = true;
      actor.address = lease.worker;
      actor.node_id = lease.node_id;
      actor.worker_id = lease.worker_id;
      actor.state = Actor::State::kAlive;
      actor.cv.notify_all();
      return true;
    }
    submitter_->ReturnWorker(lease, /*disconnect=*/true);
    cause = status.ok()
                ? absl::StrCat(what, "'s constructor raised ", reply.error().exception_type(), ": ",
                               reply.error().message())
                : absl::StrCat(what, "'s worker died while it was being created: ", status.error_message());
  }
  (void)gcs_->MarkActorDead(actor.id, cause);
  std::lock_guard<std::mutex> lock(actor.mu);
  MarkDeadLocked(actor, cause);
  return false;
}

void ClusterRuntime::LocateActor(Actor& actor) {
  // A caller that is not the owner follows the actor's record as the GCS
  // publishes it, until the actor is alive at a new address or dead (a
  // minute at most).
  std::string known;
  {
    std::lock_guard<std::mutex> lock(actor.mu);
    known = actor.address;
  }
  auto address_of = [](const proto::ActorInfo& info) {
    return absl::StrCat(info.address().host(), ":", info.address().port());
  };
  absl::StatusOr<std::optional<proto::ActorInfo>> info = gcs_->WatchActor(
      actor.id,
      [&](const proto::ActorInfo& info) {
        return info.state() == proto::DEAD || (info.state() == proto::ALIVE && address_of(info) != known);
      },
      std::chrono::steady_clock::now() + std::chrono::minutes(1),
      [&] {
        std::lock_guard<std::mutex> lock(actor.mu);
        return actor.stop;
      });
  std::lock_guard<std::mutex> lock(actor.mu);
  if (actor.stop) return;
  if (!info.ok()) {
    MarkDeadLocked(actor,
                   absl::StrCat("actor ", actor.id.Hex(), " cannot be located: ", info.status().message()));
  } else if (!info->has_value()) {
    MarkDeadLocked(actor, absl::StrCat("actor ", actor.id.Hex(), " is unknown to the cluster"));
  } else if ((*info)->state() == proto::DEAD) {
    MarkDeadLocked(actor, (*info)->death_cause());
  } else if ((*info)->state() == proto::ALIVE && address_of(**info) != known) {
    actor.address = address_of(**info);
    actor.node_id = (*info)->address().node_id();
    actor.worker_id = (*info)->address().worker_id();
    actor.state = Actor::State::kAlive;
  } else {
    MarkDeadLocked(actor, absl::StrCat("actor ", actor.id.Hex(), " did not come alive within a minute"));
  }
}

void ClusterRuntime::RunActor(const std::shared_ptr<Actor>& actor) {
  double call_us = 0;  // recent round trip per call (TaskSubmitter::Smoothed)
  for (;;) {
    std::vector<std::shared_ptr<Pending>> calls;
    {
      std::unique_lock<std::mutex> lock(actor->mu);
      if (actor->stop) return;
      if (actor->state == Actor::State::kPending) {
        bool create = actor->owned && actor->create;
        actor->create = false;
        lock.unlock();
        if (create) {
          if (ResolveConstructorArgs(*actor)) CreateOnWorker(*actor);
        } else if (!actor->owned) {
          LocateActor(*actor);
        } else {
          lock.lock();
          actor->cv.wait(
              lock, [&] { return actor->stop || actor->create || actor->state != Actor::State::kPending; });
        }
        continue;
      }
      if (actor->state == Actor::State::kDead) {
        std::deque<std::shared_ptr<Pending>> dead;
        dead.swap(actor->calls);
        std::string cause = actor->death_cause;
        if (dead.empty()) {
          actor->cv.wait(lock, [&] { return actor->stop || !actor->calls.empty(); });
          continue;
        }
        lock.unlock();
        for (const auto& c : dead) FailCall(c, absl::StrCat("the actor is dead: ", cause));
        continue;
      }
      // Alive: the next call once its arguments are resolved; short calls
      // go with the resolved ones queued behind them, in order, in one push.
      auto head_ready = [&] {
        if (actor->calls.empty()) return false;
        std::lock_guard<std::mutex> plock(actor->calls.front()->mu);
        return actor->calls.front()->unresolved == 0 || actor->calls.front()->cancelled;
      };
      actor->cv.wait(lock,
                     [&] { return actor->stop || actor->state != Actor::State::kAlive || head_ready(); });
      if (actor->stop || actor->state != Actor::State::kAlive) continue;
      calls.push_back(actor->calls.front());
      actor->calls.pop_front();
      const bool batch = TaskSubmitter::Batches(call_us);
      while (batch && calls.size() < static_cast<size_t>(TaskSubmitter::kMaxBatch) && !actor->calls.empty()) {
        const std::shared_ptr<Pending>& next = actor->calls.front();
        {
          std::lock_guard<std::mutex> plock(next->mu);
          if (next->unresolved != 0 || next->cancelled || next->failed_dependency != nullptr) break;
        }
        calls.push_back(next);
        actor->calls.pop_front();
      }
    }
    proto::PushTasksRequest batch;
    std::vector<std::shared_ptr<Pending>> pushed;
    for (const std::shared_ptr<Pending>& call : calls) {
      std::shared_ptr<const ObjectError> failed;
      bool cancelled = false;
      {
        std::lock_guard<std::mutex> lock(call->mu);
        failed = call->failed_dependency;
        cancelled = call->cancelled;
        if (failed == nullptr && !cancelled) *batch.add_tasks()->mutable_task() = call->spec;
      }
      if (cancelled) continue;  // (reported when it was cancelled)
      if (failed != nullptr) {
        OnTaskDone(call->spec, nullptr, failed.get());
        continue;
      }
      pushed.push_back(call);
    }
    if (pushed.empty()) continue;
    std::string address, worker_id, node_id;
    {
      std::lock_guard<std::mutex> lock(actor->mu);
      address = actor->address;
      worker_id = actor->worker_id;
      node_id = actor->node_id;
    }
    for (proto::PushTaskRequest& request : *batch.mutable_tasks()) {
      request.set_intended_worker_id(worker_id);
      PrepareForNode(request.mutable_task(), node_id);
    }
    const auto start = std::chrono::steady_clock::now();
    proto::PushTasksReply replies;
    grpc::Status status = pushed.size() == 1
                              ? submitter_->Push(address, batch.tasks(0), replies.add_replies())
                              : submitter_->PushBatch(address, batch, &replies);
    if (status.ok() && replies.replies_size() == static_cast<int>(pushed.size())) {
      const double per_call =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
          static_cast<double>(pushed.size());
      call_us = TaskSubmitter::Smoothed(call_us, per_call);
      size_t i = 0;
      for (; i < pushed.size() && !replies.replies(i).worker_exiting(); ++i)
        OnTaskDone(pushed[i]->spec, &replies.replies(i), nullptr);
      if (i < pushed.size()) {
        // A method called ExitActor: the actor ends for good (its owner
        // ends the worker); that call and the calls behind it fail as calls
        // of a dead actor.
        const proto::TaskError& exit = replies.replies(i).error();
        const std::string cause =
            exit.message().rfind("the actor exited: ", 0) == 0
                ? exit.message().substr(sizeof("the actor ") - 1)
                : absl::StrCat("it exited: ", exit.function_name(), " called ExitActor");
        if (actor->owned) {
          KillOwnedActor(actor, /*no_restart=*/true, cause);
        } else {
          std::lock_guard<std::mutex> lock(actor->mu);
          actor->state = Actor::State::kPending;  // (ask the control service again)
        }
        for (; i < pushed.size(); ++i) FailCall(pushed[i], absl::StrCat("the actor is dead: ", cause));
      }
      continue;
    }
    std::unique_lock<std::mutex> lock(actor->mu);
    if (actor->stop) {
      lock.unlock();
      for (const auto& call : pushed) FailCall(call, "the runtime stopped");
      return;
    }
    const std::string& first = pushed.front()->spec.function().name();
    if (actor->address != address) {  // (killed and restarted meanwhile)
      lock.unlock();
      for (const auto& call : pushed) FailCall(call, absl::StrCat("the actor died while running ", first));
      continue;
    }
    // Its worker died under the calls in flight: the owner restarts it while
    // it has restarts left; those calls fail (as Ray's max_task_retries=0).
    std::string cause =
        absl::StrCat("the actor's worker (", address, ") died while running ", first, ": ",
                     status.ok() ? "it answered for only some calls" : status.error_message());
    if (actor->owned) {
      TaskSubmitter::Lease lease = actor->lease;
      {
        // (Named by its raylet: the node, the pid and the signal.)
        lock.unlock();
        std::string exit = submitter_->WorkerExitCause(lease);
        if (!exit.empty()) cause = absl::StrCat("the actor's worker died while running ", first, ": ", exit);
        lock.lock();
      }
      if (actor->address != address || actor->stop) {  // (killed meanwhile: that decided its fate)
        lock.unlock();
        for (const auto& call : pushed) FailCall(call, cause);
        continue;
      }
      actor->leased = false;
      actor->address.clear();
      if (actor->restarts_left != 0) {
        if (actor->restarts_left > 0) --actor->restarts_left;
        actor->creation.set_attempt_number(actor->creation.attempt_number() + 1);  // (restarts so far)
        actor->state = Actor::State::kPending;
        actor->create = true;
        lock.unlock();
        (void)gcs_->MarkActorRestarting(actor->id);
      } else {
        MarkDeadLocked(*actor, cause);
        lock.unlock();
        (void)gcs_->MarkActorDead(actor->id, cause);
      }
      submitter_->ReturnWorker(lease, /*disconnect=*/true);
    } else {
      actor->state = Actor::State::kPending;  // (ask the GCS again)
      lock.unlock();
    }
    for (const auto& call : pushed) FailCall(call, cause);
  }
}

void ClusterRuntime::KillActor(const ActorId& id, bool no_restart) {
  std::shared_ptr<Actor> actor = FindActor(id, true);
  if (actor != nullptr && actor->owned) {
    KillOwnedActor(actor, no_restart, "killed by raycc::Kill");
    return;
  }
  // Another process owns it: the kill goes to the owner, which holds the
  // actor's worker and decides on a restart.
  std::optional<proto::ActorInfo> info = gcs_->GetActor(id);
  if (!info) throw RayccError(absl::StrCat("Kill of actor ", id.Hex(), ": the cluster does not know it"));
  if (info->state() == proto::DEAD) return;
  const std::string owner = info->spec().owner_address().SerializeAsString();
  std::string where;
  std::shared_ptr<proto::CoreWorkerService::Stub> stub = WorkerStub(owner, &where);
  if (stub == nullptr) {
    throw RayccError(absl::StrCat("Kill of actor ", id.Hex(), ": the GCS has no address for its owner"));
  }
  proto::KillActorOnWorkerRequest request;
  request.set_actor_id(id.Binary());
  request.set_no_restart(no_restart);
  request.set_reason(
      absl::StrCat("killed by raycc::Kill from another process (worker ", worker_id_.Hex(), ")"));
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  proto::KillActorOnWorkerReply reply;
  grpc::Status status = stub->KillActor(&context, request, &reply);
  if (!status.ok()) {
    // An owner that is gone took its actors with it.
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) return;
    throw RayccError(absl::StrCat("Kill of actor ", id.Hex(), ": its owner at ", where,
                                  " refused: ", status.error_message()));
  }
}

grpc::Status ClusterRuntime::HandleKillActor(const proto::KillActorOnWorkerRequest& request) {
  absl::StatusOr<ActorId> id = ActorId::FromBinary(request.actor_id());
  if (!id.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "KillActor: a malformed actor id");
  std::shared_ptr<Actor> actor = FindActor(*id, true);
  if (actor == nullptr || !actor->owned) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("KillActor: this process does not own actor ", id->Hex()));
  }
  KillOwnedActor(actor, request.no_restart(),
                 request.reason().empty() ? "killed by raycc::Kill" : request.reason());
  return grpc::Status::OK;
}

void ClusterRuntime::KillOwnedActor(const std::shared_ptr<Actor>& actor, bool no_restart,
                                    const std::string& cause) {
  const ActorId id = actor->id;
  std::unique_lock<std::mutex> lock(actor->mu);
  if (actor->state == Actor::State::kDead) return;
  TaskSubmitter::Lease lease = actor->lease;
  bool leased = actor->leased;
  actor->leased = false;
  actor->address.clear();
  const bool restart = !no_restart && actor->restarts_left != 0;
  if (restart) {
    if (actor->restarts_left > 0) --actor->restarts_left;
    actor->creation.set_attempt_number(actor->creation.attempt_number() + 1);  // (restarts so far)
    actor->state = Actor::State::kPending;
    actor->create = true;
    actor->cv.notify_all();
  } else {
    MarkDeadLocked(*actor, cause);
  }
  lock.unlock();
  // The raylet ends the worker, by its pid; a call in flight fails.
  if (leased) submitter_->ReturnWorker(lease, /*disconnect=*/true);
  if (restart) {
    (void)gcs_->MarkActorRestarting(id);
  } else {
    (void)gcs_->MarkActorDead(id, cause);
  }
}

std::optional<std::pair<ActorId, std::string>> ClusterRuntime::GetNamedActor(const std::string& name) {
  std::optional<proto::ActorInfo> info = gcs_->GetNamedActor("", name);
  if (!info) return std::nullopt;
  absl::StatusOr<ActorId> id = ActorId::FromBinary(info->spec().actor_id());
  if (!id.ok()) return std::nullopt;
  return std::make_pair(*id, info->spec().class_name());
}

std::vector<internal::PlacementGroupInfo> ClusterRuntime::ListPlacementGroups() {
  groups_client_->Flush();
  absl::StatusOr<std::vector<proto::PlacementGroupInfo>> groups = gcs_->GetAllPlacementGroups();
  if (!groups.ok()) throw RayccError(absl::StrCat("listing placement groups: ", groups.status().message()));
  std::vector<internal::PlacementGroupInfo> out;
  for (const proto::PlacementGroupInfo& info : *groups) out.push_back(internal::ToPlacementGroupInfo(info));
  return out;
}

const bool kRegistered = internal::RegisterRuntimeFactory("cluster", &MakeClusterRuntime);

}  // namespace

std::unique_ptr<internal::ManagedRuntime> MakeClusterRuntime(const Config& config) {
  (void)kRegistered;
  std::string address = config.address;
  if (address.empty()) address = Env("RAYCC_ADDRESS");
  if (address.empty()) throw RayccError("raycc::Init: no cluster address (Config.address or RAYCC_ADDRESS)");
  if (address == "auto") {
    absl::StatusOr<rpc::Session> session = rpc::LatestSession();
    if (!session.ok())
      throw RayccError(absl::StrCat("raycc::Init(address=auto): ", session.status().message()));
    address = session->address;
  }
  return std::make_unique<ClusterRuntime>(address, Env("RAYCC_WORKER") == "1", config.worker_program,
                                          config.timeline_path);
}

}  // namespace raycc::core_worker
