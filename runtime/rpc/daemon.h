#pragma once

/// \file
/// What raycc-gcs and raycc-raylet share as processes: a clean stop on
/// SIGTERM or SIGINT (or when the daemon itself decides to), files written
/// whole (a reader never sees half a port number), and command-line flags.

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace raycc::rpc {

/// Blocks SIGTERM and SIGINT in every thread (call first in main, before
/// any thread starts) and turns them into a Stop with the signal's name.
class StopSignal {
 public:
  StopSignal();
  void Stop(const std::string& reason);
  /// Blocks until Stop; returns its reason.
  std::string Wait();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::string reason_;
};

/// Starts `argv` (argv[0] a path) detached from this process, as a daemon
/// starts what outlives it: in a session of its own, stdin from /dev/null,
/// stdout and stderr appended to `log`, with `env` ("NAME=value") added to
/// this process's environment. A double fork: init reaps it, never this
/// process. Returns its pid. Safe in a process with threads.
absl::StatusOr<int> SpawnDetached(const std::vector<std::string>& argv, const std::string& log,
                                  const std::vector<std::string>& env = {});

/// Writes `text` to `path` through a temporary file and a rename.
absl::Status WriteFileAtomically(const std::string& path, const std::string& text);

/// Flags: "--name=value" or "--name value"; "--help" sets "help". Unknown
/// flags are an error naming them; `flags` lists the known names.
absl::StatusOr<std::map<std::string, std::string>> ParseFlags(int argc, char** argv,
                                                              const std::vector<std::string>& flags);

}  // namespace raycc::rpc
