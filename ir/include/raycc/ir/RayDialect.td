//===- RayDialect.td - the ray dialect ---------------------*- tablegen -*-===//
//
// The `ray` dialect: dynamic task and actor graphs as dataflow.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_IR_RAYDIALECT_TD
#define RAYCC_IR_RAYDIALECT_TD

include "mlir/IR/OpBase.td"

def Ray_Dialect : Dialect {
  let name = "ray";
  let cppNamespace = "::raycc::ray";
  let summary = "Task and actor graphs for the raycc runtime";
  let description = [{
    The `ray` dialect describes a graph of remote work the way a Ray program
    builds it at run time, but ahead of time: tasks (calls of registered
    functions), actors (stateful workers) and the calls on them, objects
    (`!ray.ref<T>`, futures of values), placement groups (gang-reserved
    resource bundles) and the waits and joins that order them.

    A `ray.graph` holds one graph. Its body is a single block in dataflow
    order: an op may start as soon as the values it uses exist; SSA order in
    the block is a valid order, not the execution order. Resources, scheduling
    strategy and the placement passes assign travel as attributes.

    See `docs/ir/semantics.md` for when a task may start, what a ref
    means and how tasks spawned at run time relate to the graph.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  // The dialect's discardable attributes are declared and checked:
  // `ray.critical` (a unit, on remote work), `ray.synthesized` (a unit, on a
  // ray.placement_group) and `ray.name` (a string, on graph arguments and
  // results); any other `ray.` attribute is an error.
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Ray_Op<string mnemonic, list<Trait> traits = []>
    : Op<Ray_Dialect, mnemonic, traits>;

#endif // RAYCC_IR_RAYDIALECT_TD
