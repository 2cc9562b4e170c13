#include "raylet/raylet_server.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "grpcpp/server_context.h"
#include "object_store/shared_object_store.h"
#include "raycc/runtime/common/grpc_status.h"
#include "raycc/runtime/common/status.h"

namespace raycc::raylet {
namespace {

absl::StatusOr<WorkerId> ParseWorker(const std::string& bytes, const char* method) {
  absl::StatusOr<WorkerId> id = WorkerId::FromBinary(bytes);
  if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat(method, ": ", id.status().message()));
  return id;
}

absl::StatusOr<PlacementGroupId> ParseGroup(const std::string& bytes, const char* method) {
  absl::StatusOr<PlacementGroupId> id = PlacementGroupId::FromBinary(bytes);
  if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat(method, ": ", id.status().message()));
  return id;
}

}  // namespace

RayletServiceImpl::RayletServiceImpl(NodeManager& node, std::string token, std::function<void()> on_shutdown)
    : node_(node), auth_(token), on_shutdown_(std::move(on_shutdown)) {
  if (node_.object_store() != nullptr) puller_ = std::make_unique<ObjectPuller>(*node_.object_store(), token);
}

grpc::Status RayletServiceImpl::PullObject(grpc::ServerContext* context,
                                           const proto::PullObjectRequest* request,
                                           grpc::ServerWriter<proto::ObjectChunk>* writer) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<ObjectId> id = ObjectId::FromBinary(request->object_id());
  if (!id.ok()) return ToGrpcStatus(Annotate(id.status(), "PullObject"));
  if (node_.object_store() == nullptr)
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "PullObject: this node has no object store");
  absl::StatusOr<std::shared_ptr<const object_store::ObjectView>> view = node_.object_store()->Get(*id);
  // A copy this node is still receiving (it pulled it for a task too: a
  // broadcast): served once it is here.
  // (A short wait: two raylets pulling from each other's copies must not
  // wait on each other; the puller then goes on to its next holder.)
  if (absl::IsNotFound(view.status()) && puller_ != nullptr &&
      puller_->WaitForPull(*id, std::chrono::steady_clock::now() + kCopyWait)) {
    view = node_.object_store()->Get(*id);
  }
  if (!view.ok()) return ToGrpcStatus(Annotate(view.status(), "PullObject"));
  const uint64_t chunk = request->chunk_size() > 0 ? std::min<uint64_t>(request->chunk_size(), 64 << 20)
                                                   : ObjectPuller::kChunkBytes;
  const uint64_t size = (*view)->size();
  proto::ObjectChunk out;
  out.set_object_id(request->object_id());
  out.set_total_size(size);
  // (At least one chunk, which says the size.) gRPC's flow control bounds
  // the bytes in flight: a Write waits for the receiver's window.
  for (uint64_t offset = 0; offset == 0 || offset < size; offset += chunk) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "PullObject: cancelled");
    out.set_offset(offset);
    out.set_data((*view)->data() + offset, std::min(chunk, size - offset));
    if (!writer->Write(out))
      return grpc::Status(grpc::StatusCode::CANCELLED, "PullObject: the puller went away");
    if (size == 0) break;
  }
  objects_served_.fetch_add(1, std::memory_order_relaxed);
  bytes_served_.fetch_add(size, std::memory_order_relaxed);
  return grpc::Status::OK;
}

grpc::Status RayletServiceImpl::FreeObjects(grpc::ServerContext* context,
                                            const proto::FreeObjectsRequest* request,
                                            proto::FreeObjectsReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  if (node_.object_store() == nullptr) return grpc::Status::OK;
  uint32_t freed = 0;
  for (const std::string& bytes : request->object_ids()) {
    absl::StatusOr<ObjectId> id = ObjectId::FromBinary(bytes);
    if (!id.ok()) return ToGrpcStatus(Annotate(id.status(), "FreeObjects"));
    if (node_.object_store()->Delete(*id).ok()) ++freed;  // (one gone already is fine)
  }
  reply->set_freed(freed);
  return grpc::Status::OK;
}

grpc::Status RayletServiceImpl::FetchObject(grpc::ServerContext* context,
                                            const proto::FetchObjectRequest* request,
                                            proto::FetchObjectReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<ObjectId> id = ObjectId::FromBinary(request->object_id());
  if (!id.ok()) return ToGrpcStatus(Annotate(id.status(), "FetchObject"));
  if (puller_ == nullptr)
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "FetchObject: this node has no object store");
  if (request->from().empty())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "FetchObject: no holder to pull from");
  std::vector<std::string> holders(request->first_from().begin(), request->first_from().end());
  holders.push_back(request->from());
  absl::StatusOr<uint64_t> size = puller_->Pull(*id, holders);
  if (!size.ok()) return ToGrpcStatus(size.status());
  reply->set_size(*size);
  return grpc::Status::OK;
}

