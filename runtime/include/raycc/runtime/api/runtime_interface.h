#pragma once

/// \file
/// The non-template bridge between the API templates (<raycc/api.h>) and a
/// runtime implementation: the embedded runtime today, the cluster runtime
/// (core worker over gRPC) later, behind the same interface.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "raycc/runtime/api/remote_registry.h"
#include "raycc/runtime/common/id.h"

namespace raycc::internal {

class ObjectRefHandle;  // <raycc/api.h>

/// One argument: a serialized value, or a reference resolved before the
/// call runs.
struct TaskArgument {
  bool by_ref = false;
  ObjectId ref;
  std::string value;
  /// In SubmitTasks: the result of task `batch_index` of the same batch
  /// (which comes earlier); -1 otherwise.
  int batch_index = -1;
  /// ObjectRefs inside `value` (a vector of refs, a struct holding one):
  /// not resolved, but kept alive until the call is done, as in Ray.
  std::vector<ObjectId> contained;
};

/// Options of a task or actor call (the setters of Task(...)).
struct CallOptions {
  /// Explicit resources; `has_resources` false means the default (1 CPU for
  /// tasks, none for actor calls).
  bool has_resources = false;
  std::vector<std::pair<std::string, double>> resources;
  int max_retries = 0;
  bool retry_exceptions = false;
  std::string name;
  int64_t priority = 0;
  /// Run inside this placement group (nil: none), in `bundle_index` (-1: any).
  PlacementGroupId placement_group;
  int bundle_index = -1;
  /// Outside placement groups: spread over nodes instead of the default
  /// (pack onto a node until it is half used), or prefer the node named
  /// `node_name` (only it, unless `node_soft`).
  bool spread = false;
  std::string node_name;
  bool node_soft = true;
  /// Only nodes whose labels match, in Ray's selector syntax: key -> "v",
  /// "!v", "in(a,b)", "!in(a,b)" (empty: any node).
  std::map<std::string, std::string> label_selector;
  /// For the timeline: the compiled graph and plan node this call comes
  /// from (-1: submitted at run time).
  std::string graph;
  int64_t plan_node = -1;
  /// Coordination work that reads the submitter's own objects and actors by
  /// id (a compiled graph's waits, gates and end of run): it runs in the
  /// submitting process, never on another worker. (In one process every
  /// task does.)
  bool in_owner = false;
};

/// Placement-group strategies, in the order of proto::PlacementStrategy.
enum class PlacementGroupStrategy { kPack = 0, kSpread = 1, kStrictPack = 2, kStrictSpread = 3 };

/// What the runtime knows of a placement group (ListPlacementGroups).
struct PlacementGroupInfo {
  enum class State { kPending, kCreated, kRemoved, kRescheduling, kInfeasible };
  PlacementGroupId id;
  std::string name;
  PlacementGroupStrategy strategy = PlacementGroupStrategy::kPack;
  std::vector<std::vector<std::pair<std::string, double>>> bundles;
  State state = State::kPending;
};

/// Options of an actor creation.
struct ActorOptions {
  CallOptions call;
  int max_restarts = 0;
  int max_concurrency = 1;
  std::string name;
};

/// One task of a batch (SubmitTasks): a compiled graph's tasks, prepared
/// once. `demand` indexes the batch's resource sets (-1: the default).
struct BatchedTask {
  const RemoteFunction* function = nullptr;
  std::vector<TaskArgument> args;
  const CallOptions* options = nullptr;
  int demand = -1;
  /// Nothing outside the batch will refer to the result: it is freed as
  /// soon as the tasks of the batch that use it are done.
  bool release_result = false;
};

/// What a runtime offers the API. Every method throws a RayccError subclass
/// on misuse or failure. The object SubmitActorTask, Put and PutValue return
/// carries one reference for the caller, counted already: hold it in
/// ObjectRef<T>::Adopt (or an adopting ObjectRefHandle), whose end drops it.
/// SubmitTask returns that reference as a handle. (SubmitTasks' results
/// carry none.)
class RuntimeInterface {
 public:
  virtual ~RuntimeInterface() = default;
  /// Returns the caller's reference to the result, counted already. The
  /// runtime may publish the result's value to it when the task succeeds
  /// (ObjectRefHandle::Publish), so that Get of a finished task does not
  /// call into the runtime.
  virtual std::shared_ptr<ObjectRefHandle> SubmitTask(const RemoteFunction& function,
                                                      std::vector<TaskArgument> args,
                                                      const CallOptions& options) = 0;
  /// Submits many tasks at once, dependencies pre-wired (the Pathways
  /// manner), whole or not at all: each distinct resource set is checked
  /// once, and every task against the runtime's state before any is
  /// queued. A runtime may run the batch as one unit (the embedded one runs
  /// a batch of two tasks or more by dataflow: a graph run). Returns each
  /// task's result, in
  /// order; a released result (release_result) may never exist as an object.
  virtual std::vector<ObjectId> SubmitTasks(
      std::vector<BatchedTask> tasks,
      const std::vector<std::vector<std::pair<std::string, double>>>& demands) = 0;
  virtual ActorId CreateActor(const RemoteFunction& factory, std::vector<TaskArgument> args,
                              const ActorOptions& options) = 0;
  virtual ObjectId SubmitActorTask(const ActorId& actor, const RemoteMethod& method,
                                   std::vector<TaskArgument> args, const CallOptions& options) = 0;
  /// Kills the actor; with `no_restart` false and restarts left
  /// (SetMaxRestarts), it is rebuilt instead and later calls go on.
  virtual void KillActor(const ActorId& actor, bool no_restart) = 0;
  /// Cancels the task making `id` if it has not started; true if it was
  /// cancelled (Get then throws TaskCancelledError).
  virtual bool CancelTask(const ObjectId& id) = 0;
  /// Reserves all bundles or none (throws InfeasibleError when no cluster can
  /// ever hold them); reservation may complete later. `bundle_nodes`: empty,
  /// or the node (by name) each bundle must go on.
  virtual PlacementGroupId CreatePlacementGroup(
      const std::vector<std::vector<std::pair<std::string, double>>>& bundles,
      PlacementGroupStrategy strategy, const std::string& name,
      const std::vector<std::string>& bundle_nodes) = 0;
  /// True once reserved; false after `timeout_ms` (-1: wait forever).
  virtual bool WaitPlacementGroup(const PlacementGroupId& id, int64_t timeout_ms) = 0;
  /// Releases the bundles; tasks still queued in the group fail.
  virtual void RemovePlacementGroup(const PlacementGroupId& id) = 0;
  /// The live actor registered under `name` (SetName at creation) and the
  /// typeid name of its class; nullopt when there is none.
  virtual std::optional<std::pair<ActorId, std::string>> GetNamedActor(const std::string& name) = 0;
  virtual ObjectId Put(std::string bytes) = 0;
  /// Stores a value as it is: Get of the same type hands out this very
  /// object (zero-copy); `serialize` makes its bytes only when a task or a
  /// reader of another type needs them.
  virtual ObjectId PutValue(std::shared_ptr<const void> value, const std::type_info& type,
                            std::string (*serialize)(const void*)) = 0;
  /// PutValue of a value whose bytes are `head` then `body` (views into
  /// `value` or kept alive by it): a runtime that sends the object out of
  /// the process writes both straight where it goes (a node's store), with
  /// no buffer in between. By default, PutValue.
  virtual ObjectId PutContiguous(std::shared_ptr<const void> value, const std::type_info& type,
                                 std::string (*serialize)(const void*), std::string_view head,
                                 std::string_view body) {
    (void)head;
    (void)body;
    return PutValue(std::move(value), type, serialize);
  }
  /// PutValue of a value whose bytes can be measured (`size_of`) and then
  /// written into room of that size (`write_into`): a runtime that sends
  /// the object out of the process writes it straight where it goes (a
  /// node's store), with no buffer in between. By default, PutValue.
  virtual ObjectId PutSized(std::shared_ptr<const void> value, const std::type_info& type,
                            std::string (*serialize)(const void*), size_t (*size_of)(const void*),
                            bool (*write_into)(const void*, char*, size_t)) {
    (void)size_of;
    (void)write_into;
    return PutValue(std::move(value), type, serialize);
  }
  /// Waits as Get does; then the object's value if it was stored (PutValue)
  /// as a `type`, else null (read its bytes with Get).
  virtual std::shared_ptr<const void> GetValue(const ObjectId& id, const std::type_info& type,
                                               int64_t timeout_ms) = 0;
  /// GetValue of each of `ids`, in one call: `timeout_ms` bounds the whole
  /// wait (not each object's), and the first failed object, in order,
  /// throws its error. Null where a value is not stored as a `type`.
  virtual std::vector<std::shared_ptr<const void>> GetValues(const std::vector<ObjectId>& ids,
                                                             const std::type_info& type,
                                                             int64_t timeout_ms) = 0;
  /// The object's bytes; blocks until it exists or `timeout_ms` (-1: forever)
  /// passes (GetTimeoutError). A failed task's object throws its error.
  virtual std::shared_ptr<const std::string> Get(const ObjectId& id, int64_t timeout_ms) = 0;
  /// Reference counting: an ObjectRef handle adds one reference when it is
  /// made and removes it when its last copy goes; an object that has had a
  /// reference is freed once none is left and no pending task uses it.
  /// RemoveObjectRef never blocks on the runtime (it may run anywhere,
  /// even inside a value being freed).
  virtual void AddObjectRef(const ObjectId& id) = 0;
  virtual void RemoveObjectRef(const ObjectId& id) = 0;
  /// Objects the runtime holds now (introspection and tests).
  virtual size_t LiveObjects() = 0;
  /// Which of `ids` are ready, once `num_objects` are or the timeout passed.
  virtual std::vector<bool> Wait(const std::vector<ObjectId>& ids, int num_objects, int64_t timeout_ms) = 0;

