#pragma once

/// \file
/// Content hashes: code reaches the workers identified by the SHA-256 of
/// its bytes, so a node caches it once and can never run stale code.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace raycc::rpc {

/// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

/// The whole file; an error names it.
absl::StatusOr<std::string> ReadFileBytes(const std::string& path);

}  // namespace raycc::rpc
