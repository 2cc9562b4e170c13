#pragma once

/// \file
/// ray::RayConfig: how ray::Init sets the runtime up.

#include <boost/optional.hpp>
#include <string>
#include <vector>

namespace ray {

/// Whether actors outlive the job that made them. raycc actors live with
/// their job: only NON_DETACHED is supported.
enum class ActorLifetime { NON_DETACHED, DETACHED };

/// How ray::Init sets up the runtime. Command-line flags given to
/// Init(config, argc, argv) (--ray_address=..., see docs/ray-compat.md)
/// override these fields.
class RayConfig {
 public:
  /// The raycc cluster to join, "HOST:PORT" of its control service, or
  /// "auto" for the one `raycc start` started on this machine. Empty: the
  /// RAY_ADDRESS (or RAYCC_ADDRESS) environment variable, else the
  /// embedded runtime, in this process.
  std::string address = "";
  /// Run the embedded runtime, in this process, whatever the environment
  /// says.
  bool local_mode = false;
  /// Ray loads task code from these paths. raycc needs none: the driver's
  /// own executable is shipped to the cluster's nodes (by content hash) and
  /// runs the tasks. Paths given must exist.
  std::vector<std::string> code_search_path;
  /// Ray passes these to the head it starts. raycc reads the resource flags
  /// for the embedded runtime: --num-cpus=N, --num-gpus=N and
  /// --resources='{"name": quantity, ...}'; other flags are ignored, with a
  /// warning.
  std::vector<std::string> head_args = {};
  ActorLifetime default_actor_lifetime = ActorLifetime::NON_DETACHED;
  /// Accepted and unused (raycc's control service has no password; a
  /// cluster token guards it).
  boost::optional<std::string> redis_password_;
  /// The namespace of named actors (SetName, GetActor); empty: the shared
  /// default namespace.
  std::string ray_namespace = "";
  /// Ray's own workers set it; raycc's know they are workers.
  bool is_worker_ = false;
};

}  // namespace ray
