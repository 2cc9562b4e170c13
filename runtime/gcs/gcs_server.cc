#include "gcs/gcs_server.h"

#include "absl/strings/str_cat.h"
#include "raycc/runtime/common/grpc_status.h"

namespace raycc::gcs {
namespace {

constexpr size_t kFinishedJobsKept = 1024;

template <typename Id>
absl::StatusOr<Id> ParseId(const std::string& bytes, const char* what) {
  absl::StatusOr<Id> id = Id::FromBinary(bytes);
  if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", id.status().message()));
  return id;
}

}  // namespace

GcsServiceImpl::GcsServiceImpl(Gcs& gcs, std::string token, std::chrono::milliseconds node_timeout)
    : gcs_(gcs), auth_(token), raylets_(token), node_timeout_(node_timeout) {
  // Nodes alive when a restarted GCS stopped (Gcs::Recover): reachable for
  // reservations again, and given a node timeout to heartbeat before they
  // are declared dead.
  for (const proto::NodeInfo& node : gcs_.GetAllNodes()) {
    if (node.state() != proto::NodeInfo::ALIVE) continue;
    raylets_.AddNode(node);
    if (absl::StatusOr<NodeId> id = NodeId::FromBinary(node.node_id()); id.ok())
      last_heartbeat_[*id] = Clock::now();
  }
  // Jobs that ended before it (a job that ended just before a crash has
  // workers its raylets have not ended yet): told with every heartbeat.
  for (const JobId& job : gcs_.FinishedJobs()) finished_jobs_.push_back(job.Binary());
  while (finished_jobs_.size() > kFinishedJobsKept) finished_jobs_.pop_front();
  gcs_.SetBundleReserver(&raylets_);
  gcs_.SetPublisher(&publisher_);
  monitor_ = std::thread([this] { MonitorNodes(); });
}

GcsServiceImpl::~GcsServiceImpl() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  monitor_.join();
  gcs_.SetBundleReserver(nullptr);
  gcs_.SetPublisher(nullptr);
  publisher_.Close("the GCS is stopping");
}

grpc::Status GcsServiceImpl::Subscribe(grpc::ServerContext* context, const proto::SubscribeRequest* request,
                                       grpc::ServerWriter<proto::PubMessage>* writer) {
  RAYCC_CHECK_TOKEN(auth_, context);
  std::vector<proto::Channel> channels;
  for (int channel : request->channels()) {
    if (channel != proto::ACTOR_CHANNEL && channel != proto::NODE_CHANNEL &&
        channel != proto::PLACEMENT_GROUP_CHANNEL && channel != proto::JOB_CHANNEL) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("Subscribe: channel ", channel,
                                       " is not published (ACTOR_CHANNEL, NODE_CHANNEL, "
                                       "PLACEMENT_GROUP_CHANNEL and JOB_CHANNEL are)"));
    }
    channels.push_back(static_cast<proto::Channel>(channel));
  }
  if (channels.empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "Subscribe: no channel");
  std::vector<std::string> keys(request->keys().begin(), request->keys().end());
  // Subscribed, and the keys' records as they are now, under the GCS's
  // lock: no change falls between them, and none older follows them.
  std::vector<proto::PubMessage> now;
  std::shared_ptr<Publisher::Subscription> subscription = gcs_.Subscribe(channels, keys, &now);
  if (subscription == nullptr)
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "Subscribe: the GCS is stopping");
  struct Unsubscribe {
    Publisher& publisher;
    std::shared_ptr<Publisher::Subscription>& subscription;
    ~Unsubscribe() { publisher.Unsubscribe(subscription); }
  } unsubscribe{publisher_, subscription};
  for (const proto::PubMessage& message : now) {
    if (!writer->Write(message))
      return grpc::Status(grpc::StatusCode::CANCELLED, "Subscribe: the subscriber went away");
  }
  // Checks every 100 ms whether the subscriber went away or the GCS stops.
  constexpr auto kLook = std::chrono::milliseconds(100);
  for (;;) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "Subscribe: cancelled");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "Subscribe: the GCS is stopping");
    }
    std::optional<proto::PubMessage> message = subscription->Next(Clock::now() + kLook);
    if (message) {
      if (!writer->Write(*message))
        return grpc::Status(grpc::StatusCode::CANCELLED, "Subscribe: the subscriber went away");
    } else if (subscription->closed()) {
      return grpc::Status(grpc::StatusCode::ABORTED, "Subscribe: " + subscription->why());
    }
  }
}

