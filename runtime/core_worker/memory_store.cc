#include "core_worker/memory_store.h"

#include "object_store/shared_object_store.h"

namespace raycc::core_worker {

std::string_view ObjectValue::Bytes() const {
  if (shm != nullptr) return shm->bytes();
  return bytes != nullptr ? std::string_view(*bytes) : std::string_view();
}

void MemoryStore::AddPending(const ObjectId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  objects_.try_emplace(id);
}

void MemoryStore::Put(const ObjectId& id, ObjectValue value) {
  std::vector<std::function<void(const ObjectValue&)>> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& entry = objects_[id];
    if (entry.value.has_value()) return;
    entry.value = value;
    waiters.swap(entry.waiters);
  }
  cv_.notify_all();
  for (auto& waiter : waiters) waiter(value);
}

void MemoryStore::Delete(const ObjectId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  objects_.erase(id);
}

bool MemoryStore::Contains(const ObjectId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.contains(id);
}

size_t MemoryStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

std::optional<ObjectValue> MemoryStore::Get(const ObjectId& id, Deadline deadline, bool* unknown) {
  std::unique_lock<std::mutex> lock(mu_);
  *unknown = false;
  for (;;) {
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      *unknown = true;
      return std::nullopt;
    }
    if (it->second.value.has_value()) return it->second.value;
    if (!deadline) {
      cv_.wait(lock);
    } else if (cv_.wait_until(lock, *deadline) == std::cv_status::timeout) {
      it = objects_.find(id);
      if (it != objects_.end() && it->second.value.has_value()) return it->second.value;
      return std::nullopt;
    }
  }
}

std::vector<bool> MemoryStore::Wait(const std::vector<ObjectId>& ids, size_t num_ready, Deadline deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<bool> ready(ids.size());
  for (;;) {
    size_t count = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = objects_.find(ids[i]);
      ready[i] = it != objects_.end() && it->second.value.has_value();
      count += ready[i];
    }
    if (count >= num_ready) return ready;
    if (!deadline) {
      cv_.wait(lock);
    } else if (cv_.wait_until(lock, *deadline) == std::cv_status::timeout) {
      // One last look, then return.
      for (size_t i = 0; i < ids.size(); ++i) {
        auto it = objects_.find(ids[i]);
        ready[i] = it != objects_.end() && it->second.value.has_value();
      }
      return ready;
    }
  }
}

void MemoryStore::OnReady(const ObjectId& id, std::function<void(const ObjectValue&)> callback) {
  std::optional<ObjectValue> value;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      auto error = std::make_shared<ObjectError>();
      error->message = "object " + id.Hex() + " is not known to this process (freed, or owned by another)";
      value = ObjectValue{nullptr, std::move(error)};
    } else if (it->second.value.has_value()) {
      value = it->second.value;
    } else {
      it->second.waiters.push_back(std::move(callback));
      return;
    }
  }
  callback(*value);
}

}  // namespace raycc::core_worker
