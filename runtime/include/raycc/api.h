#pragma once

/// \file
/// The raycc runtime API, shaped like Ray's C++ API:
///
///   RAYCC_REMOTE(Plus, Counter::Create, &Counter::Add);
///   raycc::Init();
///   raycc::ObjectRef<int> r = raycc::Task(Plus).Remote(1, 2);
///   int three = *raycc::Get(r);
///   auto counter = raycc::Actor(Counter::Create).Remote(0);
///   counter.Task(&Counter::Add).Remote(5);
///   raycc::Shutdown();
///
/// Arguments are values or ObjectRefs (resolved to their values before the
/// call runs), serialized with msgpack. Task bodies may themselves submit
/// tasks and Get results (nested tasks); a task blocked in Get gives its CPU
/// back while it waits.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "raycc/runtime/api/config.h"
#include "raycc/runtime/api/errors.h"
#include "raycc/runtime/api/graph.h"
#include "raycc/runtime/api/object_ref_handle.h"
#include "raycc/runtime/api/remote_registry.h"
#include "raycc/runtime/api/runtime_interface.h"
#include "raycc/runtime/api/serialization.h"
#include "raycc/runtime/api/shared_array.h"
#include "raycc/runtime/api/shared_bytes.h"

namespace raycc {

/// Starts the runtime: the embedded one (tasks on a thread pool, objects in
/// memory) unless Config.address (or RAYCC_ADDRESS) names a cluster.
void Init();
void Init(const Config& config);
/// As Init(), reading --raycc-num-cpus=N and --raycc-timeline=FILE from the
/// command line.
void Init(int argc, char** argv);
/// The logical node the calling task or actor runs on ("" outside of one).
std::string CurrentNodeName();

/// True inside a task that was cancelled while it ran (raycc::Cancel): a
/// long task checks it now and then and returns early.
bool IsCancelled();

/// The GPUs the calling task or actor holds (its "GPU" resource), as device
/// indices of its node: with CUDA, pass one to cudaSetDevice. Empty outside
/// a task and for work that asked for no GPU. A fractional request shares
/// one device with others.
std::vector<int> GetGpuIds();

/// In an actor's method (or constructor): ends the actor for good, with no
/// restart, once the method returns control by this call (it throws an
/// exception that is not a std::exception: do not swallow it with
/// `catch (...)`). The call, and every call queued behind it, fail with
/// ActorDiedError saying that the actor exited. Throws RayccError outside
/// of an actor.
[[noreturn]] void ExitActor();

/// In an actor: true when the instance running the call is not the actor's
/// first (it was restarted after Kill(false), a failed constructor, or its
/// worker's death). False outside of an actor.
bool WasCurrentActorRestarted();

/// Waits for nothing: stops the runtime; running tasks finish first.
/// Call it when no other thread of the program still uses the API (submits,
/// gets or drops ObjectRefs): those calls read the runtime without a lock.
/// References dropped after it returns are ignored.
void Shutdown();
bool IsInitialized();

/// A reference to an object holding a T (the future result of a task, or a
/// Put value). The object lives while a reference to it exists (or a task
/// that will use it is pending).
template <typename T>
class ObjectRef {
 public:
  ObjectRef() = default;
  explicit ObjectRef(ObjectId id) : id_(id), handle_(std::make_shared<internal::ObjectRefHandle>(id)) {}
  /// (For runtime code.) An ObjectRef holding the reference a runtime call
  /// returned counted already: no second count.
  static ObjectRef Adopt(ObjectId id) {
    ObjectRef ref;
    ref.id_ = id;
    ref.handle_ = std::make_shared<internal::ObjectRefHandle>(id, internal::ObjectRefHandle::Adopt{});
    return ref;
  }
  /// (For runtime code.) An ObjectRef sharing a handle a runtime made.
  static ObjectRef Adopt(std::shared_ptr<internal::ObjectRefHandle> handle) {
    ObjectRef ref;
    ref.id_ = handle->id();
    ref.handle_ = std::move(handle);
    return ref;
  }
  const ObjectId& ID() const { return id_; }
  /// (For runtime code.) The counted reference; null for a nil ObjectRef.
  const internal::ObjectRefHandle* handle() const { return handle_.get(); }
  /// Same as raycc::Get(*this).
  std::shared_ptr<T> Get(int64_t timeout_ms = -1) const;
  friend bool operator==(const ObjectRef& a, const ObjectRef& b) { return a.id_ == b.id_; }

