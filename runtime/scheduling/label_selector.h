#pragma once

/// \file
/// Label constraints on nodes, in Ray's selector syntax: each entry
/// key -> "v" (the label equals v), "!v" (it is not v, or absent),
/// "in(a,b)" (one of them), "!in(a,b)" (none of them, or absent).

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduling/cluster_resources.h"

namespace raycc::scheduling {

/// One constraint on one label.
struct LabelConstraint {
  std::string key;
  bool negated = false;             // "!v", "!in(...)"
  std::vector<std::string> values;  // one for "v", several for "in(...)"
};

/// Every constraint must hold (a conjunction). Empty: any node.
using LabelSelector = std::vector<LabelConstraint>;

/// Parses a selector; fails naming the offending entry (an empty key or
/// value, "in()" without values, a malformed "in(").
absl::StatusOr<LabelSelector> ParseLabelSelector(const std::map<std::string, std::string>& selector);

/// True when `labels` satisfy every constraint of `selector`.
bool MatchesLabels(const std::map<std::string, std::string>& labels, const LabelSelector& selector);

/// "region in (a, b), zone != z": the selector for messages.
std::string LabelSelectorToString(const LabelSelector& selector);

}  // namespace raycc::scheduling
