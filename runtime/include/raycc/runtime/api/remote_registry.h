#pragma once

/// \file
/// The registry of remote functions and actor classes, filled by
/// RAYCC_REMOTE. One registry serves the dynamic API and the graph DSL: a
/// function is found by its registered name (from a plan) or by its address
/// (from Task(f)).

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "raycc/runtime/api/serialization.h"
#include "raycc/runtime/api/shared_array.h"
#include "raycc/runtime/api/shared_bytes.h"

namespace raycc::internal {

// The registry's layout is part of the ABI a task library is built
// against: bump the inline namespace when RemoteFunction or RemoteMethod
// changes, so a stale library fails to load (an undefined symbol, reported
// by LoadGraph) instead of writing the old layout into this one.
inline namespace registry_v3 {

/// One argument as a callee receives it: its msgpack bytes or, when the
/// runtime holds it as a value of the parameter's very type (see
/// RemoteFunction::arg_types), that value, read without deserializing.
struct ArgView {
  ArgView(std::string_view b) : bytes(b) {}    // NOLINT: bytes convert implicitly
  ArgView(const std::string& b) : bytes(b) {}  // NOLINT
  explicit ArgView(const void* v) : value(v) {}
  /// Bytes that `keep` keeps valid beyond the call (an object in the node's
  /// shared-memory store): a SharedBytes or SharedArray parameter views
  /// them, no copy.
  ArgView(std::string_view b, std::shared_ptr<const void> k) : bytes(b), keep(std::move(k)) {}
  std::string_view bytes;
  const void* value = nullptr;
  std::shared_ptr<const void> keep;
};
using ArgBuffers = absl::InlinedVector<ArgView, 4>;  // (no allocation for up to 4)

/// The argument as a T: a copy of the value, or its bytes deserialized.
template <typename T>
T DecodeArg(const ArgView& arg) {
  if (arg.value != nullptr) return *static_cast<const T*>(arg.value);
  if constexpr (std::is_same_v<T, SharedBytes> || kIsSharedArray<T>) {
    size_t offset = 0, size = 0;
    if (arg.keep != nullptr && SharedBytesPayload(arg.bytes, &offset, &size)) {
      SharedBytes body(arg.keep, arg.bytes.data() + offset, size);
      if constexpr (std::is_same_v<T, SharedBytes>) {
        return body;
      } else if (T array; T::FromBody(body, &array)) {
        return array;
      }
    }
  }
  return Deserialize<T>(arg.bytes);
}

/// A result kept as the value it is: a Get of the same type hands it out
/// without a copy; its bytes are made only when something needs them.
struct TypedValue {
  std::shared_ptr<const void> value;
  const std::type_info* type = nullptr;
  std::string (*serialize)(const void*) = nullptr;
  /// Its bytes measured, then written into room of that size (a large
  /// result goes straight into a node's store: no buffer on the way).
  size_t (*size_of)(const void*) = nullptr;
  bool (*write_into)(const void*, char*, size_t) = nullptr;
};

/// Results of a few bytes whatever their value (see small_result).
template <typename R>
constexpr bool kSmallResult =
    std::is_void_v<R> || std::is_arithmetic_v<std::decay_t<R>> || std::is_enum_v<std::decay_t<R>>;

template <typename R>
TypedValue MakeTypedValue(R&& result) {
  using D = std::decay_t<R>;
  return {std::make_shared<const D>(std::forward<R>(result)), &typeid(D), &SerializeErased<D>,
          &SerializedSizeErased<D>, &SerializeIntoErased<D>};
}

/// A registered free function (a task, or an actor factory returning C*).
struct RemoteFunction {
  /// The arity of a function that takes any number of arguments (a
  /// compiled plan's builtins).
  static constexpr size_t kAnyArity = static_cast<size_t>(-1);
  std::string name;
  size_t arity = 0;
  /// typeid of each (decayed) parameter; empty for fused chains and
  /// builtins, which take bytes only.
  std::vector<const std::type_info*> arg_types;
  /// Runs the function on serialized arguments; returns the serialized
  /// result (msgpack nil for void). Exceptions from user code propagate.
  std::function<std::string(const ArgBuffers&)> invoke;
  /// The same, keeping a non-void result as a value (unset for void
  /// functions, fused chains and builtins: those use `invoke`).
  std::function<TypedValue(const ArgBuffers&)> invoke_value;
  /// For factories: builds the actor instance; `destroy` deletes it.
  std::function<void*(const ArgBuffers&)> create;
  std::function<void(void*)> destroy;
  /// For factories: typeid(C).name() of the actor class.
  std::string actor_type;
  /// typeid of the (decayed) result; null for fused chains and builtins.
  const std::type_info* result_type = nullptr;
  /// The result is a few bytes whatever its value (void, a number, an
  /// enum): never worth writing into a store, so it is serialized at once.
  bool small_result = false;
  /// The function itself (which module it lives in tells a library loaded
  /// twice from two different functions of one name).
  const void* address = nullptr;
  /// Filled by the registry: the C++ signature, e.g. "int(int, int)"
  /// (empty when the types are not known), and its 64-bit FNV-1a hash, the
  /// same in every process built from the same source.
  std::string signature;
  uint64_t fingerprint = 0;
};

/// A registered actor method.
struct RemoteMethod {
  std::string name;
  size_t arity = 0;
  std::vector<const std::type_info*> arg_types;  // as RemoteFunction's
  std::function<std::string(void* self, const ArgBuffers&)> invoke;
  /// Keeps a non-void result as a value (see RemoteFunction).
  std::function<TypedValue(void* self, const ArgBuffers&)> invoke_value;
  const std::type_info* result_type = nullptr;
  bool small_result = false;  // (as RemoteFunction's)
  const std::type_info* class_type = nullptr;
  /// As RemoteFunction's: "int(Counter&, int)" (the class first).
  std::string signature;
  uint64_t fingerprint = 0;
};

/// A function pointer type without its noexcept (a noexcept function is
/// registered, and found, as the plain one).
template <typename F>
struct WithoutNoexcept {
  using type = F;
};
template <typename R, typename... A>
struct WithoutNoexcept<R (*)(A...) noexcept> {
  using type = R (*)(A...);
};
template <typename C, typename R, typename... A>
struct WithoutNoexcept<R (C::*)(A...) noexcept> {
  using type = R (C::*)(A...);
};
template <typename C, typename R, typename... A>
struct WithoutNoexcept<R (C::*)(A...) const noexcept> {
  using type = R (C::*)(A...) const;
};

/// Bytes identifying a function or member-function pointer.
template <typename F>
std::string KeyOf(F f) {
  using Plain = typename WithoutNoexcept<F>::type;
  const Plain plain = f;
  std::string key(typeid(Plain).name());
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(&plain), sizeof(Plain));
  return key;
}

/// 64-bit FNV-1a of `text` (signature fingerprints).
uint64_t Fingerprint(std::string_view text);

/// Registration and lookup; thread-safe.
///
/// Every registration keeps its own entry, so a lookup by key (the dynamic
/// API) always finds the very function it names. Two *different* functions
/// under one name (two signatures, or two addresses in one module) make the
/// name ambiguous: a lookup by name then throws RayccError naming both, so
/// a plan or a worker never runs the wrong one. The same function
/// registered again (a task library loaded next to the program it came
/// from) is harmless: the first registration serves the name.
class RemoteRegistry {
 public:
  static RemoteRegistry& Instance();
  void AddFunction(std::string key, RemoteFunction function);
  void AddMethod(std::string key, RemoteMethod method);
  /// Null when not registered.
  const RemoteFunction* FunctionByKey(const std::string& key) const;
  const RemoteMethod* MethodByKey(const std::string& key) const;
  /// Null when not registered; throws RayccError when the name is ambiguous.
  const RemoteFunction* FunctionByName(std::string_view name) const;
  const RemoteMethod* MethodByName(std::string_view name) const;
  /// As FunctionByName, and when `signature` is not empty, throws
  /// RayccError naming the function and both signatures unless the
  /// registered one is the same (a stale library must never run).
  const RemoteFunction* FunctionByName(std::string_view name, std::string_view signature) const;
  const RemoteMethod* MethodByName(std::string_view name, std::string_view signature) const;

