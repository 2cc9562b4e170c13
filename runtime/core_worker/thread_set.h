#pragma once

/// \file
/// Threads started for one piece of work each (a task run in its owner, a
/// fetch of a borrowed object): each is joined once it has finished, by the
/// next Start, so a long-lived process does not keep their stacks; JoinAll
/// waits for the rest (the work must end on its own: a stop flag it sees).
/// Thread-safe.

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace raycc::core_worker {

class ThreadSet {
 public:
  ~ThreadSet() { JoinAll(); }

  /// Runs `work` on a new thread; false (not run) after JoinAll began.
  bool Start(std::function<void()> work) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    for (auto it = threads_.begin(); it != threads_.end();) {
      if (!(*it)->done) {
        ++it;
        continue;
      }
      (*it)->thread.join();
      it = threads_.erase(it);
    }
    auto entry = std::make_unique<Entry>();
    Entry* self = entry.get();
    entry->thread = std::thread([self, work = std::move(work)] {
      work();
      self->done = true;
    });
    threads_.push_back(std::move(entry));
    return true;
  }

  /// Refuses new work and joins every thread.
  void JoinAll() {
    std::list<std::unique_ptr<Entry>> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      threads.swap(threads_);
    }
    for (auto& entry : threads) entry->thread.join();
  }

 private:
  struct Entry {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::mutex mu_;
  bool closed_ = false;
  std::list<std::unique_ptr<Entry>> threads_;
};

}  // namespace raycc::core_worker
