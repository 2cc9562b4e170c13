//===- ClusterDescription.h - the cluster the passes place onto -*- C++ -*-===//
//
// A small JSON description of a cluster: named nodes with resources and
// labels. Documented in docs/passes/cluster-description.md.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_PASSES_CLUSTERDESCRIPTION_H
#define RAYCC_PASSES_CLUSTERDESCRIPTION_H

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace raycc::passes {

/// Resource quantities in 1/10000 units, by name.
using ResourceUnits = llvm::StringMap<int64_t>;

/// True when every quantity of `demand` is at most the one in `capacity`.
bool fits(const ResourceUnits &demand, const ResourceUnits &capacity);
/// `into` += `delta` (or -= with `sign` = -1).
void addUnits(ResourceUnits &into, const ResourceUnits &delta, int sign = 1);
/// "{CPU = 1.0, GPU = 0.5}", sorted by name.
std::string formatUnits(const ResourceUnits &units);

struct ClusterNode {
  std::string name;
  ResourceUnits resources;
  std::map<std::string, std::string> labels;
};

struct ClusterDescription {
  std::string name;
  std::vector<ClusterNode> nodes;
  /// What one unit of a resource costs per hour (`"prices": {"CPU": 0.04}`,
  /// any currency); resources without a price cost nothing.
  std::map<std::string, double> prices;

  /// What the whole cluster costs per hour at `prices`.
  double pricePerHour() const;

  /// Index of the node called `name`, or -1.
  int find(llvm::StringRef name) const;
  /// The node that comes closest to holding `demand` (the best worst-case
  /// ratio of what it has to what is asked); -1 when there are no nodes.
  int closest(const ResourceUnits &demand) const;

  /// Parses and validates the JSON text `json`; errors name the offending
  /// field (`nodes[1].resources.CPU: negative quantity`).
  static llvm::Expected<ClusterDescription> parse(llvm::StringRef json);
  /// Reads and parses `path`.
  static llvm::Expected<ClusterDescription> load(llvm::StringRef path);
};

} // namespace raycc::passes

#endif // RAYCC_PASSES_CLUSTERDESCRIPTION_H
