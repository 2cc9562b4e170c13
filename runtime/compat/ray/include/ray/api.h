#pragma once

/// \file
/// Ray's C++ API (namespace ray) on raycc: a program written against Ray's
/// <ray/api.h> builds unchanged against this header and the raycc::ray_compat
/// library, and runs on raycc's embedded runtime (local mode, or no
/// address) or on a raycc cluster (RayConfig::address, --ray_address or
/// RAY_ADDRESS). docs/ray-compat.md has the mapping and what differs.
///
///   int Plus(int a, int b) { return a + b; }
///   RAY_REMOTE(Plus);
///   ray::Init();
///   auto ref = ray::Task(Plus).Remote(1, 2);
///   int three = *ray::Get(ref);
///   ray::Shutdown();
///
/// Every entry point is a thin layer over <raycc/api.h>: the same registry,
/// scheduler, object store and cluster protocol; raycc's errors reach the
/// program as Ray's exception types (ray/api/ray_exception.h).

#include <boost/optional.hpp>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ray/api/ray_config.h"
#include "ray/api/ray_exception.h"
#include "ray/api/task_options.h"
#include "raycc/api.h"

namespace ray {

/// Starts the runtime: embedded unless the config (or RAY_ADDRESS, or
/// RAYCC_ADDRESS) names a cluster and local_mode is off.
void Init();
void Init(RayConfig& config);
/// As Init(config), with Ray's --ray_* command-line flags overriding the
/// config (--ray_address=HOST:PORT, --ray_job_namespace=NS, ...); other
/// arguments are left alone.
void Init(RayConfig& config, int argc, char** argv);
bool IsInitialized();
void Shutdown();

/// The namespace of named actors this job uses.
std::string GetNamespace();

template <typename T>
class ObjectRef;

namespace internal {

template <typename T>
struct IsRayObjectRef : std::false_type {};
template <typename T>
struct IsRayObjectRef<ObjectRef<T>> : std::true_type {};

/// A value Get hands to the caller: Ray deserializes each Get, so the
/// caller may change what it got. raycc shares an object held as a value
/// in this process: that one is copied first, so that changing it changes
/// nothing else.
template <typename T>
std::shared_ptr<T> Private(std::shared_ptr<T> value) {
  if constexpr (std::is_copy_constructible_v<T>) {
    if (value != nullptr && value.use_count() > 1) return std::make_shared<T>(*value);
  }
  return value;
}

/// The raycc id of a binary id string (ObjectRef::ID, PlacementGroup::GetID).
template <typename Id>
Id IdFromBinary(const std::string& binary, const char* what) {
  auto id = Id::FromBinary(binary);
  if (!id.ok())
    throw RayException(std::string("not a ") + what + " id: " + std::string(id.status().message()));
  return *id;
}

}  // namespace internal

/// A reference to an object holding a T: the future result of a task, or
/// a Put value.
template <typename T>
class ObjectRef {
 public:
  ObjectRef() = default;
  /// The object with binary id `id` (ObjectRef::ID of a live reference).
  ObjectRef(const std::string& id) : ref_(internal::IdFromBinary<raycc::ObjectId>(id, "object")) {}  // NOLINT
  explicit ObjectRef(raycc::ObjectRef<T> ref) : ref_(std::move(ref)) {}
  static bool IsObjectRef() { return true; }
  bool operator==(const ObjectRef<T>& object) const { return ref_ == object.ref_; }
  /// The object's binary id. (Ray returns a reference to a string the
  /// ObjectRef keeps; raycc returns the string: `const std::string& id =
  /// ref.ID();` and `auto id = ref.ID();` work the same.)
  std::string ID() const { return ref_.ID().Binary(); }
  /// The value, waiting for it (-1: forever; else RayTimeoutException).
  std::shared_ptr<T> Get() const { return Get(-1); }
  std::shared_ptr<T> Get(const int& timeout_ms) const {
    return internal::Private(internal::Translated([&] { return raycc::Get(ref_, timeout_ms); }));
  }
  /// (raycc) The raycc reference this wraps.
  const raycc::ObjectRef<T>& raycc_ref() const { return ref_; }

