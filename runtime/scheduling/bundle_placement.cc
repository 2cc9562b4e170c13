#include "scheduling/bundle_placement.h"

#include <algorithm>
#include <functional>

namespace raycc::scheduling {

std::vector<int> PlaceBundles(const std::vector<Units>& bundles, BundleStrategy strategy,
                              const std::vector<Units>& available) {
  int n = static_cast<int>(available.size());
  size_t count = bundles.size();
  std::vector<Units> left = available;
  std::vector<int> where(count, -1);
  // Each bundle in turn on the node with room that already holds the most
  // (or the fewest) of the group's bundles; false when one has no room.
  auto greedy = [&](bool most_used) {
    for (size_t b = 0; b < count; ++b) {
      int best = -1;
      size_t best_count = 0;
      for (int i = 0; i < n; ++i) {
        if (!Fits(bundles[b], left[i])) continue;
        size_t used = static_cast<size_t>(std::count(where.begin(), where.end(), i));
        if (best < 0 || (most_used ? used > best_count : used < best_count)) best = i, best_count = used;
      }
      if (best < 0) return false;
      for (const auto& [name, q] : bundles[b]) left[best][name] -= q;
      where[b] = best;
    }
    return true;
  };
  switch (strategy) {
    case BundleStrategy::kStrictPack:
    case BundleStrategy::kPack: {
      Units sum;
      for (const Units& b : bundles)
        for (const auto& [name, q] : b) sum[name] += q;
      // All on one node when one has room; strict_pack allows nothing else.
      for (int i = 0; i < n; ++i)
        if (Fits(sum, left[i])) return std::vector<int>(count, i);
      if (strategy == BundleStrategy::kStrictPack) return {};
      // Else as few nodes as it takes.
      return greedy(/*most_used=*/true) ? where : std::vector<int>{};
    }
    case BundleStrategy::kSpread:
      // Distinct nodes while there are, then the least used that has room.
      return greedy(/*most_used=*/false) ? where : std::vector<int>{};
    case BundleStrategy::kStrictSpread: {
      // A distinct node per bundle: backtracking (groups are small).
      if (count > static_cast<size_t>(n)) return {};
      std::vector<bool> used(n, false);
      std::function<bool(size_t)> assign = [&](size_t b) {
        if (b == count) return true;
        for (int i = 0; i < n; ++i) {
          if (used[i] || !Fits(bundles[b], left[i])) continue;
          used[i] = true;
          where[b] = i;
          if (assign(b + 1)) return true;
          used[i] = false;
        }
        return false;
      };
      return assign(0) ? where : std::vector<int>{};
    }
  }
  return {};
}

std::vector<int> PlacePinnedBundles(const std::vector<Units>& bundles, const std::vector<int>& pinned,
                                    const std::vector<Units>& available) {
  if (pinned.size() != bundles.size()) return {};
  std::vector<Units> left = available;
  for (size_t b = 0; b < bundles.size(); ++b) {
    int node = pinned[b];
    if (node < 0 || node >= static_cast<int>(left.size()) || !Fits(bundles[b], left[node])) return {};
    for (const auto& [name, q] : bundles[b]) left[node][name] -= q;
  }
  return pinned;
}

}  // namespace raycc::scheduling
