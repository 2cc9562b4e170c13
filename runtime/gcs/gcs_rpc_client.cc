#include "gcs/gcs_rpc_client.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "gcs/placement_group_manager.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "raycc/runtime/common/grpc_status.h"
#include "raycc/runtime/common/status.h"
#include "rpc/auth.h"
#include "rpc/server.h"

namespace raycc::gcs {
GcsRpcClient::GcsRpcClient(std::string address, std::string token, std::chrono::milliseconds deadline)
    : address_(std::move(address)),
      token_(std::move(token)),
      deadline_(deadline),
      stub_(proto::GcsService::NewStub(rpc::Connect(address_))) {}

template <typename Request, typename Reply, typename Method>
absl::Status GcsRpcClient::Call(const char* name, Method method, const Request& request, Reply* reply,
                                std::chrono::milliseconds extra, bool ride_through) {
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  if (extra.count() >= 0) {
    context.set_deadline(std::chrono::system_clock::now() + deadline_ + extra);
    // A call not sent yet waits for a GCS that answered before to come back
    // (restarted), within the deadline; one sent when it died still fails.
    if (ride_through && answered_.load(std::memory_order_relaxed)) context.set_wait_for_ready(true);
  }
  grpc::Status status = ((*stub_).*method)(&context, request, reply);
  if (status.ok() || (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
                      status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED))
    answered_.store(true, std::memory_order_relaxed);
  if (status.ok()) return absl::OkStatus();
  absl::Status s = FromGrpcStatus(status);
  return absl::Status(s.code(), absl::StrCat("GCS at ", address_, ": ", name, ": ", s.message()));
}

absl::StatusOr<proto::HeartbeatReply> GcsRpcClient::Heartbeat(const NodeId& node,
                                                              const proto::NodeResourcesReport* report) {
  proto::HeartbeatRequest request;
  request.set_node_id(node.Binary());
  if (report != nullptr) {
    *request.mutable_available_resources() = report->available_resources();
    request.set_resources_version(report->resources_version());
  }
  proto::HeartbeatReply reply;
  RAYCC_RETURN_IF_ERROR(Call("Heartbeat", &proto::GcsService::Stub::Heartbeat, request, &reply));
  return reply;
}

absl::Status GcsRpcClient::RegisterNode(proto::NodeInfo node) {
  proto::RegisterNodeRequest request;
  *request.mutable_node() = std::move(node);
  proto::RegisterNodeReply reply;
  return Call("RegisterNode", &proto::GcsService::Stub::RegisterNode, request, &reply);
}

absl::Status GcsRpcClient::MarkNodeDead(const NodeId& id, std::string cause) {
  proto::UnregisterNodeRequest request;
  request.set_node_id(id.Binary());
  request.set_reason(std::move(cause));
  proto::UnregisterNodeReply reply;
  return Call("UnregisterNode", &proto::GcsService::Stub::UnregisterNode, request, &reply,
              std::chrono::milliseconds(0), /*ride_through=*/false);
}

absl::StatusOr<std::vector<proto::NodeInfo>> GcsRpcClient::TryGetAllNodes() {
  proto::GetAllNodesReply reply;
  RAYCC_RETURN_IF_ERROR(
      Call("GetAllNodes", &proto::GcsService::Stub::GetAllNodes, proto::GetAllNodesRequest(), &reply));
  return std::vector<proto::NodeInfo>(reply.nodes().begin(), reply.nodes().end());
}

std::vector<proto::NodeInfo> GcsRpcClient::GetAllNodes() {
  absl::StatusOr<std::vector<proto::NodeInfo>> nodes = TryGetAllNodes();
  return nodes.ok() ? *std::move(nodes) : std::vector<proto::NodeInfo>();
}

absl::StatusOr<std::vector<proto::ActorInfo>> GcsRpcClient::GetAllActors() {
  proto::GetAllActorsReply reply;
  RAYCC_RETURN_IF_ERROR(
      Call("GetAllActors", &proto::GcsService::Stub::GetAllActors, proto::GetAllActorsRequest(), &reply));
  return std::vector<proto::ActorInfo>(reply.actors().begin(), reply.actors().end());
}

absl::Status GcsRpcClient::RegisterActor(const proto::ActorSpec& spec) {
  proto::CreateActorRequest request;
  proto::TaskSpec* task = request.mutable_creation_task();
  task->set_type(proto::ACTOR_CREATION_TASK);
  *task->mutable_actor_creation() = spec;
  proto::CreateActorReply reply;
  return Call("CreateActor", &proto::GcsService::Stub::CreateActor, request, &reply);
}

namespace {
proto::UpdateActorRequest ActorUpdate(const ActorId& id, proto::ActorState state) {
  proto::UpdateActorRequest request;
  request.set_actor_id(id.Binary());
  request.set_state(state);
  return request;
}
}  // namespace

absl::Status GcsRpcClient::MarkActorAlive(const ActorId& id, const proto::Address& where) {
  proto::UpdateActorRequest request = ActorUpdate(id, proto::ALIVE);
  *request.mutable_address() = where;
  proto::UpdateActorReply reply;
  return Call("UpdateActor", &proto::GcsService::Stub::UpdateActor, request, &reply);
}
absl::Status GcsRpcClient::MarkActorRestarting(const ActorId& id) {
  proto::UpdateActorReply reply;
  return Call("UpdateActor", &proto::GcsService::Stub::UpdateActor, ActorUpdate(id, proto::RESTARTING),
              &reply);
}
absl::Status GcsRpcClient::MarkActorDead(const ActorId& id, std::string cause) {
  proto::UpdateActorRequest request = ActorUpdate(id, proto::DEAD);
  request.set_death_cause(std::move(cause));
  proto::UpdateActorReply reply;
  return Call("UpdateActor", &proto::GcsService::Stub::UpdateActor, request, &reply);
}

std::optional<proto::ActorInfo> GcsRpcClient::GetActor(const ActorId& id) {
  proto::GetActorInfoRequest request;
  request.set_actor_id(id.Binary());
  proto::GetActorInfoReply reply;
  if (!Call("GetActorInfo", &proto::GcsService::Stub::GetActorInfo, request, &reply).ok())
    return std::nullopt;
  return reply.actor();
}

absl::StatusOr<std::optional<proto::ActorInfo>> GcsRpcClient::WatchActor(
    const ActorId& id, const std::function<bool(const proto::ActorInfo&)>& done,
    std::chrono::steady_clock::time_point deadline, const std::function<bool()>& cancelled) {
  proto::SubscribeRequest request;
  request.add_channels(proto::ACTOR_CHANNEL);
  request.add_keys(id.Binary());
  // (An actor the GCS does not know is said so at once; a GCS out of
  // reach is an error, not an unknown actor.)
  std::optional<proto::ActorInfo> last;
  {
    proto::GetActorInfoRequest ask;
    ask.set_actor_id(id.Binary());
    proto::GetActorInfoReply reply;
    absl::Status asked = Call("GetActorInfo", &proto::GcsService::Stub::GetActorInfo, ask, &reply);
    if (absl::IsNotFound(asked)) return std::nullopt;
    if (!asked.ok()) return asked;
    last = reply.actor();
    if (done(*last)) return last;
  }
  // Rounds of at most a second, so that `cancelled` is looked at; each
  // starts with the record as it is then. A GCS that is briefly out of
  // reach is tried again until the deadline.
  absl::Status unreachable;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || cancelled()) {
      if (!unreachable.ok()) return unreachable;
      return last;
    }
    const auto round = std::min(deadline - now, std::chrono::steady_clock::duration(std::chrono::seconds(1)));
    grpc::ClientContext context;
    rpc::AddToken(&context, token_);
    context.set_deadline(std::chrono::system_clock::now() + round);
    std::unique_ptr<grpc::ClientReader<proto::PubMessage>> reader = stub_->Subscribe(&context, request);
    proto::PubMessage message;
    while (reader->Read(&message)) {
      if (!message.has_actor()) continue;
      last = message.actor();
      if (done(*last)) {
        context.TryCancel();
        (void)reader->Finish();
        return last;
      }
    }
    grpc::Status status = reader->Finish();
    if (status.ok() || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
        status.error_code() == grpc::StatusCode::ABORTED) {
      unreachable = absl::OkStatus();
      continue;
    }
    absl::Status s = FromGrpcStatus(status);
    s = absl::Status(s.code(), absl::StrCat("GCS at ", address_, ": Subscribe: ", s.message()));
    if (!absl::IsUnavailable(s)) return s;
    unreachable = s;
    // (Out of reach: not a busy loop while it is down.)
    std::this_thread::sleep_for(std::min(
        std::chrono::steady_clock::duration(std::chrono::milliseconds(200)),
        std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero())));
  }
}

