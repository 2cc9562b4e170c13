#pragma once

/// \file
/// Typed, fixed-size binary identifiers for every entity of the runtime.
///
/// Each kind has its own C++ type, so a TaskId can never be passed where an
/// ObjectId is expected. The byte layouts (which IDs embed which) are the wire
/// contract documented in proto/raycc/proto/common.proto; read an ID off the
/// wire only through FromBinary, which checks its length.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace raycc {
namespace id_internal {

/// Lower-case hex of `n` bytes.
std::string ToHex(const uint8_t* data, size_t n);
/// Parses exactly `2 * n` hex digits (either case) into `out`.
absl::Status FromHex(absl::string_view hex, uint8_t* out, size_t n, absl::string_view kind);
/// Checks that `binary` is exactly `n` bytes.
absl::Status CheckSize(absl::string_view binary, size_t n, absl::string_view kind);
/// Fills `out` with `n` bytes from a per-thread CSPRNG-seeded generator.
void FillRandom(uint8_t* out, size_t n);

}  // namespace id_internal

/// The common implementation of all IDs: `N` bytes, all zero when nil.
/// `Derived` supplies `static constexpr absl::string_view kKind`.
template <typename Derived, size_t N>
class BaseId {
 public:
  static constexpr size_t kSize = N;

  /// The nil ID (all bytes zero).
  constexpr BaseId() : bytes_{} {}

  /// The nil ID.
  static Derived Nil() { return Derived(); }

  /// Parses the binary form; fails unless `binary` is exactly kSize bytes.
  static absl::StatusOr<Derived> FromBinary(absl::string_view binary) {
    if (binary.size() != N) return id_internal::CheckSize(binary, N, Derived::kKind);
    Derived id;
    std::memcpy(id.bytes_.data(), binary.data(), N);
    return id;
  }

  /// Parses the hex form printed by Hex().
  static absl::StatusOr<Derived> FromHex(absl::string_view hex) {
    Derived id;
    absl::Status s = id_internal::FromHex(hex, id.bytes_.data(), N, Derived::kKind);
    if (!s.ok()) return s;
    return id;
  }

  bool IsNil() const {
    for (uint8_t b : bytes_) {
      if (b != 0) return false;
    }
    return true;
  }

  /// The kSize raw bytes, as carried in proto `bytes` fields.
  std::string Binary() const { return std::string(reinterpret_cast<const char*>(bytes_.data()), N); }
  /// Lower-case hex, 2 * kSize characters.
  std::string Hex() const { return id_internal::ToHex(bytes_.data(), N); }

  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }

  friend bool operator==(const BaseId& a, const BaseId& b) {
    // Word by word (inlined), not a call to memcmp: IDs are compared on
    // every hash-map probe.
    if constexpr (N % 4 == 0) {
      for (size_t i = 0; i < N; i += 4) {
        uint32_t x, y;
        std::memcpy(&x, a.bytes_.data() + i, 4);
        std::memcpy(&y, b.bytes_.data() + i, 4);
        if (x != y) return false;
      }
      return true;
    } else {
      return a.bytes_ == b.bytes_;
    }
  }
  friend auto operator<=>(const BaseId& a, const BaseId& b) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Derived& id) {
    if constexpr (N >= 16) {
      // The first and last 8 bytes: every kind's random part starts an ID
      // and its counter or index ends it, so these two words tell IDs apart
      // (equality still compares every byte). Far cheaper than hashing all N.
      uint64_t head, tail;
      std::memcpy(&head, id.bytes_.data(), 8);
      std::memcpy(&tail, id.bytes_.data() + N - 8, 8);
      return H::combine(std::move(h), head, tail);
    } else {
      return H::combine_contiguous(std::move(h), id.bytes_.data(), N);
    }
  }

  friend std::ostream& operator<<(std::ostream& os, const Derived& id) { return os << id.Hex(); }

 protected:
  /// A uniformly random ID; exposed only by kinds whose layout is all random.
  static Derived FromRandom() {
    Derived id;
    id_internal::FillRandom(id.bytes_.data(), N);
    return id;
  }

  std::array<uint8_t, N> bytes_;
};

