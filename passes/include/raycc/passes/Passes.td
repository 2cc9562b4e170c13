//===- Passes.td - raycc compiler passes -------------------*- tablegen -*-===//
//
// The passes that turn a traced graph into a plan, in pipeline order. Each
// description shows the IR before and after, as IREE's do.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_PASSES_PASSES_TD
#define RAYCC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def RayVerifyGraph : Pass<"ray-verify-graph", "::mlir::ModuleOp"> {
  let summary = "checks the rules a graph must obey beyond single ops";
  let description = [{
    Builds each graph's dependency graph (data edges, and the order of calls
    on each actor) and checks that it is acyclic, and that no actor is used
    after a `ray.actor.kill` of it. An error names both ends of the bad edge:

    ```mlir
    %k = ray.actor.kill %a : !ray.actor<"A">          // note: killed here
    %r = ray.actor.call %a @m() : ...                 // error: called after kill
    ```
  }];
}

def RayInferResources : Pass<"ray-infer-resources", "::mlir::ModuleOp"> {
  let summary = "gives every call site the resources it will ask for";
  let description = [{
    A `ray.task` without `resources` takes its callee's (`ray.remote_func`
    `resources`), or 1 CPU. A `ray.actor.create` without `resources` and
    `placement_resources` takes its class's `resources` for both, or, as Ray
    users expect, 1 CPU to place it and none while it runs. Explicit settings
    win.

    Before:
    ```mlir
    ray.remote_func @f : (i64) -> i64 resources {GPU = 1}
    %r = ray.task @f(%x) : (i64) -> !ray.ref<i64>
    ```
    After:
    ```mlir
    %r = ray.task @f(%x) {resources = #ray.resources<{GPU = 1.0}>} : (i64) -> !ray.ref<i64>
    ```
  }];
}

def RayFormPlacementGroups : Pass<"ray-form-placement-groups", "::mlir::ModuleOp"> {
  let summary = "gang-schedules work that should run together";
  let description = [{
    Synthesizes placement groups (marked `ray.synthesized`) for *actor
    gangs*: actors whose calls consume each other's results, among those that
    hold resources while they live, form one group with strategy
    `gang-strategy`, one bundle per actor holding what the actor holds (which
    it then places the actor with). A group reserves only what its actors
    hold anyway, so a program that places without the pass places with it.
    Tasks are never grouped (their resources are transient; a reservation
    for them could make other work infeasible): the locality of large
    objects is `ray-assign-placement`'s, which puts a task on the node
    holding most of its input bytes. Work already in a placement group,
    pinned to a node or asked to spread is left alone; user placement groups
    are never changed. Runs at -O2.

    Before:
    ```mlir
    ray.actor_class @Stage : () -> () attributes {resources = #ray.resources<{CPU = 1}>} { ... }
    %a = ray.actor.create @Stage() : () -> !ray.actor<"Stage">
    %b = ray.actor.create @Stage() : () -> !ray.actor<"Stage">
    %x = ray.actor.call %a @step(%in) : ...
    %y = ray.actor.call %b @step(%x) : ...
    ```
    After:
    ```mlir
    %pg = ray.placement_group pack "gang0" attributes {ray.synthesized} {
      ray.bundle {CPU = 1.0}
      ray.bundle {CPU = 1.0}
    }
    %a = ray.actor.create @Stage() in %pg {placement_resources = #ray.resources<{CPU = 1.0}>, strategy = #ray.strategy<placement_group bundle 0>} : ...
    %b = ray.actor.create @Stage() in %pg {placement_resources = #ray.resources<{CPU = 1.0}>, strategy = #ray.strategy<placement_group bundle 1>} : ...
    ```
  }];
  let options = [
    Option<"gangStrategy", "gang-strategy", "std::string", /*default=*/"\"pack\"",
           "strategy of actor gangs: pack, spread, strict_pack or strict_spread">
  ];
}

def RayCheckPlacement : Pass<"ray-check-placement", "::mlir::ModuleOp"> {
  let summary = "checks that every bundle and task fits the cluster";
  let description = [{
    Against a cluster description (`cluster=FILE`, see
    docs/passes/cluster-description.md): every task and actor fits some node,
    every node-affinity names a node (hard affinity: an error; soft: a
    warning), and every placement group's strategy is satisfiable: each bundle
    fits a node; STRICT_PACK needs one node holding all bundles; STRICT_SPREAD
    needs a distinct node per bundle (bipartite matching); PACK and SPREAD need
    the bundles to fit together. An infeasible request is an error naming the
    bundle, what it asks for and the best node's capacity:

    ```
    error: bundle 1 of placement group "workers" asks for {GPU = 2.0}, but no
    node has that much; the closest is "node-2" with {CPU = 8.0, GPU = 1.0}
    ```
    Without a cluster description the pass does nothing (the verifier already
    checks what is knowable without one).
  }];
  let options = [
    Option<"clusterFile", "cluster", "std::string", /*default=*/"\"\"",
           "cluster description (JSON)">
  ];
}

