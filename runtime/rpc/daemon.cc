#include "rpc/daemon.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
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
