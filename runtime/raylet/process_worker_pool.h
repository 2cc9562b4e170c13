#pragma once

/// \file
/// Worker processes by fork and exec of the job's cached executable. Each
/// child dies with the raylet (PR_SET_PDEATHSIG; the children are forked by
/// one long-lived launcher thread, since that signal follows the thread that
/// forked, and a gRPC handler thread may end any time), keeps no descriptor of
/// the raylet's but its log, and is reaped by the pool's thread, which
/// reports how it ended. Workers are ended by the pid the pool started,
/// never by name.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "raylet/worker_pool_interface.h"

namespace raycc::raylet {

class ProcessWorkerPool final : public WorkerPoolInterface {
 public:
  explicit ProcessWorkerPool(int kill_grace_ms = 2000);
  ~ProcessWorkerPool() override;

  void SetExitCallback(ExitCallback callback) override;
  absl::StatusOr<int> Start(const WorkerLaunch& launch) override;
  void Kill(const WorkerId& worker) override;
  void Shutdown() override;
  size_t started() const override { return started_.load(); }
  size_t exited() const override { return exited_.load(); }

 private:
  void Reap();
  /// The launcher thread: runs the queued Spawns, in order.
  void Launch();
  absl::StatusOr<int> Spawn(const WorkerLaunch& launch);

  const int kill_grace_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  ExitCallback on_exit_;
  absl::flat_hash_map<int, WorkerId> by_pid_;
  absl::flat_hash_map<WorkerId, int> pids_;
  std::atomic<size_t> started_{0}, exited_{0};
  std::thread reaper_;

  std::mutex launch_mu_;
  std::condition_variable launch_cv_;
  std::deque<std::packaged_task<absl::StatusOr<int>()>*> launches_;
  bool launches_closed_ = false;
  std::thread launcher_;
};

}  // namespace raycc::raylet
