//===- RayTypes.h - ray dialect types ---------------------------*- C++ -*-===//

#ifndef RAYCC_IR_RAYTYPES_H
#define RAYCC_IR_RAYTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "raycc/ir/RayTypes.h.inc"

namespace raycc::ray {

/// True for the types a `!ray.ref` may hold: builtin integer, float, index and
/// tensor types, and `!ray.opaque`.
bool isValidRefElementType(mlir::Type type);

} // namespace raycc::ray

#endif // RAYCC_IR_RAYTYPES_H
