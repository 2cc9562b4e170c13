#include "gcs/gcs.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "gcs/in_memory_gcs_storage.h"
#include "raycc/runtime/common/status.h"

namespace raycc::gcs {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Gcs::Gcs(std::unique_ptr<GcsStorageInterface> storage)
    : storage_(storage ? std::move(storage) : std::make_unique<InMemoryGcsStorage>()),
      nodes_(*storage_),
      actors_(*storage_),
      groups_(*storage_),
      jobs_(*storage_),
      kv_(*storage_) {}

std::vector<JobId> Gcs::FinishedJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.Finished();
}

absl::Status Gcs::Recover() {
  std::lock_guard<std::mutex> lock(mu_);
  RAYCC_RETURN_IF_ERROR(nodes_.Load());
  RAYCC_RETURN_IF_ERROR(actors_.Load());
  RAYCC_RETURN_IF_ERROR(groups_.Load());
  return jobs_.Load();
}

void Gcs::SetBundleReserver(BundleReserverInterface* raylets) {
  std::lock_guard<std::mutex> lock(mu_);
  raylets_ = raylets;
}

void Gcs::SetPublisher(Publisher* publisher) {
  std::lock_guard<std::mutex> lock(mu_);
  publisher_ = publisher;
}

std::optional<proto::PubMessage> Gcs::RecordLocked(proto::Channel channel, const std::string& key) {
  proto::PubMessage message;
  message.set_channel(channel);
  if (channel == proto::ACTOR_CHANNEL) {
    absl::StatusOr<ActorId> id = ActorId::FromBinary(key);
    const proto::ActorInfo* actor = id.ok() ? actors_.Find(*id) : nullptr;
    if (actor == nullptr) return std::nullopt;
    *message.mutable_actor() = *actor;
  } else if (channel == proto::NODE_CHANNEL) {
    absl::StatusOr<NodeId> id = NodeId::FromBinary(key);
    const proto::NodeInfo* node = id.ok() ? nodes_.Find(*id) : nullptr;
    if (node == nullptr) return std::nullopt;
    *message.mutable_node() = *node;
  } else if (channel == proto::PLACEMENT_GROUP_CHANNEL) {
    absl::StatusOr<PlacementGroupId> id = PlacementGroupId::FromBinary(key);
    const PlacementGroupRecord* group = id.ok() ? groups_.Find(*id) : nullptr;
    if (group == nullptr) return std::nullopt;
    *message.mutable_placement_group() = PlacementGroupManager::ToInfo(*group);
  } else if (channel == proto::JOB_CHANNEL) {
    absl::StatusOr<JobId> id = JobId::FromBinary(key);
    const proto::JobInfo* job = id.ok() ? jobs_.Find(*id) : nullptr;
    if (job == nullptr) return std::nullopt;
    *message.mutable_job() = *job;
  } else {
    return std::nullopt;
  }
  return message;
}

void Gcs::PublishLocked(proto::Channel channel, const std::string& key) {
  if (publisher_ == nullptr) return;
  if (std::optional<proto::PubMessage> message = RecordLocked(channel, key))
    publisher_->Publish(*std::move(message), key);
}

std::shared_ptr<Publisher::Subscription> Gcs::Subscribe(const std::vector<proto::Channel>& channels,
                                                        const std::vector<std::string>& keys,
                                                        std::vector<proto::PubMessage>* now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (publisher_ == nullptr) return nullptr;
  std::shared_ptr<Publisher::Subscription> subscription = publisher_->Subscribe(channels, keys);
  for (const std::string& key : keys) {
    for (proto::Channel channel : channels) {
      if (std::optional<proto::PubMessage> message = RecordLocked(channel, key))
        now->push_back(*std::move(message));
    }
  }
  return subscription;
}

std::vector<PlacementGroupId> Gcs::ReservePendingLocked() {
  if (raylets_ == nullptr) return {};
  std::vector<PlacementGroupId> created = groups_.ReservePending(*raylets_);
  for (const PlacementGroupId& id : created) PublishLocked(proto::PLACEMENT_GROUP_CHANNEL, id.Binary());
  return created;
}

