#pragma once

/// \file
/// Shared by the runtime API tests: ways to wait for something without
/// sleeping (an Event, a Rendezvous, a bounded poll), the fixture that runs
/// a test at several CPU counts, and the remote functions several test files
/// submit (defined and registered once, in runtime_test_util.cc).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace raycc_test {

/// How long a test waits for something that should happen before it gives
/// up and fails (a hang becomes a failure, never a stuck test).
inline constexpr std::chrono::seconds kPatience{30};

/// A flag that threads wait for: Set() wakes every waiter.
class Event {
 public:
  void Set() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      set_ = true;
    }
    cv_.notify_all();
  }
  /// Lowers the flag again (between tests).
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = false;
  }
  bool IsSet() const {
    std::lock_guard<std::mutex> lock(mu_);
    return set_;
  }
  /// Blocks until the flag is set or `timeout` has passed; whether it is set.
  bool WaitFor(std::chrono::milliseconds timeout = kPatience) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return set_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool set_ = false;
};

/// A meeting point for a known number of threads: each ArriveAndWait()
/// returns once all of them have arrived, so they all run at once.
class Rendezvous {
 public:
  /// Expects `count` arrivals from now on.
  void Reset(int count) {
    std::lock_guard<std::mutex> lock(mu_);
    expected_ = count;
    arrived_ = 0;
  }
  /// Arrives and blocks until all have (or `timeout` passed); whether they did.
  bool ArriveAndWait(std::chrono::milliseconds timeout = kPatience) {
    std::unique_lock<std::mutex> lock(mu_);
    if (++arrived_ >= expected_) cv_.notify_all();
    return cv_.wait_for(lock, timeout, [this] { return arrived_ >= expected_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int expected_ = 0, arrived_ = 0;
};

/// Polls `done` (yielding in between) until it holds or `timeout` has
/// passed; whether it held. For state no one signals (object counts).
template <typename F>
bool Eventually(F&& done, std::chrono::milliseconds timeout = kPatience) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::yield();
  }
  return true;
}

// ---- In the runtime_api_test binary only (runtime_test_util.cc). ----

int Plus(int a, int b);
int64_t Square(int64_t x);
/// Throws std::invalid_argument("bad input <x>").
int Fail(int x);
void Nothing();
int64_t SumAll(std::vector<int64_t> v);

/// Throws std::runtime_error("flaky") while flaky_calls (counting every
/// call) is below `fail_times`, then returns 7.
extern std::atomic<int> flaky_calls;
int Flaky(int fail_times);

/// What Held tasks count and wait for; Reset() before each use.
struct HeldTasks {
  std::atomic<int> started{0}, finished{0};
  Event release;
  void Reset() {
    started = 0;
    finished = 0;
    release.Reset();
  }
};
extern HeldTasks held_tasks;
/// Counts itself in held_tasks.started, runs until the test sets
/// held_tasks.release, counts itself in held_tasks.finished and returns `x`
/// (or -1 when no release came within kPatience). Release it before an
/// untimed Get that could run it inline on the caller's thread.
int Held(int x);

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter* Create(int start) { return new Counter(start); }
  static Counter* CreateFailing(int) { throw std::runtime_error("no counter today"); }
  int Add(int x) {
    value_ += x;
    history_.push_back(x);
    return value_;
  }
  std::vector<int> History() const { return history_; }

 private:
  int value_;
  std::vector<int> history_;
};

/// The current runtime's live objects (applies dropped references first).
size_t Live();

/// The runtime on GetParam() CPUs, with "GPU" = 0 and "custom" = 2; after
/// each test any Held task is released, so Shutdown never waits on one.
/// (Instantiated once for every file, in runtime_test_util.cc.)
class RuntimeApiTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override;
  void TearDown() override;
};

}  // namespace raycc_test