 private:
  ObjectId id_;
  std::shared_ptr<internal::ObjectRefHandle> handle_;
};

namespace internal {

/// While set, serializing a value notes each ObjectRef inside it here (so
/// a call's arguments keep the objects they mention alive).
inline thread_local std::vector<ObjectId>* contained_refs = nullptr;
inline void NoteContainedRef(const ObjectId& id) {
  if (contained_refs != nullptr && !id.IsNil()) contained_refs->push_back(id);
}

/// An id inside a value is msgpack bin of its kSize bytes (ObjectRef and
/// ActorHandle travel so); a malformed one is msgpack's type_error.
template <typename Id, typename Stream>
void PackId(msgpack::packer<Stream>& o, const Id& id) {
  o.pack_bin(Id::kSize);
  o.pack_bin_body(reinterpret_cast<const char*>(id.data()), Id::kSize);
}
template <typename Id>
Id UnpackId(const msgpack::object& o) {
  if (o.type != msgpack::type::BIN || o.via.bin.size != Id::kSize) throw msgpack::type_error();
  return *Id::FromBinary(absl::string_view(o.via.bin.ptr, o.via.bin.size));
}

/// An ObjectRef inside a value: [id, owner] (msgpack array of two bins; the
/// owner is the runtime's OwnerOf, empty in one process). A bare id (bin)
/// is read too, owner unknown.
template <typename Stream>
void PackRef(msgpack::packer<Stream>& o, const ObjectId& id) {
  RuntimeInterface* runtime = id.IsNil() ? nullptr : CurrentRuntimeOrNull();
  const std::string owner = runtime != nullptr ? runtime->OwnerOf(id) : std::string();
  o.pack_array(2);
  PackId(o, id);
  o.pack_bin(static_cast<uint32_t>(owner.size()));
  o.pack_bin_body(owner.data(), static_cast<uint32_t>(owner.size()));
}
inline ObjectId UnpackRef(const msgpack::object& o) {
  if (o.type != msgpack::type::ARRAY) return UnpackId<ObjectId>(o);
  if (o.via.array.size != 2 || o.via.array.ptr[1].type != msgpack::type::BIN) throw msgpack::type_error();
  ObjectId id = UnpackId<ObjectId>(o.via.array.ptr[0]);
  const msgpack::object_bin& owner = o.via.array.ptr[1].via.bin;
  if (!id.IsNil() && owner.size > 0) {
    if (RuntimeInterface* runtime = CurrentRuntimeOrNull()) {
      runtime->BorrowRef(id, std::string(owner.ptr, owner.size));
    }
  }
  return id;
}

}  // namespace internal
}  // namespace raycc

// An ObjectRef inside a value travels as its ID and its owner; reading it
// back makes a counted reference again (borrowed, when another process owns
// it).
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <typename T>
  struct convert<raycc::ObjectRef<T>> {
    const msgpack::object& operator()(const msgpack::object& o, raycc::ObjectRef<T>& v) const {
      raycc::ObjectId id = raycc::internal::UnpackRef(o);
      v = id.IsNil() ? raycc::ObjectRef<T>() : raycc::ObjectRef<T>(id);
      return o;
    }
  };
  template <typename T>
  struct pack<raycc::ObjectRef<T>> {
    template <typename Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const raycc::ObjectRef<T>& v) const {
      raycc::internal::NoteContainedRef(v.ID());
      raycc::internal::PackRef(o, v.ID());
      return o;
    }
  };
  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE
}  // namespace msgpack

