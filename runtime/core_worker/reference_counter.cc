#include "core_worker/reference_counter.h"

namespace raycc::core_worker {

void ReferenceCounter::AddOwned(const ObjectId& id, int local_refs, bool release_when_unused) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = objects_[id];
  entry.local += local_refs;
  entry.had_ref = entry.had_ref || local_refs > 0;
  entry.release_when_unused = release_when_unused;
}

bool ReferenceCounter::Owns(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.contains(id);
}

bool ReferenceCounter::EraseIfFreeLocked(absl::flat_hash_map<ObjectId, Entry>::iterator it) {
  const Entry& entry = it->second;
  if (entry.local > 0 || entry.task_uses > 0 || !(entry.had_ref || entry.release_when_unused)) return false;
  objects_.erase(it);
  return true;
}

void ReferenceCounter::AddLocalRef(const ObjectId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  ++it->second.local;
  it->second.had_ref = true;
}

void ReferenceCounter::RemoveLocalRef(const ObjectId& id) {
  bool freed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end() || it->second.local == 0) return;
    --it->second.local;
    freed = EraseIfFreeLocked(it);
  }
  if (freed) on_free_(id);
}

void ReferenceCounter::AddTaskUse(const ObjectId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  if (it != objects_.end()) ++it->second.task_uses;
}

void ReferenceCounter::RemoveTaskUse(const ObjectId& id) {
  bool freed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end() || it->second.task_uses == 0) return;
    --it->second.task_uses;
    freed = EraseIfFreeLocked(it);
  }
  if (freed) on_free_(id);
}

size_t ReferenceCounter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace raycc::core_worker
