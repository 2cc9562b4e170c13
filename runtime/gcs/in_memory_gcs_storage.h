#pragma once

/// \file
/// The GCS storage of the embedded runtime and of a head started without
/// Redis: ordered maps in this process (lost with it).

#include <map>
#include <mutex>
#include <string>

#include "gcs/gcs_storage_interface.h"

namespace raycc::gcs {

class InMemoryGcsStorage final : public GcsStorageInterface {
 public:
  absl::Status Put(absl::string_view table, absl::string_view key, std::string value) override;
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view table, absl::string_view key) override;
  absl::StatusOr<bool> Delete(absl::string_view table, absl::string_view key) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(absl::string_view table,
                                                                        absl::string_view prefix) override;

 private:
  using Table = std::map<std::string, std::string, std::less<>>;
  std::mutex mu_;
  std::map<std::string, Table, std::less<>> tables_;
};

}  // namespace raycc::gcs
