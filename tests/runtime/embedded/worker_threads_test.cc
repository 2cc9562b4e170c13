// The embedded runtime's worker threads: a parked thread is woken one at a
// time and never twice for one wake-up, work posted without the mutex while
// a thread parks is never missed (the Post/Park protocol), and every thread
// started, on demand too, is handed back to be joined.

#include "embedded/worker_threads.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace raycc::internal::embedded {
namespace {

constexpr auto kPatience = std::chrono::seconds(30);

// A pool with a shared counter of work, as the runtime's ready queue and
// lock-free inbox: `posted` is bumped without the mutex, `queued` under it.
struct Harness {
  std::mutex mu;
  std::condition_variable done_cv;
  std::atomic<int> posted{0};
  int queued = 0, done = 0;
  bool stopping = false;
  std::vector<int> ran_by;  // per thread index: items run
  WorkerThreads workers{[this](int index) { Loop(index); }};

  void Loop(int index) {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      queued += posted.exchange(0, std::memory_order_seq_cst);  // (the inbox comes in)
      if (stopping) return;
      if (queued > 0) {
        --queued;
        ++done;
        ++ran_by[index];
        if (queued > 0) workers.WakeOneLocked();  // more than this thread: pass it on
        done_cv.notify_all();
        continue;
      }
      workers.Park(lock, [&] { return posted.load(std::memory_order_seq_cst) > 0; });
    }
  }
  // As the runtime's Post: no mutex unless a thread may be parking.
  void Post() {
    posted.fetch_add(1, std::memory_order_seq_cst);
    if (workers.AnyParking()) {
      std::lock_guard<std::mutex> lock(mu);
      workers.WakeOneLocked();
    }
  }
  bool WaitDone(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return done_cv.wait_for(lock, kPatience, [&] { return done >= n; });
  }
  // (Joins whatever is left when a failed assertion ends the test early.)
  ~Harness() { Stop(); }
  void Stop() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
      workers.WakeAllLocked();
      workers.TakeLocked(&threads);
    }
    for (std::thread& t : threads) t.join();
  }
};

TEST(WorkerThreadsTest, WorkPostedWhileThreadsParkIsNeverMissed) {
  Harness h;
  h.ran_by.assign(4, 0);
  {
    std::lock_guard<std::mutex> lock(h.mu);
    for (int i = 0; i < 4; ++i) h.workers.StartLocked();
  }
  EXPECT_EQ(h.workers.started(), 4);
  // One at a time: each post finds every thread parked or parking, the
  // case where a lost wake-up would leave the item unrun for good.
  constexpr int kOneByOne = 2000;
  for (int i = 1; i <= kOneByOne; ++i) {
    h.Post();
    ASSERT_TRUE(h.WaitDone(i)) << "item " << i << " was never run: a wake-up was lost";
  }
  // And in bursts.
  constexpr int kBurst = 50000;
  for (int i = 0; i < kBurst; ++i) h.Post();
  ASSERT_TRUE(h.WaitDone(kOneByOne + kBurst));
  h.Stop();
  int total = 0;
  for (int n : h.ran_by) total += n;
  EXPECT_EQ(total, kOneByOne + kBurst);
}

TEST(WorkerThreadsTest, AWakeUpWakesOneParkedThreadAndIsNotCountedTwice) {
  // Two threads take tickets, and park when none is left.
  std::mutex mu;
  std::condition_variable cv;
  int tickets = 0, taken = 0;
  bool stop = false;
  WorkerThreads* pool = nullptr;
  WorkerThreads workers{[&](int) {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      if (tickets > 0) {
        --tickets;
        ++taken;
        cv.notify_all();
        continue;
      }
      pool->Park(lock, [] { return false; });
    }
  }};
  pool = &workers;
  std::unique_lock<std::mutex> lock(mu);
  struct JoinAtEnd {  // (when a failed assertion ends the test early)
    std::unique_lock<std::mutex>& lock;
    WorkerThreads& workers;
    bool& stop;
    ~JoinAtEnd() {
      if (!lock.owns_lock()) lock.lock();
      stop = true;
      workers.WakeAllLocked();
      std::vector<std::thread> threads;
      workers.TakeLocked(&threads);
      lock.unlock();
      for (std::thread& t : threads) t.join();
    }
  } join_at_end{lock, workers, stop};
  // (Parking notifies nobody: look, letting the threads run in between.)
  auto both_parked = [&] {
    auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (workers.IdleLocked() < 2 && std::chrono::steady_clock::now() < deadline) {
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
    return workers.IdleLocked() == 2;
  };
  workers.StartLocked();
  workers.StartLocked();
  ASSERT_TRUE(both_parked());
  // Four wake-ups for two parked threads: two are sent, two dropped.
  tickets = 2;
  for (int i = 0; i < 4; ++i) workers.WakeOneLocked();
  ASSERT_TRUE(cv.wait_for(lock, kPatience, [&] { return taken == 2; }));
  // The dropped ones were not kept: the next wake-up, with both parked
  // again, reaches a thread (a count kept from above would swallow it).
  ASSERT_TRUE(both_parked());
  tickets = 1;
  workers.WakeOneLocked();
  ASSERT_TRUE(cv.wait_for(lock, kPatience, [&] { return taken == 3; }))
      << "a wake-up was lost: counted for a thread that was not parked";
  EXPECT_EQ(workers.started(), 2);
}

// The protocol's order: a parking thread announces itself (AnyParking, and
// idle) before it reads the inbox a last time, so a poster that missed the
// announcement is seen by that read.
TEST(WorkerThreadsTest, AThreadAnnouncesItselfBeforeItLooksForPostedWorkAgain) {
  std::mutex mu;
  WorkerThreads workers{[](int) {}};
  std::unique_lock<std::mutex> lock(mu);
  bool announced = false;
  workers.Park(lock, [&] {
    announced = workers.AnyParking() && workers.IdleLocked() == 1;
    return true;  // (work came: do not wait)
  });
  EXPECT_TRUE(announced);
}

TEST(WorkerThreadsTest, ParkReturnsAtOnceWhenWorkWasPosted) {
  std::mutex mu;
  std::condition_variable cv;
  bool returned = false;
  WorkerThreads workers{[](int) {}};
  // No wake-up is sent unless it fails: returning at all shows it did not wait.
  std::thread parker([&] {
    std::unique_lock<std::mutex> lock(mu);
    workers.Park(lock, [] { return true; });
    returned = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  bool at_once = cv.wait_for(lock, kPatience, [&] { return returned; });
  if (!at_once) workers.WakeAllLocked();  // (release it, to end the test)
  lock.unlock();
  parker.join();
  EXPECT_TRUE(at_once) << "Park waited though work had been posted";
  EXPECT_EQ(workers.IdleLocked(), 0);
  EXPECT_FALSE(workers.AnyParking());
}

}  // namespace
}  // namespace raycc::internal::embedded
