#include "gcs/actor_directory.h"

#include "absl/strings/str_cat.h"
#include "raycc/runtime/common/status.h"

namespace raycc::gcs {

absl::Status ActorDirectory::Persist(const proto::ActorInfo& actor) {
  return storage_.Put(tables::kActors, actor.spec().actor_id(), actor.SerializeAsString());
}

absl::Status ActorDirectory::Load() {
  RAYCC_RETURN_IF_ERROR((LoadTable<ActorId, proto::ActorInfo>(
      storage_, tables::kActors, "actor",
      [](const std::string& key, const proto::ActorInfo& info) { return info.spec().actor_id() == key; },
      [&](const ActorId& id, proto::ActorInfo info) {
        if (info.state() == proto::DEAD) {
          dead_.push_back(id);
        } else if (!info.spec().name().empty()) {
          names_[{info.spec().namespace_(), info.spec().name()}] = id;
        }
        actors_.emplace(id, std::move(info));
      })));
  while (dead_.size() > dead_kept_) {
    actors_.erase(dead_.front());
    dead_.pop_front();
  }
  return absl::OkStatus();
}

absl::Status ActorDirectory::Register(const proto::ActorSpec& spec) {
  absl::StatusOr<ActorId> id = ActorId::FromBinary(spec.actor_id());
  if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat("actor: ", id.status().message()));
  if (actors_.contains(*id)) return absl::AlreadyExistsError("actor " + id->Hex() + " registered already");
  if (!spec.name().empty() && FindNamed(spec.namespace_(), spec.name()) != nullptr) {
    return absl::AlreadyExistsError("an actor named '" + spec.name() + "' already exists");
  }
  proto::ActorInfo info;
  *info.mutable_spec() = spec;
  info.set_state(proto::PENDING_CREATION);
  if (absl::Status s = Persist(info); !s.ok()) return s;
  actors_.emplace(*id, std::move(info));
  if (!spec.name().empty()) names_[{spec.namespace_(), spec.name()}] = *id;
  return absl::OkStatus();
}

absl::StatusOr<proto::ActorInfo*> ActorDirectory::Mutable(const ActorId& id) {
  auto it = actors_.find(id);
  if (it == actors_.end()) return absl::NotFoundError("unknown actor " + id.Hex());
  return &it->second;
}

absl::Status ActorDirectory::MarkAlive(const ActorId& id, const proto::Address& where) {
  absl::StatusOr<proto::ActorInfo*> actor = Mutable(id);
  if (!actor.ok()) return actor.status();
  if ((*actor)->state() == proto::DEAD) {
    return absl::FailedPreconditionError("actor " + id.Hex() + " is dead: " + (*actor)->death_cause());
  }
  (*actor)->set_state(proto::ALIVE);
  *(*actor)->mutable_address() = where;
  return Persist(**actor);
}

absl::Status ActorDirectory::MarkRestarting(const ActorId& id) {
  absl::StatusOr<proto::ActorInfo*> actor = Mutable(id);
  if (!actor.ok()) return actor.status();
  if ((*actor)->state() == proto::DEAD) {
    return absl::FailedPreconditionError("actor " + id.Hex() + " is dead: " + (*actor)->death_cause());
  }
  (*actor)->set_state(proto::RESTARTING);
  (*actor)->set_num_restarts((*actor)->num_restarts() + 1);
  return Persist(**actor);
}

absl::Status ActorDirectory::MarkDead(const ActorId& id, std::string cause) {
  absl::StatusOr<proto::ActorInfo*> actor = Mutable(id);
  if (!actor.ok()) return actor.status();
  proto::ActorInfo& info = **actor;
  if (info.state() == proto::DEAD) return absl::OkStatus();
  info.set_state(proto::DEAD);
  info.set_death_cause(std::move(cause));
  if (!info.spec().name().empty()) {
    auto named = names_.find({info.spec().namespace_(), info.spec().name()});
    if (named != names_.end() && named->second == id) names_.erase(named);
  }
  if (absl::Status s = Persist(info); !s.ok()) return s;
  dead_.push_back(id);
  while (dead_.size() > dead_kept_) {
    ActorId oldest = dead_.front();
    dead_.pop_front();
    actors_.erase(oldest);
    if (absl::StatusOr<bool> s = storage_.Delete(tables::kActors, oldest.Binary()); !s.ok())
      return s.status();
  }
  return absl::OkStatus();
}

const proto::ActorInfo* ActorDirectory::Find(const ActorId& id) const {
  auto it = actors_.find(id);
  return it == actors_.end() ? nullptr : &it->second;
}

std::vector<proto::ActorInfo> ActorDirectory::All() const {
  std::vector<proto::ActorInfo> out;
  out.reserve(actors_.size());
  for (const auto& [id, actor] : actors_) out.push_back(actor);
  return out;
}

const proto::ActorInfo* ActorDirectory::FindNamed(const std::string& ns, const std::string& name) const {
  auto it = names_.find({ns, name});
  return it == names_.end() ? nullptr : Find(it->second);
}

}  // namespace raycc::gcs
