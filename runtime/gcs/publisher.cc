#include "gcs/publisher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace raycc::gcs {

std::optional<proto::PubMessage> Publisher::Subscription::Next(
    std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return closed_ || !queue_.empty(); });
  if (queue_.empty() || closed_) return std::nullopt;
  proto::PubMessage message = std::move(queue_.front());
  queue_.pop_front();
  return message;
}

bool Publisher::Subscription::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

std::string Publisher::Subscription::why() const {
  std::lock_guard<std::mutex> lock(mu_);
  return why_;
}

bool Publisher::Subscription::Wants(proto::Channel channel, const std::string& key) const {
  return channels_.contains(channel) && (keys_.empty() || keys_.contains(key));
}

std::shared_ptr<Publisher::Subscription> Publisher::Subscribe(const std::vector<proto::Channel>& channels,
                                                              const std::vector<std::string>& keys) {
  auto subscription = std::make_shared<Subscription>();
  for (proto::Channel channel : channels) subscription->channels_.insert(channel);
  subscription->keys_.insert(keys.begin(), keys.end());
  std::lock_guard<std::mutex> lock(mu_);
  subscriptions_.push_back(subscription);
  return subscription;
}

void Publisher::Unsubscribe(const std::shared_ptr<Subscription>& subscription) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase(subscriptions_, subscription);
}

void Publisher::Publish(proto::PubMessage message, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  message.set_sequence(++sequence_[message.channel()]);
  for (const std::shared_ptr<Subscription>& s : subscriptions_) {
    if (!s->Wants(message.channel(), key)) continue;
    {
      std::lock_guard<std::mutex> queue_lock(s->mu_);
      if (s->closed_) continue;
      if (s->queue_.size() >= kMaxQueued) {
        s->closed_ = true;
        s->why_ = absl::StrCat("the subscriber fell ", kMaxQueued, " messages behind; subscribe again");
        s->queue_.clear();
      } else {
        s->queue_.push_back(message);
      }
    }
    s->cv_.notify_all();
  }
}

void Publisher::Close(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::shared_ptr<Subscription>& s : subscriptions_) {
    {
      std::lock_guard<std::mutex> queue_lock(s->mu_);
      s->closed_ = true;
      s->why_ = why;
    }
    s->cv_.notify_all();
  }
}

size_t Publisher::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subscriptions_.size();
}

}  // namespace raycc::gcs
