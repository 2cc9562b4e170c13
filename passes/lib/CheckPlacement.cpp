//===- CheckPlacement.cpp - ray-check-placement ---------------------------===//

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/max_cardinality_matching.hpp>

#include "llvm/ADT/STLExtras.h"

#include "PlacementSupport.h"
#include "ResourceDefaults.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYCHECKPLACEMENT
#include "raycc/passes/Passes.h.inc"

std::optional<SmallVector<int>>
matchDistinctNodes(ArrayRef<ResourceUnits> bundles,
                   ArrayRef<ResourceUnits> capacity) {
  size_t b = bundles.size(), n = capacity.size();
  if (b > n)
    return std::nullopt;
  using Graph =
      boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  Graph g(b + n);
  for (size_t i = 0; i < b; ++i)
    for (size_t j = 0; j < n; ++j)
      if (fits(bundles[i], capacity[j]))
        boost::add_edge(i, b + j, g);
  std::vector<Graph::vertex_descriptor> mate(b + n);
  boost::edmonds_maximum_cardinality_matching(g, &mate[0]);
  SmallVector<int> assignment(b, -1);
  for (size_t i = 0; i < b; ++i) {
    if (mate[i] == boost::graph_traits<Graph>::null_vertex())
      return std::nullopt;
    assignment[i] = static_cast<int>(mate[i] - b);
  }
  return assignment;
}

std::string describeGroup(PlacementGroupOp pg, unsigned index) {
  if (auto name = pg.getName())
    return "\"" + name->str() + "\"";
  return "#" + std::to_string(index);
}

std::string closestNodeText(const ClusterDescription &cluster,
                            const ResourceUnits &demand) {
  int best = cluster.closest(demand);
  if (best < 0)
    return "";
  return "; the closest is \"" + cluster.nodes[best].name + "\" with " +
         formatUnits(cluster.nodes[best].resources);
}

LabelSelector labelSelectorOf(DictionaryAttr attr) {
  return llvm::cantFail(parseLabelSelector(attr));
}

bool nodeMatches(const ClusterDescription &cluster, int node,
                 const LabelSelector &selector) {
  return matchesLabels(cluster.nodes[node].labels, selector);
}

std::optional<ClusterDescription> loadCluster(ModuleOp module, StringRef path) {
  llvm::Expected<ClusterDescription> cluster = ClusterDescription::load(path);
  if (!cluster) {
    module.emitError() << llvm::toString(cluster.takeError());
    return std::nullopt;
  }
  return std::move(*cluster);
}

namespace {

struct CheckPlacement : impl::RayCheckPlacementBase<CheckPlacement> {
  using Base::Base;

  void runOnOperation() override {
    if (clusterFile.empty())
      return markAllAnalysesPreserved();
    std::optional<ClusterDescription> cluster =
        loadCluster(getOperation(), clusterFile);
    if (!cluster)
      return signalPassFailure();
    totals.clear();
    for (const ClusterNode &node : cluster->nodes)
      totals.push_back(node.resources);
    bool ok = true;
    for (GraphOp graph : getOperation().getOps<GraphOp>()) {
      unsigned groupIndex = 0;
      for (Operation &op : graph.getBodyBlock()) {
        LogicalResult result = success();
        if (auto task = dyn_cast<TaskOp>(op))
          result =
              checkWork(task, "task @" + task.getCallee().str(),
                        toUnits(taskResources(task)), task.getPg(),
                        task.getStrategyAttr(),
                        labelSelectorOf(task.getLabelSelectorAttr()), *cluster);
        else if (auto map = dyn_cast<MapOp>(op))
          // (Each shard must fit somewhere; shards queue for room as tasks
          // do.)
          result = checkWork(
              map, "shards of map @" + map.getCallee().str(),
              toUnits(shardResources(map)), map.getPg(), map.getStrategyAttr(),
              labelSelectorOf(map.getLabelSelectorAttr()), *cluster);
        else if (auto create = dyn_cast<ActorCreateOp>(op))
          result = checkWork(create, "actor @" + create.getActorClass().str(),
                             toUnits(actorPlacementResources(create)),
                             create.getPg(), create.getStrategyAttr(),
                             labelSelectorOf(create.getLabelSelectorAttr()),
                             *cluster);
        else if (auto pg = dyn_cast<PlacementGroupOp>(op))
          result = checkGroup(pg, groupIndex++, *cluster);
        ok &= succeeded(result);
      }
    }
    if (!ok)
      signalPassFailure();
    markAllAnalysesPreserved();
  }