std::vector<PlacementGroupId> Gcs::ReservePending() {
  if (groups_.pending() == 0) return {};
  std::lock_guard<std::mutex> lock(mu_);
  return ReservePendingLocked();
}

bool Gcs::VisitPlacementGroup(const PlacementGroupId& id,
                              absl::FunctionRef<void(const PlacementGroupRecord&)> visit) {
  std::lock_guard<std::mutex> lock(mu_);
  const PlacementGroupRecord* group = groups_.Find(id);
  if (group == nullptr) return false;
  visit(*group);
  return true;
}

absl::Status Gcs::RegisterNode(proto::NodeInfo node) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = node.node_id();
  absl::Status s = nodes_.Register(std::move(node));
  if (s.ok()) {
    PublishLocked(proto::NODE_CHANNEL, key);
    ReservePendingLocked();  // (room for a pending group, perhaps)
  }
  return s;
}

absl::Status Gcs::MarkNodeDead(const NodeId& id, std::string cause) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status dead = nodes_.MarkDead(id, std::move(cause));
  if (dead.ok()) {
    PublishLocked(proto::NODE_CHANNEL, id.Binary());
    // Its bundles are lost: their groups reserve them again elsewhere.
    std::vector<PlacementGroupId> hit = groups_.OnNodeDead(id);
    for (const PlacementGroupId& group : hit)
      PublishLocked(proto::PLACEMENT_GROUP_CHANNEL, group.Binary());  // (RESCHEDULING)
    if (!hit.empty()) ReservePendingLocked();
  }
  return dead;
}

std::vector<proto::NodeInfo> Gcs::GetAllNodes() {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.all();
}

absl::Status Gcs::RegisterActor(const proto::ActorSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = actors_.Register(spec);
  if (s.ok()) PublishLocked(proto::ACTOR_CHANNEL, spec.actor_id());
  return s;
}

absl::Status Gcs::MarkActorAlive(const ActorId& id, const proto::Address& where) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = actors_.MarkAlive(id, where);
  if (s.ok()) PublishLocked(proto::ACTOR_CHANNEL, id.Binary());
  return s;
}

absl::Status Gcs::MarkActorRestarting(const ActorId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = actors_.MarkRestarting(id);
  if (s.ok()) PublishLocked(proto::ACTOR_CHANNEL, id.Binary());
  return s;
}

absl::Status Gcs::MarkActorDead(const ActorId& id, std::string cause) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = actors_.MarkDead(id, std::move(cause));
  if (s.ok()) PublishLocked(proto::ACTOR_CHANNEL, id.Binary());
  return s;
}

std::optional<proto::ActorInfo> Gcs::GetActor(const ActorId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  const proto::ActorInfo* actor = actors_.Find(id);
  if (actor == nullptr) return std::nullopt;
  return *actor;
}

std::vector<proto::ActorInfo> Gcs::GetAllActors() {
  std::lock_guard<std::mutex> lock(mu_);
  return actors_.All();
}

std::optional<proto::ActorInfo> Gcs::GetNamedActor(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  const proto::ActorInfo* actor = actors_.FindNamed(ns, name);
  if (actor == nullptr) return std::nullopt;
  return *actor;
}

absl::Status Gcs::CreatePlacementGroup(const PlacementGroupId& id, const std::string& name,
                                       scheduling::BundleStrategy strategy,
                                       const std::vector<ResourceSet>& bundles,
                                       const std::vector<std::string>& bundle_nodes) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = CreatePlacementGroupLocked(id, name, strategy, bundles, bundle_nodes);
  if (s.ok()) ReservePendingLocked();
  return s;
}

absl::Status Gcs::CreatePlacementGroup(const proto::PlacementGroupSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = CreatePlacementGroupLocked(spec);
  if (s.ok()) ReservePendingLocked();
  return s;
}