std::optional<proto::ActorInfo> GcsRpcClient::GetNamedActor(const std::string& ns, const std::string& name) {
  proto::GetNamedActorRequest request;
  request.set_namespace_(ns);
  request.set_name(name);
  proto::GetNamedActorReply reply;
  if (!Call("GetNamedActor", &proto::GcsService::Stub::GetNamedActor, request, &reply).ok())
    return std::nullopt;
  return reply.actor();
}

absl::Status GcsRpcClient::CreatePlacementGroup(const PlacementGroupId& id, const std::string& name,
                                                scheduling::BundleStrategy strategy,
                                                const std::vector<ResourceSet>& bundles,
                                                const std::vector<std::string>& bundle_nodes) {
  proto::CreatePlacementGroupRequest request;
  *request.mutable_spec() = PlacementGroupSpecOf(id, name, strategy, bundles, bundle_nodes);
  proto::CreatePlacementGroupReply reply;
  return Call("CreatePlacementGroup", &proto::GcsService::Stub::CreatePlacementGroup, request, &reply);
}

absl::Status GcsRpcClient::RemovePlacementGroup(const PlacementGroupId& id) {
  proto::RemovePlacementGroupRequest request;
  request.set_placement_group_id(id.Binary());
  proto::RemovePlacementGroupReply reply;
  return Call("RemovePlacementGroup", &proto::GcsService::Stub::RemovePlacementGroup, request, &reply);
}

