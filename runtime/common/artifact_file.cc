#include "raycc/runtime/common/artifact_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "raycc/proto/artifact.pb.h"

namespace raycc {
namespace {

constexpr absl::string_view kMagic = "RAYCCRCX";
constexpr size_t kHeaderSize = 12;

}  // namespace

std::string SerializeArtifact(const proto::Artifact& artifact) {
  std::string out(kMagic);
  for (int shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<char>((kArtifactFormatVersion >> shift) & 0xff));
  }
  {
    // Deterministic (maps in key order): the same artifact, the same bytes.
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    artifact.SerializeToCodedStream(&coded);
  }
  return out;
}

absl::StatusOr<proto::Artifact> ParseArtifact(absl::string_view bytes) {
  if (bytes.size() < kHeaderSize || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::InvalidArgumentError("not a raycc artifact (no RAYCCRCX header)");
  }
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i) {
    version |= uint32_t{static_cast<uint8_t>(bytes[kMagic.size() + i])} << (8 * i);
  }
  if (version != kArtifactFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("artifact format version ", version,
                                                      " is not supported (this raycc reads version ",
                                                      kArtifactFormatVersion, "); recompile it"));
  }
  proto::Artifact artifact;
  bytes.remove_prefix(kHeaderSize);
  if (!artifact.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("artifact is truncated or corrupt");
  }
  if (artifact.format_version() != version) {
    return absl::DataLossError(absl::StrCat("artifact header says version ", version, " but its body says ",
                                            artifact.format_version()));
  }
  return artifact;
}

absl::StatusOr<proto::Artifact> ReadArtifact(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<proto::Artifact> artifact = ParseArtifact(buffer.str());
  if (!artifact.ok()) {
    return absl::Status(artifact.status().code(), absl::StrCat(path, ": ", artifact.status().message()));
  }
  return artifact;
}

absl::Status WriteArtifact(const std::string& path, const proto::Artifact& artifact) {
  std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return absl::PermissionDeniedError(absl::StrCat("cannot write '", tmp, "': ", std::strerror(errno)));
    }
    std::string bytes = SerializeArtifact(artifact);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) {
      std::remove(tmp.c_str());
      return absl::DataLossError(absl::StrCat("writing '", tmp, "' failed: ", std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::PermissionDeniedError(
        absl::StrCat("cannot rename '", tmp, "' to '", path, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace raycc
