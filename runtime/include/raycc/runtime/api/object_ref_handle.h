#pragma once

/// \file
/// One counted reference to an object, shared by the copies of an
/// ObjectRef; a runtime may publish a finished task's value into it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <typeinfo>
#include <utility>

#include "raycc/runtime/common/id.h"

namespace raycc::internal {

/// One counted reference to an object; copies of an ObjectRef share it.
class ObjectRefHandle {
 public:
  explicit ObjectRefHandle(const ObjectId& id);
  /// Takes over the reference a runtime counted already for the caller
  /// (the results of SubmitTask, SubmitActorTask, Put and PutValue).
  struct Adopt {};
  ObjectRefHandle(const ObjectId& id, Adopt);
  ~ObjectRefHandle();
  ObjectRefHandle(const ObjectRefHandle&) = delete;
  ObjectRefHandle& operator=(const ObjectRefHandle&) = delete;

  const ObjectId& id() const { return id_; }

  // Publishing: a runtime may hand a task's result to the caller's
  // reference as it completes, so that Get reads it without entering the
  // runtime (see RuntimeInterface::SubmitTask).

  /// The object's value if the runtime published it here as a `type`; null
  /// otherwise (then ask the runtime).
  std::shared_ptr<const void> PublishedValue(const std::type_info& type) const {
    const std::type_info* published = published_type_.load(std::memory_order_acquire);
    if (published == nullptr || *published != type) return nullptr;
    return published_;
  }
  /// (For runtime code, once.) `value` is the object's value, final.
  void Publish(std::shared_ptr<const void> value, const std::type_info* type) {
    published_ = std::move(value);
    published_type_.store(type, std::memory_order_release);
  }

 private:
  ObjectId id_;
  uint64_t runtime_ = 0;                   // which Init() it belongs to; 0: none
  std::shared_ptr<const void> published_;  // written once, before published_type_
  std::atomic<const std::type_info*> published_type_{nullptr};
};

}  // namespace raycc::internal