namespace raycc {
namespace internal {

template <typename T>
struct IsObjectRef : std::false_type {};
template <typename T>
struct IsObjectRef<ObjectRef<T>> : std::true_type {
  using Value = T;
};

template <typename F>
struct FunctionTraits;
template <typename R, typename... A>
struct FunctionTraits<R (*)(A...)> {
  using Result = R;
  using Params = std::tuple<std::decay_t<A>...>;
  static constexpr size_t kArity = sizeof...(A);
};
template <typename C, typename R, typename... A>
struct FunctionTraits<R (C::*)(A...)> {
  using Class = C;
  using Result = R;
  using Params = std::tuple<std::decay_t<A>...>;
  static constexpr size_t kArity = sizeof...(A);
};
template <typename C, typename R, typename... A>
struct FunctionTraits<R (C::*)(A...) const> : FunctionTraits<R (C::*)(A...)> {};
template <typename R, typename... A>
struct FunctionTraits<R (*)(A...) noexcept> : FunctionTraits<R (*)(A...)> {};
template <typename C, typename R, typename... A>
struct FunctionTraits<R (C::*)(A...) noexcept> : FunctionTraits<R (C::*)(A...)> {};
template <typename C, typename R, typename... A>
struct FunctionTraits<R (C::*)(A...) const noexcept> : FunctionTraits<R (C::*)(A...)> {};

/// One argument for parameter type P: a ref to a P, or a value convertible
/// to P (a compile error otherwise).
template <typename P, typename A>
TaskArgument PackArgument(A&& arg) {
  using D = std::decay_t<A>;
  TaskArgument out;
  if constexpr (IsObjectRef<D>::value) {
    static_assert(std::is_same_v<typename IsObjectRef<D>::Value, P>,
                  "an ObjectRef argument must refer to the parameter's type");
    out.by_ref = true;
    out.ref = arg.ID();
  } else {
    static_assert(std::is_convertible_v<A&&, P>, "argument is not convertible to the parameter's type");
    struct Collect {  // notes the refs the value holds, until serialized
      std::vector<ObjectId>* saved = contained_refs;
      explicit Collect(std::vector<ObjectId>* into) { contained_refs = into; }
      ~Collect() { contained_refs = saved; }
    } collect(&out.contained);
    out.value = Serialize(static_cast<P>(std::forward<A>(arg)));
  }
  return out;
}

template <typename Params, typename... Args, size_t... I>
std::vector<TaskArgument> PackArguments(std::index_sequence<I...>, Args&&... args) {
  std::vector<TaskArgument> out;
  out.reserve(sizeof...(Args));
  (out.push_back(PackArgument<std::tuple_element_t<I, Params>>(std::forward<Args>(args))), ...);
  return out;
}

template <typename F, typename... Args>
std::vector<TaskArgument> PackFor(Args&&... args) {
  using Traits = FunctionTraits<F>;
  static_assert(sizeof...(Args) == Traits::kArity, "wrong number of arguments for the remote function");
  return PackArguments<typename Traits::Params>(std::index_sequence_for<Args...>{},
                                                std::forward<Args>(args)...);
}

}  // namespace internal

/// How the scheduler places a task that is not in a placement group: the
/// default packs onto a node until it is half used; kSpread spreads.
enum class SchedulingStrategy { kDefault, kSpread };

/// How the bundles of a placement group spread over nodes.
enum class PlacementStrategy { kPack = 0, kSpread = 1, kStrictPack = 2, kStrictSpread = 3 };

/// What CreatePlacementGroup reserves.
struct PlacementGroupCreationOptions {
  std::vector<std::map<std::string, double>> bundles;
  PlacementStrategy strategy = PlacementStrategy::kPack;
  std::string name;
  /// The node (by name) each bundle goes on (empty: the strategy chooses;
  /// else one per bundle, consistent with the strategy). Compiled graphs
  /// pin their groups where the compiler placed them.
  std::vector<std::string> bundle_nodes;
};

/// A placement group: bundles reserved together (all or none).
class PlacementGroup {
 public:
  PlacementGroup() = default;
  PlacementGroup(PlacementGroupId id, int bundle_count) : id_(id), bundle_count_(bundle_count) {}
  const PlacementGroupId& GetID() const { return id_; }
  int BundleCount() const { return bundle_count_; }
  /// True once every bundle is reserved; false after the timeout.
  bool Wait(int timeout_seconds) const {
    return internal::CurrentRuntime().WaitPlacementGroup(id_, int64_t{timeout_seconds} * 1000);
  }

