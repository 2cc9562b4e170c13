//===- DotLayout.h - lay a plan out left to right with Graphviz -*- C++ -*-===//
//
// `raycc viz` does not lay graphs out itself: it runs Graphviz's `dot` as a
// subprocess. dot takes seconds from about 2,000 nodes on and close to a
// minute at 10,000, so a larger plan is laid out in aggregate: nodes of the
// same rank, function and placement bundle become one unit that dot places
// as a single box, and the members are stacked inside it in columns.
// docs/visualizer.md explains the choice.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_TOOLS_RAYCC_VIZ_DOTLAYOUT_H
#define RAYCC_TOOLS_RAYCC_VIZ_DOTLAYOUT_H

#include <string>
#include <vector>

#include "raycc/proto/exec_plan.pb.h"

namespace raycc::tools::viz {

/// A rectangle in points; (x, y) is the top-left corner, y grows downwards.
struct Box {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
};

/// Nodes grouped into the units dot lays out. Every unit holds nodes of one
/// placement bundle (or of no group); with aggregation off each node is its
/// own unit.
struct LayoutUnits {
  /// Per plan node: its unit.
  std::vector<int> unitOf;
  /// Per plan node: its box relative to its unit's top-left corner.
  std::vector<Box> memberBoxes;
  /// Per unit: size (x and y are 0), placement group (or -1), bundle (or -1).
  std::vector<Box> units;
  std::vector<int> unitGroup;
  std::vector<int> unitBundle;
  bool aggregated = false;
};

/// Groups the nodes of `plan` into at most `maxUnits` units where it can
/// (coarser keys are tried until the count fits), and sizes every box.
LayoutUnits groupIntoUnits(const proto::ExecPlan &plan, size_t maxUnits);

/// The DOT text dot lays out: units "u<i>", placement groups as clusters
/// "cluster_g<G>" with one nested cluster "cluster_g<G>_b<B>" per bundle.
std::string unitsToDot(const proto::ExecPlan &plan, const LayoutUnits &units);

/// A laid-out plan.
struct GraphLayout {
  double width = 0;
  double height = 0;
  /// Per plan node.
  std::vector<Box> nodes;
  /// Per plan placement group; a group without members has an empty box.
  std::vector<Box> groups;
  struct BundleBox {
    int group = 0;
    int bundle = 0;
    Box box;
  };
  std::vector<BundleBox> bundles;
  /// Set when large plans were laid out in aggregate; then `units` holds the
  /// unit boxes and `unitOf` each node's unit.
  bool aggregated = false;
  std::vector<Box> units;
  std::vector<int> unitOf;
};

struct LayoutOptions {
  /// The dot executable, looked up on PATH unless it holds a '/'.
  std::string dotPath = "dot";
  /// Plans with more nodes than this are laid out in aggregate.
  size_t maxDotNodes = 1500;
};

/// Lays `plan` out with dot. Returns false and sets `error` when dot is
/// missing, fails, or writes output that cannot be read.
bool layoutPlan(const proto::ExecPlan &plan, const LayoutOptions &options,
                GraphLayout *out, std::string *error);

} // namespace raycc::tools::viz

#endif // RAYCC_TOOLS_RAYCC_VIZ_DOTLAYOUT_H
