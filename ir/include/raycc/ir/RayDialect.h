//===- RayDialect.h - the ray dialect ---------------------------*- C++ -*-===//
//
// The `ray` dialect: task and actor graphs. Include RayOps.h for everything.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_IR_RAYDIALECT_H
#define RAYCC_IR_RAYDIALECT_H

#include "mlir/IR/Dialect.h"

#include "raycc/ir/RayDialect.h.inc"

#endif // RAYCC_IR_RAYDIALECT_H
