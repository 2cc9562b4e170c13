#pragma once

/// \file
/// Where the control service keeps its tables: named tables of byte values
/// (serialized protos) keyed by bytes. In memory by default; the Redis store
/// (fault-tolerant GCS) implements the same interface.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace raycc::gcs {

/// The tables the GCS components keep.
namespace tables {
inline constexpr absl::string_view kNodes = "nodes";
inline constexpr absl::string_view kActors = "actors";
inline constexpr absl::string_view kPlacementGroups = "placement_groups";
inline constexpr absl::string_view kJobs = "jobs";
/// Counters (the next job id).
inline constexpr absl::string_view kMeta = "meta";
/// Key-value namespaces are tables "kv:<namespace>".
std::string KvTable(absl::string_view ns);
}  // namespace tables

/// Tables of values by key. Implementations are thread-safe; an error is a
/// storage failure (the store is unreachable), never "not found".
class GcsStorageInterface {
 public:
  virtual ~GcsStorageInterface() = default;
  /// Sets `key` in `table` to `value` (creating the table).
  virtual absl::Status Put(absl::string_view table, absl::string_view key, std::string value) = 0;
  /// The value of `key`, or nullopt when there is none.
  virtual absl::StatusOr<std::optional<std::string>> Get(absl::string_view table, absl::string_view key) = 0;
  /// Removes `key`; true when it was there.
  virtual absl::StatusOr<bool> Delete(absl::string_view table, absl::string_view key) = 0;
  /// Every entry of `table` whose key starts with `prefix`, in key order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(absl::string_view table,
                                                                                absl::string_view prefix) = 0;
};

/// Reads every record of `table` back (a restarted GCS): each key as an
/// `Id` and each value parsed as a `Record`, handed to `add(id, record)`
/// when `valid(key, record)` holds. DataLoss naming the `what` record and
/// its key (hex) for the first that does not parse or is not valid.
template <typename Id, typename Record, typename Valid, typename Add>
absl::Status LoadTable(GcsStorageInterface& storage, absl::string_view table, absl::string_view what,
                       Valid&& valid, Add&& add) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> stored = storage.Scan(table, "");
  if (!stored.ok()) return stored.status();
  for (const auto& [key, value] : *stored) {
    Record record;
    absl::StatusOr<Id> id = Id::FromBinary(key);
    if (!id.ok() || !record.ParseFromString(value) || !valid(key, record)) {
      return absl::DataLossError(
          absl::StrCat("stored ", what, " record ", absl::BytesToHexString(key), " does not parse"));
    }
    add(*id, std::move(record));
  }
  return absl::OkStatus();
}

}  // namespace raycc::gcs