 private:
  raycc::ObjectRef<T> ref_;
};

/// The result of a task returning void: Get waits and throws its error.
template <>
class ObjectRef<void> {
 public:
  ObjectRef() = default;
  ObjectRef(const std::string& id) : ref_(internal::IdFromBinary<raycc::ObjectId>(id, "object")) {}  // NOLINT
  explicit ObjectRef(raycc::ObjectRef<void> ref) : ref_(std::move(ref)) {}
  static bool IsObjectRef() { return true; }
  bool operator==(const ObjectRef<void>& object) const { return ref_ == object.ref_; }
  std::string ID() const { return ref_.ID().Binary(); }
  void Get() const { Get(-1); }
  void Get(const int& timeout_ms) const {
    internal::Translated([&] { raycc::Get(ref_, timeout_ms); });
  }
  const raycc::ObjectRef<void>& raycc_ref() const { return ref_; }

 private:
  raycc::ObjectRef<void> ref_;
};

template <typename T>
class WaitResult {
 public:
  WaitResult() = default;
  WaitResult(std::list<ObjectRef<T>>&& ready_objects, std::list<ObjectRef<T>>&& unready_objects)
      : ready(std::move(ready_objects)), unready(std::move(unready_objects)) {}
  std::list<ObjectRef<T>> ready;
  std::list<ObjectRef<T>> unready;
};

template <typename ActorType, bool IsXlang = false>
class ActorHandle;

namespace internal {

/// Ray's check of a call's resources: names non-empty, quantities above 0,
/// and above 1 only in whole units.
void CheckTaskOptions(const std::unordered_map<std::string, double>& resources);

/// One argument as raycc's Remote takes it for a parameter of type P: a
/// ray::ObjectRef<P> passes as raycc's reference (resolved to its value
/// before the call); anything else (a ray::ObjectRef parameter included:
/// the reference itself travels) as it is.
template <typename P, typename A>
decltype(auto) ToRaycc(A&& arg) {
  using D = std::decay_t<A>;
  if constexpr (IsRayObjectRef<D>::value && !IsRayObjectRef<std::decay_t<P>>::value) {
    return arg.raycc_ref();
  } else {
    return std::forward<A>(arg);
  }
}

template <typename F, typename Caller, typename... Args, size_t... I>
auto RemoteOf(Caller& caller, std::index_sequence<I...>, Args&&... args) {
  using Params = typename raycc::internal::FunctionTraits<F>::Params;
  static_assert(sizeof...(Args) == std::tuple_size_v<Params>, "arguments not match");
  return caller.Remote(ToRaycc<std::tuple_element_t<I, Params>>(std::forward<Args>(args))...);
}

/// The options all of Ray's callers share, kept as Ray keeps them and
/// handed to raycc's caller at Remote.
template <typename Derived>
class RayCallOptions {
 public:
  Derived& SetName(std::string name) {
    name_ = std::move(name);
    return self();
  }
  Derived& SetResources(std::unordered_map<std::string, double> resources) {
    resources_ = std::move(resources);
    has_resources_ = true;
    return self();
  }
  /// Adds one resource; a name already set keeps its quantity (as Ray's).
  Derived& SetResource(std::string name, double value) {
    resources_.emplace(std::move(name), value);
    has_resources_ = true;
    return self();
  }

