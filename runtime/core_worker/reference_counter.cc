#include "core_worker/reference_counter.h"

#include <utility>
#include <vector>

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
  auto it = objects_.find(id);
  return it != objects_.end() && it->second.owner.empty();
}

bool ReferenceCounter::Knows(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.contains(id);
}

std::optional<std::string> ReferenceCounter::OwnerOf(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return std::nullopt;
  return it->second.owner;
}

bool ReferenceCounter::AddBorrowed(const ObjectId& id, const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = objects_.try_emplace(id);
  if (added) {
    it->second.owner = owner;
    it->second.had_ref = true;  // (it goes as soon as nothing here holds it)
  }
  return added;
}

bool ReferenceCounter::AddBorrower(const ObjectId& id, const std::string& borrower) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || !it->second.owner.empty()) return false;
  it->second.borrowers.insert(borrower);
  return true;
}

void ReferenceCounter::RemoveBorrower(const ObjectId& id, const std::string& borrower) {
  std::string owner;
  bool freed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end() || it->second.borrowers.erase(borrower) == 0) return;
    freed = EraseIfFreeLocked(it, &owner);
  }
  if (freed) on_free_(id, owner);
}

void ReferenceCounter::RemoveBorrowerEverywhere(const std::string& borrower) {
  std::vector<ObjectId> freed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = objects_.begin(); it != objects_.end();) {
      auto current = it++;
      std::string owner;
      if (current->second.borrowers.erase(borrower) > 0) {
        ObjectId id = current->first;
        if (EraseIfFreeLocked(current, &owner)) freed.push_back(id);
      }
    }
  }
  for (const ObjectId& id : freed) on_free_(id, std::string());
}

bool ReferenceCounter::EraseIfFreeLocked(Map::iterator it, std::string* owner) {
  Entry& entry = it->second;
  if (entry.local > 0 || entry.task_uses > 0 || !entry.borrowers.empty() ||
      !(entry.had_ref || entry.release_when_unused)) {
    return false;
  }
  *owner = std::move(entry.owner);
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
  std::string owner;
  bool freed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end() || it->second.local == 0) return;
    --it->second.local;
    freed = EraseIfFreeLocked(it, &owner);
  }
  if (freed) on_free_(id, owner);
}

void ReferenceCounter::AddTaskUse(const ObjectId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  if (it != objects_.end()) ++it->second.task_uses;
}

void ReferenceCounter::RemoveTaskUse(const ObjectId& id) {
  std::string owner;
  bool freed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end() || it->second.task_uses == 0) return;
    --it->second.task_uses;
    freed = EraseIfFreeLocked(it, &owner);
  }
  if (freed) on_free_(id, owner);
}

size_t ReferenceCounter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

size_t ReferenceCounter::borrowers(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(id);
  return it == objects_.end() ? 0 : it->second.borrowers.size();
}

}  // namespace raycc::core_worker
