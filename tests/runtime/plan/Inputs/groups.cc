// A strict_spread placement group of two bundles that each take a whole
// node of two CPUs, a task in each bundle (plan_test).

#include <raycc/graph.h>

// (Named apart from placed.cc's Where: both task libraries load into plan_test.)
std::string BundleNode(int64_t) { return raycc::CurrentNodeName(); }
RAYCC_REMOTE(BundleNode);

RAYCC_GRAPH(spread, raycc::GraphBuilder& g) {
  std::vector<std::map<std::string, double>> bundles(2, {{"CPU", 2}});
  auto pg = g.PlacementGroup(bundles, raycc::PlacementStrategy::kStrictSpread, "pair");
  g.Output("first", g.Task(BundleNode).SetPlacementGroup(pg, 0).Call(int64_t{0}));
  g.Output("second", g.Task(BundleNode).SetPlacementGroup(pg, 1).Call(int64_t{1}));
}
