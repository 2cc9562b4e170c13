//===- RayAttrs.h - ray dialect attributes ----------------------*- C++ -*-===//

#ifndef RAYCC_IR_RAYATTRS_H
#define RAYCC_IR_RAYATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include <optional>
#include <string>

#include "raycc/ir/RayEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "raycc/ir/RayAttrs.h.inc"

namespace raycc::ray {

/// Parses the `{CPU = 1.0, "custom" = 2}` body of a resources attribute.
mlir::ParseResult parseResourceDict(mlir::AsmParser &parser,
                                    ResourcesAttr &result);
/// Prints what parseResourceDict reads.
void printResourceDict(mlir::AsmPrinter &printer, ResourcesAttr attr);

} // namespace raycc::ray

#endif // RAYCC_IR_RAYATTRS_H
