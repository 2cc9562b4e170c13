//===- ClusterDescription.cpp - the cluster the passes place onto ---------===//

#include "raycc/passes/ClusterDescription.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "raycc/ir/RayOps.h"

using namespace llvm;
using raycc::ray::ResourcesAttr;

namespace raycc::passes {

bool fits(const ResourceUnits &demand, const ResourceUnits &capacity) {
  return llvm::all_of(demand, [&](const auto &entry) {
    auto it = capacity.find(entry.getKey());
    return entry.getValue() <= (it == capacity.end() ? 0 : it->getValue());
  });
}

void addUnits(ResourceUnits &into, const ResourceUnits &delta, int sign) {
  for (const auto &entry : delta)
    into[entry.getKey()] += sign * entry.getValue();
}

std::string formatUnits(const ResourceUnits &units) {
  std::vector<std::pair<std::string, int64_t>> sorted;
  for (const auto &entry : units)
    if (entry.getValue() != 0)
      sorted.emplace_back(entry.getKey().str(), entry.getValue());
  llvm::sort(sorted);
  std::string out = "{";
  for (auto [i, entry] : llvm::enumerate(sorted)) {
    if (i)
      out += ", ";
    out += entry.first + " = " + ResourcesAttr::formatQuantity(entry.second);
  }
  return out + "}";
}

double ClusterDescription::pricePerHour() const {
  double total = 0;
  for (const ClusterNode &node : nodes)
    for (const auto &[resource, price] : prices)
      total += price * static_cast<double>(node.resources.lookup(resource)) /
               ResourcesAttr::kScale;
  return total;
}

int ClusterDescription::find(StringRef name) const {
  for (auto [i, node] : llvm::enumerate(nodes))
    if (node.name == name)
      return static_cast<int>(i);
  return -1;
}

int ClusterDescription::closest(const ResourceUnits &demand) const {
  int best = -1;
  double bestScore = -1;
  for (auto [i, node] : llvm::enumerate(nodes)) {
    double worst = 1.0;
    for (const auto &entry : demand) {
      if (entry.getValue() <= 0)
        continue;
      auto it = node.resources.find(entry.getKey());
      double have = it == node.resources.end() ? 0 : it->getValue();
      worst = std::min(worst, have / entry.getValue());
    }
    if (worst > bestScore) {
      bestScore = worst;
      best = static_cast<int>(i);
    }
  }
  return best;
}

static Error fail(const Twine &where, const Twine &what) {
  return createStringError(inconvertibleErrorCode(),
                           "cluster description: " + where + ": " + what);
}

Expected<ClusterDescription> ClusterDescription::parse(StringRef text) {
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return fail("not valid JSON", toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return fail("top level", "must be an object with \"nodes\"");
  ClusterDescription cluster;
  if (const json::Value *name = root->get("name")) {
    if (!name->getAsString())
      return fail("name", "must be a string");
    cluster.name = name->getAsString()->str();
  }
  for (const auto &entry : *root)
    if (entry.first != "name" && entry.first != "nodes" &&
        entry.first != "prices")
      return fail(entry.first.str(), "unknown field (expected \"name\", "
                                     "\"nodes\" and \"prices\")");
  if (const json::Value *prices = root->get("prices")) {
    const json::Object *map = prices->getAsObject();
    if (!map)
      return fail("prices", "must be an object of prices per unit-hour");
    for (const auto &p : *map) {
      std::string field = "prices." + p.first.str();
      if (auto error = ResourcesAttr::checkName(p.first))
        return fail(field, *error);
      std::optional<double> price = p.second.getAsNumber();
      if (!price || !std::isfinite(*price) || *price < 0)
        return fail(field, "must be a number >= 0 (per unit and hour)");
      cluster.prices[p.first.str()] = *price;
    }
  }
  const json::Array *nodes = root->getArray("nodes");
  if (!nodes || nodes->empty())
    return fail("nodes", "must be a non-empty array");
  for (auto [i, value] : llvm::enumerate(*nodes)) {
    std::string where = "nodes[" + std::to_string(i) + "]";
    const json::Object *object = value.getAsObject();
    if (!object)
      return fail(where, "must be an object");
    ClusterNode node;
    std::optional<StringRef> name = object->getString("name");
    if (!name || name->empty())
      return fail(where + ".name", "must be a non-empty string");
    if (cluster.find(*name) >= 0)
      return fail(where + ".name", "node \"" + *name + "\" is listed twice");
    node.name = name->str();
    const json::Object *resources = object->getObject("resources");
    if (!resources)
      return fail(where + ".resources", "must be an object of quantities");
    for (const auto &r : *resources) {
      std::string field = where + ".resources." + r.first.str();
      if (auto error = ResourcesAttr::checkName(r.first))
        return fail(field, *error);
      std::optional<double> quantity = r.second.getAsNumber();
      if (!quantity)
        return fail(field, "must be a number");
      std::string error;
      FailureOr<int64_t> units = ResourcesAttr::toUnits(*quantity, error);
      if (failed(units))
        return fail(field, error);
      if (*units > 0)
        node.resources[r.first] = *units;
    }
    if (const json::Value *labels = object->get("labels")) {
      const json::Object *map = labels->getAsObject();
      if (!map)
        return fail(where + ".labels", "must be an object of strings");
      for (const auto &l : *map) {
        std::optional<StringRef> v = l.second.getAsString();
        if (!v)
          return fail(where + ".labels." + l.first.str(), "must be a string");
        node.labels[l.first.str()] = v->str();
      }
    }
    for (const auto &entry : *object)
      if (entry.first != "name" && entry.first != "resources" &&
          entry.first != "labels")
        return fail(where + "." + entry.first.str(), "unknown field");
    cluster.nodes.push_back(std::move(node));
  }
  // A price for a resource no node has is a typo ("cpu" for "CPU"), which
  // would make the cluster look free.
  for (const auto &[resource, price] : cluster.prices)
    if (llvm::none_of(cluster.nodes, [&](const ClusterNode &n) {
          return n.resources.count(resource);
        }))
      return fail("prices." + resource,
                  "no node has resource '" + resource + "'");
  return cluster;
}

Expected<ClusterDescription> ClusterDescription::load(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return createStringError(buffer.getError(),
                             "cannot read cluster description '" + path +
                                 "': " + buffer.getError().message());
  return parse((*buffer)->getBuffer());
}

} // namespace raycc::passes
