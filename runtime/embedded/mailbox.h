#pragma once

/// \file
/// One of the embedded runtime's lock-avoiding fast paths, as a component:
/// a queue that many threads post to while one thread at a time, the holder
/// of the runtime's lock, takes everything posted so far in one swap.
/// Posting takes only the mailbox's own short lock, never the runtime's
/// (a submission or a reference drop does not wait for a busy scheduler);
/// `pending()` is a lock-free look, so the lock holder pays nothing when
/// nothing was posted. Used for tasks that need no check against the
/// runtime's state (the inbox) and for ObjectRef count changes.
///
/// `kPostOrder` is the memory order of the "something is pending" flag's
/// store: seq_cst where a poster and a waiter must not miss each other (the
/// inbox and the workers' sleep protocol: EmbeddedRuntime::Post), release
/// where the next lock holder is soon enough.

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace raycc::internal {

template <typename T, std::memory_order kPostOrder = std::memory_order_release>
class Mailbox {
 public:
  void Post(T item) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(item));
    pending_.store(true, kPostOrder);
  }
  /// Whether anything was posted since the last TakeAll (`order`: what the
  /// caller's protocol needs; acquire pairs with the post).
  bool pending(std::memory_order order = std::memory_order_acquire) const { return pending_.load(order); }
  /// Everything posted so far, in order, into `out` (emptied first; its
  /// capacity and the mailbox's trade places, so neither grows again from
  /// empty).
  void TakeAll(std::vector<T>& out) {
    out.clear();
    std::lock_guard<std::mutex> lock(mu_);
    out.swap(items_);
    pending_.store(false, std::memory_order_relaxed);
  }

 private:
  std::mutex mu_;
  std::vector<T> items_;
  std::atomic<bool> pending_{false};
};

}  // namespace raycc::internal
