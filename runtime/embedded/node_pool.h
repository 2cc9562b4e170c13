#pragma once

/// \file
/// Memory for the nodes of one node-based map, reused instead of handed back
/// to malloc. Not thread-safe: the owner guards it with the same lock that
/// guards the map (every insert and erase of the map holds it).
///
/// Why: the embedded runtime's object table makes and frees a node per task.
/// With malloc, a node made by one thread is mostly freed by another, which
/// sends glibc down its slow paths (consolidation, heap growth) on every
/// round; measured, that was the largest single cost of async submission.
/// A free list, used last-in first-out, also hands back a node still in cache.

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace raycc::internal {

class NodePool {
 public:
  /// Blocks of `size` bytes; at most `max_free` freed ones are kept.
  NodePool(size_t size, size_t max_free)
      : size_(size < sizeof(Free) ? sizeof(Free) : size), max_free_(max_free) {}
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;
  ~NodePool() {
    while (free_ != nullptr) ::operator delete(std::exchange(free_, free_->next));
  }

  void* Take() {
    if (free_ == nullptr) return ::operator new(size_);
    --free_count_;
    return std::exchange(free_, free_->next);
  }
  void Give(void* block) {
    if (free_count_ >= max_free_) return ::operator delete(block);
    free_ = new (block) Free{free_};
    ++free_count_;
  }
  size_t free_count() const { return free_count_; }

 private:
  struct Free {
    Free* next;
  };
  size_t size_;
  size_t max_free_;
  Free* free_ = nullptr;
  size_t free_count_ = 0;
};

/// An allocator that takes single `Node`s from a NodePool and everything
/// else (a map's slot array) from the heap.
template <typename T, typename Node>
class NodePoolAllocator {
 public:
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = NodePoolAllocator<U, Node>;
  };
  explicit NodePoolAllocator(NodePool* pool) : pool_(pool) {}
  template <typename U>
  NodePoolAllocator(const NodePoolAllocator<U, Node>& other) : pool_(other.pool()) {}

  T* allocate(size_t n) {
    if constexpr (std::is_same_v<T, Node> && alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      if (n == 1) return static_cast<T*>(pool_->Take());
    }
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) {
    if constexpr (std::is_same_v<T, Node> && alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      if (n == 1) return pool_->Give(p);
    }
    std::allocator<T>().deallocate(p, n);
  }
  NodePool* pool() const { return pool_; }
  template <typename U>
  bool operator==(const NodePoolAllocator<U, Node>& other) const {
    return pool_ == other.pool();
  }

 private:
  NodePool* pool_;
};

}  // namespace raycc::internal