 private:
  PlacementGroupId id_;
  int bundle_count_ = 0;
};

/// Reserves `options.bundles` with `options.strategy`. Throws
/// InfeasibleError when the cluster can never hold them.
inline PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options) {
  std::vector<std::vector<std::pair<std::string, double>>> bundles;
  for (const auto& b : options.bundles) bundles.emplace_back(b.begin(), b.end());
  PlacementGroupId id = internal::CurrentRuntime().CreatePlacementGroup(
      bundles, static_cast<internal::PlacementGroupStrategy>(options.strategy), options.name,
      options.bundle_nodes);
  return PlacementGroup(id, static_cast<int>(options.bundles.size()));
}

/// What the runtime knows of a placement group: id, name, strategy,
/// bundles and state.
using PlacementGroupInfo = internal::PlacementGroupInfo;

/// Every placement group of the runtime (on a cluster: every job's): those
/// removed (the newest ones the control service remembers), then the live
/// ones in creation order.
inline std::vector<PlacementGroupInfo> ListPlacementGroups() {
  return internal::CurrentRuntime().ListPlacementGroups();
}

/// Releases a placement group; tasks still queued in it fail.
inline void RemovePlacementGroup(const PlacementGroupId& id) {
  internal::CurrentRuntime().RemovePlacementGroup(id);
}

namespace internal {

template <typename Derived>
class CallOptionsBuilder {
 public:
  /// Runs in bundle `bundle_index` of `pg` (-1: any bundle); the resources
  /// come out of the bundle's reservation.
  Derived& SetPlacementGroup(const PlacementGroup& pg, int bundle_index = -1) {
    if (bundle_index < -1 || bundle_index >= pg.BundleCount()) {
      throw RayccError("SetPlacementGroup: bundle index " + std::to_string(bundle_index) +
                       " is out of range: the group has " + std::to_string(pg.BundleCount()) + " bundle(s)");
    }
    options_.placement_group = pg.GetID();
    options_.bundle_index = bundle_index;
    return self();
  }
  /// Resources the call needs, replacing the default (tasks: 1 CPU).
  Derived& SetResources(const std::map<std::string, double>& resources) {
    options_.has_resources = true;
    options_.resources.assign(resources.begin(), resources.end());
    return self();
  }
  Derived& SetResource(const std::string& name, double quantity) {
    options_.has_resources = true;
    options_.resources.emplace_back(name, quantity);
    return self();
  }
  Derived& SetMaxRetries(int retries) {
    options_.max_retries = retries;
    return self();
  }
  /// Retry application exceptions too (up to SetMaxRetries).
  Derived& SetRetryExceptions(bool retry) {
    options_.retry_exceptions = retry;
    return self();
  }
  Derived& SetName(std::string name) {
    options_.name = std::move(name);
    return self();
  }
  /// Larger starts first among ready tasks.
  Derived& SetPriority(int64_t priority) {
    options_.priority = priority;
    return self();
  }
  Derived& SetSchedulingStrategy(SchedulingStrategy strategy) {
    options_.spread = strategy == SchedulingStrategy::kSpread;
    return self();
  }
  /// Runs on the node named `node` (Config.nodes); with `soft`, elsewhere
  /// when that node has no room or does not exist.
  Derived& SetNodeAffinity(std::string node, bool soft = false) {
    options_.node_name = std::move(node);
    options_.node_soft = soft;
    return self();
  }
  /// Runs only on nodes whose labels (NodeConfig.labels) match every entry:
  /// key -> "v" (equals v), "!v" (not v, or no such label), "in(a,b)",
  /// "!in(a,b)". A selector no node can satisfy is an InfeasibleError.
  Derived& SetLabelSelector(std::map<std::string, std::string> selector) {
    options_.label_selector = std::move(selector);
    return self();
  }

