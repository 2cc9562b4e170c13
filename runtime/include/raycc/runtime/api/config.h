#pragma once

/// \file
/// How Init() sets a runtime up: the embedded runtime's threads, resources
/// and simulated nodes, the timeline, and (later) the cluster to join.

#include <map>
#include <string>
#include <vector>

namespace raycc {

/// A logical node of the embedded runtime (Config.nodes).
struct NodeConfig {
  /// Unique; the names of a cluster description let compiled placements
  /// land where the compiler put them.
  std::string name;
  /// All of the node's resources, "CPU" included.
  std::map<std::string, double> resources;
  /// Its labels ({"zone", "a"}), which label selectors match
  /// (SetLabelSelector).
  std::map<std::string, std::string> labels;
};

/// How Init() sets up the runtime.
struct Config {
  /// Worker threads and "CPU" resource; 0: all hardware threads.
  int num_cpus = 0;
  /// Other resources of the node ({"GPU", 1}, custom names).
  std::map<std::string, double> resources;
  /// Simulated logical nodes, each with its own resources: scheduling
  /// strategies and placement groups behave as on a cluster of these nodes
  /// (all in this process). Empty: one node from num_cpus and resources,
  /// which must then be left unset.
  std::vector<NodeConfig> nodes;
  /// When set, every task attempt is recorded and written to this file at
  /// Shutdown() in Chrome trace-event format (Perfetto, chrome://tracing,
  /// `raycc viz --timeline`).
  std::string timeline_path;
  /// The cluster to join: "HOST:PORT" of its GCS, or "auto" for the one
  /// `raycc start` started on this machine; empty: the embedded runtime, in
  /// this process (also when the RAYCC_ADDRESS environment variable is
  /// unset or empty). The cluster token comes from RAYCC_AUTH_TOKEN,
  /// RAYCC_AUTH_TOKEN_FILE, or this machine's session. Init throws a
  /// RayccError naming the address and the cause when it cannot join.
  std::string address;
  /// Run the embedded runtime, in this process, even when RAYCC_ADDRESS
  /// names a cluster (Ray's local_mode). With `address` set too, Init throws.
  bool local_mode = false;
  /// On a cluster: the program the raylets run as this job's worker
  /// processes (uploaded by content hash). Empty: this program itself
  /// (whose main must call raycc::Init() first). `raycc run --address`
  /// names `raycc-worker`, which holds the runtime alone and loads the
  /// graph's task library.
  std::string worker_program;
};

}  // namespace raycc
