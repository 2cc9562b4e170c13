#include "scheduling/label_selector.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace raycc::scheduling {

absl::StatusOr<LabelSelector> ParseLabelSelector(const std::map<std::string, std::string>& selector) {
  LabelSelector out;
  for (const auto& [key, spec] : selector) {
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("label selector '", key, "': '", spec, "': ", why));
    };
    if (key.empty()) return absl::InvalidArgumentError("label selector: an empty label name");
    LabelConstraint c;
    c.key = key;
    absl::string_view s = spec;
    c.negated = absl::ConsumePrefix(&s, "!");
    if (absl::ConsumePrefix(&s, "in(")) {
      if (!absl::ConsumeSuffix(&s, ")")) return bad("'in(' without its ')'");
      for (absl::string_view v : absl::StrSplit(s, ',')) {
        v = absl::StripAsciiWhitespace(v);
        if (v.empty()) return bad("an empty value in 'in(...)'");
        c.values.emplace_back(v);
      }
    } else {
      if (s.empty()) return bad("no value");
      if (absl::StrContains(s, "(") || absl::StrContains(s, ")") || absl::StrContains(s, ",")) {
        return bad("a value may not hold '(', ')' or ','; write in(a,b) for several");
      }
      c.values.emplace_back(s);
    }
    out.push_back(std::move(c));
  }
  return out;
}

bool MatchesLabels(const std::map<std::string, std::string>& labels, const LabelSelector& selector) {
  for (const LabelConstraint& c : selector) {
    auto it = labels.find(c.key);
    bool in = it != labels.end() && std::find(c.values.begin(), c.values.end(), it->second) != c.values.end();
    if (in == c.negated) return false;
  }
  return true;
}

std::string LabelSelectorToString(const LabelSelector& selector) {
  std::vector<std::string> parts;
  for (const LabelConstraint& c : selector) {
    if (c.values.size() == 1) {
      parts.push_back(absl::StrCat(c.key, c.negated ? " != " : " = ", c.values[0]));
    } else {
      parts.push_back(
          absl::StrCat(c.key, c.negated ? " not in (" : " in (", absl::StrJoin(c.values, ", "), ")"));
    }
  }
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

}  // namespace raycc::scheduling