 protected:
  Derived& self() { return static_cast<Derived&>(*this); }
  CallOptions options_;
};

template <typename F>
const RemoteFunction& LookupFunction(F f) {
  const RemoteFunction* fn = RemoteRegistry::Instance().FunctionByKey(KeyOf(f));
  if (fn == nullptr) throw RayccError("function is not registered: add it to RAYCC_REMOTE(...)");
  return *fn;
}

}  // namespace internal

/// Submits calls of a registered function f: Task(f).SetName("x").Remote(args...).
template <typename F>
class TaskCaller : public internal::CallOptionsBuilder<TaskCaller<F>> {
 public:
  using Result = typename internal::FunctionTraits<F>::Result;
  explicit TaskCaller(F f) : f_(f) {}

  template <typename... Args>
  ObjectRef<Result> Remote(Args&&... args) {
    std::vector<internal::TaskArgument> packed = internal::PackFor<F>(std::forward<Args>(args)...);
    const internal::RemoteFunction& fn = internal::LookupFunction(f_);
    return ObjectRef<Result>::Adopt(
        internal::CurrentRuntime().SubmitTask(fn, std::move(packed), this->options_));
  }

 private:
  F f_;
};

template <typename F>
TaskCaller<F> Task(F f) {
  static_assert(std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>,
                "Task() takes a registered free function");
  return TaskCaller<F>(f);
}

template <typename C>
class ActorHandle;

/// Calls a method of an actor: handle.Task(&C::Method).Remote(args...).
template <typename M>
class ActorTaskCaller : public internal::CallOptionsBuilder<ActorTaskCaller<M>> {
 public:
  using Result = typename internal::FunctionTraits<M>::Result;
  ActorTaskCaller(ActorId actor, M m) : actor_(actor), m_(m) {}

  template <typename... Args>
  ObjectRef<Result> Remote(Args&&... args) {
    std::vector<internal::TaskArgument> packed = internal::PackFor<M>(std::forward<Args>(args)...);
    const internal::RemoteMethod* method =
        internal::RemoteRegistry::Instance().MethodByKey(internal::KeyOf(m_));
    if (method == nullptr)
      throw RayccError("actor method is not registered: add &Class::Method to RAYCC_REMOTE");
    return ObjectRef<Result>::Adopt(
        internal::CurrentRuntime().SubmitActorTask(actor_, *method, std::move(packed), this->options_));
  }

 private:
  ActorId actor_;
  M m_;
};

/// A handle to an actor of class C.
template <typename C>
class ActorHandle {
 public:
  ActorHandle() = default;
  explicit ActorHandle(ActorId id) : id_(id) {}
  const ActorId& ID() const { return id_; }

  template <typename M>
  ActorTaskCaller<M> Task(M m) const {
    static_assert(std::is_same_v<typename internal::FunctionTraits<M>::Class, C>,
                  "the method must belong to the actor's class");
    return ActorTaskCaller<M>(id_, m);
  }
  /// Kills the actor; calls after this fail with ActorDiedError. With
  /// `no_restart` false and restarts left (SetMaxRestarts), the actor is
  /// rebuilt from its constructor arguments instead (its state starts
  /// over) and calls go on; the call running at that moment finishes first.
  void Kill(bool no_restart = true) const { internal::CurrentRuntime().KillActor(id_, no_restart); }