def RayApplyProfile : Pass<"ray-apply-profile", "::mlir::ModuleOp"> {
  let summary = "takes task durations from a measured timeline";
  let description = [{
    Reads a timeline that `raycc run --timeline` wrote (trace-event JSON) and
    gives every task, actor creation and actor call whose name (its `name`,
    else its function's) ran there a `#ray.cost` duration: the median of the
    runs of that name that finished. A duration the program set (`SetCost`)
    stays. The critical path, fusion and the list scheduler of
    `ray-assign-placement` then weigh measured times. A timeline that cannot
    be read is an error naming the file and what is wrong.

    After:
    ```mlir
    %r = ray.task @f(%x) {cost = #ray.cost<duration_us = 1250>}
    ```
  }];
  let options = [
    Option<"profileFile", "profile", "std::string", /*default=*/"\"\"",
           "a raycc run --timeline output (JSON)">
  ];
}

def RayAssignPlacement : Pass<"ray-assign-placement", "::mlir::ModuleOp"> {
  let summary = "places bundles and tasks on the nodes of a cluster";
  let description = [{
    With a cluster description, reserves every placement group's bundles on
    nodes (respecting its strategy) and places actors, then list-schedules
    the tasks: in the order of their bottom level (the longest path of
    `#ray.cost` durations after them), each on the node where it would
    finish first, given the CPU and GPU slots left on each node, the moves
    of large inputs (`#ray.cost` result sizes at 10 Gbit/s) and its label
    selector. The result is a `#ray.placement` on each op, and on the graph
    `predicted_makespan_us`, the finish time of the last work.
    See docs/passes/placement.md for the algorithm and its complexity.

    After:
    ```mlir
    %r = ray.task @f(%x) {placement = #ray.placement<node = "node-2">, ...}
    ```
  }];
  let options = [
    Option<"clusterFile", "cluster", "std::string", /*default=*/"\"\"",
           "cluster description (JSON)">
  ];
}

def RayCriticalPath : Pass<"ray-critical-path", "::mlir::ModuleOp"> {
  let summary = "prioritises the critical path";
  let description = [{
    Computes, with Boost.Graph over each graph's dependencies, the longest
    path from each op to the end of the graph (its *b-level*: the sum of
    `#ray.cost` durations, 1 without hints). That length becomes the op's
    `priority` (larger runs first among ready work), so the runtime starts the
    critical path first; ops on a longest path get `ray.critical`. A priority
    the user set is kept.

    After:
    ```mlir
    %a = ray.task @slow(%x) {priority = 3 : i64, ray.critical} : ...
    %b = ray.task @fast(%x) {priority = 1 : i64} : ...
    ```
  }];
}

def RayFuseTasks : Pass<"ray-fuse-tasks", "::mlir::ModuleOp"> {
  let summary = "fuses linear chains of small tasks";
  let description = [{
    A task whose only argument is the single result of another task, when that
    result has no other use, runs right after it on the same worker: both
    become one `ray.task` (one dispatch, no intermediate object) with
    `fused = [@first, @second, ...]`. Only tasks with identical resources,
    strategy and placement, without a placement-group operand, and estimated
    below `max-duration-us` (unknown counts as small) fuse. Never across an
    actor call, a get or wait, or a value other ops also use.

    Before:
    ```mlir
    %a = ray.task @parse(%x) : (i64) -> !ray.ref<i64>
    %b = ray.task @scale(%a) : (!ray.ref<i64>) -> !ray.ref<f64>
    ```
    After:
    ```mlir
    %b = ray.task @parse(%x) {fused = [@parse, @scale]} : (i64) -> !ray.ref<f64>
    ```
  }];
  let options = [
    Option<"maxDurationUs", "max-duration-us", "uint64_t", /*default=*/"1000",
           "largest estimated duration of a task that may fuse">
  ];
}

def RayDeadTaskElim : Pass<"ray-dead-task-elim", "::mlir::ModuleOp"> {
  let summary = "removes pure work whose results nobody uses";
  let description = [{
    Removes, to a fixed point, calls of `pure` functions, puts, gets, waits and
    joins whose results are unused. Impure tasks, actor ops and placement
    groups always stay. Pair with `cse`, which merges identical pure calls.
  }];
}

def RayLowerToPlan : Pass<"ray-lower-to-plan", "::mlir::ModuleOp"> {
  let summary = "writes the ExecPlan the runtime executes";
  let description = [{
    Writes each graph as a `raycc.proto.ExecPlan` (proto/raycc/proto/
    exec_plan.proto): nodes in topological order with their operands,
    resources, scheduling, placement, priority, fused chain, cost hints and
    source location; placement groups with their bundles and assigned nodes;
    inputs and outputs by name. `output=-` prints the text form (one plan per
    graph); another path receives the binary form of the graph named by
    `graph` (or of the only graph). The IR is not changed.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "where to write: '-' for text on stdout, else a binary file">,
    Option<"graphName", "graph", "std::string", /*default=*/"\"\"",
           "the graph to lower (default: all for text, the only one for binary)">,
    Option<"clusterName", "cluster-name", "std::string", /*default=*/"\"\"",
           "recorded as ExecPlan.cluster_name">,
    Option<"optLevel", "opt-level", "unsigned", /*default=*/"0",
           "recorded as ExecPlan.opt_level">
  ];
}

def RayPrintDot : Pass<"ray-print-dot", "::mlir::ModuleOp"> {
  let summary = "prints each graph as Graphviz DOT";
  let description = [{
    Tasks as boxes, actor creation and calls as ellipses, puts/gets/waits as
    small shapes, placement groups as clusters (one per group), edges for data
    and for the order of calls on an actor; ops marked `ray.critical` are drawn
    in bold red, and nodes are coloured by assigned placement. Written to
    `output` ('-': stdout). The IR is not changed.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "where to write the DOT text">
  ];
}

#endif // RAYCC_PASSES_PASSES_TD
