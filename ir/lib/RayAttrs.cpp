//===- RayAttrs.cpp - ray dialect attributes --------------------*- C++ -*-===//

#include "raycc/ir/RayAttrs.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

#include "raycc/ir/RayDialect.h"

using namespace mlir;
using namespace raycc::ray;

#include "raycc/ir/RayEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "raycc/ir/RayAttrs.cpp.inc"

//===----------------------------------------------------------------------===//
// ResourcesAttr
//===----------------------------------------------------------------------===//

// The naming and fixed-point rules are those of the runtime's ResourceSet
// (runtime/include/raycc/runtime/common/resource_set.h); the IR layer may not
// link the runtime, so they are restated here and both are tested.
static constexpr size_t kMaxNameLength = 256;
static constexpr double kMaxQuantity = 1e14;

static bool isNameStart(char c) { return llvm::isAlpha(c) || c == '_'; }
static bool isNameChar(char c) {
  return isNameStart(c) || llvm::isDigit(c) || c == '.' || c == ':' ||
         c == '/' || c == '-';
}

std::optional<std::string> ResourcesAttr::checkName(StringRef name) {
  if (name.empty())
    return std::string("resource name is empty");
  if (name.size() > kMaxNameLength)
    return ("resource name '" + name.take_front(32) + "...' is longer than " +
            std::to_string(kMaxNameLength) + " characters")
        .str();
  if (!isNameStart(name.front()) || !llvm::all_of(name, isNameChar))
    return ("resource name '" + name +
            "' is invalid: use letters, digits and _ . : / - and start with "
            "a letter or _")
        .str();
  return std::nullopt;
}

std::string ResourcesAttr::formatQuantity(int64_t units) {
  int64_t whole = units / ResourcesAttr::kScale;
  int64_t frac = units % ResourcesAttr::kScale;
  std::string digits = std::to_string(frac + ResourcesAttr::kScale).substr(1);
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  return std::to_string(whole) + "." + digits;
}

FailureOr<int64_t> ResourcesAttr::toUnits(double value, std::string &error) {
  if (std::isnan(value)) {
    error = "quantity is NaN";
    return failure();
  }
  if (std::isinf(value)) {
    error = "quantity is infinite";
    return failure();
  }
  if (value < 0) {
    error = "negative quantity " + std::to_string(value);
    return failure();
  }
  if (value > kMaxQuantity) {
    error = "quantity exceeds the maximum of 1e14";
    return failure();
  }
  int64_t units = std::llround(value * kScale);
  if (value > 0 && units == 0) {
    error = "quantity is below the resolution of 0.0001";
    return failure();
  }
  return units;
}

ResourcesAttr
ResourcesAttr::getFromUnits(MLIRContext *ctx,
                            ArrayRef<std::pair<StringRef, int64_t>> units) {
  Builder b(ctx);
  SmallVector<NamedAttribute> entries;
  for (auto [name, q] : units)
    if (q != 0)
      entries.push_back(b.getNamedAttr(name, b.getI64IntegerAttr(q)));
  return get(ctx, b.getDictionaryAttr(entries));
}

int64_t ResourcesAttr::getUnitsOf(StringRef name) const {
  if (auto q = getUnits().getAs<IntegerAttr>(name))
    return q.getInt();
  return 0;
}

bool ResourcesAttr::fitsIn(ResourcesAttr capacity) const {
  return llvm::all_of(getUnits(), [&](NamedAttribute e) {
    return cast<IntegerAttr>(e.getValue()).getInt() <=
           capacity.getUnitsOf(e.getName());
  });
}

ResourcesAttr ResourcesAttr::plus(ResourcesAttr other) const {
  llvm::StringMap<int64_t> sum;
  for (ResourcesAttr s : {*this, other})
    for (NamedAttribute e : s.getUnits())
      sum[e.getName()] += cast<IntegerAttr>(e.getValue()).getInt();
  SmallVector<std::pair<StringRef, int64_t>> pairs;
  for (auto &e : sum)
    pairs.emplace_back(e.getKey(), e.getValue());
  return getFromUnits(getContext(), pairs);
}

