#include "rpc/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace raycc::rpc {

StopSignal::StopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Lives as long as the process: it waits in sigwait, which nothing else
  // interrupts, and holds no resource.
  std::thread([this, set] {
    int signal = 0;
    while (sigwait(&set, &signal) != 0) {
    }
    Stop(signal == SIGTERM ? "SIGTERM" : "SIGINT");
  }).detach();
}

void StopSignal::Stop(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  reason_ = reason;
  cv_.notify_all();
}

std::string StopSignal::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return stopped_; });
  return reason_;
}

absl::StatusOr<int> SpawnDetached(const std::vector<std::string>& argv, const std::string& log,
                                  const std::vector<std::string>& env) {
  if (argv.empty()) return absl::InvalidArgumentError("SpawnDetached: no program");
  // Everything the children use is made before the fork: between fork and
  // exec only async-signal-safe calls run.
  std::vector<std::string> strings = argv;
  std::vector<char*> args;
  for (std::string& arg : strings) args.push_back(arg.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const absl::string_view entry = *e;
    const bool overridden = std::any_of(env.begin(), env.end(), [&](const std::string& ours) {
      return entry.substr(0, entry.find('=') + 1) == absl::string_view(ours).substr(0, ours.find('=') + 1);
    });
    if (!overridden) env_strings.emplace_back(entry);
  }
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("cannot open '", log, "': ", std::strerror(errno)));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int pipe_fds[2];
  if (null_fd < 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return absl::InternalError(absl::StrCat("cannot start '", argv[0], "': ", std::strerror(err)));
  }
  const pid_t middle = ::fork();
  if (middle == 0) {
    // (_Fork: no atfork handlers in a child of a process with threads.)
    const pid_t pid = ::_Fork();
    if (pid == 0) {
      ::setsid();
      // An fd already in its place keeps its close-on-exec flag through
      // dup2: cleared by hand.
      for (auto [from, to] : {std::pair{null_fd, 0}, std::pair{log_fd, 1}, std::pair{log_fd, 2}}) {
        if (from == to) {
          ::fcntl(to, F_SETFD, 0);
        } else {
          ::dup2(from, to);
        }
      }
      ::syscall(SYS_close_range, 3u, ~0u, 0u);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
    (void)!::write(pipe_fds[1], &pid, sizeof(pid));
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  ::close(log_fd);
  ::close(null_fd);
  pid_t pid = -1;
  if (middle > 0) {
    while (::waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (::read(pipe_fds[0], &pid, sizeof(pid)) != sizeof(pid)) pid = -1;
  }
  ::close(pipe_fds[0]);
  if (pid <= 0) return absl::InternalError(absl::StrCat("cannot start '", argv[0], "': fork failed"));
  return static_cast<int>(pid);
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string partial = absl::StrCat(path, ".partial.", ::getpid());
  {
    std::ofstream out(partial, std::ios::trunc);
    out << text;
    if (!out) return absl::InternalError(absl::StrCat("cannot write '", partial, "'"));
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    return absl::InternalError(absl::StrCat("cannot write '", path, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::string>> ParseFlags(int argc, char** argv,
                                                              const std::vector<std::string>& flags) {
  std::map<std::string, std::string> values;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      values["help"] = "1";
      continue;
    }
    if (!absl::StartsWith(arg, "--"))
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    std::string name = arg.substr(2), value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      value = argv[++i];
    }
    if (std::find(flags.begin(), flags.end(), name) == flags.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    values[name] = value;
  }
  return values;
}

}  // namespace raycc::rpc
