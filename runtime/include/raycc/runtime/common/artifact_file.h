#pragma once

/// \file
/// Reading and writing `raycc compile` artifacts (`.rcx`): the 8-byte magic
/// "RAYCCRCX", a 4-byte little-endian format version, then a serialized
/// raycc.proto.Artifact (proto/raycc/proto/artifact.proto).

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace raycc {
namespace proto {
class Artifact;
}  // namespace proto

/// The format version this build reads and writes.
inline constexpr uint32_t kArtifactFormatVersion = 1;

/// The on-disk bytes of `artifact` (header included).
std::string SerializeArtifact(const proto::Artifact& artifact);

/// Parses on-disk bytes; fails with a message naming the problem (not an
/// artifact, a version this build cannot read, truncated or corrupt).
absl::StatusOr<proto::Artifact> ParseArtifact(absl::string_view bytes);

/// Reads and parses the artifact at `path`.
absl::StatusOr<proto::Artifact> ReadArtifact(const std::string& path);

/// Writes `artifact` to `path` atomically (a temporary file renamed into
/// place), so a reader never sees half an artifact.
absl::Status WriteArtifact(const std::string& path, const proto::Artifact& artifact);

}  // namespace raycc