void GcsServiceImpl::ReserveGroups() {
  if (gcs_.pending_placement_groups() > 0) gcs_.ReservePending();
  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    ++groups_generation_;
  }
  groups_cv_.notify_all();
}

void GcsServiceImpl::MonitorNodes() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::min<std::chrono::milliseconds>(node_timeout_ / 4, std::chrono::seconds(1)));
    Clock::time_point now = Clock::now();
    std::vector<NodeId> silent;
    for (const auto& [id, last] : last_heartbeat_) {
      if (now - last > node_timeout_) silent.push_back(id);
    }
    for (const NodeId& id : silent) {
      last_heartbeat_.erase(id);
      raylets_.RemoveNode(id);
      lock.unlock();
      (void)gcs_.MarkNodeDead(id, absl::StrCat("no heartbeat for ", node_timeout_.count(), " ms"));
      lock.lock();
    }
  }
}

grpc::Status GcsServiceImpl::RegisterNode(grpc::ServerContext* context,
                                          const proto::RegisterNodeRequest* request,
                                          proto::RegisterNodeReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  // (Known to the reserver first: registering may reserve a waiting group
  // on it.)
  raylets_.AddNode(request->node());
  absl::Status s = gcs_.RegisterNode(request->node());
  if (!s.ok()) {
    if (absl::StatusOr<NodeId> id = NodeId::FromBinary(request->node().node_id()); id.ok()) {
      raylets_.RemoveNode(*id);
    }
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    last_heartbeat_[*NodeId::FromBinary(request->node().node_id())] = Clock::now();
  }
  ReserveGroups();
  return ToGrpcStatus(s);
}

grpc::Status GcsServiceImpl::UnregisterNode(grpc::ServerContext* context,
                                            const proto::UnregisterNodeRequest* request,
                                            proto::UnregisterNodeReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<NodeId> id = ParseId<NodeId>(request->node_id(), "UnregisterNode");
  if (!id.ok()) return ToGrpcStatus(id.status());
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_heartbeat_.erase(*id);
  }
  raylets_.RemoveNode(*id);
  return ToGrpcStatus(gcs_.MarkNodeDead(*id, request->reason().empty() ? "unregistered" : request->reason()));
}

