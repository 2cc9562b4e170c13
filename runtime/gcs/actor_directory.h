#pragma once

/// \file
/// The GCS's actor directory: every actor's spec and life cycle
/// (PENDING_CREATION -> ALIVE <-> RESTARTING -> DEAD, with the cause), and
/// the names drivers find actors by. A name belongs to one actor that is not
/// dead; once it dies the name is free again. Dead actors are remembered
/// (Find says DEAD, with the cause) up to a bound, the oldest forgotten
/// first: a compiled graph with actors creates and kills them on every
/// execution. Not thread-safe (the Gcs serializes its components); every
/// change is written to storage.

#include <deque>
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
  /// How many dead actors are remembered by default (Ray caps its destroyed
  /// actors the same way).
  static constexpr size_t kDeadKept = 10000;

  explicit ActorDirectory(GcsStorageInterface& storage, size_t dead_kept = kDeadKept)
      : storage_(storage), dead_kept_(dead_kept) {}

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
  /// Idempotent (the first cause stays). Past the bound, the oldest dead
  /// actor is forgotten (Find and storage no longer hold it).
  absl::Status MarkDead(const ActorId& id, std::string cause);
  /// Reads the directory back from storage (a restarted GCS over Redis); call
  /// once, on an empty table. Names go to actors not dead; the dead are
  /// forgotten oldest-id first past the bound. DataLoss naming the record that does not parse.
  absl::Status Load();

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
  size_t dead_kept_;
  std::deque<ActorId> dead_;  // in order of death, the oldest first
};

}  // namespace raycc::gcs