 private:
  ActorId id_;
};

}  // namespace raycc

// An actor handle passed to a task (or inside a value) travels as its ID
// (msgpack bin): the task calls the same actor.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <typename C>
  struct convert<raycc::ActorHandle<C>> {
    const msgpack::object& operator()(const msgpack::object& o, raycc::ActorHandle<C>& v) const {
      v = raycc::ActorHandle<C>(raycc::internal::UnpackId<raycc::ActorId>(o));
      return o;
    }
  };
  template <typename C>
  struct pack<raycc::ActorHandle<C>> {
    template <typename Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const raycc::ActorHandle<C>& v) const {
      raycc::internal::PackId(o, v.ID());
      return o;
    }
  };
  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE
}  // namespace msgpack

namespace raycc {

/// Creates actors with a registered factory: Actor(C::Create).Remote(args...).
template <typename F>
class ActorCreator : public internal::CallOptionsBuilder<ActorCreator<F>> {
 public:
  using Class = std::remove_pointer_t<typename internal::FunctionTraits<F>::Result>;
  explicit ActorCreator(F f) : f_(f) {}

  /// How often the actor is rebuilt after Kill(false) or a constructor
  /// that throws (-1: always).
  ActorCreator& SetMaxRestarts(int restarts) {
    max_restarts_ = restarts;
    return *this;
  }
  ActorCreator& SetMaxConcurrency(int concurrency) {
    max_concurrency_ = concurrency;
    return *this;
  }

  template <typename... Args>
  ActorHandle<Class> Remote(Args&&... args) {
    std::vector<internal::TaskArgument> packed = internal::PackFor<F>(std::forward<Args>(args)...);
    const internal::RemoteFunction& fn = internal::LookupFunction(f_);
    internal::ActorOptions options;
    options.call = this->options_;
    options.max_restarts = max_restarts_;
    options.max_concurrency = max_concurrency_;
    options.name = this->options_.name;
    return ActorHandle<Class>(internal::CurrentRuntime().CreateActor(fn, std::move(packed), options));
  }

