// Placement groups on simulated nodes: the embedded runtime plays a cluster
// of three nodes (Config.nodes), and each strategy keeps its promise: tasks
// report the node they ran on.
//
//   placement_groups

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "raycc/api.h"

std::string WhereAmI() { return raycc::CurrentNodeName(); }
RAYCC_REMOTE(WhereAmI);

/// Runs one task in each bundle of a new group; prints where they ran.
std::vector<std::string> Show(const char* what, raycc::PlacementStrategy strategy, int bundles, double cpus) {
  std::vector<std::map<std::string, double>> b(bundles, {{"CPU", cpus}});
  raycc::PlacementGroup pg = raycc::CreatePlacementGroup({.bundles = b, .strategy = strategy, .name = what});
  pg.Wait(10);
  std::vector<raycc::ObjectRef<std::string>> refs;
  for (int i = 0; i < bundles; ++i) refs.push_back(raycc::Task(WhereAmI).SetPlacementGroup(pg, i).Remote());
  std::vector<std::string> nodes;
  std::printf("%-14s", what);
  for (auto& r : refs) {
    nodes.push_back(*r.Get());
    std::printf(" %s", nodes.back().c_str());
  }
  std::printf("\n");
  raycc::RemovePlacementGroup(pg.GetID());
  return nodes;
}

int main() {
  raycc::Init(
      raycc::Config{.nodes = {{"node-a", {{"CPU", 4}}}, {"node-b", {{"CPU", 4}}}, {"node-c", {{"CPU", 4}}}}});
  using S = raycc::PlacementStrategy;
  auto pack = Show("strict_pack", S::kStrictPack, 3, 1);
  auto spread = Show("strict_spread", S::kStrictSpread, 3, 1);
  Show("pack", S::kPack, 3, 2);      // 6 CPUs: more than one node holds
  Show("spread", S::kSpread, 4, 1);  // 4 bundles on 3 nodes: one shares
  bool refused = false;
  try {
    raycc::CreatePlacementGroup(
        {.bundles = {{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}}, .strategy = S::kStrictSpread});
  } catch (const raycc::InfeasibleError& e) {
    std::printf("4 bundles, strict_spread: %s\n", e.what());
    refused = true;
  }
  raycc::Shutdown();
  bool ok = refused && std::set<std::string>(pack.begin(), pack.end()).size() == 1 &&
            std::set<std::string>(spread.begin(), spread.end()).size() == 3;
  std::printf("every strategy kept its promise: %s\n", ok ? "yes" : "NO");
  return ok ? 0 : 1;
}