std::string ResourcesAttr::str() const {
  std::string out = "{";
  llvm::interleave(
      getUnits(),
      [&](NamedAttribute e) {
        out += e.getName().str() + " = " +
               formatQuantity(cast<IntegerAttr>(e.getValue()).getInt());
      },
      [&] { out += ", "; });
  return out + "}";
}

LogicalResult
ResourcesAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      DictionaryAttr units) {
  if (!units)
    return emitError() << "#ray.resources needs a dictionary";
  for (NamedAttribute e : units) {
    if (auto error = checkName(e.getName()))
      return emitError() << *error;
    auto q = dyn_cast<IntegerAttr>(e.getValue());
    if (!q || !q.getType().isInteger(64))
      return emitError() << "resource '" << e.getName().getValue()
                         << "' must be an i64 count of 1/10000 units";
    if (q.getInt() <= 0)
      return emitError() << "resource '" << e.getName().getValue()
                         << "' must be positive in #ray.resources, got "
                         << q.getInt() << " units";
  }
  return success();
}

ParseResult raycc::ray::parseResourceDict(AsmParser &parser,
                                          ResourcesAttr &result) {
  SmallVector<std::pair<std::string, int64_t>> entries;
  llvm::StringSet<> seen;
  if (parser.parseLBrace())
    return failure();
  if (failed(parser.parseOptionalRBrace())) {
    do {
      SMLoc nameLoc = parser.getCurrentLocation();
      std::string name;
      if (failed(parser.parseOptionalKeywordOrString(&name)))
        return parser.emitError(nameLoc,
                                "expected a resource name (identifier or "
                                "quoted string)");
      if (auto error = ResourcesAttr::checkName(name))
        return parser.emitError(nameLoc, *error);
      if (!seen.insert(name).second)
        return parser.emitError(nameLoc)
               << "resource '" << name << "' is given twice";
      if (parser.parseEqual())
        return failure();
      SMLoc valueLoc = parser.getCurrentLocation();
      // Integers (`CPU = 2`) and floats (`GPU = 0.5`) are both quantities.
      double value = 0;
      uint64_t integer = 0;
      OptionalParseResult isInteger;
      bool negative = succeeded(parser.parseOptionalMinus());
      // `nan` and `inf` are not MLIR float literals; accept them only to say
      // precisely why they are rejected.
      if (succeeded(parser.parseOptionalKeyword("nan"))) {
        value = std::nan("");
      } else if (succeeded(parser.parseOptionalKeyword("inf"))) {
        value = HUGE_VAL;
      } else if ((isInteger = parser.parseOptionalInteger(integer))
                     .has_value()) {
        if (failed(*isInteger))
          return failure();
        value = static_cast<double>(integer);
      } else {
        APFloat f(0.0);
        if (parser.parseFloat(APFloat::IEEEdouble(), f))
          return failure();
        value = f.convertToDouble();
      }
      if (negative)
        value = -value;
      std::string error;
      FailureOr<int64_t> units = ResourcesAttr::toUnits(value, error);
      if (failed(units))
        return parser.emitError(valueLoc)
               << "resource '" << name << "': " << error;
      entries.emplace_back(std::move(name), *units);
    } while (succeeded(parser.parseOptionalComma()));
    if (parser.parseRBrace())
      return failure();
  }
  SmallVector<std::pair<StringRef, int64_t>> refs;
  for (auto &[name, units] : entries)
    refs.emplace_back(name, units);
  result = ResourcesAttr::getFromUnits(parser.getContext(), refs);
  return success();
}