  bool fitsSomewhere(const ResourceUnits &demand) {
    return llvm::any_of(
        totals, [&](const ResourceUnits &t) { return fits(demand, t); });
  }

  LogicalResult checkWork(Operation *op, const std::string &what,
                          const ResourceUnits &demand, Value pg,
                          SchedulingStrategyAttr strategy,
                          const LabelSelector &selector,
                          const ClusterDescription &cluster) {
    if (pg)
      return success(); // Its bundle is checked with the group.
    if (!selector.empty()) {
      // Some node must match its labels and hold it.
      bool matched = false;
      for (int i = 0, e = totals.size(); i < e; ++i) {
        if (!nodeMatches(cluster, i, selector))
          continue;
        matched = true;
        if (fits(demand, totals[i]))
          return checkAffinity(op, what, demand, strategy, selector, cluster);
      }
      if (!matched)
        return op->emitError() << what << " may run only on nodes labelled "
                               << formatLabelSelector(selector)
                               << ", but no node of the cluster description is";
      return op->emitError()
             << what << " asks for " << formatUnits(demand)
             << ", but no node labelled " << formatLabelSelector(selector)
             << " has that much";
    }
    return checkAffinity(op, what, demand, strategy, selector, cluster);
  }

  LogicalResult checkAffinity(Operation *op, const std::string &what,
                              const ResourceUnits &demand,
                              SchedulingStrategyAttr strategy,
                              const LabelSelector &selector,
                              const ClusterDescription &cluster) {
    if (strategy && strategy.getKind() == SchedulingKind::node_affinity) {
      StringRef name = strategy.getNode().getValue();
      int node = cluster.find(name);
      if (node < 0) {
        if (strategy.getSoft()) {
          op->emitWarning() << what << " prefers node \"" << name
                            << "\", which the cluster description does not "
                               "have; it will run elsewhere";
        } else {
          return op->emitError()
                 << what << " is pinned to node \"" << name
                 << "\", which the cluster description does not have";
        }
      } else if (!fits(demand, totals[node]) && !strategy.getSoft()) {
        return op->emitError()
               << what << " is pinned to node \"" << name << "\" and asks for "
               << formatUnits(demand) << ", but that node has only "
               << formatUnits(totals[node]);
      } else if (!nodeMatches(cluster, node, selector) && !strategy.getSoft()) {
        return op->emitError() << what << " is pinned to node \"" << name
                               << "\", which its label selector "
                               << formatLabelSelector(selector) << " rules out";
      }
    }
    if (!fitsSomewhere(demand))
      return op->emitError() << what << " asks for " << formatUnits(demand)
                             << ", but no node has that much"
                             << closestNodeText(cluster, demand);
    return success();
  }

  LogicalResult checkGroup(PlacementGroupOp pg, unsigned index,
                           const ClusterDescription &cluster) {
    std::string group = "placement group " + describeGroup(pg, index);
    SmallVector<ResourceUnits> bundles;
    for (BundleOp bundle : pg.getBundleOps())
      bundles.push_back(toUnits(bundle.getResources()));
    for (auto [i, bundle] : llvm::enumerate(bundles))
      if (!fitsSomewhere(bundle))
        return pg.emitError()
               << "bundle " << i << " of " << group << " asks for "
               << formatUnits(bundle) << ", but no node has that much"
               << closestNodeText(cluster, bundle);
    ResourceUnits sum;
    for (const ResourceUnits &bundle : bundles)
      addUnits(sum, bundle);
    switch (pg.getStrategy()) {
    case PlacementStrategy::strict_pack:
      if (!fitsSomewhere(sum))
        return pg.emitError() << "strict_pack " << group
                              << " needs one node with " << formatUnits(sum)
                              << " (all its bundles), but no node has that "
                                 "much"
                              << closestNodeText(cluster, sum);
      break;
    case PlacementStrategy::strict_spread:
      if (!matchDistinctNodes(bundles, totals))
        return pg.emitError()
               << "strict_spread " << group << " needs " << bundles.size()
               << " distinct nodes, one per bundle, but the cluster's "
               << cluster.nodes.size()
               << " node(s) cannot hold its bundles on distinct nodes";
      break;
    case PlacementStrategy::pack:
    case PlacementStrategy::spread: {
      ResourceUnits all;
      for (const ResourceUnits &t : totals)
        addUnits(all, t);
      if (!fits(sum, all))
        return pg.emitError()
               << group << " needs " << formatUnits(sum)
               << " in total, but the whole cluster has " << formatUnits(all);
      break;
    }
    }
    return success();
  }

  SmallVector<ResourceUnits> totals;
};

} // namespace

} // namespace raycc::passes
