#pragma once

/// \file
/// The scheduler's one decision: which node runs a request now, by the
/// policies its options name, and whether it could ever run at all.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "scheduling/policy_options.h"

namespace raycc::scheduling {

/// The node `request` runs on now under `options` (node affinity first,
/// then spread or hybrid), or -1: it waits. `spread_cursor` is the spread
/// policy's state (one per scheduler).
int PickNode(const ClusterResources& cluster, const ResourceRequest& request, const PolicyOptions& options,
             uint64_t* spread_cursor);

/// OK when some node the options allow could hold `request` once idle;
/// otherwise an infeasible error (IsInfeasible) naming the cause: the
/// resource no node has, the hard affinity node too small, or the labels
/// no node matches. (The caller names the request: Annotate.)
absl::Status CheckFeasible(const ClusterResources& cluster, const ResourceRequest& request,
                           const PolicyOptions& options);

}  // namespace raycc::scheduling
