#pragma once

/// \file
/// The head's job agent (JobService, served by raycc-gcs): a job submitted
/// from any machine runs here, under a supervisor (`raycc __supervise`)
/// started detached with its log in <session>/jobs/<name>/log. The agent
/// serves that log to whoever has the cluster token and stops a job by
/// asking its supervisor (SIGTERM; the supervisor ends the program, SIGKILL
/// after its grace period) and waiting for it. The job's record in the GCS
/// KV is the submitter's and its supervisor's; the agent keeps only the
/// supervisors it started (a head restarted since does not know them: it
/// says so rather than guess at a pid).

#include <chrono>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "raycc/proto/job_service.grpc.pb.h"
#include "rpc/auth.h"

namespace raycc::gcs {

struct JobAgentOptions {
  /// The head's session folder (jobs go in jobs/ under it); empty: this
  /// head takes no jobs (StartJob says how to start one that does).
  std::string session_dir;
  /// The raycc executable, whose `__supervise` command supervises a job.
  std::string raycc;
  /// Given to jobs: where the cluster is reached from this machine, and its token.
  std::string gcs_address;
  std::string token;
  /// How long StopJob waits for a supervisor to end its program and exit.
  std::chrono::milliseconds stop_wait{std::chrono::seconds(15)};
};

class JobAgent final : public proto::JobService::Service {
 public:
  explicit JobAgent(JobAgentOptions options);
  ~JobAgent() override;
  /// Once the head's port is known.
  void SetGcsAddress(std::string address);

  grpc::Status StartJob(grpc::ServerContext* context, const proto::StartJobRequest* request,
                        proto::StartJobReply* reply) override;
  grpc::Status ReadJobLog(grpc::ServerContext* context, const proto::ReadJobLogRequest* request,
                          proto::ReadJobLogReply* reply) override;
  grpc::Status StopJob(grpc::ServerContext* context, const proto::StopJobRequest* request,
                       proto::StopJobReply* reply) override;

  /// A job's name: 1 to 128 of letters, digits, '-', '_' and '.', not "."
  /// or ".." (it names a folder).
  static absl::Status CheckJobName(const std::string& name);

 private:
  struct Supervisor {
    int pid = 0;
    int pidfd = -1;  // readable once it exited
  };
  static bool Exited(const Supervisor& supervisor);
  std::string JobDir(const std::string& name) const;

  JobAgentOptions options_;
  rpc::TokenCheck auth_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Supervisor> supervisors_;  // by job name
};

}  // namespace raycc::gcs
