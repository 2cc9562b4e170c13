#include "gcs/placement_group_manager.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "raycc/runtime/common/status.h"

namespace raycc::gcs {

std::string GroupResourceSuffix(const PlacementGroupId& id) { return "_" + id.Hex(); }

std::vector<bool> BundleReserverInterface::ReserveGroups(
    const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups) {
  std::vector<bool> reserved;
  for (const auto& [group, bundles] : groups) {
    // Phase 1: hold every bundle; a node that says no rolls back the rest.
    size_t prepared = 0;
    while (prepared < bundles.size() &&
           PrepareBundle(group, bundles[prepared].index, bundles[prepared].bundle, bundles[prepared].node)) {
      ++prepared;
    }
    if (prepared < bundles.size()) {
      for (size_t k = 0; k < prepared; ++k)
        CancelBundle(group, bundles[k].index, bundles[k].bundle, bundles[k].node);
      reserved.push_back(false);
      continue;
    }
    // Phase 2: commit.
    for (const BundleAt& b : bundles) CommitBundle(group, b.index, b.bundle, b.node);
    reserved.push_back(true);
  }
  return reserved;
}

void BundleReserverInterface::ReturnGroups(
    const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups) {
  for (const auto& [group, bundles] : groups)
    for (const BundleAt& b : bundles) ReturnBundle(group, b.index, b.bundle, b.node);
}

std::string DescribePlacementGroup(const std::string& name) {
  return "placement group" + (name.empty() ? std::string() : " '" + name + "'");
}

absl::StatusOr<std::vector<ResourceSet>> BundleResourceSets(
    const std::vector<std::vector<std::pair<std::string, double>>>& bundles, const std::string& name) {
  std::vector<ResourceSet> sets;
  for (size_t i = 0; i < bundles.size(); ++i) {
    absl::StatusOr<ResourceSet> set = ResourceSet::Create(bundles[i]);
    if (!set.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(DescribePlacementGroup(name), ": bundle ", i, ": ", set.status().message()));
    }
    sets.push_back(*std::move(set));
  }
  return sets;
}

ResourceSet GroupResources(const ResourceSet& demand, int index, const std::string& suffix) {
  ResourceSet renamed;
  for (const auto& [name, q] : demand.SortedEntries()) {
    (void)renamed.Set(absl::StrCat(name, "_group", suffix), q);
    if (index >= 0) (void)renamed.Set(absl::StrCat(name, "_group_", index, suffix), q);
  }
  return renamed;
}

absl::StatusOr<ResourceSet> DemandInGroup(const ResourceSet& demand, const std::vector<ResourceSet>& bundles,
                                          int index, const PlacementGroupId& group) {
  if (index >= static_cast<int>(bundles.size())) {
    return absl::InvalidArgumentError(absl::StrCat("bundle ", index, " of placement group ", group.Hex(),
                                                   " does not exist (it has ", bundles.size(), ")"));
  }
  const bool fits = index >= 0 ? demand.IsSubsetOf(bundles[index])
                               : std::any_of(bundles.begin(), bundles.end(),
                                             [&](const ResourceSet& b) { return demand.IsSubsetOf(b); });
  if (!fits) {
    return InfeasibleError(
        absl::StrCat("demands ", demand.ToString(), ", more than ",
                     index >= 0 ? absl::StrCat("bundle ", index) : std::string("any bundle"),
                     " of its placement group holds"));
  }
  return GroupResources(demand, index, GroupResourceSuffix(group));
}

