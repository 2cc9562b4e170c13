#include "raylet/local_bundle_reserver.h"

namespace raycc::raylet {

int LocalBundleReserver::IndexOf(const NodeId& node) const {
  for (size_t i = 0; i < node_ids_.size(); ++i)
    if (node_ids_[i] == node) return static_cast<int>(i);
  return -1;
}

std::vector<std::pair<NodeId, scheduling::Units>> LocalBundleReserver::AvailableResources() {
  std::vector<std::pair<NodeId, scheduling::Units>> out;
  out.reserve(node_ids_.size());
  for (size_t i = 0; i < node_ids_.size(); ++i)
    out.emplace_back(node_ids_[i], resources_.node(static_cast<int>(i)).available);
  return out;
}

bool LocalBundleReserver::PrepareBundle(const PlacementGroupId& group, int index,
                                        const scheduling::Units& bundle, const NodeId& node) {
  int i = IndexOf(node);
  if (i < 0 || prepared_.contains({group, index})) return false;
  if (!scheduling::Fits(bundle, resources_.node(i).available)) return false;
  resources_.Acquire(bundle, i);
  prepared_[{group, index}] = i;
  return true;
}

void LocalBundleReserver::CommitBundle(const PlacementGroupId& group, int index,
                                       const scheduling::Units& bundle, const NodeId& node) {
  auto it = prepared_.find({group, index});
  if (it == prepared_.end() || node_ids_[it->second] != node)
    return;  // (not prepared here: nothing to commit)
  int i = it->second;
  prepared_.erase(it);
  resources_.Release(bundle, i);  // held by the prepare; now under the group's names
  resources_.CommitBundle(bundle, index, gcs::GroupResourceSuffix(group), i);
}

void LocalBundleReserver::CancelBundle(const PlacementGroupId& group, int index,
                                       const scheduling::Units& bundle, const NodeId& node) {
  auto it = prepared_.find({group, index});
  if (it == prepared_.end() || node_ids_[it->second] != node) return;
  resources_.Release(bundle, it->second);
  prepared_.erase(it);
}

void LocalBundleReserver::ReturnBundle(const PlacementGroupId& group, int index,
                                       const scheduling::Units& bundle, const NodeId& node) {
  int i = IndexOf(node);
  if (i < 0) return;
  resources_.ReturnBundle(bundle, i);
  // Work still running in the group gives its share back to names nothing
  // asks for any more.
  resources_.DropGroupResources(gcs::GroupResourceSuffix(group));
}

}  // namespace raycc::raylet
