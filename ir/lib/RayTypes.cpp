//===- RayTypes.cpp - ray dialect types -------------------------*- C++ -*-===//

#include "raycc/ir/RayTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include "raycc/ir/RayDialect.h"

using namespace mlir;
using namespace raycc::ray;

#define GET_TYPEDEF_CLASSES
#include "raycc/ir/RayTypes.cpp.inc"

bool raycc::ray::isValidRefElementType(Type type) {
  if (auto tensor = dyn_cast<TensorType>(type))
    return tensor.getElementType().isIntOrIndexOrFloat();
  return type.isIntOrIndexOrFloat() || isa<CppType>(type);
}

LogicalResult CppType::verify(function_ref<InFlightDiagnostic()> emitError,
                              StringRef name) {
  if (name.empty())
    return emitError() << "!ray.opaque needs a non-empty C++ type name";
  return success();
}

LogicalResult RefType::verify(function_ref<InFlightDiagnostic()> emitError,
                              Type elementType) {
  if (!isValidRefElementType(elementType))
    return emitError() << "!ray.ref element type must be a builtin integer, "
                          "float, index or tensor type or !ray.opaque, got "
                       << elementType;
  return success();
}

LogicalResult ActorType::verify(function_ref<InFlightDiagnostic()> emitError,
                                StringRef className) {
  if (className.empty())
    return emitError() << "!ray.actor needs a non-empty class name";
  return success();
}

void RayDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "raycc/ir/RayTypes.cpp.inc"
      >();
}
