#pragma once

// Processes a cluster test starts: each started by fork/exec and ended by
// the pid it got (SIGKILL at the latest when the Process goes); waits are
// bounded and wait on a pidfd or inotify, never on sleeps.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#ifndef REDIS_SERVER_BIN
#define REDIS_SERVER_BIN "/usr/bin/redis-server"
#endif

namespace raycc_test {

using namespace std::chrono_literals;

constexpr auto kStartTimeout = 30s;

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A daemon this test started, ended by its pid.
class Process {
 public:
  /// Runs `argv` with stdout and stderr to `log`, and `env` ("NAME=value")
  /// added to this process's environment.
  Process(std::vector<std::string> argv, const std::string& log, std::vector<std::string> env = {}) {
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      for (std::string& e : env) ::putenv(e.data());
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  }
  ~Process() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (pidfd_ >= 0) ::close(pidfd_);
  }
  pid_t pid() const { return pid_; }
  // A descriptor that becomes readable when the process exits.
  int pidfd() const { return pidfd_; }
  // Waits (bounded) for the exit; -1 if it did not exit in time.
  int WaitExit(std::chrono::milliseconds limit) {
    if (exited_) return code_;
    pollfd fd{pidfd_, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(limit.count())) != 1) return -1;
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) return -1;
    exited_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return code_;
  }
  int Stop() {
    ::kill(pid_, SIGTERM);
    return WaitExit(20s);
  }
  bool Alive() {
    pollfd fd{pidfd_, POLLIN, 0};
    return !exited_ && ::poll(&fd, 1, 0) == 0;
  }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool exited_ = false;
  int code_ = -1;
};

// The text of `path` once `done(text)` holds; what it held when `process`
// died or `limit` passed first. Waits on inotify (the file's folder: a
// write, an append or a rename) and the pidfd.
template <typename Done>
std::string WaitForFileText(const std::string& path, Done&& done, Process& process,
                            std::chrono::milliseconds limit = kStartTimeout) {
  int inotify = ::inotify_init1(IN_CLOEXEC);
  std::string dir = path.substr(0, path.rfind('/'));
  ::inotify_add_watch(inotify, dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE);
  auto end = std::chrono::steady_clock::now() + limit;
  std::string text;
  for (;;) {
    text = ReadAll(path);
    if (done(text)) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fds[2] = {{inotify, POLLIN, 0}, {process.pidfd(), POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(left.count())) <= 0 || (fds[1].revents & POLLIN)) {
      text = ReadAll(path);
      break;
    }
    char events[4096];
    (void)!::read(inotify, events, sizeof(events));
  }
  ::close(inotify);
  return text;
}

// The number in `path` once a daemon wrote it (by rename, so whole); 0 when
// `process` died or time ran out first.
inline int WaitForPort(const std::string& path, Process& process) {
  std::string text = WaitForFileText(
      path, [](const std::string& t) { return !t.empty() && t.back() == '\n'; }, process);
  return !text.empty() && text.back() == '\n' ? std::atoi(text.c_str()) : 0;
}

// Whether `done()` holds within `limit`, asking again at once each time:
// for a daemon's state no one signals, read by an RPC (which paces it).
template <typename Done>
bool Eventually(Done&& done, std::chrono::milliseconds limit = kStartTimeout) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return done();
  }
  return true;
}

// A loopback TCP port free now (bound to port 0 and closed: a daemon told to
// use it may still lose a race for it; callers retry).
inline int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

// A real redis-server on loopback for a test (no snapshots: its data lives
// as long as it does), started by pid and ended with this object. Null
// when none could be started (the caller says why and skips); `port` is
// its port. `extra` goes on its command line (e.g. --requirepass).
inline std::unique_ptr<Process> StartRedis(const std::string& dir, int* port,
                                           std::vector<std::string> extra = {}) {
  if (::access(REDIS_SERVER_BIN, X_OK) != 0) return nullptr;
  for (int attempt = 0; attempt < 5; ++attempt) {
    *port = FreeLoopbackPort();
    const std::string log = dir + "/redis-" + std::to_string(*port) + ".log";
    std::vector<std::string> argv{REDIS_SERVER_BIN,
                                  "--port",
                                  std::to_string(*port),
                                  "--bind",
                                  "127.0.0.1",
                                  "--save",
                                  "",
                                  "--appendonly",
                                  "no",
                                  "--dir",
                                  dir,
                                  "--daemonize",
                                  "no"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto redis = std::make_unique<Process>(argv, log);
    std::string text = WaitForFileText(
        log, [](const std::string& t) { return t.find("Ready to accept connections") != std::string::npos; },
        *redis);
    if (text.find("Ready to accept connections") != std::string::npos) return redis;
  }
  return nullptr;
}

}  // namespace raycc_test
