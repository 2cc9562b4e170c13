#pragma once

/// \file
/// SPREAD: round-robin over the nodes that have room, so consecutive
/// requests land on different nodes.

#include <cstdint>

#include "scheduling/policy_options.h"

namespace raycc::scheduling {

/// The first eligible node with room at or after `*cursor` (mod the node
/// count); advances `*cursor` past it. -1 when none has room.
/// (options.spread_by_total: the first that could ever hold it.)
int SpreadPolicy(const ClusterResources& cluster, const ResourceRequest& request,
                 const PolicyOptions& options, uint64_t* cursor);

}  // namespace raycc::scheduling
