#pragma once

/// \file
/// The GCS's tables in Redis, so that a restarted control service finds
/// its nodes, actors, placement groups, jobs and KV where it left them
/// (raycc-gcs --redis-address). Each table is one Redis hash,
/// "<prefix>:<table>", field = key, value = the serialized record; the
/// prefix keeps clusters sharing one Redis apart.
///
/// One connection, serialized by a mutex; a call that finds it broken
/// reconnects once before it fails. An error is always a storage failure
/// naming the Redis address (unreachable, refused, a wrong password), never
/// "not found".

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "gcs/gcs_storage_interface.h"

struct redisContext;

namespace raycc::gcs {

struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  /// Sent with AUTH when not empty.
  std::string password;
  /// The hashes' prefix ("raycc" unless given).
  std::string prefix = "raycc";
  /// How long Connect waits for a Redis that is still loading its data
  /// (a restarted Redis answers LOADING until it has read its dump).
  std::chrono::milliseconds loading_wait{std::chrono::seconds(60)};
};

/// "HOST:PORT" (or ":PORT", or "PORT": on 127.0.0.1); InvalidArgument
/// naming what is wrong.
absl::StatusOr<RedisAddress> ParseRedisAddress(absl::string_view text);

class RedisGcsStorage final : public GcsStorageInterface {
 public:
  /// Connects (and authenticates) now; Unavailable naming the address when
  /// Redis cannot be reached, PermissionDenied when it refuses the password.
  static absl::StatusOr<std::unique_ptr<RedisGcsStorage>> Connect(RedisAddress address);
  ~RedisGcsStorage() override;

  absl::Status Put(absl::string_view table, absl::string_view key, std::string value) override;
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view table, absl::string_view key) override;
  absl::StatusOr<bool> Delete(absl::string_view table, absl::string_view key) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(absl::string_view table,
                                                                        absl::string_view prefix) override;

  /// "host:port", for messages.
  std::string where() const;

 private:
  explicit RedisGcsStorage(RedisAddress address) : address_(std::move(address)) {}
  struct Reply;
  /// Runs one command (arguments binary-safe), reconnecting once when the
  /// connection is broken. Requires mu_.
  absl::StatusOr<Reply> CommandLocked(std::initializer_list<absl::string_view> args);
  absl::Status ConnectLocked();
  /// One command on the connection as it is; a null reply when it broke.
  Reply SendLocked(std::initializer_list<absl::string_view> args);
  /// Closes a broken connection; what broke it.
  std::string DropLocked();
  std::string HashOf(absl::string_view table) const;

  RedisAddress address_;
  std::mutex mu_;
  redisContext* context_ = nullptr;
};

}  // namespace raycc::gcs
