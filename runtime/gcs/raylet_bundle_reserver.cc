#include "gcs/raylet_bundle_reserver.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "rpc/auth.h"
#include "rpc/server.h"

namespace raycc::gcs {
namespace {

void ToProto(const scheduling::Units& units, proto::ResourceSet* out) {
  for (const auto& [name, q] : units) (*out->mutable_quantities())[name] = q;
}

}  // namespace

RayletBundleReserver::RayletBundleReserver(std::string token, std::chrono::milliseconds deadline)
    : token_(std::move(token)), deadline_(deadline) {}

void RayletBundleReserver::AddNode(const proto::NodeInfo& info) {
  absl::StatusOr<NodeId> id = NodeId::FromBinary(info.node_id());
  absl::StatusOr<ResourceSet> total = ResourceSet::FromProto(info.total_resources());
  if (!id.ok() || !total.ok()) return;  // (the node table refused it already)
  Node node;
  node.address = absl::StrCat(info.raylet_address().host(), ":", info.raylet_address().port());
  node.available = scheduling::ToUnits(*total);
  node.stub = proto::RayletService::NewStub(rpc::Connect(node.address));
  std::lock_guard<std::mutex> lock(mu_);
  if (!nodes_.contains(*id)) order_.push_back(*id);
  nodes_[*id] = std::move(node);
}

void RayletBundleReserver::RemoveNode(const NodeId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (nodes_.erase(id) > 0) order_.erase(std::find(order_.begin(), order_.end(), id));
}

void RayletBundleReserver::Update(const NodeId& id, const proto::NodeResourcesReport& report) {
  absl::StatusOr<ResourceSet> available = ResourceSet::FromProto(report.available_resources());
  if (!available.ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(id);
  if (it == nodes_.end() || report.resources_version() <= it->second.version) return;
  it->second.available = scheduling::ToUnits(*available);
  it->second.version = report.resources_version();
}

std::vector<std::pair<NodeId, scheduling::Units>> RayletBundleReserver::AvailableResources() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<NodeId, scheduling::Units>> out;
  out.reserve(order_.size());
  for (const NodeId& id : order_) out.emplace_back(id, nodes_.at(id).available);
  return out;
}

std::shared_ptr<proto::RayletService::Stub> RayletBundleReserver::StubOf(const NodeId& node,
                                                                         std::string* address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return nullptr;
  *address = it->second.address;
  return it->second.stub;
}

template <typename Request, typename Reply, typename Method>
bool RayletBundleReserver::Call(const NodeId& node, const char* name, Method method, const Request& request,
                                Reply* reply) {
  std::string address;
  std::shared_ptr<proto::RayletService::Stub> stub = StubOf(node, &address);
  if (stub == nullptr) return false;
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  context.set_deadline(std::chrono::system_clock::now() + deadline_);
  grpc::Status status = ((*stub).*method)(&context, request, reply);
  if (!status.ok()) {
    std::cerr << "raycc-gcs: " << name << " on the raylet at " << address
              << " failed: " << status.error_message() << "\n";
  }
  return status.ok();
}

bool RayletBundleReserver::PrepareBundle(const PlacementGroupId& group, int index,
                                         const scheduling::Units& bundle, const NodeId& node) {
  proto::PrepareBundleResourcesRequest request;
  request.set_placement_group_id(group.Binary());
  proto::Bundle* b = request.add_bundles();
  b->set_index(index);
  ToProto(bundle, b->mutable_resources());
  proto::PrepareBundleResourcesReply reply;
  if (!Call(node, "PrepareBundleResources", &proto::RayletService::Stub::PrepareBundleResources, request,
            &reply)) {
    return false;
  }
  Update(node, reply.report());
  return reply.success();
}

void RayletBundleReserver::CommitBundle(const PlacementGroupId& group, int index, const scheduling::Units&,
                                        const NodeId& node) {
  proto::CommitBundleResourcesRequest request;
  request.set_placement_group_id(group.Binary());
  request.add_bundle_indices(index);
  proto::CommitBundleResourcesReply reply;
  // (A raylet that does not answer is about to be declared dead; its
  // bundle goes with it.)
  if (Call(node, "CommitBundleResources", &proto::RayletService::Stub::CommitBundleResources, request,
           &reply)) {
    Update(node, reply.report());
  }
}

void RayletBundleReserver::Cancel(const PlacementGroupId& group, int index, const NodeId& node) {
  proto::CancelResourceReserveRequest request;
  request.set_placement_group_id(group.Binary());
  request.add_bundle_indices(index);
  proto::CancelResourceReserveReply reply;
  if (Call(node, "CancelResourceReserve", &proto::RayletService::Stub::CancelResourceReserve, request,
           &reply)) {
    Update(node, reply.report());
  }
}

namespace {

// The groups' bundles by node, in one batch request per node; `group_of[k]`
// is the group of the request's k-th entry.
struct NodeBatch {
  proto::BundlesBatchRequest request;
  std::vector<size_t> group_of;
  std::vector<bool> prepared;
};

std::vector<std::pair<NodeId, NodeBatch>> ByNode(
    const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups,
    const std::vector<bool>* one_node) {
  std::vector<std::pair<NodeId, NodeBatch>> batches;
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& [group, bundles] = groups[g];
    for (const BundleAt& b : bundles) {
      auto at =
          std::find_if(batches.begin(), batches.end(), [&](const auto& n) { return n.first == b.node; });
      if (at == batches.end()) at = batches.insert(batches.end(), {b.node, NodeBatch{}});
      NodeBatch& batch = at->second;
      if (batch.group_of.empty() || batch.group_of.back() != g) {
        proto::GroupBundles* entry = batch.request.add_groups();
        entry->set_placement_group_id(group.Binary());
        entry->set_commit(one_node != nullptr && (*one_node)[g]);
        batch.group_of.push_back(g);
      }
      proto::Bundle* bundle = batch.request.mutable_groups(batch.request.groups_size() - 1)->add_bundles();
      bundle->set_index(b.index);
      ToProto(b.bundle, bundle->mutable_resources());
    }
  }
  return batches;
}

}  // namespace