 private:
  struct Impl;
  RemoteRegistry();
  std::unique_ptr<Impl> impl_;
};

/// Splits "Plus, Counter::Create, &Counter::Add" into trimmed names without
/// a leading '&'.
std::vector<std::string> SplitRemoteNames(std::string_view names);

template <typename Tuple, size_t... I>
Tuple DecodeArgs(const ArgBuffers& args, std::index_sequence<I...>) {
  return Tuple(DecodeArg<std::tuple_element_t<I, Tuple>>(args[I])...);
}

template <typename R, typename... A>
void RegisterOne(const std::string& name, R (*f)(A...)) {
  using Args = std::tuple<std::decay_t<A>...>;
  RemoteFunction fn;
  fn.name = name;
  fn.arity = sizeof...(A);
  fn.arg_types = {&typeid(std::decay_t<A>)...};
  fn.result_type = &typeid(std::decay_t<R>);
  fn.small_result = kSmallResult<R>;
  fn.address = reinterpret_cast<const void*>(f);
  if constexpr (std::is_pointer_v<R> && std::is_class_v<std::remove_pointer_t<R>>) {
    using C = std::remove_pointer_t<R>;
    fn.create = [f](const ArgBuffers& args) -> void* {
      return std::apply(f, DecodeArgs<Args>(args, std::index_sequence_for<A...>{}));
    };
    fn.destroy = [](void* p) { delete static_cast<C*>(p); };
    fn.actor_type = typeid(C).name();
  } else {
    fn.invoke = [f](const ArgBuffers& args) -> std::string {
      Args decoded = DecodeArgs<Args>(args, std::index_sequence_for<A...>{});
      if constexpr (std::is_void_v<R>) {
        std::apply(f, std::move(decoded));
        return Serialize(msgpack::type::nil_t());
      } else {
        return Serialize(std::apply(f, std::move(decoded)));
      }
    };
    if constexpr (!std::is_void_v<R>) {
      fn.invoke_value = [f](const ArgBuffers& args) {
        return MakeTypedValue(std::apply(f, DecodeArgs<Args>(args, std::index_sequence_for<A...>{})));
      };
    }
  }
  RemoteRegistry::Instance().AddFunction(KeyOf(f), std::move(fn));
}

template <typename M, typename C, typename R, typename... A>
void RegisterMethod(const std::string& name, M m) {
  using Args = std::tuple<std::decay_t<A>...>;
  RemoteMethod method;
  method.name = name;
  method.arity = sizeof...(A);
  method.arg_types = {&typeid(std::decay_t<A>)...};
  method.result_type = &typeid(std::decay_t<R>);
  method.small_result = kSmallResult<R>;
  method.class_type = &typeid(C);
  method.invoke = [m](void* self, const ArgBuffers& args) -> std::string {
    Args decoded = DecodeArgs<Args>(args, std::index_sequence_for<A...>{});
    auto call = [&](auto&&... a) -> decltype(auto) { return (static_cast<C*>(self)->*m)(std::move(a)...); };
    if constexpr (std::is_void_v<R>) {
      std::apply(call, std::move(decoded));
      return Serialize(msgpack::type::nil_t());
    } else {
      return Serialize(std::apply(call, std::move(decoded)));
    }
  };
  if constexpr (!std::is_void_v<R>) {
    method.invoke_value = [m](void* self, const ArgBuffers& args) {
      Args decoded = DecodeArgs<Args>(args, std::index_sequence_for<A...>{});
      auto call = [&](auto&&... a) -> decltype(auto) { return (static_cast<C*>(self)->*m)(std::move(a)...); };
      return MakeTypedValue(std::apply(call, std::move(decoded)));
    };
  }
  RemoteRegistry::Instance().AddMethod(KeyOf(m), std::move(method));
}

template <typename C, typename R, typename... A>
void RegisterOne(const std::string& name, R (C::*m)(A...)) {
  RegisterMethod<R (C::*)(A...), C, R, A...>(name, m);
}

template <typename C, typename R, typename... A>
void RegisterOne(const std::string& name, R (C::*m)(A...) const) {
  RegisterMethod<R (C::*)(A...) const, C, R, A...>(name, m);
}

/// `f` taking one more argument (a gate: a compiled plan's control
/// dependency), which it ignores, registered as "<name>+after" once per
/// process and kept for its life. Any process derives the same one, so a
/// cluster's workers run what a driver's plan names.
const RemoteFunction* GatedFunction(const RemoteFunction* f);
const RemoteMethod* GatedMethod(const RemoteMethod* m);

template <typename... F>
bool RegisterRemote(const char* names, F... fs) {
  std::vector<std::string> split = SplitRemoteNames(names);
  size_t i = 0;
  (RegisterOne(split.at(i++), fs), ...);
  return true;
}

}  // namespace registry_v3
}  // namespace raycc::internal

#define RAYCC_INTERNAL_CONCAT2(a, b) a##b
#define RAYCC_INTERNAL_CONCAT(a, b) RAYCC_INTERNAL_CONCAT2(a, b)

/// Registers functions, actor factories (static C* C::Create(...)) and actor
/// methods (&C::Method) under their spelled names:
/// `RAYCC_REMOTE(Plus, Counter::Create, &Counter::Add);`
#define RAYCC_REMOTE(...)                                                                           \
  [[maybe_unused]] static const bool RAYCC_INTERNAL_CONCAT(raycc_remote_registered_, __COUNTER__) = \
      ::raycc::internal::RegisterRemote(#__VA_ARGS__, __VA_ARGS__)
