#pragma once

/// \file
/// Placement groups as Ray's C++ API spells them: ray::PlacementStrategy,
/// ray::PlacementGroupState, ray::PlacementGroupCreationOptions and
/// ray::PlacementGroup.

#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ray {

/// How the bundles of a placement group spread over nodes.
enum class PlacementStrategy { PACK = 0, SPREAD = 1, STRICT_PACK = 2, STRICT_SPREAD = 3, UNRECOGNIZED = -1 };

/// Where a placement group is in its life (PREPARED, between the two phases
/// of a reservation, is never seen from outside raycc's control service).
enum PlacementGroupState {
  PENDING = 0,
  PREPARED = 1,
  CREATED = 2,
  REMOVED = 3,
  RESCHEDULING = 4,
  UNRECOGNIZED = -1,
};

/// What ray::CreatePlacementGroup reserves: every bundle or none.
struct PlacementGroupCreationOptions {
  std::string name;
  std::vector<std::unordered_map<std::string, double>> bundles;
  PlacementStrategy strategy;
};

/// A placement group: its id (binary, as Ray's), what it was created with,
/// and its state when this handle was made (GetPlacementGroup and friends
/// read it anew).
class PlacementGroup {
 public:
  PlacementGroup() = default;
  PlacementGroup(std::string id, PlacementGroupCreationOptions options,
                 PlacementGroupState state = PlacementGroupState::UNRECOGNIZED)
      : id_(std::move(id)), options_(std::move(options)), state_(state) {}

  std::string GetID() const { return id_; }
  std::string GetName() { return options_.name; }
  std::vector<std::unordered_map<std::string, double>> GetBundles() { return options_.bundles; }
  PlacementGroupState GetState() { return state_; }
  PlacementStrategy GetStrategy() { return options_.strategy; }
  /// True once every bundle is reserved; false when `timeout_seconds`
  /// passed first (or the group was removed).
  bool Wait(int timeout_seconds);
  /// Replaces what Wait does (Ray's spelling, typo included).
  void SetWaitCallbak(std::function<bool(const std::string&, int)> callback) {
    wait_callback_ = std::move(callback);
  }
  /// True for a handle that names no group (GetPlacementGroup of an unknown
  /// name).
  bool Empty() const { return id_.empty(); }

 private:
  std::string id_;
  PlacementGroupCreationOptions options_;
  PlacementGroupState state_ = PlacementGroupState::UNRECOGNIZED;
  std::function<bool(const std::string&, int)> wait_callback_;
};

}  // namespace ray