absl::Status Gcs::CreatePlacementGroupLocked(const proto::PlacementGroupSpec& spec) {
  absl::StatusOr<PlacementGroupId> id = PlacementGroupId::FromBinary(spec.placement_group_id());
  if (!id.ok()) return Annotate(id.status(), "CreatePlacementGroup");
  if (spec.strategy() < proto::PACK || spec.strategy() > proto::STRICT_SPREAD) {
    return absl::InvalidArgumentError("CreatePlacementGroup: unknown strategy");
  }
  std::vector<ResourceSet> bundles;
  for (int i = 0; i < spec.bundles_size(); ++i) {
    absl::StatusOr<ResourceSet> bundle = ResourceSet::FromProto(spec.bundles(i).resources());
    if (!bundle.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("CreatePlacementGroup: bundle ", i, ": ", bundle.status().message()));
    }
    bundles.push_back(*std::move(bundle));
  }
  return CreatePlacementGroupLocked(
      *id, spec.name(), static_cast<scheduling::BundleStrategy>(spec.strategy()), bundles,
      std::vector<std::string>(spec.bundle_node_names().begin(), spec.bundle_node_names().end()));
}

absl::Status Gcs::CreatePlacementGroupLocked(const PlacementGroupId& id, const std::string& name,
                                             scheduling::BundleStrategy strategy,
                                             const std::vector<ResourceSet>& bundles,
                                             const std::vector<std::string>& bundle_nodes) {
  const std::string what = DescribePlacementGroup(name);
  // Pins are by name, among the nodes alive now.
  std::vector<NodeId> pinned;
  for (size_t i = 0; i < bundle_nodes.size(); ++i) {
    const proto::NodeInfo* node = nodes_.FindAliveByName(bundle_nodes[i]);
    if (node == nullptr) {
      return InfeasibleError(absl::StrCat(what, ": bundle ", i, " is pinned to node '", bundle_nodes[i],
                                          "', which is not a live node of this cluster"));
    }
    pinned.push_back(*NodeId::FromBinary(node->node_id()));
  }
  absl::Status s = groups_.Create(id, name, strategy, bundles, nodes_.AliveTotals(), what, pinned);
  if (s.ok()) PublishLocked(proto::PLACEMENT_GROUP_CHANNEL, id.Binary());  // (PENDING)
  return s;
}

absl::StatusOr<proto::ApplyPlacementGroupOpsReply> Gcs::ApplyPlacementGroupOps(
    const proto::ApplyPlacementGroupOpsRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (raylets_ == nullptr)
    return absl::FailedPreconditionError("the GCS has no raylets to reserve bundles on");
  proto::ApplyPlacementGroupOpsReply reply;
  std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>> returns;
  std::vector<int> creations;  // (indices of ops that created a group)
  for (int i = 0; i < request.ops_size(); ++i) {
    const proto::PlacementGroupOp& op = request.ops(i);
    proto::PlacementGroupOpResult* result = reply.add_results();
    absl::Status s;
    if (op.has_create()) {
      s = CreatePlacementGroupLocked(op.create());
      if (s.ok()) creations.push_back(i);
    } else if (op.op_case() == proto::PlacementGroupOp::kRemove) {
      absl::StatusOr<PlacementGroupId> id = PlacementGroupId::FromBinary(op.remove());
      absl::StatusOr<bool> removed = id.ok() ? groups_.Remove(*id, &returns) : id.status();
      if (removed.ok()) PublishLocked(proto::PLACEMENT_GROUP_CHANNEL, id->Binary());  // (REMOVED)
      s = removed.status();
    } else {
      s = absl::InvalidArgumentError(
          "ApplyPlacementGroupOps: an op that is neither a creation nor a removal");
    }
    result->set_code(static_cast<int32_t>(s.code()));
    result->set_message(std::string(s.message()));
  }
  // What the removals freed first, so that the creations may use it.
  if (!returns.empty()) raylets_->ReturnGroups(returns);
  ReservePendingLocked();
  for (int i : creations) {
    const PlacementGroupRecord* group =
        groups_.Find(*PlacementGroupId::FromBinary(request.ops(i).create().placement_group_id()));
    if (group != nullptr) reply.mutable_results(i)->set_state(group->state);
  }
  return reply;
}

