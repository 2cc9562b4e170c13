#include "api/placement_group_info.h"

#include "raycc/runtime/common/resource_set.h"

namespace raycc::internal {

PlacementGroupInfo ToPlacementGroupInfo(const proto::PlacementGroupInfo& info) {
  PlacementGroupInfo out;
  if (absl::StatusOr<PlacementGroupId> id = PlacementGroupId::FromBinary(info.spec().placement_group_id());
      id.ok()) {
    out.id = *id;
  }
  out.name = info.spec().name();
  out.strategy = static_cast<PlacementGroupStrategy>(info.spec().strategy());
  for (const proto::Bundle& bundle : info.spec().bundles()) {
    std::vector<std::pair<std::string, double>> resources;
    if (absl::StatusOr<ResourceSet> set = ResourceSet::FromProto(bundle.resources()); set.ok()) {
      for (const auto& [name, quantity] : set->SortedEntries())
        resources.emplace_back(name, quantity.ToDouble());
    }
    out.bundles.push_back(std::move(resources));
  }
  switch (info.state()) {
    case proto::PG_CREATED:
      out.state = PlacementGroupInfo::State::kCreated;
      break;
    case proto::PG_REMOVED:
      out.state = PlacementGroupInfo::State::kRemoved;
      break;
    case proto::PG_RESCHEDULING:
      out.state = PlacementGroupInfo::State::kRescheduling;
      break;
    case proto::PG_INFEASIBLE:
      out.state = PlacementGroupInfo::State::kInfeasible;
      break;
    default:
      out.state = PlacementGroupInfo::State::kPending;
  }
  return out;
}

}  // namespace raycc::internal