 protected:
  Derived& self() { return static_cast<Derived&>(*this); }
  template <typename RayccCaller>
  void Apply(RayccCaller& caller) const {
    if (has_resources_) {
      CheckTaskOptions(resources_);
      caller.SetResources(std::map<std::string, double>(resources_.begin(), resources_.end()));
    }
    if (!name_.empty()) caller.SetName(name_);
  }
  std::string name_;
  std::unordered_map<std::string, double> resources_;
  bool has_resources_ = false;
};

/// The placement-group option of Task() and Actor().
raycc::PlacementGroup ToRayccGroup(const PlacementGroup& group, int bundle_index);

/// The readable name of a C++ type from `typeid(...).name()`.
std::string TypeName(const char* mangled);

template <typename F>
void CheckRegistered(F f) {
  bool found = false;
  if constexpr (std::is_member_function_pointer_v<F>) {
    found = raycc::internal::RemoteRegistry::Instance().MethodByKey(raycc::internal::KeyOf(f)) != nullptr;
  } else {
    found = raycc::internal::RemoteRegistry::Instance().FunctionByKey(raycc::internal::KeyOf(f)) != nullptr;
  }
  if (!found) {
    throw RayFunctionNotFound("Function not found. Please use RAY_REMOTE to register this function (" +
                              TypeName(typeid(F).name()) + ").");
  }
}

/// Submits calls of a registered function: ray::Task(f).Remote(args...).
template <typename F>
class TaskCaller : public RayCallOptions<TaskCaller<F>> {
 public:
  using Result = typename raycc::internal::FunctionTraits<F>::Result;
  TaskCaller() = default;
  explicit TaskCaller(F f) : f_(f) {}

  template <typename... Args>
  ObjectRef<Result> Remote(Args&&... args) {
    return Translated([&] {
      CheckRegistered(f_);
      raycc::TaskCaller<F> caller(f_);
      this->Apply(caller);
      if (has_group_) caller.SetPlacementGroup(group_, bundle_index_);
      if (max_retries_ != 0) caller.SetMaxRetries(max_retries_);
      return ObjectRef<Result>(
          RemoteOf<F>(caller, std::index_sequence_for<Args...>{}, std::forward<Args>(args)...));
    });
  }
  /// Runs in bundle `bundle_index` of `group` (-1: any of its bundles).
  TaskCaller& SetPlacementGroup(PlacementGroup group, int bundle_index) {
    group_ = Translated([&] { return ToRayccGroup(group, bundle_index); });
    bundle_index_ = bundle_index;
    has_group_ = true;
    return *this;
  }
  /// (raycc) Runs the task again, up to `max_retries` times (-1: forever),
  /// when its worker process dies.
  TaskCaller& SetMaxRetries(int max_retries) {
    max_retries_ = max_retries;
    return *this;
  }

 private:
  F f_{};
  raycc::PlacementGroup group_;
  int bundle_index_ = -1;
  bool has_group_ = false;
  int max_retries_ = 0;
};

/// Calls a method of an actor: handle.Task(&C::Method).Remote(args...).
template <typename F>
class ActorTaskCaller : public RayCallOptions<ActorTaskCaller<F>> {
 public:
  using Result = typename raycc::internal::FunctionTraits<F>::Result;
  ActorTaskCaller() = default;
  ActorTaskCaller(raycc::ActorId actor, F f) : actor_(actor), f_(f) {}

  template <typename... Args>
  ObjectRef<Result> Remote(Args&&... args) {
    return Translated([&] {
      CheckRegistered(f_);
      raycc::ActorTaskCaller<F> caller(actor_, f_);
      this->Apply(caller);
      return ObjectRef<Result>(
          RemoteOf<F>(caller, std::index_sequence_for<Args...>{}, std::forward<Args>(args)...));
    });
  }

 private:
  raycc::ActorId actor_;
  F f_{};
};

template <typename F>
using GetActorType = std::remove_pointer_t<typename raycc::internal::FunctionTraits<F>::Result>;

/// The name an actor is registered under in raycc: namespaced ones as
/// "namespace/name".
std::string QualifiedActorName(const std::string& name, const std::string& ray_namespace);

/// Creates actors with a registered factory: ray::Actor(Create).Remote(args...).
template <typename F>
class ActorCreator : public RayCallOptions<ActorCreator<F>> {
 public:
  ActorCreator() = default;
  explicit ActorCreator(F f) : f_(f) {}

