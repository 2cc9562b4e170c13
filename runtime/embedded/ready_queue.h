#pragma once

/// \file
/// The runtime's queue of ready tasks: higher priority first, then earlier
/// sequence (submission order). Not thread-safe (the runtime holds mu_).
///
/// Nearly every task enters at the back of its priority's queue (sequences
/// grow) and leaves at the front, so each priority is a deque sorted by
/// sequence: both ends are O(1) and allocate only per block. A task taken
/// from the middle (Cancel, an inline Get, a worker skipping tasks that do
/// not fit) leaves an empty entry behind, dropped once it reaches an end; one
/// put back (a retry, a batch giving tasks back) goes where its sequence
/// says, near the front in practice.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <utility>

namespace raycc::internal {

/// `T` has `int64_t priority` and `uint64_t sequence` (unique among queued
/// items); neither changes while it is queued.
template <typename T>
class ReadyQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  void Push(std::shared_ptr<T> item) {
    Level& level = levels_[item->priority];
    uint64_t sequence = item->sequence;
    if (level.empty() || level.back().sequence < sequence) {
      level.push_back({sequence, std::move(item)});
    } else if (level.front().sequence > sequence) {
      level.push_front({sequence, std::move(item)});
    } else {
      auto at = LowerBound(level, sequence);
      if (at != level.end() && at->sequence == sequence && at->item == nullptr) {
        at->item = std::move(item);  // (its old, emptied place)
      } else {
        level.insert(at, {sequence, std::move(item)});
      }
    }
    ++size_;
  }

  /// The first item in order; the queue must not be empty.
  const std::shared_ptr<T>& Front() const { return levels_.begin()->second.front().item; }

  std::shared_ptr<T> PopFront() {
    auto level = levels_.begin();
    std::shared_ptr<T> item = std::move(level->second.front().item);
    level->second.pop_front();
    --size_;
    Trim(level);
    return item;
  }

  /// Takes the first item, in order, that `accept` says yes to; null if none.
  template <typename F>
  std::shared_ptr<T> TakeFirst(F&& accept) {
    for (auto level = levels_.begin(); level != levels_.end(); ++level) {
      for (Entry& entry : level->second) {
        if (entry.item == nullptr || !accept(*entry.item)) continue;
        std::shared_ptr<T> item = std::move(entry.item);
        --size_;
        Trim(level);
        return item;
      }
    }
    return nullptr;
  }

  bool Contains(const T& item) { return Find(item) != nullptr; }

  /// Calls `f(item)` on each queued item, in no particular order; `f` may
  /// change the item but not its priority or sequence.
  template <typename F>
  void ForEach(F&& f) {
    for (auto& [priority, level] : levels_)
      for (Entry& entry : level)
        if (entry.item != nullptr) f(*entry.item);
  }

  /// Takes `item` out; false if it was not queued.
  bool Remove(const T& item) {
    auto level = levels_.find(item.priority);
    if (level == levels_.end()) return false;
    Entry* entry = Find(level->second, item);
    if (entry == nullptr) return false;
    entry->item.reset();
    --size_;
    Trim(level);
    return true;
  }

 private:
  struct Entry {
    uint64_t sequence;
    std::shared_ptr<T> item;  // null: taken from the middle
  };
  using Level = std::deque<Entry>;
  using Levels = std::map<int64_t, Level, std::greater<int64_t>>;

  static typename Level::iterator LowerBound(Level& level, uint64_t sequence) {
    return std::lower_bound(level.begin(), level.end(), sequence,
                            [](const Entry& e, uint64_t s) { return e.sequence < s; });
  }
  static Entry* Find(Level& level, const T& item) {
    for (auto at = LowerBound(level, item.sequence); at != level.end() && at->sequence == item.sequence; ++at)
      if (at->item.get() == &item) return &*at;
    return nullptr;
  }
  Entry* Find(const T& item) {
    auto level = levels_.find(item.priority);
    return level == levels_.end() ? nullptr : Find(level->second, item);
  }
  // Keeps every level's ends live, and no level empty.
  void Trim(typename Levels::iterator level) {
    Level& entries = level->second;
    while (!entries.empty() && entries.front().item == nullptr) entries.pop_front();
    while (!entries.empty() && entries.back().item == nullptr) entries.pop_back();
    if (entries.empty()) levels_.erase(level);
  }

  Levels levels_;
  size_t size_ = 0;
};

}  // namespace raycc::internal
