#pragma once

/// \file
/// The cluster token: every request to a raycc port carries it in the
/// "raycc-token" metadata entry; a server refuses one without it
/// (UNAUTHENTICATED) and counts the refusal. `raycc start --head` generates
/// the token and keeps it in the session folder; other processes read it
/// from RAYCC_AUTH_TOKEN or from the file RAYCC_AUTH_TOKEN_FILE names.

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class ClientContext;
class ServerContext;
class Status;
}  // namespace grpc

namespace raycc::rpc {

inline constexpr char kTokenMetadataKey[] = "raycc-token";

/// A fresh random token (32 hex digits, from the OS's entropy).
std::string GenerateToken();

/// The token from RAYCC_AUTH_TOKEN, else from the file RAYCC_AUTH_TOKEN_FILE
/// names (surrounding whitespace trimmed); NotFound when neither is set,
/// InvalidArgument for an empty token or an unreadable file.
absl::StatusOr<std::string> TokenFromEnvironment();

/// The token kept in `path` (trimmed); an error names the file.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

/// Writes `token` to `path`, readable by its owner only.
absl::Status WriteTokenFile(const std::string& path, const std::string& token);

/// Adds the token to an outgoing call.
void AddToken(grpc::ClientContext* context, const std::string& token);

/// A server's side: checks the token of each incoming call in constant time.
class TokenCheck {
 public:
  explicit TokenCheck(std::string token) : token_(std::move(token)) {}
  /// OK, or UNAUTHENTICATED naming what was wrong (counted).
  grpc::Status Check(const grpc::ServerContext* context);
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  std::string token_;
  std::atomic<uint64_t> refused_{0};
};

}  // namespace raycc::rpc

/// First line of every handler: returns UNAUTHENTICATED from it unless the
/// call carries the token `check` (a TokenCheck) expects.
#define RAYCC_CHECK_TOKEN(check, context)                \
  do {                                                   \
    ::grpc::Status raycc_auth_ = (check).Check(context); \
    if (!raycc_auth_.ok()) return raycc_auth_;           \
  } while (false)