grpc::Status RayletServiceImpl::RequestWorkerLease(grpc::ServerContext* context,
                                                   const proto::RequestWorkerLeaseRequest* request,
                                                   proto::RequestWorkerLeaseReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<proto::RequestWorkerLeaseReply> result =
      node_.RequestLease(*request, [context] { return context->IsCancelled(); });
  if (!result.ok()) return ToGrpcStatus(result.status());
  if (result->has_worker_address() && context->IsCancelled()) {
    // Granted as its caller gave up (it is stopping): nobody will use or
    // return this worker, so take it back now.
    if (absl::StatusOr<WorkerId> id = WorkerId::FromBinary(result->worker_address().worker_id()); id.ok()) {
      (void)node_.ReturnWorker(*id, /*disconnect=*/false);
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "RequestWorkerLease: the caller cancelled");
  }
  *reply = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status RayletServiceImpl::ReturnWorker(grpc::ServerContext* context,
                                             const proto::ReturnWorkerRequest* request,
                                             proto::ReturnWorkerReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<WorkerId> id = ParseWorker(request->worker_id(), "ReturnWorker");
  if (!id.ok()) return ToGrpcStatus(id.status());
  return ToGrpcStatus(node_.ReturnWorker(*id, request->disconnect()));
}

grpc::Status RayletServiceImpl::RegisterWorker(grpc::ServerContext* context,
                                               const proto::RegisterWorkerRequest* request,
                                               proto::RegisterWorkerReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<WorkerId> id = ParseWorker(request->worker_id(), "RegisterWorker");
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::StatusOr<JobId> job = JobId::FromBinary(request->job_id());
  if (!job.ok()) return ToGrpcStatus(Annotate(job.status(), "RegisterWorker"));
  reply->set_object_store_name(node_.ObjectStoreName());
  if (request->is_driver())
    return ToGrpcStatus(node_.RegisterDriver(*id, request->pid(), *job, request->code()));
  return ToGrpcStatus(node_.RegisterWorker(*id, request->port(), request->pid(), *job));
}

grpc::Status RayletServiceImpl::NotifyWorkerBlocked(grpc::ServerContext* context,
                                                    const proto::NotifyWorkerBlockedRequest* request,
                                                    proto::NotifyWorkerBlockedReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<WorkerId> id = ParseWorker(request->worker_id(), "NotifyWorkerBlocked");
  if (!id.ok()) return ToGrpcStatus(id.status());
  return ToGrpcStatus(
      node_.NotifyBlocked(*id, request->blocked(), [context] { return context->IsCancelled(); }));
}

grpc::Status RayletServiceImpl::GetWorkerExit(grpc::ServerContext* context,
                                              const proto::GetWorkerExitRequest* request,
                                              proto::GetWorkerExitReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<WorkerId> id = ParseWorker(request->worker_id(), "GetWorkerExit");
  if (!id.ok()) return ToGrpcStatus(id.status());
  const auto wait = std::chrono::milliseconds(std::clamp<int64_t>(request->wait_ms(), 0, 10000));
  reply->set_node_name(node_.node_name());
  if (std::optional<std::pair<std::string, int>> exit = node_.WorkerExit(*id, wait)) {
    reply->set_exited(true);
    reply->set_cause(exit->first);
    reply->set_pid(exit->second);
  }
  return grpc::Status::OK;
}

namespace {

// A batch's groups, checked whole before any is touched: ids, and bundles
// with a non-negative index and some resources.
struct BatchGroup {
  PlacementGroupId id;
  std::vector<std::pair<int, ResourceSet>> bundles;
  std::vector<int> indices;
  bool commit = false;
};

absl::StatusOr<std::vector<BatchGroup>> ParseBatch(const proto::BundlesBatchRequest& request,
                                                   const char* what, bool need_resources) {
  std::vector<BatchGroup> groups;
  for (const proto::GroupBundles& message : request.groups()) {
    BatchGroup group;
    absl::StatusOr<PlacementGroupId> id = PlacementGroupId::FromBinary(message.placement_group_id());
    if (!id.ok()) return Annotate(id.status(), absl::StrCat(what, ": placement group"));
    group.id = *id;
    group.commit = message.commit();
    for (const proto::Bundle& bundle : message.bundles()) {
      if (std::find(group.indices.begin(), group.indices.end(), bundle.index()) != group.indices.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": bundle ", bundle.index(), " of group ", id->Hex(), " is named twice"));
      }
      absl::StatusOr<ResourceSet> resources = ResourceSet::FromProto(bundle.resources());
      if (!resources.ok() || bundle.index() < 0 || (need_resources && resources->IsEmpty())) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": bundle ", bundle.index(), " of group ", id->Hex(), ": ",
            resources.ok() ? "needs a non-negative index and some resources" : resources.status().message()));
      }
      group.bundles.emplace_back(bundle.index(), *std::move(resources));
      group.indices.push_back(bundle.index());
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

// A batch request's groups, each given to `apply` (its success goes in the
// reply), then the node's report: the three batch calls' one shape.
template <typename Apply>
grpc::Status ServeBatch(NodeManager& node, const proto::BundlesBatchRequest& request, const char* what,
                        bool need_resources, proto::BundlesBatchReply* reply, Apply apply) {
  absl::StatusOr<std::vector<BatchGroup>> groups = ParseBatch(request, what, need_resources);
  if (!groups.ok()) return ToGrpcStatus(groups.status());
  for (const BatchGroup& group : *groups) reply->add_success(apply(group));
  node.Report(reply->mutable_report());
  return grpc::Status::OK;
}

}  // namespace

