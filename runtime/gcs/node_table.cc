#include "gcs/node_table.h"

#include "absl/strings/str_cat.h"

namespace raycc::gcs {

absl::Status NodeTable::Persist(const proto::NodeInfo& node) {
  return storage_.Put(tables::kNodes, node.node_id(), node.SerializeAsString());
}

absl::Status NodeTable::Load() {
  return LoadTable<NodeId, proto::NodeInfo>(
      storage_, tables::kNodes, "node",
      [](const std::string& key, const proto::NodeInfo& node) {
        return node.node_id() == key && !node.node_name().empty() &&
               ResourceSet::FromProto(node.total_resources()).ok();
      },
      [&](const NodeId& id, proto::NodeInfo node) {
        by_id_[id] = nodes_.size();
        nodes_.push_back(std::move(node));
      });
}

absl::Status NodeTable::Register(proto::NodeInfo node) {
  absl::StatusOr<NodeId> id = NodeId::FromBinary(node.node_id());
  if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat("node: ", id.status().message()));
  if (id->IsNil()) return absl::InvalidArgumentError("node: the node id is nil");
  if (node.node_name().empty()) return absl::InvalidArgumentError("node " + id->Hex() + ": it has no name");
  absl::StatusOr<ResourceSet> total = ResourceSet::FromProto(node.total_resources());
  if (!total.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", node.node_name(), "': ", total.status().message()));
  }
  if (by_id_.contains(*id)) return absl::AlreadyExistsError("node " + id->Hex() + " registered already");
  for (const proto::NodeInfo& other : nodes_) {
    if (other.state() == proto::NodeInfo::ALIVE && other.node_name() == node.node_name()) {
      return absl::AlreadyExistsError("a node named '" + node.node_name() + "' is alive already");
    }
  }
  node.set_state(proto::NodeInfo::ALIVE);
  if (absl::Status s = Persist(node); !s.ok()) return s;
  by_id_[*id] = nodes_.size();
  nodes_.push_back(std::move(node));
  return absl::OkStatus();
}

absl::Status NodeTable::MarkDead(const NodeId& id, std::string cause) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return absl::NotFoundError("unknown node " + id.Hex());
  proto::NodeInfo& node = nodes_[it->second];
  if (node.state() == proto::NodeInfo::DEAD) return absl::OkStatus();
  node.set_state(proto::NodeInfo::DEAD);
  node.set_death_cause(std::move(cause));
  return Persist(node);
}

const proto::NodeInfo* NodeTable::Find(const NodeId& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &nodes_[it->second];
}

std::vector<std::pair<NodeId, ResourceSet>> NodeTable::AliveTotals() const {
  std::vector<std::pair<NodeId, ResourceSet>> out;
  for (const proto::NodeInfo& node : nodes_) {
    if (node.state() != proto::NodeInfo::ALIVE) continue;
    // (Both were checked by Register.)
    out.emplace_back(*NodeId::FromBinary(node.node_id()), *ResourceSet::FromProto(node.total_resources()));
  }
  return out;
}

const proto::NodeInfo* NodeTable::FindAliveByName(const std::string& name) const {
  for (const proto::NodeInfo& node : nodes_)
    if (node.state() == proto::NodeInfo::ALIVE && node.node_name() == name) return &node;
  return nullptr;
}

}  // namespace raycc::gcs
