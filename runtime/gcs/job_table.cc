#include "gcs/job_table.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace raycc::gcs {

absl::StatusOr<JobId> JobTable::NextJobId() {
  absl::StatusOr<std::optional<std::string>> stored = storage_.Get(tables::kMeta, "last_job");
  if (!stored.ok()) return stored.status();
  uint64_t last = 0;
  if (stored->has_value() && !absl::SimpleAtoi(**stored, &last)) {
    return absl::DataLossError("the stored job counter is not a number: '" + **stored + "'");
  }
  if (last >= std::numeric_limits<uint32_t>::max()) return absl::ResourceExhaustedError("no job ids left");
  if (absl::Status s = storage_.Put(tables::kMeta, "last_job", absl::StrCat(last + 1)); !s.ok()) return s;
  return JobId::FromInt(static_cast<uint32_t>(last + 1));
}

absl::Status JobTable::Load() {
  return LoadTable<JobId, proto::JobInfo>(
      storage_, tables::kJobs, "job", [](const std::string&, const proto::JobInfo&) { return true; },
      [&](const JobId& id, proto::JobInfo job) { jobs_.emplace(id, std::move(job)); });
}

std::vector<JobId> JobTable::Finished() const {
  std::vector<std::pair<int64_t, JobId>> ended;
  for (const auto& [id, info] : jobs_)
    if (info.finished()) ended.emplace_back(info.end_time_ms(), id);
  std::sort(ended.begin(), ended.end());
  std::vector<JobId> out;
  for (const auto& [when, id] : ended) out.push_back(id);
  return out;
}

absl::Status JobTable::Add(const JobId& id, const proto::Address& driver, int64_t now_ms) {
  if (jobs_.contains(id)) return absl::AlreadyExistsError("job " + id.Hex() + " was added already");
  proto::JobInfo info;
  info.set_job_id(id.Binary());
  *info.mutable_driver_address() = driver;
  info.set_start_time_ms(now_ms);
  if (absl::Status s = storage_.Put(tables::kJobs, id.Binary(), info.SerializeAsString()); !s.ok()) return s;
  jobs_.emplace(id, std::move(info));
  return absl::OkStatus();
}

absl::Status JobTable::MarkFinished(const JobId& id, int64_t now_ms) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return absl::NotFoundError("unknown job " + id.Hex());
  if (it->second.finished()) return absl::OkStatus();
  it->second.set_finished(true);
  it->second.set_end_time_ms(now_ms);
  return storage_.Put(tables::kJobs, id.Binary(), it->second.SerializeAsString());
}

const proto::JobInfo* JobTable::Find(const JobId& id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

}  // namespace raycc::gcs
