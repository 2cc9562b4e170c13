#pragma once

/// \file
/// The GCS's node table: every node that registered, alive or dead, with
/// its name, labels and total resources. Not thread-safe (the Gcs
/// serializes its components); every change is written to storage.

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "gcs/gcs_storage_interface.h"
#include "raycc/proto/gcs_service.pb.h"
#include "raycc/runtime/common/id.h"
#include "raycc/runtime/common/resource_set.h"

namespace raycc::gcs {

class NodeTable {
 public:
  explicit NodeTable(GcsStorageInterface& storage) : storage_(storage) {}

  /// Adds an ALIVE node. InvalidArgument for a malformed id, an empty
  /// name or a bad resource; AlreadyExists for an id seen before or the
  /// name of a node alive now.
  absl::Status Register(proto::NodeInfo node);
  /// Marks a node DEAD with its cause (idempotent). NotFound when unknown.
  absl::Status MarkDead(const NodeId& id, std::string cause);
  /// Reads the table (in node-id order) back from storage (a restarted GCS over Redis); call
  /// once, on an empty table. DataLoss naming the record that does not parse.
  absl::Status Load();

  /// The node, or null.
  const proto::NodeInfo* Find(const NodeId& id) const;
  /// Every node in registration order (dead ones too).
  const std::vector<proto::NodeInfo>& all() const { return nodes_; }
  /// The alive node named `name`, or null.
  const proto::NodeInfo* FindAliveByName(const std::string& name) const;
  /// The alive nodes' ids and totals, in registration order.
  std::vector<std::pair<NodeId, ResourceSet>> AliveTotals() const;

 private:
  absl::Status Persist(const proto::NodeInfo& node);

  GcsStorageInterface& storage_;
  std::vector<proto::NodeInfo> nodes_;
  absl::flat_hash_map<NodeId, size_t> by_id_;
};

}  // namespace raycc::gcs
