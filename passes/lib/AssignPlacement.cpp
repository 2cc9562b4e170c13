//===- AssignPlacement.cpp - ray-assign-placement -------------------------===//
//
// Placement on a cluster description, documented in docs/passes/placement.md:
//
//  1. Placement groups reserve their bundles (in block order): strict_pack
//     on the least-loaded node holding all of them; strict_spread on
//     distinct nodes by bipartite matching; pack on as few nodes as possible
//     (a node the group already uses, else the node with the most room);
//     spread on distinct nodes where possible. Reserved resources leave the
//     node's free capacity.
//  2. Actors outside groups go to the least-loaded node with room to place
//     them and keep their running resources for the whole graph.
//  3. Tasks are list-scheduled in simulated time: in bottom-level order,
//     each on the node where it would finish first (CPU and GPU slots per
//     node and bundle, #ray.cost durations, moves of large inputs); tasks in
//     a bundle or with node affinity run there. The graph gets the predicted
//     makespan.
//
// Tasks and actors with a label selector go only to nodes whose labels
// match it (a soft node affinity to another node is dropped).
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>

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
      if (node >= 0 && s.getSoft() &&
          (!fits(placing, free[node]) || !allowed(node)))
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

  // --- The list scheduler (step 3) ---------------------------------------
  //
  // Simulated time in µs from the graph's start. Each node has CPU and GPU
  // slots (one per whole unit of what is left after groups and actors; a
  // bundle has its own); a task holds ceil(its CPUs) and ceil(its GPUs)
  // slots for its estimated duration. An actor runs one call at a time.
  // Moving a producer's result to another node costs its #ray.cost
  // result_bytes at kBytesPerUs.

  /// 10 Gbit/s, the network the estimate assumes between nodes.
  static constexpr uint64_t kBytesPerUs = 1250;

  struct Slots {
    SmallVector<uint64_t> cpu, gpu;
  };
  /// One slot per whole unit (one for a fraction), never more than the
  /// graph has tasks (more could never all be busy).
  Slots slotsOf(const ResourceUnits &capacity) const {
    auto count = [&](StringRef name) {
      int64_t units = capacity.lookup(name);
      return units <= 0 ? 0
                        : std::clamp<int64_t>(units / ResourcesAttr::kScale, 1,
                                              std::max<int64_t>(1, tasks));
    };
    Slots slots;
    slots.cpu.assign(count("CPU"), 0);
    slots.gpu.assign(count("GPU"), 0);
    return slots;
  }
  /// The slots `demand` holds: whole units, rounded up.
  static int64_t slotsFor(const ResourceUnits &demand, StringRef name) {
    return (demand.lookup(name) + ResourcesAttr::kScale - 1) /
           ResourcesAttr::kScale;
  }
  /// When `k` of `slots` are free at once (0 for none).
  static uint64_t freeAt(SmallVector<uint64_t> slots, int64_t k) {
    if (k <= 0 || slots.empty())
      return 0;
    k = std::min<int64_t>(k, slots.size());
    std::nth_element(slots.begin(), slots.begin() + (k - 1), slots.end());
    return slots[k - 1];
  }
  /// Holds the `k` earliest-free of `slots` until `until`.
  static void hold(SmallVector<uint64_t> &slots, int64_t k, uint64_t until) {
    k = std::min<int64_t>(k, slots.size());
    if (k <= 0)
      return;
    std::nth_element(slots.begin(), slots.begin() + (k - 1), slots.end());
    std::sort(slots.begin(), slots.begin() + k);
    for (int64_t i = 0; i < k; ++i)
      slots[i] = until;
  }

  int64_t tasks = 0; // in the graph being scheduled
  SmallVector<Slots> nodeSlots;
  llvm::DenseMap<std::pair<Operation *, int64_t>, Slots> bundleSlots;
  llvm::DenseMap<Operation *, uint64_t> finish; // op -> when it is done
  llvm::DenseMap<Value, uint64_t> actorFree;    // actor -> next call's start

  /// When the operands of `op` can be on node `node` (-1: anywhere, no
  /// transfer).
  uint64_t readyOn(Operation *op, int node) {
    uint64_t ready = 0;
    for (Value v : op->getOperands()) {
      Operation *def = v.getDefiningOp();
      if (!def)
        continue;
      auto done = finish.find(def);
      if (done == finish.end())
        continue;
      uint64_t at = done->second;
      auto where = nodeOfValue.find(v);
      if (node >= 0 && where != nodeOfValue.end() && where->second != node)
        at = llvm::SaturatingAdd(at, estimatedResultBytes(def) / kBytesPerUs);
      ready = std::max(ready, at);
    }
    return ready;
  }

  /// Where `task` (demand `demand`, `duration` µs) finishes earliest on
  /// `slots` of node `node`, and holds them if `commit`.
  uint64_t finishOn(TaskOp task, Slots &slots, int node,
                    const ResourceUnits &demand, uint64_t duration,
                    bool commit) {
    int64_t cpus = slotsFor(demand, "CPU"), gpus = slotsFor(demand, "GPU");
    uint64_t start = std::max({readyOn(task, node), freeAt(slots.cpu, cpus),
                               freeAt(slots.gpu, gpus)});
    uint64_t end = llvm::SaturatingAdd(start, duration);
    if (commit) {
      hold(slots.cpu, cpus, end);
      hold(slots.gpu, gpus, end);
    }
    return end;
  }

  LogicalResult scheduleTask(TaskOp task, uint64_t duration) {
    ResourceUnits demand = toUnits(taskResources(task));
    LabelSelector selector = labelSelectorOf(task.getLabelSelectorAttr());
    std::function<bool(int)> allowed = allowedBy(selector);
    int64_t bundle = -1;
    int node = -1;
    Slots *slots = nullptr;
    if (Value pg = task.getPg()) {
      node = bundleNode(pg, task.getStrategyAttr().getBundleIndex(), demand,
                        bundle);
      if (node >= 0) {
        auto group = pg.getDefiningOp<PlacementGroupOp>();
        auto [it, added] = bundleSlots.try_emplace({group, bundle});
        if (added)
          it->second =
              slotsOf(toUnits(group.getBundleOps()[bundle].getResources()));
        slots = &it->second;
      }
    } else if (SchedulingStrategyAttr s = task.getStrategyAttr();
               s && s.getKind() == SchedulingKind::node_affinity) {
      node = cluster.find(s.getNode().getValue());
      if (node >= 0 && s.getSoft() &&
          (!fits(demand, free[node]) || !allowed(node)))
        node = -1;
    }
    if (node < 0) {
      // The node where it would finish first; ties go to the least loaded,
      // then to the first listed. Data locality is in the finish time: a
      // large input elsewhere has to travel first.
      uint64_t best = 0;
      for (int i = 0, e = free.size(); i < e; ++i) {
        if (!fits(demand, free[i]) || !allowed(i))
          continue;
        uint64_t end = finishOn(task, nodeSlots[i], i, demand, duration, false);
        if (node < 0 || end < best || (end == best && load[i] < load[node])) {
          node = i;
          best = end;
        }
      }
    }
    if (node < 0)
      return task.emitError()
             << "cannot place task @" << task.getCallee() << " ("
             << formatUnits(demand) << ")" << noRoom(selector)
             << " after placement groups and actors took their share";
    if (!slots)
      slots = &nodeSlots[node];
    ++load[node];
    mark(task, node, bundle);
    finish[task] = finishOn(task, *slots, node, demand, duration, true);
    return success();
  }

  /// How many copies of `demand` `capacity` holds at once (at most `cap`).
  static int64_t copiesIn(const ResourceUnits &capacity,
                          const ResourceUnits &demand, int64_t cap) {
    int64_t here = cap;
    for (const auto &[name, units] : demand) {
      if (units <= 0)
        continue;
      auto it = capacity.find(name);
      here = std::min(here, it == capacity.end() ? 0 : it->second / units);
    }
    return std::max<int64_t>(here, 0);
  }

  /// How many of `map`'s shards run at once: as many as its group's
  /// bundles hold, else as the nodes' free capacity holds (on the nodes its
  /// label selector allows).
  uint64_t shardsAtOnce(MapOp map) {
    const ResourceUnits demand = toUnits(shardResources(map));
    const int64_t cap = map.getShards();
    uint64_t copies = 0;
    if (auto group = map.getPg() ? map.getPg().getDefiningOp<PlacementGroupOp>()
                                 : PlacementGroupOp()) {
      for (BundleOp bundle : group.getBundleOps())
        copies += copiesIn(toUnits(bundle.getResources()), demand, cap);
    } else {
      const LabelSelector selector =
          labelSelectorOf(map.getLabelSelectorAttr());
      for (auto [node, capacity] : llvm::enumerate(free))
        if (nodeMatches(cluster, static_cast<int>(node), selector))
          copies += copiesIn(capacity, demand, cap);
    }
    return std::clamp<uint64_t>(copies, 1, cap);
  }

  /// Places every task by list scheduling: work in the order of its bottom
  /// level (the longest path after it, the critical-path pass's priority),
  /// each task on the node where it would finish first. Actors (placed by
  /// step 2) take their calls one at a time. Sets the graph's
  /// predicted_makespan_us and uncosted_work.

  LogicalResult schedule(GraphOp graph) {
    tasks = llvm::range_size(graph.getBodyBlock().getOps<TaskOp>());
    for (const ResourceUnits &capacity : free)
      nodeSlots.push_back(slotsOf(capacity));
    DependencyGraph deps = DependencyGraph::build(graph);
    size_t n = deps.nodes.size();
    SmallVector<uint64_t> weight(n);
    int64_t uncosted = 0;
    for (size_t i = 0; i < n; ++i) {
      weight[i] = workWeight(deps.nodes[i]);
      if (isa<TaskOp, MapOp, ActorCallOp>(deps.nodes[i]) &&
          estimatedDurationUs(deps.nodes[i], 0) == 0)
        ++uncosted;
    }
    SmallVector<uint64_t> bottom = deps.bottomLevels(weight);
    // Higher bottom levels first; a producer's is never lower than its
    // consumers', and block order breaks ties, so producers come first.
    SmallVector<unsigned> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](unsigned a, unsigned b) {
      return bottom[a] > bottom[b];
    });
    uint64_t makespan = 0;
    for (unsigned i : order) {
      Operation *op = deps.nodes[i];
      if (auto task = dyn_cast<TaskOp>(op)) {
        if (failed(scheduleTask(task, weight[i])))
          return failure();
      } else if (auto create = dyn_cast<ActorCreateOp>(op)) {
        int node = nodeOfValue.lookup(create.getActor());
        finish[op] = actorFree[create.getActor()] =
            llvm::SaturatingAdd(readyOn(op, node), weight[i]);
      } else if (auto call = dyn_cast<ActorCallOp>(op)) {
        // One call at a time, on the actor's node (unknown for an actor
        // given as an input: no move is counted then).
        auto where = nodeOfValue.find(call.getActor());
        int node = where == nodeOfValue.end() ? -1 : where->second;
        uint64_t start =
            std::max(readyOn(op, node), actorFree.lookup(call.getActor()));
        finish[op] = actorFree[call.getActor()] =
            llvm::SaturatingAdd(start, weight[i]);
        if (node >= 0)
          for (Value r : call->getResults())
            nodeOfValue[r] = node;
      } else if (auto map = dyn_cast<MapOp>(op)) {
        // Its shards run in waves of as many as the nodes hold at once.
        // (An estimate: the shards take no slots from the tasks scheduled
        // beside them.)
        uint64_t waves = llvm::divideCeil(
            static_cast<uint64_t>(map.getShards()), shardsAtOnce(map));
        finish[op] = llvm::SaturatingAdd(
            readyOn(op, -1), llvm::SaturatingMultiply(weight[i], waves));
      } else if (auto kill = dyn_cast<ActorKillOp>(op)) {
        // After the calls before it.
        finish[op] =
            std::max(readyOn(op, -1), actorFree.lookup(kill.getActor()));
      } else {
        finish[op] = readyOn(op, -1); // (takes no time)
      }
      makespan = std::max(makespan, finish[op]);
    }
    Builder b(graph.getContext());
    graph.setPredictedMakespanUsAttr(
        b.getI64IntegerAttr(static_cast<int64_t>(makespan)));
    graph.setUncostedWorkAttr(b.getI64IntegerAttr(uncosted));
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
      if (failed(placer.schedule(graph)))
        return signalPassFailure();
    }
  }
};

} // namespace

} // namespace raycc::passes
