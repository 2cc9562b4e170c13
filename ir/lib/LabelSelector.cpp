//===- LabelSelector.cpp - label constraints on nodes -----------*- C++ -*-===//

#include "raycc/ir/LabelSelector.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace raycc::ray {

llvm::Expected<LabelConstraint> parseLabelConstraint(llvm::StringRef key,
                                                     llvm::StringRef spec) {
  auto bad = [&](const llvm::Twine &why) {
    return llvm::createStringError(
        llvm::formatv("label selector '{0}': '{1}': {2}", key, spec, why.str())
            .str());
  };
  if (key.empty())
    return llvm::createStringError("label selector: an empty label name");
  LabelConstraint c;
  c.key = key.str();
  llvm::StringRef s = spec;
  c.negated = s.consume_front("!");
  if (s.consume_front("in(")) {
    if (!s.consume_back(")"))
      return bad("'in(' without its ')'");
    llvm::SmallVector<llvm::StringRef> parts;
    s.split(parts, ',');
    for (llvm::StringRef v : parts) {
      v = v.trim();
      if (v.empty())
        return bad("an empty value in 'in(...)'");
      c.values.push_back(v.str());
    }
    return c;
  }
  if (s.empty())
    return bad("no value");
  if (s.find_first_of("(),") != llvm::StringRef::npos)
    return bad("a value may not hold '(', ')' or ','; write in(a,b) for "
               "several");
  c.values.push_back(s.str());
  return c;
}

llvm::Expected<LabelSelector> parseLabelSelector(DictionaryAttr attr) {
  LabelSelector out;
  if (!attr)
    return out;
  for (NamedAttribute entry : attr) {
    auto spec = dyn_cast<StringAttr>(entry.getValue());
    if (!spec)
      return llvm::createStringError(
          "label selector '" + entry.getName().str() +
          "': the value must be a string (\"v\", \"!v\", \"in(a,b)\" or "
          "\"!in(a,b)\")");
    llvm::Expected<LabelConstraint> c =
        parseLabelConstraint(entry.getName().getValue(), spec.getValue());
    if (!c)
      return c.takeError();
    out.push_back(std::move(*c));
  }
  return out;
}

bool matchesLabels(const std::map<std::string, std::string> &labels,
                   const LabelSelector &selector) {
  return llvm::all_of(selector, [&](const LabelConstraint &c) {
    auto it = labels.find(c.key);
    bool in = it != labels.end() && llvm::is_contained(c.values, it->second);
    return in != c.negated;
  });
}

std::string formatLabelSelector(const LabelSelector &selector) {
  std::string out = "{";
  for (auto [i, c] : llvm::enumerate(selector)) {
    if (i)
      out += ", ";
    if (c.values.size() == 1)
      out += c.key + (c.negated ? " != " : " = ") + c.values[0];
    else
      out += c.key + (c.negated ? " not in (" : " in (") +
             llvm::join(c.values, ", ") + ")";
  }
  return out + "}";
}

} // namespace raycc::ray
