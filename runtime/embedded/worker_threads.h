#pragma once

/// \file
/// The embedded runtime's worker pool: threads, started on demand (a task
/// blocked in Get may need one more so that nested work can run), parked
/// while there is nothing to run, and woken one at a time as work comes.
/// The raylet's worker pool starts processes; this one starts threads in
/// the driver.
///
/// Guarded by the runtime's mutex: every *Locked method is called with it
/// held, and Park waits on it. Only AnyParking is read without it: a
/// submitter that posts work to the lock-free inbox checks it afterwards,
/// and a parking worker announces itself before it looks at the inbox a
/// last time (both seq_cst). Either the worker sees the posted work, or
/// the submitter sees the worker and takes the mutex to wake it. No wake-up
/// is lost.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"

namespace raycc::internal::embedded {

class WorkerThreads {
 public:
  /// Each thread runs `loop(index)`, index 0, 1, ... in start order.
  explicit WorkerThreads(std::function<void(int index)> loop) : loop_(std::move(loop)) {}
  WorkerThreads(const WorkerThreads&) = delete;
  WorkerThreads& operator=(const WorkerThreads&) = delete;

  /// Starts one more thread.
  void StartLocked() {
    int index = started_++;
    threads_.emplace_back([this, index] { loop_(index); });
  }
  /// Threads started so far.
  int started() const { return started_; }
  /// Threads parked (or about to park).
  int IdleLocked() const { return idle_; }

  /// Wakes one parked thread, unless every parked one was woken already
  /// and has not yet looked for work (each wake-up is a futex call and a
  /// context switch).
  void WakeOneLocked() {
    if (idle_ > woken_) {
      ++woken_;
      cv_.notify_one();
    }
  }
  /// Wakes every parked thread (stop, or a change any of them may use).
  void WakeAllLocked() {
    woken_ = idle_;
    cv_.notify_all();
  }

  /// Parks the calling thread until it is woken, unless `posted()` (read
  /// after the thread announced itself) says work came meanwhile. It may
  /// also return spuriously: the caller looks for work and parks again.
  void Park(std::unique_lock<std::mutex>& lock, absl::FunctionRef<bool()> posted) {
    ++idle_;
    parking_.fetch_add(1, std::memory_order_seq_cst);
    if (!posted()) {
      cv_.wait(lock);
      if (woken_ > 0) --woken_;  // (or a spurious wake-up: one more is sent later)
    }
    parking_.fetch_sub(1, std::memory_order_relaxed);
    --idle_;
  }
  /// Whether a thread is parking or parked (without the mutex; seq_cst).
  bool AnyParking() const { return parking_.load(std::memory_order_seq_cst) > 0; }

  /// Moves the threads started so far into `out`, to be joined without the
  /// mutex (a thread may start another until it sees the runtime stop:
  /// call again until nothing comes).
  void TakeLocked(std::vector<std::thread>* out) {
    for (std::thread& t : threads_) out->push_back(std::move(t));
    threads_.clear();
  }

 private:
  std::function<void(int)> loop_;
  std::vector<std::thread> threads_;
  int started_ = 0;
  int idle_ = 0;   // threads in Park
  int woken_ = 0;  // parked threads woken that have not left Park yet
  std::atomic<int> parking_{0};
  std::condition_variable cv_;
};

}  // namespace raycc::internal::embedded