absl::StatusOr<proto::ApplyPlacementGroupOpsReply> GcsRpcClient::ApplyPlacementGroupOps(
    const proto::ApplyPlacementGroupOpsRequest& request) {
  proto::ApplyPlacementGroupOpsReply reply;
  RAYCC_RETURN_IF_ERROR(
      Call("ApplyPlacementGroupOps", &proto::GcsService::Stub::ApplyPlacementGroupOps, request, &reply));
  if (reply.results_size() != request.ops_size()) {
    return absl::InternalError(absl::StrCat("ApplyPlacementGroupOps: ", reply.results_size(), " results for ",
                                            request.ops_size(), " ops"));
  }
  return reply;
}

absl::StatusOr<proto::PlacementGroupInfo> GcsRpcClient::GetPlacementGroup(const PlacementGroupId& id) {
  proto::GetPlacementGroupRequest request;
  request.set_placement_group_id(id.Binary());
  proto::GetPlacementGroupReply reply;
  RAYCC_RETURN_IF_ERROR(
      Call("GetPlacementGroup", &proto::GcsService::Stub::GetPlacementGroup, request, &reply));
  return reply.placement_group();
}

absl::StatusOr<proto::PlacementGroupState> GcsRpcClient::GetPlacementGroupState(const PlacementGroupId& id) {
  absl::StatusOr<proto::PlacementGroupInfo> info = GetPlacementGroup(id);
  if (!info.ok()) return info.status();
  return info->state();
}

