#pragma once

/// \file
/// The global control service's state: node table, actor directory,
/// placement groups, jobs and KV over one storage, behind one lock. It is
/// its own in-process client (GcsClientInterface); `raycc-gcs` serves the
/// same object over gRPC.
///
/// Placement groups are reserved on the raylets given to
/// SetBundleReserver, when a group is created and whenever a raylet reports
/// freed resources (ReservePending). Lock order: a caller may hold its own
/// lock (the embedded runtime's) while it calls in; the Gcs calls the
/// reserver under its lock and the reserver must not call back.

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "gcs/actor_directory.h"
#include "gcs/gcs_client_interface.h"
#include "gcs/job_table.h"
#include "gcs/kv_store.h"
#include "gcs/node_table.h"
#include "gcs/placement_group_manager.h"
#include "gcs/publisher.h"

namespace raycc::gcs {

class Gcs final : public GcsClientInterface {
 public:
  /// Over `storage` (InMemoryGcsStorage when null).
  explicit Gcs(std::unique_ptr<GcsStorageInterface> storage = nullptr);
  /// Reads every table back from the storage (a GCS restarted over Redis:
  /// its nodes, actors, placement groups and jobs; KV and the job counter
  /// are read from storage as they are used). Call once, before serving.
  absl::Status Recover();

  /// The raylets placement groups reserve bundles on (not owned; outlives
  /// this). Until one is set, groups stay pending.
  void SetBundleReserver(BundleReserverInterface* raylets);
  /// Where changes to actors, nodes and placement groups are published (not owned; outlives
  /// this); none until set.
  void SetPublisher(Publisher* publisher);
  /// Subscribes to the publisher set and fills `now` with the current
  /// records of `keys`, both under the lock the changes are published
  /// under: every change is either in `now` or on the subscription, never
  /// both, never older than `now`. Null when no publisher is set.
  std::shared_ptr<Publisher::Subscription> Subscribe(const std::vector<proto::Channel>& channels,
                                                     const std::vector<std::string>& keys,
                                                     std::vector<proto::PubMessage>* now);
  /// Reserves the pending placement groups that fit now; the ones CREATED.
  std::vector<PlacementGroupId> ReservePending();
  /// Groups waiting for a reservation (no lock: a cheap check before
  /// ReservePending on a hot path).
  size_t pending_placement_groups() const { return groups_.pending(); }
  /// Calls `visit` with the group's record under the lock (no copy); false
  /// when the group is unknown.
  bool VisitPlacementGroup(const PlacementGroupId& id,
                           absl::FunctionRef<void(const PlacementGroupRecord&)> visit);

  absl::Status RegisterNode(proto::NodeInfo node) override;
  absl::Status MarkNodeDead(const NodeId& id, std::string cause) override;
  std::vector<proto::NodeInfo> GetAllNodes() override;

  absl::Status RegisterActor(const proto::ActorSpec& spec) override;
  absl::Status MarkActorAlive(const ActorId& id, const proto::Address& where) override;
  absl::Status MarkActorRestarting(const ActorId& id) override;
  absl::Status MarkActorDead(const ActorId& id, std::string cause) override;
  std::optional<proto::ActorInfo> GetActor(const ActorId& id) override;
  std::vector<proto::ActorInfo> GetAllActors();
  std::optional<proto::ActorInfo> GetNamedActor(const std::string& ns, const std::string& name) override;

  absl::Status CreatePlacementGroup(const PlacementGroupId& id, const std::string& name,
                                    scheduling::BundleStrategy strategy,
                                    const std::vector<ResourceSet>& bundles,
                                    const std::vector<std::string>& bundle_nodes) override;
  absl::Status RemovePlacementGroup(const PlacementGroupId& id) override;
  /// Under one lock: the creations and removals, the removed groups'
  /// bundles given back in one ReturnGroups, then one reservation pass.
  absl::StatusOr<proto::ApplyPlacementGroupOpsReply> ApplyPlacementGroupOps(
      const proto::ApplyPlacementGroupOpsRequest& request) override;
  /// A creation as the wire gives it: its spec checked, then
  /// CreatePlacementGroup.
  absl::Status CreatePlacementGroup(const proto::PlacementGroupSpec& spec);
  absl::StatusOr<proto::PlacementGroupState> GetPlacementGroupState(const PlacementGroupId& id) override;
  absl::StatusOr<proto::PlacementGroupInfo> GetPlacementGroup(const PlacementGroupId& id) override;
  /// Every group not forgotten (removed ones too), oldest first.
  std::vector<proto::PlacementGroupInfo> GetAllPlacementGroups();

  absl::StatusOr<JobId> NextJobId() override;
  absl::Status AddJob(const JobId& id, const proto::Address& driver) override;
  /// Also marks the job's actors dead and removes its placement groups.
  absl::Status MarkJobFinished(const JobId& id) override;
  /// The jobs that have finished, oldest end first (a restarted GCS tells
  /// the raylets of them again).
  std::vector<JobId> FinishedJobs();

  absl::StatusOr<bool> KvPut(const std::string& ns, const std::string& key, std::string value,
                             bool overwrite) override;
  absl::StatusOr<std::optional<std::string>> KvGet(const std::string& ns, const std::string& key) override;
  absl::StatusOr<bool> KvDel(const std::string& ns, const std::string& key) override;
  absl::StatusOr<std::vector<std::string>> KvKeys(const std::string& ns, const std::string& prefix) override;

 private:
  std::vector<PlacementGroupId> ReservePendingLocked();
  absl::Status CreatePlacementGroupLocked(const PlacementGroupId& id, const std::string& name,
                                          scheduling::BundleStrategy strategy,
                                          const std::vector<ResourceSet>& bundles,
                                          const std::vector<std::string>& bundle_nodes);
  absl::Status CreatePlacementGroupLocked(const proto::PlacementGroupSpec& spec);
  /// The record `key` (an actor's, node's or group's id) has on `channel`
  /// now, as published; nullopt when there is none.
  std::optional<proto::PubMessage> RecordLocked(proto::Channel channel, const std::string& key);
  /// Publishes that record.
  void PublishLocked(proto::Channel channel, const std::string& key);

  std::unique_ptr<GcsStorageInterface> storage_;
  std::mutex mu_;
  NodeTable nodes_;
  ActorDirectory actors_;
  PlacementGroupManager groups_;
  JobTable jobs_;
  KvStore kv_;
  BundleReserverInterface* raylets_ = nullptr;
  Publisher* publisher_ = nullptr;
};

}  // namespace raycc::gcs
