#pragma once

/// \file
/// Node affinity: the node the caller names, hard (only there: wait for
/// room) or soft (there if it has room, else as the other policies say).

#include "scheduling/policy_options.h"

namespace raycc::scheduling {

/// What node affinity decides.
struct AffinityDecision {
  /// The node to run on now (>= 0), or -1.
  int node = -1;
  /// With node -1: true when the other policies should choose (no
  /// affinity, or a soft one whose node has no room); false: wait.
  bool fall_back = true;
};

AffinityDecision NodeAffinityPolicy(const ClusterResources& cluster, const ResourceRequest& request,
                                    const PolicyOptions& options);

}  // namespace raycc::scheduling
