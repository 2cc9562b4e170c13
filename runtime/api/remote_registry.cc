#include "raycc/runtime/api/remote_registry.h"

#include <cxxabi.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "raycc/runtime/api/errors.h"

namespace raycc::internal {
inline namespace registry_v3 {

namespace {

std::string TypeName(const std::type_info* type) {
  if (type == nullptr) return "?";
  int status = 0;
  char* demangled = abi::__cxa_demangle(type->name(), nullptr, nullptr, &status);
  std::string out = status == 0 && demangled != nullptr ? demangled : type->name();
  std::free(demangled);
  return out;
}

std::string Signature(const std::type_info* result, const std::type_info* self,
                      const std::vector<const std::type_info*>& args) {
  if (result == nullptr) return "";  // fused chains and builtins
  std::vector<std::string> params;
  if (self != nullptr) params.push_back(TypeName(self) + "&");
  for (const std::type_info* a : args) params.push_back(TypeName(a));
  return absl::StrCat(TypeName(result), "(", absl::StrJoin(params, ", "), ")");
}

// The module (executable or shared library) `address` lies in; null when
// unknown.
const void* ModuleOf(const void* address) {
  Dl_info info;
  if (address == nullptr || dladdr(address, &info) == 0) return nullptr;
  return info.dli_fbase;
}

// One name's registrations: the first serves the name; `conflict` says why
// the name is ambiguous, once a different function came under it.
template <typename T>
struct Named {
  const T* first = nullptr;
  std::string conflict;
};

}  // namespace

uint64_t Fingerprint(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

struct RemoteRegistry::Impl {
  mutable std::mutex mu;
  // Entries are never removed, so pointers to them stay valid.
  std::vector<std::unique_ptr<RemoteFunction>> functions;
  std::vector<std::unique_ptr<RemoteMethod>> methods;
  absl::flat_hash_map<std::string, Named<RemoteFunction>> functions_by_name;
  absl::flat_hash_map<std::string, const RemoteFunction*> functions_by_key;
  absl::flat_hash_map<std::string, Named<RemoteMethod>> methods_by_name;
  absl::flat_hash_map<std::string, const RemoteMethod*> methods_by_key;
};

RemoteRegistry::RemoteRegistry() : impl_(std::make_unique<Impl>()) {}

RemoteRegistry& RemoteRegistry::Instance() {
  static RemoteRegistry* registry = new RemoteRegistry();
  return *registry;
}

void RemoteRegistry::AddFunction(std::string key, RemoteFunction function) {
  function.signature = Signature(function.result_type, nullptr, function.arg_types);
  function.fingerprint = Fingerprint(function.signature);
  std::lock_guard<std::mutex> lock(impl_->mu);
  // The same function under the same name again: nothing new. (Under
  // another name it is registered again, and its address keeps the first.)
  auto [by_key, fresh] = impl_->functions_by_key.try_emplace(key, nullptr);
  if (!fresh && by_key->second->name == function.name) return;
  const RemoteFunction* added =
      impl_->functions.emplace_back(std::make_unique<RemoteFunction>(std::move(function))).get();
  if (fresh) by_key->second = added;
  Named<RemoteFunction>& named = impl_->functions_by_name[added->name];
  if (named.first == nullptr) {
    named.first = added;
    return;
  }
  const RemoteFunction& first = *named.first;
  // Another copy of one function (a task library next to the program it
  // was built from) has the same signature and lives in another module.
  bool other_module =
      ModuleOf(first.address) != ModuleOf(added->address) || ModuleOf(added->address) == nullptr;
  if (first.signature == added->signature && other_module) return;
  if (named.conflict.empty()) {
    named.conflict = first.signature == added->signature
                         ? absl::StrCat("two different functions are registered as '", added->name,
                                        "' (both ", added->signature, ")")
                         : absl::StrCat("two functions are registered as '", added->name,
                                        "': ", first.signature, " and ", added->signature);
    named.conflict += "; give them distinct names in RAYCC_REMOTE";
  }
}

void RemoteRegistry::AddMethod(std::string key, RemoteMethod method) {
  method.signature = Signature(method.result_type, method.class_type, method.arg_types);
  method.fingerprint = Fingerprint(method.signature);
  std::lock_guard<std::mutex> lock(impl_->mu);
  // The same function under the same name again: nothing new. (Under
  // another name it is registered again, and its address keeps the first.)
  auto [by_key, fresh] = impl_->methods_by_key.try_emplace(key, nullptr);
  if (!fresh && by_key->second->name == method.name) return;
  const RemoteMethod* added =
      impl_->methods.emplace_back(std::make_unique<RemoteMethod>(std::move(method))).get();
  if (fresh) by_key->second = added;
  Named<RemoteMethod>& named = impl_->methods_by_name[added->name];
  if (named.first == nullptr) {
    named.first = added;
    return;
  }
  // (A member pointer tells no module: methods of one name conflict only
  // when their signatures differ.)
  if (named.first->signature != added->signature && named.conflict.empty()) {
    named.conflict =
        absl::StrCat("two methods are registered as '", added->name, "': ", named.first->signature, " and ",
                     added->signature, "; give them distinct names in RAYCC_REMOTE");
  }
}

const RemoteFunction* RemoteRegistry::FunctionByKey(const std::string& key) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->functions_by_key.find(key);
  return it == impl_->functions_by_key.end() ? nullptr : it->second;
}

const RemoteMethod* RemoteRegistry::MethodByKey(const std::string& key) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->methods_by_key.find(key);
  return it == impl_->methods_by_key.end() ? nullptr : it->second;
}

namespace {

template <typename T, typename Map>
const T* ByName(const Map& map, std::string_view name, std::string_view signature, const char* kind) {
  auto it = map.find(std::string(name));
  if (it == map.end()) return nullptr;
  if (!it->second.conflict.empty()) throw RayccError(it->second.conflict);
  const T* found = it->second.first;
  if (!signature.empty() && !found->signature.empty() && found->signature != signature) {
    throw RayccError(absl::StrCat(kind, " '", std::string(name), "' is registered as ", found->signature,
                                  ", but ", std::string(signature), " was asked for (a stale library?)"));
  }
  return found;
}

}  // namespace

const RemoteFunction* RemoteRegistry::FunctionByName(std::string_view name) const {
  return FunctionByName(name, {});
}

const RemoteFunction* RemoteRegistry::FunctionByName(std::string_view name,
                                                     std::string_view signature) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return ByName<RemoteFunction>(impl_->functions_by_name, name, signature, "function");
}

