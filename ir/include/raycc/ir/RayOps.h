//===- RayOps.h - ray dialect operations ------------------------*- C++ -*-===//
//
// Everything of the ray dialect: dialect, types, attributes and ops.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_IR_RAYOPS_H
#define RAYCC_IR_RAYOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "raycc/ir/RayAttrs.h"
#include "raycc/ir/RayDialect.h"
#include "raycc/ir/RayTypes.h"

#define GET_OP_CLASSES
#include "raycc/ir/RayOps.h.inc"

#endif // RAYCC_IR_RAYOPS_H
