#pragma once

/// \file
/// The default policy, as Ray's hybrid one: pack onto nodes in index order
/// while they are less than `spread_threshold` used, then the least used
/// node that fits.

#include "scheduling/policy_options.h"

namespace raycc::scheduling {

/// The node `request` runs on now, or -1 when no eligible node has room.
int HybridPolicy(const ClusterResources& cluster, const ResourceRequest& request,
                 const PolicyOptions& options);

}  // namespace raycc::scheduling
