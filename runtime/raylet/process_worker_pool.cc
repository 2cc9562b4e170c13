#include "raylet/process_worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <future>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace raycc::raylet {
namespace {

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = strsignal(WTERMSIG(status));
    return absl::StrCat("killed by signal ", WTERMSIG(status),
                        name != nullptr ? absl::StrCat(" (", name, ")") : "");
  }
  return absl::StrCat("ended with status ", status);
}

}  // namespace

ProcessWorkerPool::ProcessWorkerPool(int kill_grace_ms) : kill_grace_ms_(kill_grace_ms) {
  reaper_ = std::thread([this] { Reap(); });
  launcher_ = std::thread([this] { Launch(); });
}

ProcessWorkerPool::~ProcessWorkerPool() { Shutdown(); }

void ProcessWorkerPool::SetExitCallback(ExitCallback callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_exit_ = std::move(callback);
}

absl::StatusOr<int> ProcessWorkerPool::Start(const WorkerLaunch& launch) {
  std::packaged_task<absl::StatusOr<int>()> job([&] { return Spawn(launch); });
  std::future<absl::StatusOr<int>> result = job.get_future();
  {
    std::lock_guard<std::mutex> lock(launch_mu_);
    if (launches_closed_) return absl::UnavailableError("the raylet is shutting down");
    launches_.push_back(&job);
  }
  launch_cv_.notify_one();
  return result.get();
}

void ProcessWorkerPool::Launch() {
  for (;;) {
    std::packaged_task<absl::StatusOr<int>()>* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(launch_mu_);
      launch_cv_.wait(lock, [&] { return launches_closed_ || !launches_.empty(); });
      if (launches_.empty()) return;
      job = launches_.front();
      launches_.pop_front();
    }
    (*job)();
  }
}

absl::StatusOr<int> ProcessWorkerPool::Spawn(const WorkerLaunch& launch) {
  // Everything the child needs is built before fork: between fork and exec
  // only async-signal-safe calls are allowed.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "RAYCC_", 6) != 0) env_strings.emplace_back(*e);
  }
  env_strings.insert(env_strings.end(), launch.env.begin(), launch.env.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string executable = launch.executable;
  char* argv[] = {executable.data(), nullptr};

  int log_fd = ::open(launch.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open the worker log '", launch.log_path, "': ", std::strerror(errno)));
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = ::getpid();

  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    ::close(log_fd);
    ::close(null_fd);
    return absl::UnavailableError("the raylet is shutting down");
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(log_fd);
    ::close(null_fd);
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start a worker process: fork: ", std::strerror(err)));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the raylet died already
    ::setpgid(0, 0);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv, envp.data());
    static const char kFailed[] = "raycc worker: exec of the job's executable failed\n";
    (void)!::write(2, kFailed, sizeof(kFailed) - 1);
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  by_pid_[pid] = launch.worker;
  pids_[launch.worker] = pid;
  started_.fetch_add(1);
  cv_.notify_all();
  return static_cast<int>(pid);
}

void ProcessWorkerPool::Kill(const WorkerId& worker) {
  int pid = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pids_.find(worker);
    if (it == pids_.end()) return;
    pid = it->second;
  }
  // A worker holds nothing that must be flushed: its owner retries or fails
  // what it ran.
  ::kill(pid, SIGKILL);
}

void ProcessWorkerPool::Reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      // No child right now: wait for one to start, or for the end.
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !by_pid_.empty(); });
      if (stopping_ && by_pid_.empty()) return;
      continue;
    }
    ExitCallback callback;
    WorkerId worker;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = by_pid_.find(pid);
      if (it == by_pid_.end()) continue;  // (not ours)
      worker = it->second;
      by_pid_.erase(it);
      pids_.erase(worker);
      exited_.fetch_add(1);
      if (!stopping_) callback = on_exit_;
      cv_.notify_all();
    }
    if (callback) callback(worker, DescribeExit(status));
  }
}

void ProcessWorkerPool::Shutdown() {
  std::vector<int> pids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !reaper_.joinable()) return;
    stopping_ = true;
    for (const auto& [pid, worker] : by_pid_) pids.push_back(pid);
    cv_.notify_all();
  }
  for (int pid : pids) ::kill(pid, SIGTERM);
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(kill_grace_ms_), [&] { return by_pid_.empty(); })) {
      for (const auto& [pid, worker] : by_pid_) ::kill(pid, SIGKILL);
    }
  }
  if (reaper_.joinable()) reaper_.join();
  // Last: the children's parent-death signal is tied to this thread.
  {
    std::lock_guard<std::mutex> lock(launch_mu_);
    launches_closed_ = true;
  }
  launch_cv_.notify_all();
  if (launcher_.joinable()) launcher_.join();
}

}  // namespace raycc::raylet