grpc::Status RayletServiceImpl::PrepareBundlesBatch(grpc::ServerContext* context,
                                                    const proto::BundlesBatchRequest* request,
                                                    proto::BundlesBatchReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  return ServeBatch(node_, *request, "PrepareBundlesBatch", true, reply, [&](const BatchGroup& group) {
    const bool prepared = node_.PrepareBundles(group.id, group.bundles);
    if (prepared && group.commit) node_.CommitBundles(group.id, group.indices);
    return prepared;
  });
}

grpc::Status RayletServiceImpl::CommitBundlesBatch(grpc::ServerContext* context,
                                                   const proto::BundlesBatchRequest* request,
                                                   proto::BundlesBatchReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  return ServeBatch(node_, *request, "CommitBundlesBatch", false, reply, [&](const BatchGroup& group) {
    node_.CommitBundles(group.id, group.indices);
    return true;
  });
}

grpc::Status RayletServiceImpl::CancelBundlesBatch(grpc::ServerContext* context,
                                                   const proto::BundlesBatchRequest* request,
                                                   proto::BundlesBatchReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  return ServeBatch(node_, *request, "CancelBundlesBatch", false, reply, [&](const BatchGroup& group) {
    node_.CancelBundles(group.id, group.indices);
    return true;
  });
}

grpc::Status RayletServiceImpl::PrepareBundleResources(grpc::ServerContext* context,
                                                       const proto::PrepareBundleResourcesRequest* request,
                                                       proto::PrepareBundleResourcesReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<PlacementGroupId> group =
      ParseGroup(request->placement_group_id(), "PrepareBundleResources");
  if (!group.ok()) return ToGrpcStatus(group.status());
  std::vector<std::pair<int, ResourceSet>> bundles;
  for (const proto::Bundle& bundle : request->bundles()) {
    if (std::any_of(bundles.begin(), bundles.end(),
                    [&](const auto& b) { return b.first == bundle.index(); })) {
      return ToGrpcStatus(absl::InvalidArgumentError(
          absl::StrCat("PrepareBundleResources: bundle ", bundle.index(), " is named twice")));
    }
    absl::StatusOr<ResourceSet> resources = ResourceSet::FromProto(bundle.resources());
    if (!resources.ok() || resources->IsEmpty() || bundle.index() < 0) {
      return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
          "PrepareBundleResources: bundle ", bundle.index(), ": ",
          resources.ok() ? "needs a non-negative index and some resources" : resources.status().message())));
    }
    bundles.emplace_back(bundle.index(), *std::move(resources));
  }
  reply->set_success(node_.PrepareBundles(*group, bundles));
  node_.Report(reply->mutable_report());
  return grpc::Status::OK;
}

grpc::Status RayletServiceImpl::CommitBundleResources(grpc::ServerContext* context,
                                                      const proto::CommitBundleResourcesRequest* request,
                                                      proto::CommitBundleResourcesReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<PlacementGroupId> group = ParseGroup(request->placement_group_id(), "CommitBundleResources");
  if (!group.ok()) return ToGrpcStatus(group.status());
  node_.CommitBundles(*group, {request->bundle_indices().begin(), request->bundle_indices().end()});
  node_.Report(reply->mutable_report());
  return grpc::Status::OK;
}

grpc::Status RayletServiceImpl::CancelResourceReserve(grpc::ServerContext* context,
                                                      const proto::CancelResourceReserveRequest* request,
                                                      proto::CancelResourceReserveReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<PlacementGroupId> group = ParseGroup(request->placement_group_id(), "CancelResourceReserve");
  if (!group.ok()) return ToGrpcStatus(group.status());
  node_.CancelBundles(*group, {request->bundle_indices().begin(), request->bundle_indices().end()});
  node_.Report(reply->mutable_report());
  return grpc::Status::OK;
}

grpc::Status RayletServiceImpl::GetNodeStats(grpc::ServerContext* context,
                                             const proto::GetNodeStatsRequest* request,
                                             proto::GetNodeStatsReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  node_.FillStats(reply);
  reply->set_unauthenticated_requests(auth_.refused());
  if (puller_ != nullptr) {
    reply->set_objects_pulled(puller_->pulls());
    reply->set_bytes_pulled(puller_->bytes_pulled());
  }
  reply->set_objects_served(objects_served_.load(std::memory_order_relaxed));
  reply->set_bytes_served(bytes_served_.load(std::memory_order_relaxed));
  return grpc::Status::OK;
}

grpc::Status RayletServiceImpl::ShutdownRaylet(grpc::ServerContext* context,
                                               const proto::ShutdownRayletRequest* request,
                                               proto::ShutdownRayletReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  if (on_shutdown_) on_shutdown_();
  return grpc::Status::OK;
}

}  // namespace raycc::raylet
