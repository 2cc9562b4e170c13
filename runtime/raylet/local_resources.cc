#include "raylet/local_resources.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gcs/bundle_reserver_interface.h"
#include "raycc/runtime/common/status.h"
#include "scheduling/pick_node.h"

namespace raycc::raylet {

LocalResources::LocalResources() : task_default_(Intern({{"CPU", FixedPoint::kScale}})), none_(Intern({})) {}

absl::StatusOr<int> LocalResources::AddNode(const std::string& name, const ResourceSet& total,
                                            const std::map<std::string, std::string>& labels,
                                            const NodeId& id) {
  absl::StatusOr<int> added = nodes_.AddNode(name, total, labels);
  if (!added.ok()) return added.status();
  ids_.push_back(id);
  task_default_feasible_ = task_default_feasible_ || nodes_.CanEverRun(*task_default_, *added);
  return added;
}

const Demand* LocalResources::Intern(scheduling::Units units) {
  std::vector<std::pair<std::string, int64_t>> key(units.begin(), units.end());
  std::sort(key.begin(), key.end());
  auto [it, added] = interned_.try_emplace(std::move(key), nullptr);
  if (!added) return it->second;
  Demand& demand = demands_.emplace_back();
  demand.cpu = scheduling::CpuPart(units);
  static_cast<scheduling::ResourceRequest&>(demand) = scheduling::ResourceRequest::Of(std::move(units));
  it->second = &demand;
  return &demand;
}

absl::StatusOr<const Demand*> LocalResources::DemandOf(
    const std::vector<std::pair<std::string, double>>& resources) {
  auto cached = by_request_.find(resources);
  if (cached != by_request_.end()) return cached->second;
  absl::StatusOr<ResourceSet> set = ResourceSet::Create(resources);
  if (!set.ok()) return set.status();
  absl::Status feasible = set->CheckFeasible(nodes_.totals());
  if (!feasible.ok()) return InfeasibleError(feasible.message());
  const Demand* demand = Intern(scheduling::ToUnits(*set));
  by_request_.emplace(resources, demand);
  return demand;
}

absl::StatusOr<const Demand*> LocalResources::InGroup(const Demand& demand, const PlacementGroupId& group,
                                                      int index,
                                                      const std::vector<scheduling::Units>& bundles) {
  auto key = std::make_tuple(&demand, group, index);
  auto cached = in_group_.find(key);
  if (cached != in_group_.end()) return cached->second;
  std::vector<ResourceSet> sets;
  sets.reserve(bundles.size());
  for (const scheduling::Units& bundle : bundles) sets.push_back(scheduling::ToSet(bundle));
  absl::StatusOr<ResourceSet> renamed =
      gcs::DemandInGroup(scheduling::ToSet(demand.units), sets, index, group);
  if (!renamed.ok()) return renamed.status();
  const Demand* in_group = Intern(scheduling::ToUnits(*renamed));
  in_group_.emplace(key, in_group);
  return in_group;
}

absl::StatusOr<scheduling::PolicyOptions> LocalResources::PlacementOf(const PlacementRequest& request,
                                                                      const Demand& demand) {
  scheduling::PolicyOptions where;
  where.spread = request.spread;
  where.affinity_soft = request.node_soft;
  if (!request.node_name.empty()) {
    const int found = nodes_.Find(request.node_name);
    if (found >= 0 && nodes_.size() > 1) {
      where.affinity = found;
    } else if (found < 0 && !request.node_soft) {
      return InfeasibleError(
          absl::StrCat("must run on node '", request.node_name, "', which does not exist"));
    }
    // (The only node, or a soft pin to a node that does not exist: anywhere.)
  }
  if (!request.label_selector.empty()) {
    auto [it, added] = selectors_.try_emplace(request.label_selector);
    if (added) {
      absl::StatusOr<scheduling::LabelSelector> parsed =
          scheduling::ParseLabelSelector(request.label_selector);
      if (!parsed.ok()) {
        selectors_.erase(it);
        return parsed.status();
      }
      it->second = std::make_unique<scheduling::LabelSelector>(*std::move(parsed));
    }
    where.labels = it->second.get();
  }
  if (where.labels == nullptr && (where.affinity < 0 || request.node_soft)) return where;
  // Only some nodes: one of them must be able to hold it at all.
  scheduling::PolicyOptions only{.affinity = request.node_soft ? -1 : where.affinity,
                                 .affinity_soft = request.node_soft,
                                 .labels = where.labels};
  RAYCC_RETURN_IF_ERROR(scheduling::CheckFeasible(nodes_, demand, only));
  return where;
}

int LocalResources::Capacity(const Demand& demand, const scheduling::PolicyOptions& where, int cap) const {
  int64_t copies = 0;
  for (int i = 0; i < nodes_.size() && copies < cap; ++i) {
    if (where.affinity >= 0 && !where.affinity_soft && i != where.affinity) continue;
    if (!scheduling::Eligible(nodes_, i, where)) continue;
    int64_t here = cap;  // (a demand of nothing: as many as asked)
    for (const auto& [name, q] : demand.units) {
      if (q <= 0) continue;
      // A node's own resources count by its total; a group's (committed
      // bundles exist only as free resources) by what is free of them now.
      const scheduling::NodeResources& node = nodes_.node(i);
      auto total = node.total.find(name);
      auto free = node.available.find(name);
      const int64_t has = std::max(total == node.total.end() ? 0 : total->second,
                                   free == node.available.end() ? 0 : free->second);
      here = std::min(here, has / q);
    }
    copies += here;
  }
  return static_cast<int>(std::clamp<int64_t>(copies, 1, cap));
}

int LocalResources::PickNode(const Demand& demand, const scheduling::PolicyOptions* where) {
  if (nodes_.size() == 1) return nodes_.CanRun(demand, 0) ? 0 : -1;
  static const scheduling::PolicyOptions kDefault;
  return scheduling::PickNode(nodes_, demand, where != nullptr ? *where : kDefault, &spread_cursor_);
}

}  // namespace raycc::raylet
