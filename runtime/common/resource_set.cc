#include "raycc/runtime/common/resource_set.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "raycc/proto/common.pb.h"
#include "raycc/runtime/common/status.h"

namespace raycc {
namespace {

constexpr size_t kMaxNameLength = 256;

bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

bool IsNameChar(char c) {
  return IsNameStart(c) || (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '/' || c == '-';
}

absl::Status ValidateQuantity(absl::string_view name, double value, FixedPoint* out) {
  absl::StatusOr<FixedPoint> q = FixedPoint::FromDouble(value);
  if (!q.ok()) return Annotate(q.status(), absl::StrCat("resource '", name, "'"));
  if (value < 0) {
    return absl::InvalidArgumentError(absl::StrCat("resource '", name, "' has a negative quantity ", value));
  }
  if (value > 0 && q->units() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource '", name, "' quantity ", value, " is below the resolution of 0.0001"));
  }
  *out = *q;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FixedPoint> FixedPoint::FromDouble(double value) {
  if (std::isnan(value)) return absl::InvalidArgumentError("quantity is NaN");
  if (std::isinf(value)) return absl::InvalidArgumentError("quantity is infinite");
  if (std::fabs(value) > kMaxValue) {
    return absl::InvalidArgumentError(absl::StrCat("quantity ", value, " exceeds the maximum of 1e14"));
  }
  return FixedPoint(std::llround(value * kScale));
}

std::string FixedPoint::ToString() const {
  int64_t whole = units_ / kScale;
  int64_t frac = std::llabs(units_ % kScale);
  std::string out = (units_ < 0 && whole == 0) ? "-0" : absl::StrCat(whole);
  if (frac == 0) return out;
  std::string digits = absl::StrCat(frac + kScale).substr(1);  // zero-padded to 4
  digits.erase(digits.find_last_not_of('0') + 1);
  return absl::StrCat(out, ".", digits);
}

absl::Status ResourceSet::ValidateName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("resource name is empty");
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrCat("resource name '", name.substr(0, 32),
                                                   "...' is longer than ", kMaxNameLength, " characters"));
  }
  if (!IsNameStart(name[0]) || !std::all_of(name.begin(), name.end(), IsNameChar)) {
    return absl::InvalidArgumentError(absl::StrCat("resource name '", name,
                                                   "' is invalid: use letters, digits and _ . : / - ",
                                                   "and start with a letter or _"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ResourceSet> ResourceSet::Create(absl::Span<const std::pair<std::string, double>> quantities) {
  ResourceSet set;
  absl::flat_hash_set<absl::string_view> seen;
  for (const auto& [name, value] : quantities) {
    RAYCC_RETURN_IF_ERROR(ValidateName(name));
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("resource '", name, "' is given twice"));
    }
    FixedPoint q;
    RAYCC_RETURN_IF_ERROR(ValidateQuantity(name, value, &q));
    if (q.units() != 0) set.quantities_.emplace(name, q);
  }
  return set;
}

absl::StatusOr<ResourceSet> ResourceSet::Create(const std::map<std::string, double>& quantities) {
  std::vector<std::pair<std::string, double>> pairs(quantities.begin(), quantities.end());
  return Create(pairs);
}

absl::StatusOr<ResourceSet> ResourceSet::FromProto(const proto::ResourceSet& message) {
  ResourceSet set;
  for (const auto& [name, units] : message.quantities()) {
    RAYCC_RETURN_IF_ERROR(ValidateName(name));
    if (units <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource '", name, "' has a non-positive quantity (", units, " units) on the wire"));
    }
    set.quantities_.emplace(name, FixedPoint::FromUnits(units));
  }
  return set;
}

void ResourceSet::ToProto(proto::ResourceSet* message) const {
  auto* map = message->mutable_quantities();
  map->clear();
  for (const auto& [name, q] : quantities_) (*map)[name] = q.units();
}

absl::Status ResourceSet::Set(absl::string_view name, FixedPoint quantity) {
  RAYCC_RETURN_IF_ERROR(ValidateName(name));
  if (quantity < FixedPoint()) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource '", name, "' has a negative quantity ", quantity.ToString()));
  }
  if (quantity == FixedPoint()) {
    quantities_.erase(name);
  } else {
    quantities_.insert_or_assign(std::string(name), quantity);
  }
  return absl::OkStatus();
}

FixedPoint ResourceSet::Get(absl::string_view name) const {
  auto it = quantities_.find(name);
  return it == quantities_.end() ? FixedPoint() : it->second;
}

void ResourceSet::Add(const ResourceSet& other) {
  for (const auto& [name, q] : other.quantities_) quantities_[name] += q;
}

absl::Status ResourceSet::Subtract(const ResourceSet& other) {
  RAYCC_RETURN_IF_ERROR(other.CheckFits(*this));
  for (const auto& [name, q] : other.quantities_) {
    auto it = quantities_.find(name);
    it->second -= q;
    if (it->second == FixedPoint()) quantities_.erase(it);
  }
  return absl::OkStatus();
}

bool ResourceSet::IsSubsetOf(const ResourceSet& capacity) const {
  for (const auto& [name, q] : quantities_) {
    if (capacity.Get(name) < q) return false;
  }
  return true;
}

absl::Status ResourceSet::CheckFits(const ResourceSet& available) const {
  for (const auto& [name, q] : SortedEntries()) {
    FixedPoint have = available.Get(name);
    if (have < q) {
      return absl::ResourceExhaustedError(
          absl::StrCat("not enough '", name, "': requested ", q.ToString(), ", available ", have.ToString()));
    }
  }
  return absl::OkStatus();
}

absl::Status ResourceSet::CheckFeasible(absl::Span<const ResourceSet> node_totals) const {
  if (std::any_of(node_totals.begin(), node_totals.end(),
                  [&](const ResourceSet& total) { return IsSubsetOf(total); })) {
    return absl::OkStatus();
  }
  if (node_totals.empty()) {
    return InfeasibleError(absl::StrCat("request ", ToString(), " is infeasible: the cluster has no nodes"));
  }
  for (const auto& [name, q] : SortedEntries()) {
    bool provided = std::any_of(node_totals.begin(), node_totals.end(),
                                [&](const ResourceSet& total) { return total.Contains(name); });
    if (!provided) {
      return InfeasibleError(
          absl::StrCat("request ", ToString(), " is infeasible: no node has resource '", name, "'"));
    }
  }
  // The closest node is the one whose worst shortfall, relative to what was
  // asked, is smallest.
  const ResourceSet* best = nullptr;
  double best_score = -1;
  for (const ResourceSet& total : node_totals) {
    double worst = 1.0;
    for (const auto& [name, q] : quantities_) {
      worst = std::min(worst, total.Get(name).ToDouble() / q.ToDouble());
    }
    if (worst > best_score) {
      best_score = worst;
      best = &total;
    }
  }
  return InfeasibleError(absl::StrCat("request ", ToString(),
                                      " is infeasible: it exceeds every node; the closest node has ",
                                      best->ToString()));
}

std::vector<std::pair<std::string, FixedPoint>> ResourceSet::SortedEntries() const {
  std::vector<std::pair<std::string, FixedPoint>> entries(quantities_.begin(), quantities_.end());
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return entries;
}

std::string ResourceSet::ToString() const {
  return absl::StrCat("{",
                      absl::StrJoin(SortedEntries(), ", ",
                                    [](std::string* out, const auto& e) {
                                      absl::StrAppend(out, e.first, ": ", e.second.ToString());
                                    }),
                      "}");
}

}  // namespace raycc