absl::Status Gcs::RemovePlacementGroup(const PlacementGroupId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (raylets_ == nullptr)
    return absl::FailedPreconditionError("the GCS has no raylets to give bundles back to");
  absl::StatusOr<bool> freed = groups_.Remove(id, *raylets_);
  if (!freed.ok()) return freed.status();
  PublishLocked(proto::PLACEMENT_GROUP_CHANNEL, id.Binary());  // (REMOVED)
  if (*freed) ReservePendingLocked();                          // its bundles may fit a waiting group
  return absl::OkStatus();
}

absl::StatusOr<proto::PlacementGroupState> Gcs::GetPlacementGroupState(const PlacementGroupId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  const PlacementGroupRecord* group = groups_.Find(id);
  if (group == nullptr) return absl::NotFoundError("unknown placement group " + id.Hex());
  return group->state;
}

absl::StatusOr<proto::PlacementGroupInfo> Gcs::GetPlacementGroup(const PlacementGroupId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  const PlacementGroupRecord* group = groups_.Find(id);
  if (group == nullptr) return absl::NotFoundError("unknown placement group " + id.Hex());
  return PlacementGroupManager::ToInfo(*group);
}

std::vector<proto::PlacementGroupInfo> Gcs::GetAllPlacementGroups() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<proto::PlacementGroupInfo> out;
  groups_.ForEach(
      [&](const PlacementGroupRecord& group) { out.push_back(PlacementGroupManager::ToInfo(group)); });
  return out;
}

absl::StatusOr<JobId> Gcs::NextJobId() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.NextJobId();
}

absl::Status Gcs::AddJob(const JobId& id, const proto::Address& driver) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = jobs_.Add(id, driver, NowMs());
  if (s.ok()) PublishLocked(proto::JOB_CHANNEL, id.Binary());
  return s;
}

absl::Status Gcs::MarkJobFinished(const JobId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  RAYCC_RETURN_IF_ERROR(jobs_.MarkFinished(id, NowMs()));
  PublishLocked(proto::JOB_CHANNEL, id.Binary());
  // Its actors die with it (they are not detached), and its placement
  // groups go (as Ray's non-detached ones).
  for (const proto::ActorInfo& actor : actors_.All()) {
    absl::StatusOr<ActorId> actor_id = ActorId::FromBinary(actor.spec().actor_id());
    if (actor.state() != proto::DEAD && actor_id.ok() && actor_id->Job() == id) {
      if (actors_.MarkDead(*actor_id, absl::StrCat("its job ", id.Hex(), " finished")).ok())
        PublishLocked(proto::ACTOR_CHANNEL, actor_id->Binary());
    }
  }
  if (raylets_ == nullptr) return absl::OkStatus();
  std::vector<PlacementGroupId> owned;
  groups_.ForEach([&](const PlacementGroupRecord& group) {
    if (group.state != proto::PG_REMOVED && group.id.Job() == id) owned.push_back(group.id);
  });
  // (Their bundles go back in one call per raylet.)
  std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>> returns;
  for (const PlacementGroupId& group : owned) {
    if (groups_.Remove(group, &returns).ok()) PublishLocked(proto::PLACEMENT_GROUP_CHANNEL, group.Binary());
  }
  if (!returns.empty()) {
    raylets_->ReturnGroups(returns);
    ReservePendingLocked();
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Gcs::KvPut(const std::string& ns, const std::string& key, std::string value,
                                bool overwrite) {
  std::lock_guard<std::mutex> lock(mu_);  // (a put-if-absent is a read then a write)
  return kv_.Put(ns, key, std::move(value), overwrite);
}

absl::StatusOr<std::optional<std::string>> Gcs::KvGet(const std::string& ns, const std::string& key) {
  return kv_.Get(ns, key);
}

absl::StatusOr<bool> Gcs::KvDel(const std::string& ns, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return kv_.Del(ns, key);
}

absl::StatusOr<std::vector<std::string>> Gcs::KvKeys(const std::string& ns, const std::string& prefix) {
  return kv_.Keys(ns, prefix);
}

}  // namespace raycc::gcs
