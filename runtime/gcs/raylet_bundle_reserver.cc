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

void RayletBundleReserver::CancelBundle(const PlacementGroupId& group, int index, const scheduling::Units&,
                                        const NodeId& node) {
  Cancel(group, index, node);
}

void RayletBundleReserver::ReturnBundle(const PlacementGroupId& group, int index, const scheduling::Units&,
                                        const NodeId& node) {
  Cancel(group, index, node);
}

}  // namespace raycc::gcs
