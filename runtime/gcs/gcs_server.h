#pragma once

/// \file
/// The control service on the wire: GcsService over a gcs::Gcs, with the
/// cluster token checked on every call and node liveness from heartbeats (a
/// node silent for longer than the timeout is marked dead, cause named).
/// Placement groups are reserved on the raylets over gRPC
/// (RayletBundleReserver): when created, when one is removed, and after
/// every heartbeat while some wait.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "gcs/gcs.h"
#include "gcs/raylet_bundle_reserver.h"
#include "raycc/proto/gcs_service.grpc.pb.h"
#include "rpc/auth.h"

namespace raycc::gcs {

class GcsServiceImpl final : public proto::GcsService::Service {
 public:
  /// `node_timeout`: how long a node may go without a heartbeat.
  GcsServiceImpl(Gcs& gcs, std::string token, std::chrono::milliseconds node_timeout);
  ~GcsServiceImpl() override;

  uint64_t unauthenticated_requests() const { return auth_.refused(); }

  grpc::Status RegisterNode(grpc::ServerContext* context, const proto::RegisterNodeRequest* request,
                            proto::RegisterNodeReply* reply) override;
  grpc::Status UnregisterNode(grpc::ServerContext* context, const proto::UnregisterNodeRequest* request,
                              proto::UnregisterNodeReply* reply) override;
  grpc::Status GetAllNodes(grpc::ServerContext* context, const proto::GetAllNodesRequest* request,
                           proto::GetAllNodesReply* reply) override;
  grpc::Status Heartbeat(grpc::ServerContext* context, const proto::HeartbeatRequest* request,
                         proto::HeartbeatReply* reply) override;
  grpc::Status NextJobId(grpc::ServerContext* context, const proto::NextJobIdRequest* request,
                         proto::NextJobIdReply* reply) override;
  grpc::Status AddJob(grpc::ServerContext* context, const proto::AddJobRequest* request,
                      proto::AddJobReply* reply) override;
  grpc::Status MarkJobFinished(grpc::ServerContext* context, const proto::MarkJobFinishedRequest* request,
                               proto::MarkJobFinishedReply* reply) override;
  grpc::Status KvGet(grpc::ServerContext* context, const proto::KvGetRequest* request,
                     proto::KvGetReply* reply) override;
  grpc::Status KvPut(grpc::ServerContext* context, const proto::KvPutRequest* request,
                     proto::KvPutReply* reply) override;
  grpc::Status KvDel(grpc::ServerContext* context, const proto::KvDelRequest* request,
                     proto::KvDelReply* reply) override;
  grpc::Status KvKeys(grpc::ServerContext* context, const proto::KvKeysRequest* request,
                      proto::KvKeysReply* reply) override;
  grpc::Status CreateActor(grpc::ServerContext* context, const proto::CreateActorRequest* request,
                           proto::CreateActorReply* reply) override;
  grpc::Status UpdateActor(grpc::ServerContext* context, const proto::UpdateActorRequest* request,
                           proto::UpdateActorReply* reply) override;
  grpc::Status GetAllActors(grpc::ServerContext* context, const proto::GetAllActorsRequest* request,
                            proto::GetAllActorsReply* reply) override;
  grpc::Status GetActorInfo(grpc::ServerContext* context, const proto::GetActorInfoRequest* request,
                            proto::GetActorInfoReply* reply) override;
  grpc::Status GetNamedActor(grpc::ServerContext* context, const proto::GetNamedActorRequest* request,
                             proto::GetNamedActorReply* reply) override;
  grpc::Status CreatePlacementGroup(grpc::ServerContext* context,
                                    const proto::CreatePlacementGroupRequest* request,
                                    proto::CreatePlacementGroupReply* reply) override;
  grpc::Status RemovePlacementGroup(grpc::ServerContext* context,
                                    const proto::RemovePlacementGroupRequest* request,
                                    proto::RemovePlacementGroupReply* reply) override;
  grpc::Status ApplyPlacementGroupOps(grpc::ServerContext* context,
                                      const proto::ApplyPlacementGroupOpsRequest* request,
                                      proto::ApplyPlacementGroupOpsReply* reply) override;
  grpc::Status GetPlacementGroup(grpc::ServerContext* context, const proto::GetPlacementGroupRequest* request,
                                 proto::GetPlacementGroupReply* reply) override;
  grpc::Status GetAllPlacementGroups(grpc::ServerContext* context,
                                     const proto::GetAllPlacementGroupsRequest* request,
                                     proto::GetAllPlacementGroupsReply* reply) override;
  /// Answers ready once the group is CREATED, not ready at the timeout;
  /// FAILED_PRECONDITION when it is removed.
  grpc::Status WaitPlacementGroupReady(grpc::ServerContext* context,
                                       const proto::WaitPlacementGroupReadyRequest* request,
                                       proto::WaitPlacementGroupReadyReply* reply) override;
  /// Changes to actors, nodes and placement groups, as they happen
  /// (Publisher). The job channel is INVALID_ARGUMENT (not published yet).
  grpc::Status Subscribe(grpc::ServerContext* context, const proto::SubscribeRequest* request,
                         grpc::ServerWriter<proto::PubMessage>* writer) override;
  size_t subscribers() const { return publisher_.subscribers(); }

 private:
  using Clock = std::chrono::steady_clock;
  void MonitorNodes();
  /// Reserves waiting placement groups; wakes their waiters.
  void ReserveGroups();

  Gcs& gcs_;
  Publisher publisher_;
  rpc::TokenCheck auth_;
  RayletBundleReserver raylets_;
  const std::chrono::milliseconds node_timeout_;

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  absl::flat_hash_map<NodeId, Clock::time_point> last_heartbeat_;
  /// Each node's free resources at its last heartbeat, by node id bytes.
  absl::flat_hash_map<std::string, proto::ResourceSet> available_;
  /// The most recent finished jobs (bounded), told to raylets.
  std::deque<std::string> finished_jobs_;
  /// Notified whenever a placement group may have changed state.
  std::mutex groups_mu_;
  std::condition_variable groups_cv_;
  uint64_t groups_generation_ = 0;
  std::thread monitor_;
};

}  // namespace raycc::gcs
