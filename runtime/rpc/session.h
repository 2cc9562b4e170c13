#pragma once

/// \file
/// The session folder of the cluster processes this machine started
/// (`raycc start`): <root>/session_<time>_<pid>/ holds the cluster `token`,
/// the GCS `address`, the daemons' pid files (*.pid) and `logs/`;
/// <root>/session_latest names the newest. The root is /tmp/raycc, or
/// $RAYCC_SESSION_ROOT (tests use their own).
///
/// A driver given `address = "auto"` joins the cluster of the latest
/// session, with its token.

#include <string>

#include "absl/status/statusor.h"

namespace raycc::rpc {

std::string SessionRoot();

struct Session {
  std::string dir;
  /// The GCS ("host:port").
  std::string address;
  std::string token_file;
};

/// The session `session_latest` names; NotFound (saying to run `raycc
/// start`) when there is none.
absl::StatusOr<Session> LatestSession();

}  // namespace raycc::rpc
