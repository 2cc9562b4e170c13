#include "scheduling/node_affinity_policy.h"

namespace raycc::scheduling {

AffinityDecision NodeAffinityPolicy(const ClusterResources& cluster, const ResourceRequest& request,
                                    const PolicyOptions& options) {
  if (options.affinity < 0 || options.affinity >= cluster.size()) return {};
  if (Eligible(cluster, options.affinity, options) && cluster.CanRun(request, options.affinity)) {
    return {.node = options.affinity, .fall_back = false};
  }
  return {.node = -1, .fall_back = options.affinity_soft};
}

}  // namespace raycc::scheduling
