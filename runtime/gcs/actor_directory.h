#pragma once

/// \file
/// The GCS's actor directory: every actor's spec and life cycle
/// (PENDING_CREATION -> ALIVE <-> RESTARTING -> DEAD, with the cause), and
/// the names drivers find actors by. A name belongs to one actor that is not
/// dead; once it dies the name is free again. Not thread-safe (the Gcs
/// serializes its components); every change is written to storage.

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "gcs/gcs_storage_interface.h"
#include "raycc/proto/gcs_service.pb.h"
#include "raycc/runtime/common/id.h"

namespace raycc::gcs {

class ActorDirectory {
 public:
  explicit ActorDirectory(GcsStorageInterface& storage) : storage_(storage) {}

  /// Adds an actor in PENDING_CREATION. InvalidArgument for a malformed id;
  /// AlreadyExists for an id seen before, or a name (in its namespace) an
  /// actor that is not dead holds: "an actor named 'x' already exists".
  absl::Status Register(const proto::ActorSpec& spec);
  /// The actor runs at `where` (its node; in a cluster also the worker's
  /// host, port and id).
  absl::Status MarkAlive(const ActorId& id, const proto::Address& where);
  /// The actor's process died and it is being restarted (counts a restart).
  absl::Status MarkRestarting(const ActorId& id);
  /// The actor is gone for good, with its cause; its name is free again.
  /// Idempotent (the first cause stays).
  absl::Status MarkDead(const ActorId& id, std::string cause);

  const proto::ActorInfo* Find(const ActorId& id) const;
  /// The actor holding `name` in `ns` (not dead), or null.
  const proto::ActorInfo* FindNamed(const std::string& ns, const std::string& name) const;
  size_t size() const { return actors_.size(); }
  /// Every actor (for `raycc status`).
  std::vector<proto::ActorInfo> All() const;

 private:
  absl::StatusOr<proto::ActorInfo*> Mutable(const ActorId& id);
  absl::Status Persist(const proto::ActorInfo& actor);

  GcsStorageInterface& storage_;
  absl::flat_hash_map<ActorId, proto::ActorInfo> actors_;
  absl::flat_hash_map<std::pair<std::string, std::string>, ActorId> names_;
};

}  // namespace raycc::gcs