  /// Ownership across processes (the cluster runtime; in one process the
  /// runtime owns every object and these keep their defaults). OwnerOf: who
  /// owns `id`, as an opaque address written beside an ObjectRef serialized
  /// into a value; empty when no other process needs to know.
  virtual std::string OwnerOf(const ObjectId& id) { return {}; }
  /// An ObjectRef owned by `owner` (OwnerOf's text) was read from a value:
  /// the runtime registers it as borrowed before the reference is counted.
  virtual void BorrowRef(const ObjectId& id, const std::string& owner) {}
  /// Every placement group the runtime knows (as ListPlacementGroups).
  virtual std::vector<PlacementGroupInfo> ListPlacementGroups() = 0;
  /// A task library (a shared object's bytes) this process loaded for a
  /// compiled graph: the runtime's worker processes load it too before they
  /// run tasks (a cluster ships it to the nodes by content hash; in one
  /// process there is nothing to do). Idempotent.
  virtual void AddTaskLibrary(const std::shared_ptr<const std::string>& bytes, const std::string& origin) {}
};

/// The runtime Init() started, or null (serialization outside Init).
RuntimeInterface* CurrentRuntimeOrNull();

/// The runtime Init() started; throws RayccError when there is none.
RuntimeInterface& CurrentRuntime();

}  // namespace raycc::internal