 private:
  F f_;
  int max_restarts_ = 0;
  int max_concurrency_ = 1;
};

template <typename F>
ActorCreator<F> Actor(F factory) {
  static_assert(std::is_pointer_v<typename internal::FunctionTraits<F>::Result>,
                "Actor() takes a registered factory returning a pointer to the actor");
  return ActorCreator<F>(factory);
}

/// The live actor created with SetName(name), or nullopt. Throws RayccError
/// when it exists but is not a C.
template <typename C>
std::optional<ActorHandle<C>> GetActor(const std::string& name) {
  auto found = internal::CurrentRuntime().GetNamedActor(name);
  if (!found) return std::nullopt;
  if (found->second != typeid(C).name()) {
    throw RayccError("actor '" + name + "' is not of the requested class");
  }
  return ActorHandle<C>(found->first);
}

/// Cancels the task that makes `ref`, and the tasks it submitted that are
/// not done (as Ray's recursive cancel). Get on its result throws
/// TaskCancelledError at once, and tasks that depend on it fail. A task that
/// has not started never runs; one that is running is told through
/// raycc::IsCancelled() (a thread cannot be stopped from outside: the task
/// returns when it checks) and whatever it returns is dropped. Returns
/// false when the task is done already (or was cancelled before).
template <typename T>
bool Cancel(const ObjectRef<T>& ref) {
  return internal::CurrentRuntime().CancelTask(ref.ID());
}

namespace internal {
/// A stored value (GetValue, PublishedValue) as what Get hands out.
template <typename T>
std::shared_ptr<T> ValueAs(std::shared_ptr<const void> value) {
  return std::const_pointer_cast<T>(std::static_pointer_cast<const T>(std::move(value)));
}
/// Put's work: the value as it is (a SharedArray: its head and elements,
/// which the runtime may write straight where the object goes).
template <typename D>
ObjectId PutStored(std::shared_ptr<const D> stored) {
  RuntimeInterface& runtime = CurrentRuntime();
  if constexpr (kIsSharedArray<D>) {
    if (stored->size() * sizeof(typename D::value_type) < UINT32_MAX - 16) {
      const std::string head = D::Head(stored->size());
      const std::string_view body(reinterpret_cast<const char*>(stored->data()),
                                  stored->size() * sizeof(typename D::value_type));
      return runtime.PutContiguous(std::move(stored), typeid(D), &SerializeErased<D>, head, body);
    }
  }
  return runtime.PutSized(std::move(stored), typeid(D), &SerializeErased<D>, &SerializedSizeErased<D>,
                          &SerializeIntoErased<D>);
}
/// A SharedArray object (ready) where the runtime reads it in place (the
/// node's store): a view of its elements there. Null for other types, and
/// where it does not (then its bytes are deserialized).
template <typename T>
std::shared_ptr<T> ArrayInPlace(RuntimeInterface& runtime, const ObjectId& id) {
  if constexpr (kIsSharedArray<T>) {
    if (std::shared_ptr<const void> body = runtime.GetValue(id, typeid(SharedBytes), -1)) {
      if (T array; T::FromBody(*static_cast<const SharedBytes*>(body.get()), &array))
        return std::make_shared<T>(std::move(array));
    }
  }
  return nullptr;
}
}  // namespace internal

/// The value of `ref`, waiting for it; `timeout_ms` -1 waits forever, else
/// GetTimeoutError. A failed task throws its TaskError.
///
/// An object Put in this process is handed out as is, without a copy: every
/// Get of it shares one value, which must not be modified (objects are
/// immutable, as in Ray). So is a task's result held as a value; one held
/// as bytes (or read as another type) is deserialized per Get.
template <typename T>
std::shared_ptr<T> Get(const ObjectRef<T>& ref, int64_t timeout_ms = -1) {
  internal::RuntimeInterface& runtime = internal::CurrentRuntime();
  if constexpr (std::is_void_v<T>) {
    runtime.Get(ref.ID(), timeout_ms);
    return nullptr;
  } else {
    // A finished task's result, published to the submitter's reference: no
    // call into the runtime. (Not waited for here: an unfinished task may be
    // run by the runtime on this very thread.)
    if (const internal::ObjectRefHandle* handle = ref.handle()) {
      if (std::shared_ptr<const void> value = handle->PublishedValue(typeid(T))) {
        return internal::ValueAs<T>(std::move(value));
      }
    }
    if (std::shared_ptr<const void> value = runtime.GetValue(ref.ID(), typeid(T), timeout_ms)) {
      return internal::ValueAs<T>(std::move(value));
    }
    if (std::shared_ptr<T> array = internal::ArrayInPlace<T>(runtime, ref.ID())) return array;
    return std::make_shared<T>(Deserialize<T>(*runtime.Get(ref.ID(), timeout_ms)));
  }
}

/// The values of `refs`, in order, once all are ready. `timeout_ms` bounds
/// the whole call (GetTimeoutError), as in Ray's get of a list; the first
/// failed object, in order, throws its error. Cheaper than a Get per ref:
/// the runtime is entered once for many of them.
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<ObjectRef<T>>& refs, int64_t timeout_ms = -1) {
  std::vector<std::shared_ptr<T>> out;
  out.reserve(refs.size());
  internal::RuntimeInterface& runtime = internal::CurrentRuntime();
  std::vector<ObjectId> ids;
  ids.reserve(refs.size());
  for (const ObjectRef<T>& r : refs) ids.push_back(r.ID());
  if constexpr (std::is_void_v<T>) {
    runtime.GetValues(ids, typeid(void), timeout_ms);  // waits, and throws a failure
    out.resize(refs.size());
  } else {
    // Results published to their references need no call into the runtime;
    // the rest are asked for at once (the first failure among them, in
    // order, is the first of all: a published result did not fail).
    std::vector<std::shared_ptr<const void>> values(refs.size());
    std::vector<ObjectId> asked;
    std::vector<size_t> where;
    for (size_t i = 0; i < refs.size(); ++i) {
      if (const internal::ObjectRefHandle* handle = refs[i].handle())
        values[i] = handle->PublishedValue(typeid(T));
      if (!values[i]) {
        asked.push_back(ids[i]);
        where.push_back(i);
      }
    }
    if (!asked.empty()) {
      std::vector<std::shared_ptr<const void>> got = runtime.GetValues(asked, typeid(T), timeout_ms);
      for (size_t k = 0; k < asked.size(); ++k) values[where[k]] = std::move(got[k]);
    }
    for (size_t i = 0; i < refs.size(); ++i) {
      if (values[i]) {
        out.push_back(internal::ValueAs<T>(std::move(values[i])));
      } else if (std::shared_ptr<T> array = internal::ArrayInPlace<T>(runtime, ids[i])) {
        out.push_back(std::move(array));
      } else {  // stored as bytes (or as another type): ready, so no wait
        out.push_back(std::make_shared<T>(Deserialize<T>(*runtime.Get(ids[i], -1))));
      }
    }
  }
  return out;
}

