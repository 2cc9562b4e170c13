#include "gcs/kv_store.h"

namespace raycc::gcs {

absl::StatusOr<bool> KvStore::Put(const std::string& ns, const std::string& key, std::string value,
                                  bool overwrite) {
  if (key.empty()) return absl::InvalidArgumentError("kv: the key is empty");
  std::string table = tables::KvTable(ns);
  absl::StatusOr<std::optional<std::string>> old = storage_.Get(table, key);
  if (!old.ok()) return old.status();
  if (old->has_value() && !overwrite) return false;
  if (absl::Status s = storage_.Put(table, key, std::move(value)); !s.ok()) return s;
  return !old->has_value();
}

absl::StatusOr<std::optional<std::string>> KvStore::Get(const std::string& ns, const std::string& key) {
  return storage_.Get(tables::KvTable(ns), key);
}

absl::StatusOr<bool> KvStore::Del(const std::string& ns, const std::string& key) {
  return storage_.Delete(tables::KvTable(ns), key);
}

absl::StatusOr<std::vector<std::string>> KvStore::Keys(const std::string& ns, const std::string& prefix) {
  auto entries = storage_.Scan(tables::KvTable(ns), prefix);
  if (!entries.ok()) return entries.status();
  std::vector<std::string> keys;
  keys.reserve(entries->size());
  for (auto& [key, value] : *entries) keys.push_back(std::move(key));
  return keys;
}

}  // namespace raycc::gcs