void raycc::ray::printResourceDict(AsmPrinter &printer, ResourcesAttr attr) {
  printer << "{";
  llvm::interleaveComma(attr.getUnits(), printer, [&](NamedAttribute e) {
    printer.printKeywordOrString(e.getName().getValue());
    printer << " = "
            << ResourcesAttr::formatQuantity(
                   cast<IntegerAttr>(e.getValue()).getInt());
  });
  printer << "}";
}

Attribute ResourcesAttr::parse(AsmParser &parser, Type) {
  ResourcesAttr result;
  if (parser.parseLess() || parseResourceDict(parser, result) ||
      parser.parseGreater())
    return {};
  return result;
}

void ResourcesAttr::print(AsmPrinter &printer) const {
  printer << "<";
  printResourceDict(printer, *this);
  printer << ">";
}

//===----------------------------------------------------------------------===//
// SchedulingStrategyAttr
//===----------------------------------------------------------------------===//

SchedulingStrategyAttr SchedulingStrategyAttr::getDefault(MLIRContext *ctx) {
  return get(ctx, SchedulingKind::default_, nullptr, false, -1);
}

SchedulingStrategyAttr
SchedulingStrategyAttr::getPlacementGroup(MLIRContext *ctx,
                                          int64_t bundleIndex) {
  return get(ctx, SchedulingKind::placement_group, nullptr, false, bundleIndex);
}

Attribute SchedulingStrategyAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<SchedulingKind> kind = symbolizeSchedulingKind(keyword);
  if (!kind) {
    parser.emitError(loc) << "unknown scheduling strategy '" << keyword
                          << "'; expected default, spread, node_affinity or "
                             "placement_group";
    return {};
  }
  StringAttr node;
  bool soft = false;
  int64_t bundle = -1;
  if (*kind == SchedulingKind::node_affinity) {
    std::string name;
    if (parser.parseString(&name))
      return {};
    node = StringAttr::get(ctx, name);
    soft = succeeded(parser.parseOptionalKeyword("soft"));
  } else if (*kind == SchedulingKind::placement_group &&
             succeeded(parser.parseOptionalKeyword("bundle"))) {
    if (parser.parseInteger(bundle))
      return {};
  }
  if (parser.parseGreater())
    return {};
  return SchedulingStrategyAttr::getChecked(
      [&] { return parser.emitError(loc); }, ctx, *kind, node, soft, bundle);
}

void SchedulingStrategyAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifySchedulingKind(getKind());
  if (getKind() == SchedulingKind::node_affinity) {
    printer << " ";
    printer.printString(getNode().getValue());
    if (getSoft())
      printer << " soft";
  }
  if (getKind() == SchedulingKind::placement_group && getBundleIndex() >= 0)
    printer << " bundle " << getBundleIndex();
  printer << ">";
}

LogicalResult
SchedulingStrategyAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               SchedulingKind kind, StringAttr node, bool soft,
                               int64_t bundleIndex) {
  bool affinity = kind == SchedulingKind::node_affinity;
  if (affinity && (!node || node.getValue().empty()))
    return emitError() << "node_affinity needs a node name";
  if (!affinity && (node || soft))
    return emitError() << "only node_affinity names a node or is soft";
  if (kind != SchedulingKind::placement_group && bundleIndex != -1)
    return emitError() << "only placement_group has a bundle index";
  if (bundleIndex < -1)
    return emitError() << "bundle index must be >= 0 (or absent for any "
                          "bundle), got "
                       << bundleIndex;
  return success();
}

//===----------------------------------------------------------------------===//
// PlacementAttr
//===----------------------------------------------------------------------===//

LogicalResult
PlacementAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      StringRef node, int64_t bundle) {
  if (node.empty())
    return emitError() << "#ray.placement needs a node name";
  if (bundle < -1)
    return emitError() << "#ray.placement bundle must be >= -1, got " << bundle;
  return success();
}

void RayDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "raycc/ir/RayAttrs.cpp.inc"
      >();
}
