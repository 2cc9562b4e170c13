#pragma once

/// \file
/// How a raylet gets worker processes: it asks the pool to start one for a
/// job's code and hears when one ends. The process pool forks and execs;
/// a test can give the raylet a fake one.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "raycc/runtime/common/id.h"

namespace raycc::raylet {

struct WorkerLaunch {
  WorkerId worker;
  JobId job;
  /// The job's cached executable.
  std::string executable;
  /// Environment entries ("NAME=value") added to the raylet's own.
  std::vector<std::string> env;
  /// stdout and stderr go here.
  std::string log_path;
};

class WorkerPoolInterface {
 public:
  virtual ~WorkerPoolInterface() = default;
  /// Called (on the pool's thread) when a started worker ends, with a cause
  /// such as "exited with code 3" or "killed by signal 9".
  using ExitCallback = std::function<void(const WorkerId& worker, const std::string& cause)>;
  virtual void SetExitCallback(ExitCallback callback) = 0;
  /// Starts the worker; returns its pid.
  virtual absl::StatusOr<int> Start(const WorkerLaunch& launch) = 0;
  /// Ends the worker at once (SIGKILL); its exit is reported as any other.
  virtual void Kill(const WorkerId& worker) = 0;
  /// Ends every worker (SIGTERM, SIGKILL after a grace period) and waits for
  /// them; no callback runs after.
  virtual void Shutdown() = 0;
  virtual size_t started() const = 0;
  virtual size_t exited() const = 0;
};

}  // namespace raycc::raylet