  template <typename... Args>
  ActorHandle<GetActorType<F>> Remote(Args&&... args) {
    return Translated([&] {
      CheckRegistered(f_);
      raycc::ActorCreator<F> creator(f_);
      this->Apply(creator);
      if (!this->name_.empty()) {
        creator.SetName(QualifiedActorName(this->name_, has_namespace_ ? namespace_ : GetNamespace()));
      }
      if (has_group_) creator.SetPlacementGroup(group_, bundle_index_);
      creator.SetMaxRestarts(max_restarts_);
      creator.SetMaxConcurrency(max_concurrency_);
      return ActorHandle<GetActorType<F>>(
          RemoteOf<F>(creator, std::index_sequence_for<Args...>{}, std::forward<Args>(args)...));
    });
  }
  using RayCallOptions<ActorCreator<F>>::SetName;
  /// Names the actor within `ray_namespace` (GetActor(name, ray_namespace)).
  ActorCreator& SetName(std::string name, std::string ray_namespace) {
    this->name_ = std::move(name);
    namespace_ = std::move(ray_namespace);
    has_namespace_ = true;
    return *this;
  }
  /// How often the actor is rebuilt (from its constructor's arguments)
  /// after it dies: Kill(false), a failed constructor, its worker's death
  /// (-1: always).
  ActorCreator& SetMaxRestarts(int max_restarts) {
    max_restarts_ = max_restarts;
    return *this;
  }
  ActorCreator& SetMaxConcurrency(int max_concurrency) {
    max_concurrency_ = max_concurrency;
    return *this;
  }
  ActorCreator& SetPlacementGroup(PlacementGroup group, int bundle_index) {
    group_ = Translated([&] { return ToRayccGroup(group, bundle_index); });
    bundle_index_ = bundle_index;
    has_group_ = true;
    return *this;
  }

 private:
  F f_{};
  std::string namespace_;
  bool has_namespace_ = false;
  raycc::PlacementGroup group_;
  int bundle_index_ = -1;
  bool has_group_ = false;
  int max_restarts_ = 0;
  int max_concurrency_ = 1;
};

}  // namespace internal

/// A handle to an actor of class ActorType; it can be copied, passed to
/// tasks and returned by them.
template <typename ActorType, bool IsXlang>
class ActorHandle {
  static_assert(!IsXlang, "cross-language actors (Python, Java) are not supported by raycc");

 public:
  ActorHandle() = default;
  /// The actor with binary id `id` (ActorHandle::ID).
  ActorHandle(const std::string& id)
      : handle_(internal::IdFromBinary<raycc::ActorId>(id, "actor")) {}  // NOLINT
  explicit ActorHandle(raycc::ActorHandle<ActorType> handle) : handle_(std::move(handle)) {}
  static bool IsActorHandle() { return true; }
  std::string ID() const { return handle_.ID().Binary(); }

  template <typename F>
  internal::ActorTaskCaller<F> Task(F actor_func) const {
    static_assert(std::is_member_function_pointer_v<F>, "Task() of an actor takes a method: &Class::Method");
    static_assert(std::is_same_v<typename raycc::internal::FunctionTraits<F>::Class, ActorType>,
                  "the method must be the actor class's own (raycc does not call methods declared in a "
                  "base class: declare it in the actor's class)");
    return internal::ActorTaskCaller<F>(handle_.ID(), actor_func);
  }
  /// Kills the actor for good; calls after it throw RayActorException.
  void Kill() { Kill(true); }
  /// With `no_restart` false and restarts left (SetMaxRestarts), the actor
  /// is rebuilt instead and later calls go on.
  void Kill(bool no_restart) {
    internal::Translated([&] { handle_.Kill(no_restart); });
  }
  /// The handle whose ID() is `serialized_actor_handle`.
  static ActorHandle FromBytes(const std::string& serialized_actor_handle) {
    return ActorHandle(serialized_actor_handle);
  }
  const raycc::ActorHandle<ActorType>& raycc_handle() const { return handle_; }

