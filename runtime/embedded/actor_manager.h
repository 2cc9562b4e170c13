#pragma once

/// \file
/// The embedded runtime's actors: each one's instance, its threads, the
/// queue of calls they take in submission order, and its life (placement,
/// construction, restarts, death, the end of its threads). The manager is
/// the actor state machine; everything it needs from the runtime it lives
/// in (the lock, the objects, the resources, running user code) it asks
/// through ActorHost, so it is tested alone with a fake host
/// (tests/runtime/embedded/actor_manager_test.cc). Ray's counterparts are
/// the core worker's actor task receiver and the GCS actor manager; here the
/// control service's actor directory is gcs::Gcs.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "embedded/object_table.h"
#include "embedded/task.h"
#include "embedded/user_call.h"
#include "raycc/runtime/api/remote_registry.h"
#include "raycc/runtime/api/runtime_interface.h"
#include "raycc/runtime/common/id.h"
#include "raylet/local_resources.h"
#include "scheduling/policy_options.h"

namespace raycc::gcs {
class Gcs;
}

namespace raycc::internal::embedded {

/// One call on an actor, queued until one of the actor's threads takes it.
struct ActorCall {
  const RemoteMethod* method = nullptr;
  std::vector<TaskArgument> args;
  ObjectId result;
  int retries_left = 0;
  bool retry_exceptions = false;
  Traced traced;
};

/// An actor: guarded by the host's lock, except `restarts` (read by its
/// own code, CurrentActorRestarts).
struct Actor {
  ActorId id;
  const RemoteFunction* factory = nullptr;
  std::vector<TaskArgument> ctor_args;   // pinned for its life (restarts reread them)
  const raylet::Demand* held = nullptr;  // what it holds while alive
  // Where it may live (CallOptions, checked), for placement once there is
  // room; its placement group (nil: none).
  scheduling::PolicyOptions where;
  PlacementGroupId group;
  int restarts_left = 0;  // -1: forever
  Traced traced;          // its construction

  // Its life (the manager's).
  void* instance = nullptr;
  bool created = false;  // construction was tried (it may have failed)
  bool dead = false;
  std::string death_cause;
  std::deque<std::shared_ptr<ActorCall>> queue;
  std::condition_variable cv;
  std::vector<std::thread> threads;
  int threads_left = 0;          // threads not yet out of the loop
  int active = 0;                // calls running now
  std::atomic<int> restarts{0};  // done so far
  bool restart_requested = false;
  int node = -1;  // where it lives (-1: waiting for room)
  std::vector<int> gpu_ids;
};

/// What the actors need from the runtime they live in. Unless a method says
/// otherwise it is called with the host's lock held: the `lock` a method is
/// given, which it may release and take again meanwhile.
class ActorHost {
 public:
  virtual ~ActorHost() = default;

  /// Runs `body` on the calling thread (an actor's own) with the host's
  /// lock held; called without it. The host sets the thread's context up
  /// (the actor's restarts, GPUs, timeline lane) before and clears it after.
  virtual void RunActorThread(Actor& actor, int index,
                              absl::FunctionRef<void(std::unique_lock<std::mutex>&)> body) = 0;
  /// The runtime is stopping: nothing starts any more.
  virtual bool Stopping() const = 0;
  /// Waits until `done()`, which is checked again whenever an object
  /// becomes ready, work stops, or (`for_room`) resources are given back.
  virtual void WaitUntil(std::unique_lock<std::mutex>& lock, absl::FunctionRef<bool()> done,
                         bool for_room) = 0;
  /// Whether every object `args` take by reference is ready.
  virtual bool ArgsReady(const std::vector<TaskArgument>& args) = 0;
  /// The arguments (all ready) as a callee taking `types` receives them,
  /// or the first error among them instead.
  virtual std::shared_ptr<const ErrorInfo> CollectArgs(const std::vector<TaskArgument>& args,
                                                       const std::vector<const std::type_info*>& types,
                                                       std::unique_lock<std::mutex>& lock,
                                                       CollectedArgs* out) = 0;
  /// Pins (+1) or unpins (-1) the objects `args` take by reference;
  /// pinning throws RayccError naming `what`, pinning nothing, when one
  /// does not exist.
  virtual void UseArgs(const std::vector<TaskArgument>& args, int sign, const std::string& what) = 0;
  /// Settles a call's result: with `error`, as it is; or with what the
  /// call of `function` gave (an error then names it and this thread).
  virtual void FailCall(const ObjectId& result, std::shared_ptr<const ErrorInfo> error) = 0;
  virtual void FinishCall(const ObjectId& result, Outcome outcome, const std::string& function) = 0;
  /// Places `actor` on a node `actor.where` allows and takes what it holds
  /// there (setting `node` and `gpu_ids`); false when none has room now.
  virtual bool Place(Actor& actor) = 0;
  /// Gives back what a placed actor holds.
  virtual void Unplace(Actor& actor) = 0;
  /// The control service's id of node `node` (an index of the host's).
  virtual NodeId NodeIdOf(int node) const = 0;
  /// The calling actor thread runs on node `node` from now on.
  virtual void SetThreadNode(int node) = 0;
  /// One attempt of user code (called without the lock): runs `invoke`,
  /// records it on the timeline, and says whether to run it again
  /// (`*retry`, counted off `retries_left`).
  virtual Outcome AttemptCall(const Traced& traced, int node, int& retries_left, bool retry_exceptions,
                              bool* retry, absl::FunctionRef<Outcome()> invoke) = 0;
};

/// The actors of one embedded runtime. Every method requires the host's
/// lock unless it says otherwise.
class ActorManager {
 public:
  /// `gcs` keeps the actor directory (alive, restarting, dead, names).
  ActorManager(ActorHost& host, gcs::Gcs& gcs, JobId job) : host_(host), gcs_(gcs), job_(job) {}
  ActorManager(const ActorManager&) = delete;
  ActorManager& operator=(const ActorManager&) = delete;

