//===- AssignPlacement.cpp - ray-assign-placement -------------------------===//
//
// Greedy placement in block order (a topological order), documented in
// docs/passes/placement.md:
//
//  1. Placement groups reserve their bundles: strict_pack on the least-loaded
//     node holding all of them; strict_spread on distinct nodes by bipartite
//     matching; pack on as few nodes as possible (a node the group already
//     uses, else the node with the most room); spread on distinct nodes
//     where possible. Reserved resources leave the
//     node's free capacity.
//  2. Actors outside groups go to the least-loaded node with room to place
//     them and keep their running resources for the whole graph.
//  3. Tasks in a bundle go to the bundle's node; tasks with node affinity to
//     their node; other tasks to the node already holding most of their input
//     bytes (from #ray.cost result sizes), else to the least-loaded node with
//     room.
//
// Tasks and actors with a label selector go only to nodes whose labels
// match it (a soft node affinity to another node is dropped).
//
// Load is the number of tasks, actors and bundles a node was given. Each step
// looks at every node once: O((B + A + T) * N), plus the matching of
// strict_spread groups.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <functional>
#include <limits>

#include "DependencyGraph.h"
#include "PlacementSupport.h"
#include "ResourceDefaults.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYASSIGNPLACEMENT
#include "raycc/passes/Passes.h.inc"

namespace {

struct Placer {
  const ClusterDescription &cluster;
  SmallVector<ResourceUnits> free;
  SmallVector<uint64_t> load;
  llvm::DenseMap<Operation *, SmallVector<int>> bundleNodes; // pg -> nodes
  llvm::DenseMap<Value, int> nodeOfValue; // actor handle / object -> node

  explicit Placer(const ClusterDescription &c) : cluster(c) {
    for (const ClusterNode &n : c.nodes)
      free.push_back(n.resources);
    load.assign(c.nodes.size(), 0);
  }

  /// The least-loaded node where `demand` fits and `allowed` holds; -1 if none.
  int leastLoaded(const ResourceUnits &demand,
                  llvm::function_ref<bool(int)> allowed = nullptr) {
    int best = -1;
    for (int i = 0, e = free.size(); i < e; ++i)
      if ((!allowed || allowed(i)) && fits(demand, free[i]) &&
          (best < 0 || load[i] < load[best]))
        best = i;
    return best;
  }

  /// The node where `demand` fits that has the most of it left over (the
  /// smallest worst-case ratio of demand to free); -1 if none.
  int mostRoom(const ResourceUnits &demand,
               llvm::function_ref<bool(int)> allowed = nullptr) {
    int best = -1;
    double bestRoom = -1;
    for (int i = 0, e = free.size(); i < e; ++i) {
      if ((allowed && !allowed(i)) || !fits(demand, free[i]))
        continue;
      double room = std::numeric_limits<double>::infinity();
      for (const auto &entry : demand)
        if (entry.getValue() > 0)
          room = std::min(room,
                          static_cast<double>(free[i].lookup(entry.getKey())) /
                              entry.getValue());
      if (room > bestRoom) {
        bestRoom = room;
        best = i;
      }
    }
    return best;
  }

  void take(int node, const ResourceUnits &demand) {
    addUnits(free[node], demand, -1);
    ++load[node];
  }

  LogicalResult placeGroup(PlacementGroupOp pg, unsigned index) {
    SmallVector<ResourceUnits> bundles;
    for (BundleOp bundle : pg.getBundleOps())
      bundles.push_back(toUnits(bundle.getResources()));
    SmallVector<int> nodes(bundles.size(), -1);
    std::string group = "placement group " + describeGroup(pg, index);
    switch (pg.getStrategy()) {
    case PlacementStrategy::strict_pack: {
      ResourceUnits sum;
      for (const ResourceUnits &b : bundles)
        addUnits(sum, b);
      int node = leastLoaded(sum);
      if (node < 0)
        return pg.emitError()
               << "cannot place strict_pack " << group << ": no node has "
               << formatUnits(sum) << " free for all its bundles";
      for (int &n : nodes)
        n = node;
      break;
    }
    case PlacementStrategy::strict_spread: {
      std::optional<SmallVector<int>> match = matchDistinctNodes(bundles, free);
      if (!match)
        return pg.emitError() << "cannot place strict_spread " << group
                              << ": no " << bundles.size()
                              << " distinct nodes have room for one bundle "
                                 "each";
      nodes = *match;
      break;
    }
    case PlacementStrategy::pack:
    case PlacementStrategy::spread: {
      bool spread = pg.getStrategy() == PlacementStrategy::spread;
      llvm::DenseSet<int> used;
      for (auto [i, bundle] : llvm::enumerate(bundles)) {
        // pack: a node of the group first, else the node with the most room
        // for what is left of the group; spread: a node not yet used, else
        // the least loaded.
        int node = -1;
        if (spread) {
          node = leastLoaded(bundle, [&](int n) { return !used.contains(n); });
          if (node < 0)
            node = leastLoaded(bundle);
        } else {
          node = mostRoom(bundle, [&](int n) { return used.contains(n); });
          if (node < 0)
            node = mostRoom(bundle);
        }
        if (node < 0)
          return pg.emitError()
                 << "cannot place bundle " << i << " of " << group << " ("
                 << formatUnits(bundle) << "): no node has that much free";
        nodes[i] = node;
        used.insert(node);
        take(node, bundle); // Later bundles see what this one took.
      }
      break;
    }
    }
    if (pg.getStrategy() == PlacementStrategy::strict_pack ||
        pg.getStrategy() == PlacementStrategy::strict_spread)
      for (auto [bundle, node] : llvm::zip(bundles, nodes))
        take(node, bundle);
    bundleNodes[pg] = nodes;
    Builder b(pg.getContext());
    SmallVector<Attribute> names;
    for (int n : nodes)
      names.push_back(b.getStringAttr(cluster.nodes[n].name));
    pg.setBundleNodesAttr(b.getArrayAttr(names));
    return success();
  }