 private:
  raycc::ActorHandle<ActorType> handle_;
};

/// Stores `obj` as an object (a copy; Put(std::move(obj)) moves it).
template <typename T>
ObjectRef<T> Put(const T& obj) {
  return ObjectRef<T>(internal::Translated([&] { return raycc::Put(std::make_shared<const T>(obj)); }));
}
template <typename T>
requires(!std::is_lvalue_reference_v<T>) ObjectRef<std::decay_t<T>> Put(T&& obj) {
  using D = std::decay_t<T>;
  // (Held as a shared_ptr<const D>: a Put of a shared_ptr stores the pointer
  // value as Ray does, not what it points to.)
  return ObjectRef<D>(
      internal::Translated([&] { return raycc::Put(std::make_shared<const D>(std::move(obj))); }));
}

/// The value of `object`, waiting for it (timeout_ms -1: forever; else
/// RayTimeoutException); a failed task throws RayTaskException, a dead
/// actor RayActorException. The caller owns what it gets (see Private).
template <typename T>
std::shared_ptr<T> Get(const ObjectRef<T>& object) {
  return object.Get();
}
template <typename T>
std::shared_ptr<T> Get(const ObjectRef<T>& object, const int& timeout_ms) {
  return object.Get(timeout_ms);
}

/// The values of `objects`, in order, once all are ready; `timeout_ms`
/// bounds the whole call.
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<ObjectRef<T>>& objects, const int& timeout_ms) {
  std::vector<raycc::ObjectRef<T>> refs;
  refs.reserve(objects.size());
  for (const ObjectRef<T>& object : objects) refs.push_back(object.raycc_ref());
  std::vector<std::shared_ptr<T>> values = internal::Translated([&] { return raycc::Get(refs, timeout_ms); });
  for (std::shared_ptr<T>& value : values) value = internal::Private(std::move(value));
  return values;
}
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<ObjectRef<T>>& objects) {
  return Get(objects, -1);
}
/// The same, by binary object ids (ObjectRef::ID).
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<std::string>& ids, const int& timeout_ms) {
  std::vector<ObjectRef<T>> objects(ids.begin(), ids.end());
  return Get(objects, timeout_ms);
}
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<std::string>& ids) {
  return Get<T>(ids, -1);
}

/// Waits until `num_objects` of `objects` are ready or `timeout_ms` passes
/// (-1: no limit); both lists keep the order of `objects`.
template <typename T>
WaitResult<T> Wait(const std::vector<ObjectRef<T>>& objects, int num_objects, int timeout_ms) {
  std::vector<raycc::ObjectRef<T>> refs;
  refs.reserve(objects.size());
  for (const ObjectRef<T>& object : objects) refs.push_back(object.raycc_ref());
  raycc::WaitResult<T> waited =
      internal::Translated([&] { return raycc::Wait(refs, num_objects, timeout_ms); });
  WaitResult<T> result;
  for (raycc::ObjectRef<T>& r : waited.ready) result.ready.emplace_back(std::move(r));
  for (raycc::ObjectRef<T>& r : waited.unready) result.unready.emplace_back(std::move(r));
  return result;
}

/// Calls of a registered free function (or static member): ray::Task(f).
template <typename F>
internal::TaskCaller<F> Task(F func) {
  static_assert(!std::is_member_function_pointer_v<F>,
                "Task() takes a free function; call actor methods through handle.Task(&Class::Method)");
  return internal::TaskCaller<F>(func);
}

/// Actors made by a registered factory returning a T* (a free function or a
/// static member): ray::Actor(Counter::FactoryCreate).Remote(0).
template <typename F>
internal::ActorCreator<F> Actor(F create_func) {
  static_assert(std::is_pointer_v<typename raycc::internal::FunctionTraits<F>::Result>,
                "Actor() takes a factory returning a pointer to the actor (static C* Create(...))");
  return internal::ActorCreator<F>(create_func);
}

/// The live actor named `actor_name` (in this job's namespace, or in
/// `ray_namespace`), or none.
template <typename T>
boost::optional<ActorHandle<T>> GetActor(const std::string& actor_name, const std::string& ray_namespace) {
  if (actor_name.empty()) return boost::none;
  std::optional<raycc::ActorHandle<T>> found = internal::Translated(
      [&] { return raycc::GetActor<T>(internal::QualifiedActorName(actor_name, ray_namespace)); });
  if (!found) return boost::none;
  return ActorHandle<T>(*found);
}
template <typename T>
boost::optional<ActorHandle<T>> GetActor(const std::string& actor_name) {
  return GetActor<T>(actor_name, GetNamespace());
}