const RemoteMethod* RemoteRegistry::MethodByName(std::string_view name) const {
  return MethodByName(name, {});
}

const RemoteMethod* RemoteRegistry::MethodByName(std::string_view name, std::string_view signature) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return ByName<RemoteMethod>(impl_->methods_by_name, name, signature, "method");
}

std::vector<std::string> SplitRemoteNames(std::string_view names) {
  std::vector<std::string> out;
  int depth = 0;
  std::string current;
  auto flush = [&] {
    std::string name(absl::StripAsciiWhitespace(current));
    if (!name.empty() && name.front() == '&') name = std::string(absl::StripAsciiWhitespace(name.substr(1)));
    // An overload picked by a macro, RAY_FUNC(f, int, int): named
    // f(int, int), so that overloads get distinct names.
    const size_t open = name.find('(');
    if (open != std::string::npos && open > 0 && name.back() == ')' &&
        std::all_of(name.begin(), name.begin() + open,
                    [](char c) { return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_'; })) {
      std::vector<std::string> parts =
          SplitRemoteNames(std::string_view(name).substr(open + 1, name.size() - open - 2));
      if (!parts.empty() && !parts.front().empty()) {
        name =
            absl::StrCat(parts.front(), "(",
                         absl::StrJoin(std::vector<std::string>(parts.begin() + 1, parts.end()), ", "), ")");
      }
    }
    out.push_back(name);
    current.clear();
  };
  for (char c : names) {
    if (c == '<' || c == '(') ++depth;
    if (c == '>' || c == ')') --depth;
    if (c == ',' && depth == 0) {
      flush();
    } else {
      current.push_back(c);
    }
  }
  flush();
  return out;
}

namespace {

ArgBuffers WithoutLast(const ArgBuffers& args) { return ArgBuffers(args.begin(), args.end() - 1); }

}  // namespace

const RemoteFunction* GatedFunction(const RemoteFunction* f) {
  std::string name = f->name + "+after";
  RemoteRegistry& registry = RemoteRegistry::Instance();
  if (const RemoteFunction* existing = registry.FunctionByName(name)) return existing;
  RemoteFunction gated = *f;
  gated.name = name;
  gated.arity = f->arity == RemoteFunction::kAnyArity ? f->arity : f->arity + 1;
  gated.address = nullptr;
  gated.signature.clear();
  if (!gated.arg_types.empty()) gated.arg_types.push_back(&typeid(msgpack::type::nil_t));
  if (f->invoke) gated.invoke = [f](const ArgBuffers& args) { return f->invoke(WithoutLast(args)); };
  if (f->invoke_value)
    gated.invoke_value = [f](const ArgBuffers& args) { return f->invoke_value(WithoutLast(args)); };
  if (f->create) gated.create = [f](const ArgBuffers& args) { return f->create(WithoutLast(args)); };
  registry.AddFunction("gated:" + name, std::move(gated));
  return registry.FunctionByName(name);
}

const RemoteMethod* GatedMethod(const RemoteMethod* m) {
  std::string name = m->name + "+after";
  RemoteRegistry& registry = RemoteRegistry::Instance();
  if (const RemoteMethod* existing = registry.MethodByName(name)) return existing;
  RemoteMethod gated = *m;
  gated.name = name;
  gated.arity = m->arity + 1;
  gated.signature.clear();
  if (!gated.arg_types.empty()) gated.arg_types.push_back(&typeid(msgpack::type::nil_t));
  gated.invoke = [m](void* self, const ArgBuffers& args) { return m->invoke(self, WithoutLast(args)); };
  if (m->invoke_value)
    gated.invoke_value = [m](void* self, const ArgBuffers& args) {
      return m->invoke_value(self, WithoutLast(args));
    };
  registry.AddMethod("gated:" + name, std::move(gated));
  return registry.MethodByName(name);
}

}  // namespace registry_v3
}  // namespace raycc::internal