grpc::Status GcsServiceImpl::GetAllNodes(grpc::ServerContext* context,
                                         const proto::GetAllNodesRequest* request,
                                         proto::GetAllNodesReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  std::lock_guard<std::mutex> lock(mu_);
  for (proto::NodeInfo& node : gcs_.GetAllNodes()) {
    auto it = available_.find(node.node_id());
    // (A node that has not reported yet has everything free.)
    *node.mutable_available_resources() = it != available_.end() ? it->second : node.total_resources();
    *reply->add_nodes() = std::move(node);
  }
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::Heartbeat(grpc::ServerContext* context, const proto::HeartbeatRequest* request,
                                       proto::HeartbeatReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<NodeId> id = ParseId<NodeId>(request->node_id(), "Heartbeat");
  if (!id.ok()) return ToGrpcStatus(id.status());
  bool alive = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = last_heartbeat_.find(*id);
    if (it == last_heartbeat_.end()) {
      // Unknown, or declared dead already: the raylet must not go on as if alive.
      reply->set_node_dead(true);
    } else {
      alive = true;
      it->second = Clock::now();
      available_[request->node_id()] = request->available_resources();
    }
    for (const std::string& job : finished_jobs_) reply->add_finished_jobs(job);
  }
  if (alive && request->has_available_resources()) {
    proto::NodeResourcesReport report;
    *report.mutable_available_resources() = request->available_resources();
    report.set_resources_version(request->resources_version());
    raylets_.Update(*id, report);
    // Freed resources may fit a waiting group (not under mu_: this calls
    // raylets).
    if (gcs_.pending_placement_groups() > 0) ReserveGroups();
  }
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::NextJobId(grpc::ServerContext* context, const proto::NextJobIdRequest* request,
                                       proto::NextJobIdReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<JobId> id = gcs_.NextJobId();
  if (!id.ok()) return ToGrpcStatus(id.status());
  reply->set_job_id(id->Binary());
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::AddJob(grpc::ServerContext* context, const proto::AddJobRequest* request,
                                    proto::AddJobReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<JobId> id = ParseId<JobId>(request->job_id(), "AddJob");
  if (!id.ok()) return ToGrpcStatus(id.status());
  return ToGrpcStatus(gcs_.AddJob(*id, request->driver_address()));
}

grpc::Status GcsServiceImpl::MarkJobFinished(grpc::ServerContext* context,
                                             const proto::MarkJobFinishedRequest* request,
                                             proto::MarkJobFinishedReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<JobId> id = ParseId<JobId>(request->job_id(), "MarkJobFinished");
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::Status s = gcs_.MarkJobFinished(*id);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    finished_jobs_.push_back(id->Binary());
    if (finished_jobs_.size() > kFinishedJobsKept) finished_jobs_.pop_front();
  }
  return ToGrpcStatus(s);
}

grpc::Status GcsServiceImpl::KvGet(grpc::ServerContext* context, const proto::KvGetRequest* request,
                                   proto::KvGetReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<std::optional<std::string>> value = gcs_.KvGet(request->ns(), request->key());
  if (!value.ok()) return ToGrpcStatus(value.status());
  reply->set_found(value->has_value());
  if (value->has_value()) reply->set_value(std::move(**value));
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::KvPut(grpc::ServerContext* context, const proto::KvPutRequest* request,
                                   proto::KvPutReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<bool> added =
      gcs_.KvPut(request->ns(), request->key(), request->value(), request->overwrite());
  if (!added.ok()) return ToGrpcStatus(added.status());
  reply->set_added(*added);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::KvDel(grpc::ServerContext* context, const proto::KvDelRequest* request,
                                   proto::KvDelReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<bool> deleted = gcs_.KvDel(request->ns(), request->key());
  if (!deleted.ok()) return ToGrpcStatus(deleted.status());
  reply->set_deleted(*deleted);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::KvKeys(grpc::ServerContext* context, const proto::KvKeysRequest* request,
                                    proto::KvKeysReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<std::vector<std::string>> keys = gcs_.KvKeys(request->ns(), request->prefix());
  if (!keys.ok()) return ToGrpcStatus(keys.status());
  for (std::string& key : *keys) reply->add_keys(std::move(key));
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::CreateActor(grpc::ServerContext* context,
                                         const proto::CreateActorRequest* request,
                                         proto::CreateActorReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  const proto::ActorSpec& spec = request->creation_task().actor_creation();
  absl::StatusOr<ActorId> id = ParseId<ActorId>(spec.actor_id(), "CreateActor");
  if (!id.ok()) return ToGrpcStatus(id.status());
  if (absl::Status s = gcs_.RegisterActor(spec); !s.ok()) return ToGrpcStatus(s);
  if (std::optional<proto::ActorInfo> actor = gcs_.GetActor(*id)) *reply->mutable_actor() = std::move(*actor);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::UpdateActor(grpc::ServerContext* context,
                                         const proto::UpdateActorRequest* request,
                                         proto::UpdateActorReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<ActorId> id = ParseId<ActorId>(request->actor_id(), "UpdateActor");
  if (!id.ok()) return ToGrpcStatus(id.status());
  switch (request->state()) {
    case proto::ALIVE:
      return ToGrpcStatus(gcs_.MarkActorAlive(*id, request->address()));
    case proto::RESTARTING:
      return ToGrpcStatus(gcs_.MarkActorRestarting(*id));
    case proto::DEAD:
      return ToGrpcStatus(gcs_.MarkActorDead(*id, request->death_cause()));
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "UpdateActor: the state must be ALIVE, RESTARTING or DEAD");
  }
}

grpc::Status GcsServiceImpl::GetAllActors(grpc::ServerContext* context, const proto::GetAllActorsRequest*,
                                          proto::GetAllActorsReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  for (proto::ActorInfo& actor : gcs_.GetAllActors()) *reply->add_actors() = std::move(actor);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::GetActorInfo(grpc::ServerContext* context,
                                          const proto::GetActorInfoRequest* request,
                                          proto::GetActorInfoReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<ActorId> id = ParseId<ActorId>(request->actor_id(), "GetActorInfo");
  if (!id.ok()) return ToGrpcStatus(id.status());
  std::optional<proto::ActorInfo> actor = gcs_.GetActor(*id);
  if (!actor) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown actor " + id->Hex());
  *reply->mutable_actor() = std::move(*actor);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::GetNamedActor(grpc::ServerContext* context,
                                           const proto::GetNamedActorRequest* request,
                                           proto::GetNamedActorReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  std::optional<proto::ActorInfo> actor = gcs_.GetNamedActor(request->namespace_(), request->name());
  if (!actor)
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no live actor named '" + request->name() + "'");
  *reply->mutable_actor() = std::move(*actor);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::CreatePlacementGroup(grpc::ServerContext* context,
                                                  const proto::CreatePlacementGroupRequest* request,
                                                  proto::CreatePlacementGroupReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::Status s = gcs_.CreatePlacementGroup(request->spec());
  ReserveGroups();
  return ToGrpcStatus(s);
}

grpc::Status GcsServiceImpl::ApplyPlacementGroupOps(grpc::ServerContext* context,
                                                    const proto::ApplyPlacementGroupOpsRequest* request,
                                                    proto::ApplyPlacementGroupOpsReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<proto::ApplyPlacementGroupOpsReply> applied = gcs_.ApplyPlacementGroupOps(*request);
  if (!applied.ok()) return ToGrpcStatus(applied.status());
  *reply = *std::move(applied);
  {
    // (Reserved already: wake the waiters.)
    std::lock_guard<std::mutex> lock(groups_mu_);
    ++groups_generation_;
  }
  groups_cv_.notify_all();
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::RemovePlacementGroup(grpc::ServerContext* context,
                                                  const proto::RemovePlacementGroupRequest* request,
                                                  proto::RemovePlacementGroupReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<PlacementGroupId> id =
      ParseId<PlacementGroupId>(request->placement_group_id(), "RemovePlacementGroup");
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::Status s = gcs_.RemovePlacementGroup(*id);
  ReserveGroups();
  return ToGrpcStatus(s);
}

grpc::Status GcsServiceImpl::GetPlacementGroup(grpc::ServerContext* context,
                                               const proto::GetPlacementGroupRequest* request,
                                               proto::GetPlacementGroupReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<PlacementGroupId> id =
      ParseId<PlacementGroupId>(request->placement_group_id(), "GetPlacementGroup");
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::StatusOr<proto::PlacementGroupInfo> info = gcs_.GetPlacementGroup(*id);
  if (!info.ok()) return ToGrpcStatus(info.status());
  *reply->mutable_placement_group() = *std::move(info);
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::GetAllPlacementGroups(grpc::ServerContext* context,
                                                   const proto::GetAllPlacementGroupsRequest*,
                                                   proto::GetAllPlacementGroupsReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  for (proto::PlacementGroupInfo& info : gcs_.GetAllPlacementGroups()) {
    *reply->add_placement_groups() = std::move(info);
  }
  return grpc::Status::OK;
}

grpc::Status GcsServiceImpl::WaitPlacementGroupReady(grpc::ServerContext* context,
                                                     const proto::WaitPlacementGroupReadyRequest* request,
                                                     proto::WaitPlacementGroupReadyReply* reply) {
  RAYCC_CHECK_TOKEN(auth_, context);
  absl::StatusOr<PlacementGroupId> id =
      ParseId<PlacementGroupId>(request->placement_group_id(), "WaitPlacementGroupReady");
  if (!id.ok()) return ToGrpcStatus(id.status());
  const bool forever = request->timeout_ms() < 0;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, request->timeout_ms()));
  // Woken by every change; also looks again every 100 ms (the caller may
  // have gone away, and the server may be stopping).
  constexpr auto kLook = std::chrono::milliseconds(100);
  for (;;) {
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(groups_mu_);
      generation = groups_generation_;
    }
    absl::StatusOr<proto::PlacementGroupState> state = gcs_.GetPlacementGroupState(*id);
    if (!state.ok()) return ToGrpcStatus(state.status());
    if (*state == proto::PG_CREATED) {
      reply->set_ready(true);
      return grpc::Status::OK;
    }
    if (*state == proto::PG_REMOVED) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "placement group " + id->Hex() + " was removed");
    }
    const Clock::time_point now = Clock::now();
    if ((!forever && now >= deadline) || context->IsCancelled()) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    std::unique_lock<std::mutex> lock(groups_mu_);
    groups_cv_.wait_until(lock, forever ? now + kLook : std::min(deadline, now + kLook),
                          [&] { return groups_generation_ != generation; });
  }
  reply->set_ready(false);
  return grpc::Status::OK;
}

}  // namespace raycc::gcs
