#pragma once

/// \file
/// The GCS's jobs: ids handed out in order (the counter is stored, so a
/// restarted GCS on the same storage never reuses one), each job's driver
/// and whether it finished. Not thread-safe (the Gcs serializes).

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "gcs/gcs_storage_interface.h"
#include "raycc/proto/gcs_service.pb.h"
#include "raycc/runtime/common/id.h"

namespace raycc::gcs {

class JobTable {
 public:
  explicit JobTable(GcsStorageInterface& storage) : storage_(storage) {}

  /// A job id no one has had: 1, 2, ... (ResourceExhausted past 2^32 - 1).
  absl::StatusOr<JobId> NextJobId();
  /// A job started, with its driver. AlreadyExists for an id seen before.
  absl::Status Add(const JobId& id, const proto::Address& driver, int64_t now_ms);
  /// The job ended (idempotent). NotFound when unknown.
  absl::Status MarkFinished(const JobId& id, int64_t now_ms);
  const proto::JobInfo* Find(const JobId& id) const;
  /// The jobs that have finished, oldest end first.
  std::vector<JobId> Finished() const;
  /// Reads the table back from storage (a restarted GCS over Redis); call
  /// once, on an empty table. DataLoss naming the record that does not parse.
  absl::Status Load();

 private:
  GcsStorageInterface& storage_;
  absl::flat_hash_map<JobId, proto::JobInfo> jobs_;
};

}  // namespace raycc::gcs