/// A job (one driver program run). Assigned by the GCS from a counter.
class JobId : public BaseId<JobId, 4> {
 public:
  static constexpr absl::string_view kKind = "JobID";
  /// The job with counter value `value` (big-endian on the wire).
  static JobId FromInt(uint32_t value);
  uint32_t ToInt() const;
};

/// A node (one raylet). Random.
class NodeId : public BaseId<NodeId, 16> {
 public:
  static constexpr absl::string_view kKind = "NodeID";
  using BaseId::FromRandom;
};

/// A worker process (or the driver). Random.
class WorkerId : public BaseId<WorkerId, 16> {
 public:
  static constexpr absl::string_view kKind = "WorkerID";
  using BaseId::FromRandom;
};

/// An actor: 12 random bytes followed by its JobId.
class ActorId : public BaseId<ActorId, 16> {
 public:
  static constexpr absl::string_view kKind = "ActorID";
  /// A fresh actor of `job`.
  static ActorId Of(const JobId& job);
  JobId Job() const;
};

/// A placement group: 12 random bytes followed by its JobId.
class PlacementGroupId : public BaseId<PlacementGroupId, 16> {
 public:
  static constexpr absl::string_view kKind = "PlacementGroupID";
  /// A fresh placement group of `job`.
  static PlacementGroupId Of(const JobId& job);
  JobId Job() const;
};

/// A task: 16 random bytes followed by its JobId.
class TaskId : public BaseId<TaskId, 20> {
 public:
  static constexpr absl::string_view kKind = "TaskID";
  /// A fresh task of `job`.
  static TaskId Of(const JobId& job);
  /// The driver's own task for `job`: deterministic, never nil.
  static TaskId ForDriver(const JobId& job);
  JobId Job() const;
};

/// An object: the TaskId of the task that created it plus a 4-byte index.
/// Return values are numbered from 1; objects made by Put have the top bit of
/// the index set. An owner can thus name a task's results before it runs.
class ObjectId : public BaseId<ObjectId, 24> {
 public:
  static constexpr absl::string_view kKind = "ObjectID";
  static constexpr uint32_t kPutBit = 0x80000000u;
  /// Largest return or put index.
  static constexpr uint32_t kMaxIndex = kPutBit - 1;

  /// Return value `index` (1-based, <= kMaxIndex) of `task`.
  static absl::StatusOr<ObjectId> ForReturn(const TaskId& task, uint32_t index);
  /// The `index`-th (1-based, <= kMaxIndex) object put by `task`.
  static absl::StatusOr<ObjectId> ForPut(const TaskId& task, uint32_t index);

  TaskId Task() const;
  /// The return or put index, without the put bit.
  uint32_t Index() const;
  bool IsPut() const;
};

}  // namespace raycc

#define RAYCC_DEFINE_ID_STD_HASH(T)                                               \
  template <>                                                                     \
  struct std::hash<T> {                                                           \
    size_t operator()(const T& id) const noexcept { return absl::Hash<T>{}(id); } \
  };
RAYCC_DEFINE_ID_STD_HASH(raycc::JobId)
RAYCC_DEFINE_ID_STD_HASH(raycc::NodeId)
RAYCC_DEFINE_ID_STD_HASH(raycc::WorkerId)
RAYCC_DEFINE_ID_STD_HASH(raycc::ActorId)
RAYCC_DEFINE_ID_STD_HASH(raycc::PlacementGroupId)
RAYCC_DEFINE_ID_STD_HASH(raycc::TaskId)
RAYCC_DEFINE_ID_STD_HASH(raycc::ObjectId)
#undef RAYCC_DEFINE_ID_STD_HASH