namespace {

const char* StrategyName(scheduling::BundleStrategy strategy) {
  switch (strategy) {
    case scheduling::BundleStrategy::kPack:
      return "pack";
    case scheduling::BundleStrategy::kSpread:
      return "spread";
    case scheduling::BundleStrategy::kStrictPack:
      return "strict_pack";
    case scheduling::BundleStrategy::kStrictSpread:
      return "strict_spread";
  }
  return "?";
}

// A compiler's pins checked against the strategy and the nodes' totals.
absl::Status CheckPins(const std::vector<ResourceSet>& bundles, scheduling::BundleStrategy strategy,
                       const std::vector<NodeId>& pinned,
                       const std::vector<std::pair<NodeId, ResourceSet>>& node_totals,
                       const std::string& what) {
  if (pinned.size() != bundles.size()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", pinned.size(), " bundle node(s) for ",
                                                   bundles.size(),
                                                   " bundles (give one per bundle, or none)"));
  }
  for (size_t i = 1; i < pinned.size(); ++i) {
    if (strategy == scheduling::BundleStrategy::kStrictPack && pinned[i] != pinned[0]) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": strict_pack, but bundles 0 and ", i, " are pinned to different nodes"));
    }
    for (size_t j = 0; j < i && strategy == scheduling::BundleStrategy::kStrictSpread; ++j) {
      if (pinned[i] == pinned[j]) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": strict_spread, but bundles ", j, " and ", i, " are pinned to one node"));
      }
    }
  }
  // What is pinned to each node must fit its total.
  for (const auto& [node, total] : node_totals) {
    ResourceSet sum;
    for (size_t i = 0; i < pinned.size(); ++i)
      if (pinned[i] == node) sum.Add(bundles[i]);
    if (!sum.IsEmpty() && !scheduling::Fits(scheduling::ToUnits(sum), scheduling::ToUnits(total))) {
      return InfeasibleError(absl::StrCat(what, ": the bundles pinned to node ", node.Hex().substr(0, 8),
                                          " need ", sum.ToString(), ", more than its total ",
                                          total.ToString()));
    }
  }
  for (size_t i = 0; i < pinned.size(); ++i) {
    bool known = std::any_of(node_totals.begin(), node_totals.end(),
                             [&](const auto& n) { return n.first == pinned[i]; });
    if (!known) {
      return InfeasibleError(absl::StrCat(what, ": bundle ", i, " is pinned to node ",
                                          pinned[i].Hex().substr(0, 8), ", which is not alive"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

proto::PlacementGroupInfo PlacementGroupManager::ToInfo(const PlacementGroupRecord& group) {
  proto::PlacementGroupInfo info;
  proto::PlacementGroupSpec* spec = info.mutable_spec();
  spec->set_placement_group_id(group.id.Binary());
  spec->set_name(group.name);
  spec->set_strategy(static_cast<proto::PlacementStrategy>(group.strategy));
  for (size_t i = 0; i < group.bundles.size(); ++i) {
    proto::Bundle* bundle = spec->add_bundles();
    bundle->set_index(static_cast<int32_t>(i));
    for (const auto& [name, q] : group.bundles[i])
      (*bundle->mutable_resources()->mutable_quantities())[name] = q;
    if (i < group.bundle_nodes.size() && !group.bundle_nodes[i].IsNil())
      bundle->set_node_id(group.bundle_nodes[i].Binary());
  }
  info.set_state(group.state);
  return info;
}

absl::Status PlacementGroupManager::Load() {
  RAYCC_RETURN_IF_ERROR((LoadTable<PlacementGroupId, proto::PlacementGroupInfo>(
      storage_, tables::kPlacementGroups, "placement group",
      [](const std::string& key, const proto::PlacementGroupInfo& info) {
        return info.spec().placement_group_id() == key && !info.spec().bundles().empty() &&
               proto::PlacementStrategy_IsValid(info.spec().strategy()) &&
               info.spec().strategy() <= proto::STRICT_SPREAD &&
               proto::PlacementGroupState_IsValid(info.state());
      },
      [&](const PlacementGroupId& id, proto::PlacementGroupInfo info) {
        PlacementGroupRecord group{
            .id = id,
            .name = info.spec().name(),
            .strategy = static_cast<scheduling::BundleStrategy>(info.spec().strategy()),
            .state = info.state(),
            .suffix = GroupResourceSuffix(id)};
        for (const proto::Bundle& bundle : info.spec().bundles()) {
          group.bundles.emplace_back(bundle.resources().quantities().begin(),
                                     bundle.resources().quantities().end());
          absl::StatusOr<NodeId> node = NodeId::FromBinary(bundle.node_id());
          group.bundle_nodes.push_back(node.ok() ? *node : NodeId());  // (none yet, or lost: nil)
        }
        if (group.state == proto::PG_PENDING) group.bundle_nodes.clear();
        if (group.state == proto::PG_REMOVED) {
          removed_.push_back(id);
        } else {
          order_.push_back(id);
          if (group.state != proto::PG_CREATED) pending_.fetch_add(1, std::memory_order_relaxed);
        }
        groups_.emplace(id, std::move(group));
      })));
  while (removed_.size() > kRemovedKept) {
    groups_.erase(removed_.front());
    removed_.pop_front();
  }
  return absl::OkStatus();
}

absl::Status PlacementGroupManager::Persist(const PlacementGroupRecord& group) {
  return storage_.Put(tables::kPlacementGroups, group.id.Binary(), ToInfo(group).SerializeAsString());
}

proto::PlacementGroupSpec PlacementGroupSpecOf(const PlacementGroupId& id, const std::string& name,
                                               scheduling::BundleStrategy strategy,
                                               const std::vector<ResourceSet>& bundles,
                                               const std::vector<std::string>& bundle_nodes) {
  proto::PlacementGroupSpec spec;
  spec.set_placement_group_id(id.Binary());
  spec.set_name(name);
  spec.set_strategy(static_cast<proto::PlacementStrategy>(strategy));
  for (size_t i = 0; i < bundles.size(); ++i) {
    proto::Bundle* bundle = spec.add_bundles();
    bundle->set_index(static_cast<int32_t>(i));
    bundles[i].ToProto(bundle->mutable_resources());
  }
  for (const std::string& node : bundle_nodes) spec.add_bundle_node_names(node);
  return spec;
}

absl::Status CheckGroupFeasible(const std::vector<ResourceSet>& bundles, scheduling::BundleStrategy strategy,
                                const std::vector<std::pair<NodeId, ResourceSet>>& node_totals,
                                const std::string& what, const std::vector<NodeId>& pinned) {
  if (bundles.empty()) return absl::InvalidArgumentError(what + ": needs at least one bundle");
  std::vector<scheduling::Units> units;
  ResourceSet sum;
  for (size_t i = 0; i < bundles.size(); ++i) {
    if (bundles[i].IsEmpty())
      return absl::InvalidArgumentError(absl::StrCat(what, ": bundle ", i, " reserves no resources"));
    units.push_back(scheduling::ToUnits(bundles[i]));
    sum.Add(bundles[i]);
  }
  if (!pinned.empty()) return CheckPins(bundles, strategy, pinned, node_totals, what);
  // Could it ever be placed, on idle nodes?
  std::vector<scheduling::Units> idle;
  std::vector<ResourceSet> totals;
  for (const auto& [node, total] : node_totals) {
    idle.push_back(scheduling::ToUnits(total));
    totals.push_back(total);
  }
  if (!scheduling::PlaceBundles(units, strategy, idle).empty()) return absl::OkStatus();
  for (size_t i = 0; i < bundles.size(); ++i) {
    absl::Status feasible = bundles[i].CheckFeasible(totals);
    if (!feasible.ok()) return InfeasibleError(absl::StrCat(what, ": bundle ", i, ": ", feasible.message()));
  }
  switch (strategy) {
    case scheduling::BundleStrategy::kStrictSpread:
      return InfeasibleError(absl::StrCat(what, ": strict_spread needs ", bundles.size(),
                                          " distinct nodes that each hold a bundle; the runtime has ",
                                          totals.size(), " node(s)"));
    case scheduling::BundleStrategy::kStrictPack:
      return InfeasibleError(
          absl::StrCat(what, ": no node can hold all bundles ", sum.ToString(), " (strict_pack)"));
    default:
      return InfeasibleError(absl::StrCat(what, ": the runtime's ", totals.size(),
                                          " node(s) cannot hold all bundles ", sum.ToString(), " at once (",
                                          StrategyName(strategy), ")"));
  }
}

absl::Status PlacementGroupManager::Create(const PlacementGroupId& id, const std::string& name,
                                           scheduling::BundleStrategy strategy,
                                           const std::vector<ResourceSet>& bundles,
                                           const std::vector<std::pair<NodeId, ResourceSet>>& node_totals,
                                           const std::string& what, const std::vector<NodeId>& pinned) {
  if (groups_.contains(id)) return absl::InvalidArgumentError(what + ": id " + id.Hex() + " is taken");
  if (absl::Status s = CheckGroupFeasible(bundles, strategy, node_totals, what, pinned); !s.ok()) return s;
  PlacementGroupRecord group{.id = id, .name = name, .strategy = strategy, .suffix = GroupResourceSuffix(id)};
  for (const ResourceSet& bundle : bundles) group.bundles.push_back(scheduling::ToUnits(bundle));
  group.pinned = pinned;
  if (absl::Status s = Persist(group); !s.ok()) return s;
  groups_.emplace(id, std::move(group));
  order_.push_back(id);
  pending_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

std::vector<PlacementGroupId> PlacementGroupManager::ReservePending(BundleReserverInterface& raylets) {
  std::vector<PlacementGroupId> created;
  if (pending() == 0) return created;
  // Groups waiting after a node died first, one by one (rare).
  for (const PlacementGroupId& id : order_) {
    PlacementGroupRecord& group = groups_.at(id);
    if (group.state == proto::PG_RESCHEDULING && Reschedule(group, raylets)) created.push_back(id);
  }
  // The pending ones in order, placed against what is free as each before
  // it takes its share, then reserved together (one call per node and
  // phase with the raylets).
  const std::vector<std::pair<NodeId, scheduling::Units>> available = raylets.AvailableResources();
  std::vector<scheduling::Units> free;
  free.reserve(available.size());
  for (const auto& [node, units] : available) free.push_back(units);
  std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>> batch;
  for (const PlacementGroupId& id : order_) {
    PlacementGroupRecord& group = groups_.at(id);
    if (group.state != proto::PG_PENDING) continue;
    std::vector<int> where;
    if (group.pinned.empty()) {
      where = scheduling::PlaceBundles(group.bundles, group.strategy, free);
    } else {
      std::vector<int> pins;
      for (const NodeId& node : group.pinned) {
        auto at =
            std::find_if(available.begin(), available.end(), [&](const auto& a) { return a.first == node; });
        pins.push_back(at == available.end() ? -1 : static_cast<int>(at - available.begin()));
      }
      where = scheduling::PlacePinnedBundles(group.bundles, pins, free);
    }
    if (where.empty()) continue;
    std::vector<BundleAt> bundles;
    for (size_t i = 0; i < group.bundles.size(); ++i) {
      bundles.push_back({static_cast<int>(i), group.bundles[i], available[where[i]].first});
      for (const auto& [name, q] : group.bundles[i]) free[where[i]][name] -= q;
    }
    batch.emplace_back(id, std::move(bundles));
  }
  if (batch.empty()) return created;
  const std::vector<bool> reserved = raylets.ReserveGroups(batch);
  for (size_t g = 0; g < batch.size(); ++g) {
    if (!reserved[g]) continue;  // (it waits for the next try)
    PlacementGroupRecord& group = groups_.at(batch[g].first);
    group.bundle_nodes.resize(group.bundles.size());
    for (const BundleAt& b : batch[g].second) group.bundle_nodes[b.index] = b.node;
    MarkCreated(group);
    created.push_back(group.id);
  }
  return created;
}

void PlacementGroupManager::MarkCreated(PlacementGroupRecord& group) {
  group.state = proto::PG_CREATED;
  pending_.fetch_sub(1, std::memory_order_relaxed);
  (void)Persist(group);  // (the in-memory state is the truth; a storage error shows on the next write)
}

bool PlacementGroupManager::Reserve(PlacementGroupRecord& group, const std::vector<size_t>& indices,
                                    const std::vector<int>& where,
                                    const std::vector<std::pair<NodeId, scheduling::Units>>& available,
                                    BundleReserverInterface& raylets) {
  std::vector<BundleAt> bundles;
  for (size_t k = 0; k < indices.size(); ++k)
    bundles.push_back({static_cast<int>(indices[k]), group.bundles[indices[k]], available[where[k]].first});
  if (!raylets.ReserveGroups({{group.id, bundles}})[0]) return false;
  group.bundle_nodes.resize(group.bundles.size());
  for (const BundleAt& b : bundles) group.bundle_nodes[b.index] = b.node;
  MarkCreated(group);
  return true;
}

std::vector<PlacementGroupId> PlacementGroupManager::OnNodeDead(const NodeId& node) {
  std::vector<PlacementGroupId> hit;
  for (const PlacementGroupId& id : order_) {
    PlacementGroupRecord& group = groups_.at(id);
    if (group.state != proto::PG_CREATED && group.state != proto::PG_RESCHEDULING) continue;
    bool lost = false;
    for (NodeId& at : group.bundle_nodes) {
      if (at == node) {
        at = NodeId();
        lost = true;
      }
    }
    if (!lost) continue;
    if (group.state == proto::PG_CREATED) pending_.fetch_add(1, std::memory_order_relaxed);
    group.state = proto::PG_RESCHEDULING;
    (void)Persist(group);
    hit.push_back(id);
  }
  return hit;
}

bool PlacementGroupManager::Reschedule(PlacementGroupRecord& group, BundleReserverInterface& raylets) {
  std::vector<size_t> lost;
  for (size_t i = 0; i < group.bundle_nodes.size(); ++i)
    if (group.bundle_nodes[i].IsNil()) lost.push_back(i);
  std::vector<std::pair<NodeId, scheduling::Units>> available = raylets.AvailableResources();
  std::vector<scheduling::Units> free;
  for (const auto& [node, units] : available) {
    // strict_spread: never on a node another bundle of the group is on.
    const bool taken =
        group.strategy == scheduling::BundleStrategy::kStrictSpread &&
        std::find(group.bundle_nodes.begin(), group.bundle_nodes.end(), node) != group.bundle_nodes.end();
    free.push_back(taken ? scheduling::Units() : units);
  }
  std::vector<scheduling::Units> bundles;
  for (size_t i : lost) bundles.push_back(group.bundles[i]);
  std::vector<int> where = scheduling::PlaceBundles(bundles, group.strategy, free);
  return !where.empty() && Reserve(group, lost, where, available, raylets);
}

absl::StatusOr<bool> PlacementGroupManager::Remove(const PlacementGroupId& id,
                                                   BundleReserverInterface& raylets) {
  std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>> returns;
  absl::StatusOr<bool> removed = Remove(id, &returns);
  if (!returns.empty()) raylets.ReturnGroups(returns);
  return removed;
}

absl::StatusOr<bool> PlacementGroupManager::Remove(
    const PlacementGroupId& id, std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>* returns) {
  auto it = groups_.find(id);
  if (it == groups_.end()) return absl::NotFoundError("unknown placement group " + id.Hex());
  PlacementGroupRecord& group = it->second;
  if (group.state == proto::PG_REMOVED) return false;
  bool held = group.state == proto::PG_CREATED || group.state == proto::PG_RESCHEDULING;
  if (held) {
    // (Not the bundles lost with a dead node: nothing holds them.)
    std::vector<BundleAt> bundles;
    for (size_t i = 0; i < group.bundles.size(); ++i)
      if (!group.bundle_nodes[i].IsNil())
        bundles.push_back({static_cast<int>(i), group.bundles[i], group.bundle_nodes[i]});
    returns->emplace_back(id, std::move(bundles));
  }
  if (group.state != proto::PG_CREATED) pending_.fetch_sub(1, std::memory_order_relaxed);
  group.state = proto::PG_REMOVED;
  order_.erase(std::find(order_.begin(), order_.end(), id));
  if (absl::Status s = Persist(group); !s.ok()) return s;
  removed_.push_back(id);
  if (removed_.size() > kRemovedKept) {
    PlacementGroupId oldest = removed_.front();
    removed_.pop_front();
    groups_.erase(oldest);
    if (absl::StatusOr<bool> s = storage_.Delete(tables::kPlacementGroups, oldest.Binary()); !s.ok())
      return s.status();
  }
  return held;
}

const PlacementGroupRecord* PlacementGroupManager::Find(const PlacementGroupId& id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : &it->second;
}

const PlacementGroupRecord* PlacementGroupManager::FindByName(const std::string& name) const {
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    const PlacementGroupRecord& group = groups_.at(*it);
    if (group.name == name) return &group;
  }
  return nullptr;
}

}  // namespace raycc::gcs
