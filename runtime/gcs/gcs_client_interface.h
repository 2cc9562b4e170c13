#pragma once

/// \file
/// What core workers and raylets ask of the control service. In one process
/// the GCS itself (gcs::Gcs) implements it and is called directly; the
/// cluster's gRPC client implements the same interface over the wire, and
/// its server calls a Gcs. Errors are statuses naming the cause
/// (raycc::IsInfeasible for a request no cluster of these nodes can hold).

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "raycc/proto/gcs_service.pb.h"
#include "raycc/runtime/common/id.h"
#include "raycc/runtime/common/resource_set.h"
#include "scheduling/bundle_placement.h"

namespace raycc::gcs {

class GcsClientInterface {
 public:
  virtual ~GcsClientInterface() = default;

  // Nodes.
  virtual absl::Status RegisterNode(proto::NodeInfo node) = 0;
  virtual absl::Status MarkNodeDead(const NodeId& id, std::string cause) = 0;
  virtual std::vector<proto::NodeInfo> GetAllNodes() = 0;

  // Actors.
  virtual absl::Status RegisterActor(const proto::ActorSpec& spec) = 0;
  /// `where`: the actor's node, and in a cluster the worker holding it.
  virtual absl::Status MarkActorAlive(const ActorId& id, const proto::Address& where) = 0;
  virtual absl::Status MarkActorRestarting(const ActorId& id) = 0;
  virtual absl::Status MarkActorDead(const ActorId& id, std::string cause) = 0;
  virtual std::optional<proto::ActorInfo> GetActor(const ActorId& id) = 0;
  virtual std::optional<proto::ActorInfo> GetNamedActor(const std::string& ns, const std::string& name) = 0;

  // Placement groups (reserved by the GCS as resources allow).
  /// `bundle_nodes`: empty, or the node (by name) each bundle must go on.
  virtual absl::Status CreatePlacementGroup(const PlacementGroupId& id, const std::string& name,
                                            scheduling::BundleStrategy strategy,
                                            const std::vector<ResourceSet>& bundles,
                                            const std::vector<std::string>& bundle_nodes) = 0;
  virtual absl::Status RemovePlacementGroup(const PlacementGroupId& id) = 0;
  /// PG_PENDING, PG_CREATED or PG_REMOVED; NotFound when unknown.
  virtual absl::StatusOr<proto::PlacementGroupState> GetPlacementGroupState(const PlacementGroupId& id) = 0;
  /// The group's spec, state and, once CREATED, the node of each bundle;
  /// NotFound when unknown (or forgotten long after its removal).
  virtual absl::StatusOr<proto::PlacementGroupInfo> GetPlacementGroup(const PlacementGroupId& id) = 0;
  /// Waits up to `timeout_ms` for the group's reservation: true once
  /// CREATED, false at the timeout; FailedPrecondition when it was removed.
  /// Unimplemented where the client cannot wait (then the caller looks
  /// again by itself).
  virtual absl::StatusOr<bool> WaitPlacementGroupReady(const PlacementGroupId& id, int64_t timeout_ms) {
    return absl::UnimplementedError("WaitPlacementGroupReady");
  }
  /// Creations and removals in order, in one call; then the groups that fit
  /// are reserved together. One result per op (a creation's carries the
  /// group's state after the call). An error of the call itself (the GCS
  /// out of reach) is the status.
  virtual absl::StatusOr<proto::ApplyPlacementGroupOpsReply> ApplyPlacementGroupOps(
      const proto::ApplyPlacementGroupOpsRequest& request) = 0;

  // Jobs.
  virtual absl::StatusOr<JobId> NextJobId() = 0;
  virtual absl::Status AddJob(const JobId& id, const proto::Address& driver) = 0;
  virtual absl::Status MarkJobFinished(const JobId& id) = 0;

  // Key-value store.
  virtual absl::StatusOr<bool> KvPut(const std::string& ns, const std::string& key, std::string value,
                                     bool overwrite) = 0;
  virtual absl::StatusOr<std::optional<std::string>> KvGet(const std::string& ns, const std::string& key) = 0;
  virtual absl::StatusOr<bool> KvDel(const std::string& ns, const std::string& key) = 0;
  virtual absl::StatusOr<std::vector<std::string>> KvKeys(const std::string& ns,
                                                          const std::string& prefix) = 0;
};

}  // namespace raycc::gcs