std::vector<bool> RayletBundleReserver::ReserveGroups(
    const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups) {
  std::vector<bool> one_node(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::vector<BundleAt>& bundles = groups[g].second;
    one_node[g] = std::all_of(bundles.begin(), bundles.end(),
                              [&](const BundleAt& b) { return b.node == bundles.front().node; });
  }
  std::vector<bool> reserved(groups.size(), true);
  std::vector<std::pair<NodeId, NodeBatch>> batches = ByNode(groups, &one_node);
  // Phase 1 (and the only one for a group on one node).
  for (auto& [node, batch] : batches) {
    proto::BundlesBatchReply reply;
    const bool called = Call(node, "PrepareBundlesBatch", &proto::RayletService::Stub::PrepareBundlesBatch,
                             batch.request, &reply);
    if (called) {
      Update(node, reply.report());
    } else {
      // It may have been applied before the call failed (a deadline): take
      // back whatever it held of these groups (cancelling is idempotent).
      proto::BundlesBatchReply cancelled;
      (void)Call(node, "CancelBundlesBatch", &proto::RayletService::Stub::CancelBundlesBatch, batch.request,
                 &cancelled);
    }
    for (size_t k = 0; k < batch.group_of.size(); ++k) {
      const bool ok = called && static_cast<int>(k) < reply.success_size() && reply.success(k);
      batch.prepared.push_back(ok);
      if (!ok) reserved[batch.group_of[k]] = false;
    }
  }
  // Phase 2, for groups over several nodes: commit where every node
  // prepared, roll back the others' prepared bundles.
  for (auto& [node, batch] : batches) {
    proto::BundlesBatchRequest commit, cancel;
    for (size_t k = 0; k < batch.group_of.size(); ++k) {
      const size_t g = batch.group_of[k];
      if (one_node[g] || !batch.prepared[k]) continue;
      *(reserved[g] ? commit : cancel).add_groups() = batch.request.groups(k);
    }
    proto::BundlesBatchReply reply;
    // (A raylet that does not answer is about to be declared dead; its
    // bundles go with it.)
    if (commit.groups_size() > 0 &&
        Call(node, "CommitBundlesBatch", &proto::RayletService::Stub::CommitBundlesBatch, commit, &reply)) {
      Update(node, reply.report());
    }
    if (cancel.groups_size() > 0 &&
        Call(node, "CancelBundlesBatch", &proto::RayletService::Stub::CancelBundlesBatch, cancel, &reply)) {
      Update(node, reply.report());
    }
  }
  return reserved;
}

void RayletBundleReserver::ReturnGroups(
    const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups) {
  for (auto& [node, batch] : ByNode(groups, nullptr)) {
    proto::BundlesBatchReply reply;
    if (Call(node, "CancelBundlesBatch", &proto::RayletService::Stub::CancelBundlesBatch, batch.request,
             &reply)) {
      Update(node, reply.report());
    }
  }
}

void RayletBundleReserver::CancelBundle(const PlacementGroupId& group, int index, const scheduling::Units&,
                                        const NodeId& node) {
  Cancel(group, index, node);
}

void RayletBundleReserver::ReturnBundle(const PlacementGroupId& group, int index, const scheduling::Units&,
                                        const NodeId& node) {
  Cancel(group, index, node);
}

}  // namespace raycc::gcs
