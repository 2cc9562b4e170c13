#include "scheduling/hybrid_policy.h"

namespace raycc::scheduling {

int HybridPolicy(const ClusterResources& cluster, const ResourceRequest& request,
                 const PolicyOptions& options) {
  int best = -1;
  double best_u = 2;
  for (int i = 0; i < cluster.size(); ++i) {
    if (!Eligible(cluster, i, options) || !cluster.CanRun(request, i)) continue;
    double u = cluster.Utilization(request, i);
    if (u < options.spread_threshold) return i;
    if (u < best_u) best = i, best_u = u;
  }
  return best;
}

}  // namespace raycc::scheduling
