//===- RayDialect.cpp - the ray dialect -------------------------*- C++ -*-===//

#include "raycc/ir/RayOps.h"

using namespace mlir;
using namespace raycc::ray;

#include "raycc/ir/RayDialect.cpp.inc"

void RayDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "raycc/ir/RayOps.cpp.inc"
      >();
}
