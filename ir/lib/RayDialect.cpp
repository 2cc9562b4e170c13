//===- RayDialect.cpp - the ray dialect -------------------------*- C++ -*-===//

#include "raycc/ir/RayOps.h"

using namespace mlir;
using namespace raycc::ray;

#include "raycc/ir/RayDialect.cpp.inc"

namespace {

/// `ray.name`, on a graph's argument or result: a string.
LogicalResult verifyNameAttr(Operation *op, NamedAttribute attr,
                             llvm::StringRef where, unsigned index) {
  if (attr.getName() != "ray.name")
    return op->emitError() << "unknown attribute '" << attr.getName().getValue()
                           << "' on " << where << " #" << index
                           << " (the ray dialect knows ray.name there)";
  if (!isa<StringAttr>(attr.getValue()))
    return op->emitError() << "'ray.name' of " << where << " #" << index
                           << " must be a string";
  return success();
}

} // namespace

LogicalResult RayDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  auto unit = [&]() -> LogicalResult {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' takes no value";
    return success();
  };
  if (name == "ray.critical") {
    // (ray-critical-path marks remote work on the critical path.)
    if (op->getDialect() != this ||
        isa<PlacementGroupOp, BundleOp, GraphOp>(op))
      return op->emitError()
             << "'ray.critical' marks remote work of a ray.graph, not '"
             << op->getName() << "'";
    return unit();
  }
  if (name == "ray.synthesized") {
    if (!isa<PlacementGroupOp>(op))
      return op->emitError() << "'ray.synthesized' marks a placement group "
                                "the compiler made, not '"
                             << op->getName() << "'";
    return unit();
  }
  if (name == "ray.name")
    return op->emitError() << "'ray.name' names a graph's argument or result "
                              "(in its argument or result attributes), not '"
                           << op->getName() << "'";
  return op->emitError() << "unknown attribute '" << name
                         << "' (the ray dialect knows ray.critical, "
                            "ray.synthesized and ray.name)";
}

LogicalResult RayDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                   unsigned argIndex,
                                                   NamedAttribute attr) {
  return verifyNameAttr(op, attr, "argument", argIndex);
}

LogicalResult RayDialect::verifyRegionResultAttribute(Operation *op, unsigned,
                                                      unsigned resultIndex,
                                                      NamedAttribute attr) {
  return verifyNameAttr(op, attr, "result", resultIndex);
}

void RayDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "raycc/ir/RayOps.cpp.inc"
      >();
}
