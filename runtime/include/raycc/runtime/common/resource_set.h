#pragma once

/// \file
/// Resource quantities in fixed point and sets of them, with the feasibility
/// checks every scheduler decision rests on.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace raycc {
namespace proto {
class ResourceSet;
}  // namespace proto

/// A resource quantity with a resolution of 1/10000 (as in Ray): 0.5 GPU is
/// exactly 5000 units, so repeated add and subtract never drift.
class FixedPoint {
 public:
  /// Units per whole resource.
  static constexpr int64_t kScale = 10000;
  /// Largest magnitude accepted from a double (10^14, e.g. bytes of memory).
  static constexpr double kMaxValue = 1e14;

  constexpr FixedPoint() = default;
  /// The quantity `units / kScale`.
  static constexpr FixedPoint FromUnits(int64_t units) { return FixedPoint(units); }
  /// `value` rounded to the nearest unit. Fails for NaN, infinities and
  /// magnitudes above kMaxValue.
  static absl::StatusOr<FixedPoint> FromDouble(double value);

  constexpr int64_t units() const { return units_; }
  double ToDouble() const { return static_cast<double>(units_) / kScale; }
  /// Shortest exact decimal form: "2", "0.5", "0.0001", "-1.25".
  std::string ToString() const;

  friend constexpr FixedPoint operator+(FixedPoint a, FixedPoint b) {
    return FixedPoint(a.units_ + b.units_);
  }
  friend constexpr FixedPoint operator-(FixedPoint a, FixedPoint b) {
    return FixedPoint(a.units_ - b.units_);
  }
  FixedPoint& operator+=(FixedPoint o) {
    units_ += o.units_;
    return *this;
  }
  FixedPoint& operator-=(FixedPoint o) {
    units_ -= o.units_;
    return *this;
  }
  friend constexpr auto operator<=>(FixedPoint a, FixedPoint b) = default;
  friend std::ostream& operator<<(std::ostream& os, FixedPoint q) { return os << q.ToString(); }

 private:
  constexpr explicit FixedPoint(int64_t units) : units_(units) {}
  int64_t units_ = 0;
};

/// A set of named, strictly positive resource quantities ("CPU", "GPU",
/// "memory", or custom names). Zero quantities are not stored.
///
/// Names must match [A-Za-z_][A-Za-z0-9_.:/-]* (at most 256 characters).
class ResourceSet {
 public:
  /// The empty set.
  ResourceSet() = default;

  /// A set from (name, quantity) pairs: `Create({{"CPU", 1}, {"GPU", 0.5}})`.
  /// Fails, naming the offender, on an invalid or repeated name, or a
  /// negative, NaN, infinite, too large or too fine (below 1/10000) quantity.
  static absl::StatusOr<ResourceSet> Create(absl::Span<const std::pair<std::string, double>> quantities);
  /// As above, for brace-initialized lists.
  static absl::StatusOr<ResourceSet> Create(
      std::initializer_list<std::pair<std::string, double>> quantities) {
    return Create(absl::MakeConstSpan(quantities.begin(), quantities.end()));
  }
  /// As above, from a map.
  static absl::StatusOr<ResourceSet> Create(const std::map<std::string, double>& quantities);

  /// Reads a wire ResourceSet, checking its invariants.
  static absl::StatusOr<ResourceSet> FromProto(const proto::ResourceSet& message);
  /// Writes the wire form.
  void ToProto(proto::ResourceSet* message) const;

  /// Checks a resource name (see the class comment).
  static absl::Status ValidateName(absl::string_view name);

  /// Sets `name` to `quantity` (removing it when zero). Fails on an invalid
  /// name or a negative quantity.
  absl::Status Set(absl::string_view name, FixedPoint quantity);
  /// The quantity of `name`; zero when absent.
  FixedPoint Get(absl::string_view name) const;
  bool Contains(absl::string_view name) const { return quantities_.contains(name); }

  bool IsEmpty() const { return quantities_.empty(); }
  size_t size() const { return quantities_.size(); }

  /// Adds every quantity of `other`.
  void Add(const ResourceSet& other);
  /// Subtracts `other`; fails without changing anything when some quantity
  /// would go negative, naming the first such resource.
  absl::Status Subtract(const ResourceSet& other);

  /// True when every quantity of this set is at most the same quantity of
  /// `capacity` (the request fits into what `capacity` has).
  bool IsSubsetOf(const ResourceSet& capacity) const;
  /// OK when this request fits into `available`; otherwise a
  /// kResourceExhausted error naming the first short resource, what was asked
  /// and what is available.
  absl::Status CheckFits(const ResourceSet& available) const;

  /// OK when this request fits on at least one of `node_totals` (each the
  /// total resources of a node). Otherwise an infeasible error (see
  /// IsInfeasible in status.h) that names the request and either the resource
  /// no node provides or the capacity of the node that comes closest.
  absl::Status CheckFeasible(absl::Span<const ResourceSet> node_totals) const;

  /// Entries sorted by name, for deterministic output.
  std::vector<std::pair<std::string, FixedPoint>> SortedEntries() const;
  /// "{CPU: 1, GPU: 0.5}", sorted by name; "{}" when empty.
  std::string ToString() const;

  friend bool operator==(const ResourceSet& a, const ResourceSet& b) {
    return a.quantities_ == b.quantities_;
  }
  friend std::ostream& operator<<(std::ostream& os, const ResourceSet& s) { return os << s.ToString(); }

 private:
  absl::flat_hash_map<std::string, FixedPoint> quantities_;
};

}  // namespace raycc
