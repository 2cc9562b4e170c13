#include "scheduling/pick_node.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "raycc/runtime/common/status.h"
#include "scheduling/hybrid_policy.h"
#include "scheduling/node_affinity_policy.h"
#include "scheduling/spread_policy.h"

namespace raycc::scheduling {

int PickNode(const ClusterResources& cluster, const ResourceRequest& request, const PolicyOptions& options,
             uint64_t* spread_cursor) {
  AffinityDecision affinity = NodeAffinityPolicy(cluster, request, options);
  if (affinity.node >= 0 || !affinity.fall_back) return affinity.node;
  return options.spread ? SpreadPolicy(cluster, request, options, spread_cursor)
                        : HybridPolicy(cluster, request, options);
}

absl::Status CheckFeasible(const ClusterResources& cluster, const ResourceRequest& request,
                           const PolicyOptions& options) {
  if (options.affinity >= 0 && options.affinity < cluster.size() && !options.affinity_soft) {
    const NodeResources& node = cluster.node(options.affinity);
    if (!Eligible(cluster, options.affinity, options)) {
      return InfeasibleError(absl::StrCat("must run on node '", node.name, "', whose labels do not match ",
                                          LabelSelectorToString(*options.labels)));
    }
    if (!cluster.CanEverRun(request, options.affinity)) {
      return InfeasibleError(absl::StrCat("must run on node '", node.name, "', which has ",
                                          cluster.totals()[options.affinity].ToString(), "; it asks for ",
                                          ToSet(request.units).ToString()));
    }
    return absl::OkStatus();
  }
  std::vector<ResourceSet> allowed;
  for (int i = 0; i < cluster.size(); ++i) {
    if (!Eligible(cluster, i, options)) continue;
    if (cluster.CanEverRun(request, i)) return absl::OkStatus();
    allowed.push_back(cluster.totals()[i]);
  }
  if (allowed.empty()) {
    return InfeasibleError(
        absl::StrCat("no node has labels matching ", LabelSelectorToString(*options.labels)));
  }
  absl::Status status = ToSet(request.units).CheckFeasible(allowed);
  return InfeasibleError(
      absl::StrCat(status.message(),
                   options.labels != nullptr && !options.labels->empty()
                       ? absl::StrCat(" (among nodes matching ", LabelSelectorToString(*options.labels), ")")
                       : std::string()));
}

}  // namespace raycc::scheduling