  /// The node of bundle `index` of the group `pg` (or of any bundle that
  /// fits `demand` when index is -1).
  int bundleNode(Value pg, int64_t index, const ResourceUnits &demand,
                 int64_t &chosenBundle) {
    auto group = pg.getDefiningOp<PlacementGroupOp>();
    if (!group)
      return -1;
    SmallVector<int> &nodes = bundleNodes[group];
    SmallVector<BundleOp> bundles = group.getBundleOps();
    for (int64_t i = 0, e = nodes.size(); i < e; ++i)
      if ((index < 0 || i == index) &&
          fits(demand, toUnits(bundles[i].getResources()))) {
        chosenBundle = i;
        return nodes[i];
      }
    return -1;
  }

  void mark(Operation *op, int node, int64_t bundle) {
    op->setAttr(
        "placement",
        PlacementAttr::get(op->getContext(), cluster.nodes[node].name, bundle));
    for (Value r : op->getResults())
      nodeOfValue[r] = node;
  }

  /// The nodes `selector` allows.
  std::function<bool(int)> allowedBy(const LabelSelector &selector) {
    return [this, selector](int node) {
      return nodeMatches(cluster, node, selector);
    };
  }

  /// ": no node [labelled {...}] has that much free".
  static std::string noRoom(const LabelSelector &selector) {
    return selector.empty()
               ? ": no node has that much free"
               : ": no node labelled " + formatLabelSelector(selector) +
                     " has that much free";
  }

  LogicalResult placeActor(ActorCreateOp create) {
    ResourceUnits placing = toUnits(actorPlacementResources(create));
    ResourceUnits running = toUnits(actorRunningResources(create));
    LabelSelector selector = labelSelectorOf(create.getLabelSelectorAttr());
    std::function<bool(int)> allowed = allowedBy(selector);
    int64_t bundle = -1;
    int node = -1;
    if (Value pg = create.getPg()) {
      node = bundleNode(pg, create.getStrategyAttr().getBundleIndex(), placing,
                        bundle);
    } else if (SchedulingStrategyAttr s = create.getStrategyAttr();
               s && s.getKind() == SchedulingKind::node_affinity) {
      node = cluster.find(s.getNode().getValue());
      if (node >= 0 && !allowed(node))
        node = -1;
    }
    if (node < 0)
      node = leastLoaded(placing, allowed);
    if (node < 0)
      return create.emitError()
             << "cannot place actor @" << create.getActorClass() << " ("
             << formatUnits(placing) << ")" << noRoom(selector);
    if (bundle < 0)
      take(node, running);
    mark(create, node, bundle);
    return success();
  }

  LogicalResult placeTask(TaskOp task) {
    ResourceUnits demand = toUnits(taskResources(task));
    LabelSelector selector = labelSelectorOf(task.getLabelSelectorAttr());
    std::function<bool(int)> allowed = allowedBy(selector);
    int64_t bundle = -1;
    int node = -1;
    if (Value pg = task.getPg()) {
      node = bundleNode(pg, task.getStrategyAttr().getBundleIndex(), demand,
                        bundle);
    } else if (SchedulingStrategyAttr s = task.getStrategyAttr();
               s && s.getKind() == SchedulingKind::node_affinity) {
      node = cluster.find(s.getNode().getValue());
      if (node >= 0 && s.getSoft() &&
          (!fits(demand, free[node]) || !allowed(node)))
        node = -1;
    } else {
      // Prefer the node holding most of the task's input bytes.
      SmallVector<uint64_t> bytes(free.size(), 0);
      for (Value v : task.getArgs()) {
        auto it = nodeOfValue.find(v);
        if (it != nodeOfValue.end())
          bytes[it->second] += estimatedResultBytes(v.getDefiningOp());
      }
      for (int i = 0, e = free.size(); i < e; ++i)
        if (bytes[i] > 0 && fits(demand, free[i]) && allowed(i) &&
            (node < 0 || bytes[i] > bytes[node]))
          node = i;
    }
    if (node < 0)
      node = leastLoaded(demand, allowed);
    if (node < 0)
      return task.emitError()
             << "cannot place task @" << task.getCallee() << " ("
             << formatUnits(demand) << ")" << noRoom(selector)
             << " after placement groups and actors took their share";
    ++load[node];
    mark(task, node, bundle);
    return success();
  }
};

struct AssignPlacement : impl::RayAssignPlacementBase<AssignPlacement> {
  using Base::Base;

  void runOnOperation() override {
    if (clusterFile.empty())
      return markAllAnalysesPreserved();
    std::optional<ClusterDescription> cluster =
        loadCluster(getOperation(), clusterFile);
    if (!cluster)
      return signalPassFailure();
    for (GraphOp graph : getOperation().getOps<GraphOp>()) {
      // Each graph gets the whole cluster: graphs run one at a time.
      Placer placer(*cluster);
      unsigned groupIndex = 0;
      Block &body = graph.getBodyBlock();
      // Reservations first (groups, then actors), then the transient tasks.
      for (auto pg : body.getOps<PlacementGroupOp>())
        if (failed(placer.placeGroup(pg, groupIndex++)))
          return signalPassFailure();
      for (auto create : body.getOps<ActorCreateOp>())
        if (failed(placer.placeActor(create)))
          return signalPassFailure();
      for (auto task : body.getOps<TaskOp>())
        if (failed(placer.placeTask(task)))
          return signalPassFailure();
    }
  }
};

} // namespace

} // namespace raycc::passes
