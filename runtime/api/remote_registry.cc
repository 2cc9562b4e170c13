#include "raycc/runtime/api/remote_registry.h"

#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"

namespace raycc::internal {

struct RemoteRegistry::Impl {
  mutable std::mutex mu;
  // Entries are never removed, so pointers to them stay valid.
  absl::flat_hash_map<std::string, std::unique_ptr<RemoteFunction>> functions_by_name;
  absl::flat_hash_map<std::string, const RemoteFunction*> functions_by_key;
  absl::flat_hash_map<std::string, std::unique_ptr<RemoteMethod>> methods_by_name;
  absl::flat_hash_map<std::string, const RemoteMethod*> methods_by_key;
};

RemoteRegistry::RemoteRegistry() : impl_(std::make_unique<Impl>()) {}

RemoteRegistry& RemoteRegistry::Instance() {
  static RemoteRegistry* registry = new RemoteRegistry();
  return *registry;
}

void RemoteRegistry::AddFunction(std::string key, RemoteFunction function) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& slot = impl_->functions_by_name[function.name];
  if (!slot) slot = std::make_unique<RemoteFunction>(std::move(function));
  impl_->functions_by_key[key] = slot.get();
}

void RemoteRegistry::AddMethod(std::string key, RemoteMethod method) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& slot = impl_->methods_by_name[method.name];
  if (!slot) slot = std::make_unique<RemoteMethod>(std::move(method));
  impl_->methods_by_key[key] = slot.get();
}

const RemoteFunction* RemoteRegistry::FunctionByKey(const std::string& key) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->functions_by_key.find(key);
  return it == impl_->functions_by_key.end() ? nullptr : it->second;
}

const RemoteFunction* RemoteRegistry::FunctionByName(std::string_view name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->functions_by_name.find(std::string(name));
  return it == impl_->functions_by_name.end() ? nullptr : it->second.get();
}

const RemoteMethod* RemoteRegistry::MethodByKey(const std::string& key) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->methods_by_key.find(key);
  return it == impl_->methods_by_key.end() ? nullptr : it->second;
}

const RemoteMethod* RemoteRegistry::MethodByName(std::string_view name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->methods_by_name.find(std::string(name));
  return it == impl_->methods_by_name.end() ? nullptr : it->second.get();
}

std::vector<std::string> SplitRemoteNames(std::string_view names) {
  std::vector<std::string> out;
  int depth = 0;
  std::string current;
  auto flush = [&] {
    std::string name(absl::StripAsciiWhitespace(current));
    if (!name.empty() && name.front() == '&') name = std::string(absl::StripAsciiWhitespace(name.substr(1)));
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

}  // namespace raycc::internal