  /// Starts `actor` (filled in: id, factory, arguments, what it holds and
  /// where, restarts, trace) with `threads` threads, already registered in
  /// the directory. Its constructor arguments are pinned for its life
  /// (throws, starting nothing and marking it dead, when one is missing).
  /// It is placed now when there is room, else by its first thread once
  /// there is.
  void Start(std::shared_ptr<Actor> actor, int threads);
  /// Throws RayccError when this runtime never made `id`.
  void CheckKnown(const ActorId& id) const;
  /// Queues `call` on `id`'s threads (after CheckKnown; its arguments
  /// pinned and its result's object made by the caller); a dead or ended
  /// actor fails it at once with how it died.
  void Submit(const ActorId& id, std::shared_ptr<ActorCall> call);
  /// Kills `id` (for good with `no_restart`, or while restarts are left
  /// rebuilds it once its running calls are done). Throws RayccError when
  /// this runtime never made `id`.
  void Kill(const ActorId& id, bool no_restart);
  /// The actors in `group` die (the group is being removed): their calls
  /// running now finish, the queued ones fail.
  void GroupRemoved(const PlacementGroupId& group);
  /// Every actor dies (the runtime stops), and its threads are handed to
  /// `threads` to be joined (without the lock) by the caller; call again
  /// until it adds none.
  void Stop(std::vector<std::thread>* threads, const std::string& cause);
  /// After the last Stop and its joins: destroys what instances are left.
  /// (Needs no lock: no thread is left.)
  void DestroyInstances();
  /// The threads of actors whose every thread has ended, to be joined by
  /// the caller without the lock; the manager forgets those actors (the
  /// directory still says how they died).
  std::vector<std::thread> TakeEnded();
  /// Actors held (alive, or ended and not yet taken).
  size_t size() const { return actors_.size(); }

 private:
  void Loop(const std::shared_ptr<Actor>& actor, int index, std::unique_lock<std::mutex>& lock);
  /// Builds the instance; a constructor that throws is retried while
  /// restarts are left, then the actor is dead.
  void Construct(Actor& actor, const CollectedArgs& args, std::unique_lock<std::mutex>& lock);
  /// Thread 0 rebuilds the actor after Kill(false): calls running on the
  /// old instance finish first, then a new one is made from the same
  /// arguments.
  void Rebuild(Actor& actor, std::unique_lock<std::mutex>& lock);
  /// The actor is dead for good, with its cause (the first one stays), as
  /// the directory records.
  void MarkDead(Actor& actor, std::string cause);
  /// Fails `call` as a call of a dead actor.
  void Die(const Actor& actor, const ActorCall& call);
  /// For an actor not held here: how it died, when it ended and was
  /// forgotten; nullopt when this runtime never made it.
  std::optional<std::string> Ended(const ActorId& id) const;
  [[noreturn]] static void ThrowUnknown(const ActorId& id);

  ActorHost& host_;
  gcs::Gcs& gcs_;
  JobId job_;
  absl::flat_hash_map<ActorId, std::shared_ptr<Actor>> actors_;
  std::vector<ActorId> ended_;  // all threads out, not yet taken
};

}  // namespace raycc::internal::embedded
