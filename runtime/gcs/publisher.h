#pragma once

/// \file
/// The GCS's pub/sub (Ray's GCS publisher is the model): a subscriber asks
/// for channels (actors, nodes) and, optionally, only some keys (an actor's
/// or a node's id), and receives every change to them in order, each with
/// its channel's sequence number. The GCS publishes under its own lock, so
/// a subscriber sees changes in the order they happened; Publish only
/// queues. A subscriber that falls more than kMaxQueued messages behind is
/// closed (it subscribes again and reads the current state first) rather
/// than let the GCS's memory grow.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "raycc/proto/gcs_service.pb.h"

namespace raycc::gcs {

class Publisher {
 public:
  static constexpr size_t kMaxQueued = 10000;

  class Subscription {
   public:
    /// The next message, waiting until `deadline`; nullopt at the deadline
    /// or once closed (why() says why).
    std::optional<proto::PubMessage> Next(std::chrono::steady_clock::time_point deadline);
    bool closed() const;
    std::string why() const;

   private:
    friend class Publisher;
    bool Wants(proto::Channel channel, const std::string& key) const;
    absl::flat_hash_set<int> channels_;
    absl::flat_hash_set<std::string> keys_;  // empty: every key
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<proto::PubMessage> queue_;
    bool closed_ = false;
    std::string why_;
  };

  /// Listens to `channels`, only to `keys` unless it is empty.
  std::shared_ptr<Subscription> Subscribe(const std::vector<proto::Channel>& channels,
                                          const std::vector<std::string>& keys);
  void Unsubscribe(const std::shared_ptr<Subscription>& subscription);
  /// Queues `message` (its sequence set here) for the subscribers of its
  /// channel and `key`.
  void Publish(proto::PubMessage message, const std::string& key);
  /// Closes every subscription (the service is stopping).
  void Close(const std::string& why);
  size_t subscribers() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  absl::flat_hash_map<int, uint64_t> sequence_;
};

}  // namespace raycc::gcs