absl::StatusOr<std::vector<proto::PlacementGroupInfo>> GcsRpcClient::GetAllPlacementGroups() {
  proto::GetAllPlacementGroupsReply reply;
  RAYCC_RETURN_IF_ERROR(Call("GetAllPlacementGroups", &proto::GcsService::Stub::GetAllPlacementGroups,
                             proto::GetAllPlacementGroupsRequest(), &reply));
  return std::vector<proto::PlacementGroupInfo>(reply.placement_groups().begin(),
                                                reply.placement_groups().end());
}

absl::StatusOr<bool> GcsRpcClient::WaitPlacementGroupReady(const PlacementGroupId& id, int64_t timeout_ms) {
  proto::WaitPlacementGroupReadyRequest request;
  request.set_placement_group_id(id.Binary());
  request.set_timeout_ms(timeout_ms);
  proto::WaitPlacementGroupReadyReply reply;
  // (The GCS answers by the timeout; the deadline only bounds a lost GCS.)
  RAYCC_RETURN_IF_ERROR(Call("WaitPlacementGroupReady", &proto::GcsService::Stub::WaitPlacementGroupReady,
                             request, &reply, std::chrono::milliseconds(timeout_ms)));
  return reply.ready();
}

absl::StatusOr<JobId> GcsRpcClient::NextJobId() {
  proto::NextJobIdReply reply;
  RAYCC_RETURN_IF_ERROR(
      Call("NextJobId", &proto::GcsService::Stub::NextJobId, proto::NextJobIdRequest(), &reply));
  return JobId::FromBinary(reply.job_id());
}

absl::Status GcsRpcClient::AddJob(const JobId& id, const proto::Address& driver) {
  proto::AddJobRequest request;
  request.set_job_id(id.Binary());
  *request.mutable_driver_address() = driver;
  proto::AddJobReply reply;
  return Call("AddJob", &proto::GcsService::Stub::AddJob, request, &reply);
}

absl::Status GcsRpcClient::MarkJobFinished(const JobId& id) {
  proto::MarkJobFinishedRequest request;
  request.set_job_id(id.Binary());
  proto::MarkJobFinishedReply reply;
  return Call("MarkJobFinished", &proto::GcsService::Stub::MarkJobFinished, request, &reply,
              std::chrono::milliseconds(0), /*ride_through=*/false);
}

absl::StatusOr<bool> GcsRpcClient::KvPut(const std::string& ns, const std::string& key, std::string value,
                                         bool overwrite) {
  proto::KvPutRequest request;
  request.set_ns(ns);
  request.set_key(key);
  request.set_value(std::move(value));
  request.set_overwrite(overwrite);
  proto::KvPutReply reply;
  RAYCC_RETURN_IF_ERROR(Call("KvPut", &proto::GcsService::Stub::KvPut, request, &reply));
  return reply.added();
}

absl::StatusOr<std::optional<std::string>> GcsRpcClient::KvGet(const std::string& ns,
                                                               const std::string& key) {
  proto::KvGetRequest request;
  request.set_ns(ns);
  request.set_key(key);
  proto::KvGetReply reply;
  RAYCC_RETURN_IF_ERROR(Call("KvGet", &proto::GcsService::Stub::KvGet, request, &reply));
  if (!reply.found()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(*reply.mutable_value()));
}

absl::StatusOr<bool> GcsRpcClient::KvDel(const std::string& ns, const std::string& key) {
  proto::KvDelRequest request;
  request.set_ns(ns);
  request.set_key(key);
  proto::KvDelReply reply;
  RAYCC_RETURN_IF_ERROR(Call("KvDel", &proto::GcsService::Stub::KvDel, request, &reply));
  return reply.deleted();
}

absl::StatusOr<std::vector<std::string>> GcsRpcClient::KvKeys(const std::string& ns,
                                                              const std::string& prefix) {
  proto::KvKeysRequest request;
  request.set_ns(ns);
  request.set_prefix(prefix);
  proto::KvKeysReply reply;
  RAYCC_RETURN_IF_ERROR(Call("KvKeys", &proto::GcsService::Stub::KvKeys, request, &reply));
  return std::vector<std::string>(reply.keys().begin(), reply.keys().end());
}

}  // namespace raycc::gcs
