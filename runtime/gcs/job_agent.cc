#include "gcs/job_agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rpc/daemon.h"

namespace raycc::gcs {
namespace {

constexpr size_t kLogChunk = 1 << 20;

grpc::Status Error(grpc::StatusCode code, std::string message) { return grpc::Status(code, message); }

}  // namespace

JobAgent::JobAgent(JobAgentOptions options) : options_(std::move(options)), auth_(options_.token) {}

JobAgent::~JobAgent() {
  for (auto& [name, supervisor] : supervisors_) ::close(supervisor.pidfd);
}

void JobAgent::SetGcsAddress(std::string address) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.gcs_address = std::move(address);
}

absl::Status JobAgent::CheckJobName(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 128 && name != "." && name != ".." &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("the job name '", name, "' is not 1 to 128 of letters, digits, '-', '_' and '.'"));
}

std::string JobAgent::JobDir(const std::string& name) const {
  return absl::StrCat(options_.session_dir, "/jobs/", name);
}

bool JobAgent::Exited(const Supervisor& supervisor) {
  pollfd fd{supervisor.pidfd, POLLIN, 0};
  return ::poll(&fd, 1, 0) > 0;
}

grpc::Status JobAgent::StartJob(grpc::ServerContext* context, const proto::StartJobRequest* request,
                                proto::StartJobReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  if (absl::Status name = CheckJobName(request->name()); !name.ok()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("StartJob: ", name.message()));
  }
  if (request->argv().empty() || request->argv(0).empty()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "StartJob: the job has no program");
  }
  const std::string& hash = request->program_sha256();
  if (!hash.empty() && (hash.size() != 64 || !std::all_of(hash.begin(), hash.end(), [](char c) {
                          return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
                        }))) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "StartJob: program_sha256 is not 64 hex digits");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.session_dir.empty()) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION,
                 "this head takes no jobs: its raycc-gcs has no session folder (start the head with "
                 "`raycc start --head`, or give raycc-gcs --session-dir)");
  }
  if (::access(options_.raycc.c_str(), X_OK) != 0) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION,
                 absl::StrCat("this head cannot supervise jobs: '", options_.raycc,
                              "' (raycc, which supervises them) is not an executable here"));
  }
  // Forget supervisors that are done (their jobs' records say how they ended).
  for (auto it = supervisors_.begin(); it != supervisors_.end();) {
    auto current = it++;
    if (Exited(current->second)) {
      ::close(current->second.pidfd);
      supervisors_.erase(current);
    }
  }
  if (supervisors_.contains(request->name())) {
    return Error(grpc::StatusCode::ALREADY_EXISTS,
                 absl::StrCat("StartJob: job '", request->name(), "' is running here already"));
  }
  const std::string dir = JobDir(request->name());
  ::mkdir(absl::StrCat(options_.session_dir, "/jobs").c_str(), 0755);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Error(grpc::StatusCode::INTERNAL,
                 absl::StrCat("StartJob: cannot make '", dir, "': ", std::strerror(errno)));
  }
  std::vector<std::string> argv{options_.raycc, "__supervise", request->name(), dir, options_.gcs_address};
  if (!hash.empty()) argv.insert(argv.end(), {"--code", hash});
  argv.push_back("--");
  argv.insert(argv.end(), request->argv().begin(), request->argv().end());
  const std::string log = dir + "/log";
  absl::StatusOr<int> pid =
      rpc::SpawnDetached(argv, log, {absl::StrCat("RAYCC_AUTH_TOKEN=", options_.token)});
  if (!pid.ok()) return Error(grpc::StatusCode::INTERNAL, absl::StrCat("StartJob: ", pid.status().message()));
  Supervisor supervisor{*pid, static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0))};
  if (supervisor.pidfd < 0) {
    return Error(grpc::StatusCode::INTERNAL,
                 absl::StrCat("StartJob: the supervisor (pid ", *pid, ") is gone already: see ", log));
  }
  supervisors_[request->name()] = supervisor;
  reply->set_log_path(log);
  reply->set_supervisor_pid(*pid);
  return grpc::Status::OK;
}

grpc::Status JobAgent::ReadJobLog(grpc::ServerContext* context, const proto::ReadJobLogRequest* request,
                                  proto::ReadJobLogReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  if (absl::Status name = CheckJobName(request->name()); !name.ok()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("ReadJobLog: ", name.message()));
  }
  bool running = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = supervisors_.find(request->name());
    running = it != supervisors_.end() && !Exited(it->second);
  }
  // (Whether it runs is looked at first: a log read after it ended is whole.)
  const std::string log = JobDir(request->name()) + "/log";
  const int fd = options_.session_dir.empty() ? -1 : ::open(log.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Error(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("job '", request->name(),
                              "' has no log on this head (it ran elsewhere, or its "
                              "session folder was removed)"));
  }
  std::string data(kLogChunk, '\0');
  const ssize_t n = ::pread(fd, data.data(), data.size(), static_cast<off_t>(request->offset()));
  ::close(fd);
  data.resize(n > 0 ? static_cast<size_t>(n) : 0);
  reply->set_next_offset(request->offset() + data.size());
  reply->set_ended(!running && data.size() < kLogChunk);
  reply->set_data(std::move(data));
  return grpc::Status::OK;
}

grpc::Status JobAgent::StopJob(grpc::ServerContext* context, const proto::StopJobRequest* request,
                               proto::StopJobReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  if (absl::Status name = CheckJobName(request->name()); !name.ok()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("StopJob: ", name.message()));
  }
  Supervisor supervisor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = supervisors_.find(request->name());
    if (it == supervisors_.end() || Exited(it->second)) {
      reply->set_stopped(false);
      return grpc::Status::OK;
    }
    supervisor.pid = it->second.pid;
    // (Its own fd to wait on: a StartJob meanwhile may forget the entry.)
    supervisor.pidfd = ::fcntl(it->second.pidfd, F_DUPFD_CLOEXEC, 0);
    // (By its pidfd: the pid cannot have been reused while the fd is open.)
    ::syscall(SYS_pidfd_send_signal, it->second.pidfd, SIGTERM, nullptr, 0);
  }
  pollfd fd{supervisor.pidfd, POLLIN, 0};
  const bool exited = ::poll(&fd, 1, static_cast<int>(options_.stop_wait.count())) > 0;
  ::close(supervisor.pidfd);
  if (!exited) {
    return Error(grpc::StatusCode::DEADLINE_EXCEEDED,
                 absl::StrCat("StopJob: job '", request->name(), "'s supervisor (pid ", supervisor.pid,
                              ") did not exit within ", options_.stop_wait.count(), " ms"));
  }
  reply->set_stopped(true);
  return grpc::Status::OK;
}

}  // namespace raycc::gcs
