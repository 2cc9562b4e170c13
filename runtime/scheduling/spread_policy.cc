#include "scheduling/spread_policy.h"

namespace raycc::scheduling {

int SpreadPolicy(const ClusterResources& cluster, const ResourceRequest& request,
                 const PolicyOptions& options, uint64_t* cursor) {
  int n = cluster.size();
  for (int k = 0; k < n; ++k) {
    int i = static_cast<int>((*cursor + k) % n);
    if (Eligible(cluster, i, options) &&
        (options.spread_by_total ? cluster.CanEverRun(request, i) : cluster.CanRun(request, i))) {
      *cursor = i + 1;
      return i;
    }
  }
  return -1;
}

}  // namespace raycc::scheduling
