#include "rpc/session.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rpc/content_hash.h"

namespace raycc::rpc {

std::string SessionRoot() {
  const char* root = std::getenv("RAYCC_SESSION_ROOT");
  return root != nullptr && *root != '\0' ? root : "/tmp/raycc";
}

absl::StatusOr<Session> LatestSession() {
  const std::string link = absl::StrCat(SessionRoot(), "/session_latest");
  char target[4096];
  ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
  if (n <= 0) {
    return absl::NotFoundError(absl::StrCat("no raycc cluster was started on this machine (no ", link,
                                            "): run `raycc start --head` first"));
  }
  Session session;
  session.dir = std::string(target, n);
  if (session.dir.front() != '/') session.dir = absl::StrCat(SessionRoot(), "/", session.dir);
  absl::StatusOr<std::string> address = ReadFileBytes(absl::StrCat(session.dir, "/address"));
  if (!address.ok()) {
    return absl::NotFoundError(absl::StrCat("the latest raycc session (", session.dir,
                                            ") has no cluster address: ", address.status().message()));
  }
  session.address = std::string(absl::StripAsciiWhitespace(*address));
  session.token_file = absl::StrCat(session.dir, "/token");
  return session;
}

}  // namespace raycc::rpc