template <typename T>
std::shared_ptr<T> ObjectRef<T>::Get(int64_t timeout_ms) const {
  return raycc::Get(*this, timeout_ms);
}

namespace internal {
template <typename T>
struct IsSharedPtr : std::false_type {};
template <typename T>
struct IsSharedPtr<std::shared_ptr<T>> : std::true_type {};
}  // namespace internal

/// Stores `value` as an object, as it is: `Put(std::move(big))` copies
/// nothing, and Get in this process hands the same value out. Its bytes are
/// made only when a task needs them as an argument. (`Put(big)` of an
/// lvalue copies it, as C++ must: move it, or Put a shared_ptr, to share.)
template <typename T>
requires(!internal::IsSharedPtr<std::decay_t<T>>::value) ObjectRef<std::decay_t<T>> Put(T&& value) {
  using D = std::decay_t<T>;
  auto stored = std::make_shared<const D>(std::forward<T>(value));
  return ObjectRef<D>::Adopt(internal::PutStored<D>(std::move(stored)));
}

/// Stores the value `value` points to, shared with the caller: nothing is
/// copied, whatever its size, and Get in this process hands out this very
/// value. It must not change afterwards (objects are immutable).
template <typename T>
ObjectRef<std::remove_const_t<T>> Put(std::shared_ptr<T> value) {
  using D = std::remove_const_t<T>;
  if (value == nullptr) throw RayccError("Put: a null shared_ptr holds no value");
  std::shared_ptr<const D> stored = std::move(value);
  return ObjectRef<D>::Adopt(internal::PutStored<D>(std::move(stored)));
}

template <typename T>
struct WaitResult {
  std::vector<ObjectRef<T>> ready;
  std::vector<ObjectRef<T>> unready;
};

/// Waits until `num_objects` of `refs` are ready or `timeout_ms` passes
/// (-1: no timeout); both lists keep the order of `refs`.
template <typename T>
WaitResult<T> Wait(const std::vector<ObjectRef<T>>& refs, int num_objects, int64_t timeout_ms = -1) {
  if (num_objects < 0 || num_objects > static_cast<int>(refs.size())) {
    throw RayccError("Wait: num_objects must be in [0, " + std::to_string(refs.size()) + "], got " +
                     std::to_string(num_objects));
  }
  std::vector<ObjectId> ids;
  for (const auto& r : refs) ids.push_back(r.ID());
  std::vector<bool> ready = internal::CurrentRuntime().Wait(ids, num_objects, timeout_ms);
  WaitResult<T> result;
  for (size_t i = 0; i < refs.size(); ++i) (ready[i] ? result.ready : result.unready).push_back(refs[i]);
  return result;
}

}  // namespace raycc
