#pragma once

/// \file
/// Placement-group bundles onto nodes, for the four strategies (gang
/// scheduling: all bundles are placed or none).

#include <vector>

#include "scheduling/cluster_resources.h"

namespace raycc::scheduling {

/// In the order of proto::PlacementStrategy.
enum class BundleStrategy { kPack = 0, kSpread = 1, kStrictPack = 2, kStrictSpread = 3 };

/// A node for every bundle given each node's `available` resources, or
/// empty when the bundles do not fit together:
/// - PACK: all on one node when one has room, else as few nodes as it takes;
/// - STRICT_PACK: all on one node, or nothing;
/// - SPREAD: distinct nodes while there are, then the least loaded with room;
/// - STRICT_SPREAD: a distinct node per bundle, or nothing (exhaustive).
/// Deterministic: ties go to the lower node index.
std::vector<int> PlaceBundles(const std::vector<Units>& bundles, BundleStrategy strategy,
                              const std::vector<Units>& available);

/// Bundles a compiler already placed: `pinned` (a node index per bundle)
/// when the bundles pinned to each node fit its `available` resources
/// together, else empty (they wait; no other node will do).
std::vector<int> PlacePinnedBundles(const std::vector<Units>& bundles, const std::vector<int>& pinned,
                                    const std::vector<Units>& available);

}  // namespace raycc::scheduling
