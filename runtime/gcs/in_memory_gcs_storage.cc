#include "gcs/in_memory_gcs_storage.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace raycc::gcs {

std::string tables::KvTable(absl::string_view ns) { return absl::StrCat("kv:", ns); }

absl::Status InMemoryGcsStorage::Put(absl::string_view table, absl::string_view key, std::string value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto t = tables_.find(table);
  if (t == tables_.end()) t = tables_.emplace(std::string(table), Table()).first;
  auto k = t->second.find(key);
  if (k == t->second.end()) {
    t->second.emplace(std::string(key), std::move(value));
  } else {
    k->second = std::move(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> InMemoryGcsStorage::Get(absl::string_view table,
                                                                   absl::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto t = tables_.find(table);
  if (t == tables_.end()) return std::nullopt;
  auto k = t->second.find(key);
  if (k == t->second.end()) return std::nullopt;
  return k->second;
}

absl::StatusOr<bool> InMemoryGcsStorage::Delete(absl::string_view table, absl::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto t = tables_.find(table);
  if (t == tables_.end()) return false;
  auto k = t->second.find(key);
  if (k == t->second.end()) return false;
  t->second.erase(k);
  return true;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> InMemoryGcsStorage::Scan(
    absl::string_view table, absl::string_view prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  auto t = tables_.find(table);
  if (t == tables_.end()) return out;
  for (auto k = t->second.lower_bound(prefix); k != t->second.end() && absl::StartsWith(k->first, prefix);
       ++k)
    out.emplace_back(k->first, k->second);
  return out;
}

}  // namespace raycc::gcs
