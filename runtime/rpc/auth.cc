#include "rpc/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "openssl/crypto.h"
#include "openssl/rand.h"

namespace raycc::rpc {

std::string GenerateToken() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // RAND_bytes fails only without an entropy source; /dev/urandom is it.
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    urandom.read(reinterpret_cast<char*>(bytes), sizeof(bytes));
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read the cluster token file '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty())
    return absl::InvalidArgumentError(absl::StrCat("the cluster token file '", path, "' is empty"));
  return token;
}

absl::StatusOr<std::string> TokenFromEnvironment() {
  if (const char* token = std::getenv("RAYCC_AUTH_TOKEN"); token != nullptr && *token != '\0') {
    return std::string(absl::StripAsciiWhitespace(token));
  }
  if (const char* file = std::getenv("RAYCC_AUTH_TOKEN_FILE"); file != nullptr && *file != '\0') {
    return ReadTokenFile(file);
  }
  return absl::NotFoundError("no cluster token: set RAYCC_AUTH_TOKEN or RAYCC_AUTH_TOKEN_FILE");
}

absl::Status WriteTokenFile(const std::string& path, const std::string& token) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write '", path, "': ", std::strerror(errno)));
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) return absl::InternalError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

void AddToken(grpc::ClientContext* context, const std::string& token) {
  context->AddMetadata(kTokenMetadataKey, token);
}

grpc::Status TokenCheck::Check(const grpc::ServerContext* context) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find(kTokenMetadataKey);
  if (it == metadata.end()) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "no cluster token: pass RAYCC_AUTH_TOKEN or RAYCC_AUTH_TOKEN_FILE (the session "
                        "folder's 'token' file)");
  }
  const grpc::string_ref& given = it->second;
  if (given.size() != token_.size() || CRYPTO_memcmp(given.data(), token_.data(), token_.size()) != 0) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong cluster token");
  }
  return grpc::Status::OK;
}

}  // namespace raycc::rpc