/// In an actor's method: ends the actor for good (no restart). The call
/// and those queued behind it fail with RayActorException. Throws
/// RayException outside of an actor.
[[noreturn]] void ExitActor();
/// In an actor: true when this instance is not its first (it was restarted).
bool WasCurrentActorRestarted();

/// Reserves the bundles, all or none. Throws RayException for a malformed
/// request, a name in use, or bundles no cluster can hold.
PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& create_options);
void RemovePlacementGroup(const std::string& placement_group_id);
/// Every placement group, with its state now.
std::vector<PlacementGroup> GetAllPlacementGroups();
/// The group with this id (binary, GetID) or name; an Empty() one if none.
PlacementGroup GetPlacementGroupById(const std::string& id);
PlacementGroup GetPlacementGroup(const std::string& name);

namespace internal {

/// Picks one overload by its parameter types (RAY_FUNC).
template <typename... Params>
struct Overload {
  template <typename R>
  static constexpr auto Of(R (*f)(Params...)) {
    return f;
  }
  template <typename R, typename C>
  static constexpr auto Of(R (C::*f)(Params...)) {
    return f;
  }
  template <typename R, typename C>
  static constexpr auto Of(R (C::*f)(Params...) const) {
    return f;
  }
};

}  // namespace internal
}  // namespace ray

// ObjectRefs and actor handles inside values (arguments, results, structs
// with MSGPACK_DEFINE) travel as raycc's do: a reference stays counted and
// its owner known across processes.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <typename T>
  struct convert<ray::ObjectRef<T>> {
    const msgpack::object& operator()(const msgpack::object& o, ray::ObjectRef<T>& v) const {
      raycc::ObjectRef<T> ref;
      o.convert(ref);
      v = ray::ObjectRef<T>(std::move(ref));
      return o;
    }
  };
  template <typename T>
  struct pack<ray::ObjectRef<T>> {
    template <typename Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const ray::ObjectRef<T>& v) const {
      return o.pack(v.raycc_ref());
    }
  };
  template <typename C>
  struct convert<ray::ActorHandle<C>> {
    const msgpack::object& operator()(const msgpack::object& o, ray::ActorHandle<C>& v) const {
      raycc::ActorHandle<C> handle;
      o.convert(handle);
      v = ray::ActorHandle<C>(std::move(handle));
      return o;
    }
  };
  template <typename C>
  struct pack<ray::ActorHandle<C>> {
    template <typename Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const ray::ActorHandle<C>& v) const {
      return o.pack(v.raycc_handle());
    }
  };
  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE
}  // namespace msgpack

/// Picks one overload of `f` by its parameter types, to register it and to
/// call it: RAY_REMOTE(RAY_FUNC(Counter::FactoryCreate, int)) and
/// ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)). Registered as
/// "Counter::FactoryCreate(int)".
#define RAY_FUNC(f, ...) ::ray::internal::Overload<__VA_ARGS__>::Of(f)

/// Registers functions, actor factories and actor methods (&Class::Method)
/// under their spelled names: RAY_REMOTE(Plus, Counter::FactoryCreate,
/// &Counter::Add);
/// (Stringified here, before RAY_FUNC expands: an overload is named
/// "f(int)", see raycc::internal::SplitRemoteNames.)
/// (It ends with its own ';', as Ray's: `RAY_REMOTE(Plus)` without one
/// works, and `RAY_REMOTE(Plus);` too.)
#define RAY_REMOTE(...)                                                                           \
  [[maybe_unused]] static const bool RAYCC_INTERNAL_CONCAT(ray_remote_registered_, __COUNTER__) = \
      ::raycc::internal::RegisterRemote(#__VA_ARGS__, __VA_ARGS__);
