#pragma once

/// \file
/// The GCS's key-value store: namespaces of byte keys and values (function
/// tables, uploaded programs by content hash, user metadata), straight
/// over storage. Thread-safe as its storage is.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gcs/gcs_storage_interface.h"

namespace raycc::gcs {

class KvStore {
 public:
  explicit KvStore(GcsStorageInterface& storage) : storage_(storage) {}

  /// Sets `key`; with `overwrite` false an existing key is kept. True when
  /// the key is new. InvalidArgument for an empty key.
  absl::StatusOr<bool> Put(const std::string& ns, const std::string& key, std::string value, bool overwrite);
  absl::StatusOr<std::optional<std::string>> Get(const std::string& ns, const std::string& key);
  /// True when it was there.
  absl::StatusOr<bool> Del(const std::string& ns, const std::string& key);
  /// The keys starting with `prefix`, in order.
  absl::StatusOr<std::vector<std::string>> Keys(const std::string& ns, const std::string& prefix);

 private:
  GcsStorageInterface& storage_;
};

}  // namespace raycc::gcs
