#pragma once

/// \file
/// GcsClientInterface over gRPC: what a raylet or a core worker in another
/// process asks of raycc-gcs. Every call carries the cluster token and a
/// deadline; an unreachable GCS is an Unavailable status naming its address.
/// Once the GCS has answered, a call made while it is out of reach waits for
/// it (up to the call's deadline): a GCS restarted over Redis is ridden
/// through. Until then a wrong address fails at once.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "gcs/gcs_client_interface.h"
#include "raycc/proto/gcs_service.grpc.pb.h"

namespace raycc::gcs {

class GcsRpcClient final : public GcsClientInterface {
 public:
  GcsRpcClient(std::string address, std::string token,
               std::chrono::milliseconds deadline = std::chrono::seconds(10));

  const std::string& address() const { return address_; }

  /// Liveness report; the reply says whether the GCS thinks the node is dead
  /// and which jobs have finished.
  /// `available`: what the node has free now (for the others' spillback).
  /// `report`: what the node has free now, versioned (NodeManager::Report).
  absl::StatusOr<proto::HeartbeatReply> Heartbeat(const NodeId& node,
                                                  const proto::NodeResourcesReport* report = nullptr);

  absl::Status RegisterNode(proto::NodeInfo node) override;
  absl::Status MarkNodeDead(const NodeId& id, std::string cause) override;
  std::vector<proto::NodeInfo> GetAllNodes() override;
  /// As GetAllNodes, with the error when the GCS cannot be reached.
  absl::StatusOr<std::vector<proto::NodeInfo>> TryGetAllNodes();
  /// Every actor the GCS knows (for `raycc status`).
  absl::StatusOr<std::vector<proto::ActorInfo>> GetAllActors();

  absl::Status RegisterActor(const proto::ActorSpec& spec) override;
  absl::Status MarkActorAlive(const ActorId& id, const proto::Address& where) override;
  absl::Status MarkActorRestarting(const ActorId& id) override;
  absl::Status MarkActorDead(const ActorId& id, std::string cause) override;
  /// Follows the actor's record as the GCS publishes its changes (Subscribe:
  /// no polling) until `done` holds for it, `deadline` passes or
  /// `cancelled()` (looked at least once a second); the last record seen,
  /// nullopt when the actor is unknown, an error when the GCS cannot be
  /// reached.
  absl::StatusOr<std::optional<proto::ActorInfo>> WatchActor(
      const ActorId& id, const std::function<bool(const proto::ActorInfo&)>& done,
      std::chrono::steady_clock::time_point deadline, const std::function<bool()>& cancelled);
  std::optional<proto::ActorInfo> GetActor(const ActorId& id) override;
  std::optional<proto::ActorInfo> GetNamedActor(const std::string& ns, const std::string& name) override;

  absl::Status CreatePlacementGroup(const PlacementGroupId& id, const std::string& name,
                                    scheduling::BundleStrategy strategy,
                                    const std::vector<ResourceSet>& bundles,
                                    const std::vector<std::string>& bundle_nodes) override;
  absl::Status RemovePlacementGroup(const PlacementGroupId& id) override;
  absl::StatusOr<proto::ApplyPlacementGroupOpsReply> ApplyPlacementGroupOps(
      const proto::ApplyPlacementGroupOpsRequest& request) override;
  absl::StatusOr<proto::PlacementGroupState> GetPlacementGroupState(const PlacementGroupId& id) override;
  absl::StatusOr<proto::PlacementGroupInfo> GetPlacementGroup(const PlacementGroupId& id) override;
  /// Every group the GCS remembers (for `raycc status`).
  absl::StatusOr<std::vector<proto::PlacementGroupInfo>> GetAllPlacementGroups();
  /// Waits up to `timeout_ms` (-1: forever) for the group's reservation:
  /// true once CREATED, false at the timeout; FailedPrecondition when it
  /// was removed, NotFound when unknown.
  absl::StatusOr<bool> WaitPlacementGroupReady(const PlacementGroupId& id, int64_t timeout_ms) override;

  absl::StatusOr<JobId> NextJobId() override;
  absl::Status AddJob(const JobId& id, const proto::Address& driver) override;
  absl::Status MarkJobFinished(const JobId& id) override;

  absl::StatusOr<bool> KvPut(const std::string& ns, const std::string& key, std::string value,
                             bool overwrite) override;
  absl::StatusOr<std::optional<std::string>> KvGet(const std::string& ns, const std::string& key) override;
  absl::StatusOr<bool> KvDel(const std::string& ns, const std::string& key) override;
  absl::StatusOr<std::vector<std::string>> KvKeys(const std::string& ns, const std::string& prefix) override;

 private:
  /// One call with the token; the deadline is `deadline_` plus `extra`
  /// (none at all when `extra` is negative: a wait the GCS bounds itself).
  /// `ride_through`: wait for a GCS that answered before to come back (see
  /// the file's comment); off for calls on a way out (a node or a job
  /// ending), which must not hold a process up for a GCS that is gone.
  template <typename Request, typename Reply, typename Method>
  absl::Status Call(const char* name, Method method, const Request& request, Reply* reply,
                    std::chrono::milliseconds extra = std::chrono::milliseconds(0), bool ride_through = true);

  std::string address_;
  std::string token_;
  std::chrono::milliseconds deadline_;
  std::unique_ptr<proto::GcsService::Stub> stub_;
  std::atomic<bool> answered_{false};  // the GCS has answered a call
};

}  // namespace raycc::gcs
