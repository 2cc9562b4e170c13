//===- RayOps.cpp - ray dialect operations ----------------------*- C++ -*-===//
//
// Verifiers, folds, canonicalizations and custom syntax of the ray ops. Every
// rule a user can break has a diagnostic here, tested in
// tests/lit/ir/invalid.mlir.
//
//===----------------------------------------------------------------------===//

#include "raycc/ir/RayOps.h"
#include "raycc/ir/LabelSelector.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace raycc::ray;

//===----------------------------------------------------------------------===//
// Custom directives
//===----------------------------------------------------------------------===//

static ParseResult parseResourceSet(OpAsmParser &parser, ResourcesAttr &attr) {
  return raycc::ray::parseResourceDict(parser, attr);
}

static void printResourceSet(OpAsmPrinter &p, Operation *, ResourcesAttr attr) {
  raycc::ray::printResourceDict(p, attr);
}

static ParseResult parsePGStrategy(OpAsmParser &parser,
                                   PlacementStrategyAttr &attr) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<PlacementStrategy> strategy =
      symbolizePlacementStrategy(keyword);
  if (!strategy)
    return parser.emitError(loc)
           << "unknown placement strategy '" << keyword
           << "'; expected pack, spread, strict_pack or strict_spread";
  attr = PlacementStrategyAttr::get(parser.getContext(), *strategy);
  return success();
}

static void printPGStrategy(OpAsmPrinter &p, Operation *,
                            PlacementStrategyAttr attr) {
  p << stringifyPlacementStrategy(attr.getValue());
}

// `ray.put %x : T` — T must be a type a ref can hold (checked before the
// result type !ray.ref<T> is built, so bad input is a diagnostic).
static ParseResult parsePutType(OpAsmParser &parser, Type &value, Type &ref) {
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseType(value))
    return failure();
  if (!isValidRefElementType(value))
    return parser.emitError(loc)
           << "cannot store a value of type " << value
           << " (builtin scalars, tensors or !ray.opaque only)";
  ref = RefType::get(value);
  return success();
}

static void printPutType(OpAsmPrinter &p, Operation *, Type value, Type) {
  p << value;
}

// `ray.get %r : !ray.ref<T>` — the result is T.
static ParseResult parseGetType(OpAsmParser &parser, Type &ref, Type &value) {
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseType(ref))
    return failure();
  auto refType = dyn_cast<RefType>(ref);
  if (!refType)
    return parser.emitError(loc) << "ray.get needs a !ray.ref, got " << ref;
  value = refType.getElementType();
  return success();
}

static void printGetType(OpAsmPrinter &p, Operation *, Type ref, Type) {
  p << ref;
}

//===----------------------------------------------------------------------===//
// Shared checks
//===----------------------------------------------------------------------===//

/// The textual form of `type`, for messages that compose types.
static std::string typeString(Type type) {
  std::string out;
  llvm::raw_string_ostream os(out);
  type.print(os);
  return out;
}

/// Checks a call's operands against a signature in plain value types: each
/// operand is T or !ray.ref<T>.
static LogicalResult verifyCallArgs(Operation *op, StringRef what,
                                    FunctionType signature, ValueRange args) {
  ArrayRef<Type> params = signature.getInputs();
  if (args.size() != params.size())
    return op->emitOpError()
           << what << " takes " << params.size() << " argument(s) but "
           << args.size() << " were given";
  // Types are compared without building !ray.ref<T>: T may be invalid when
  // the declaration itself failed to verify.
  for (auto [i, arg, param] : llvm::enumerate(args.getTypes(), params)) {
    auto ref = dyn_cast<RefType>(arg);
    if (arg == param || (ref && ref.getElementType() == param))
      continue;
    return op->emitOpError()
           << "argument #" << i << " of " << what << " must be '"
           << typeString(param) << "' or '!ray.ref<" << typeString(param)
           << ">', got " << arg;
  }
  return success();
}

/// Checks a call's results against a signature: each result is !ray.ref<R>,
/// or, for a signature without results, nothing or a single !ray.token.
static LogicalResult verifyCallResults(Operation *op, StringRef what,
                                       FunctionType signature,
                                       TypeRange results) {
  ArrayRef<Type> returns = signature.getResults();
  if (returns.empty()) {
    if (results.empty() ||
        (results.size() == 1 && isa<TokenType>(results.front())))
      return success();
    return op->emitOpError() << what
                             << " returns nothing, so the call yields no "
                                "result or a single !ray.token";
  }
  if (results.size() != returns.size())
    return op->emitOpError()
           << what << " returns " << returns.size() << " value(s) but the call "
           << "yields " << results.size();
  for (auto [i, result, ret] : llvm::enumerate(results, returns)) {
    auto ref = dyn_cast<RefType>(result);
    if (!ref || ref.getElementType() != ret)
      return op->emitOpError() << "result #" << i << " must be '!ray.ref<"
                               << typeString(ret) << ">', got " << result;
  }
  return success();
}

/// Checks `in %pg` against the strategy, the bundle index against the group,
/// and the demanded resources against the bundle(s).
static LogicalResult verifyPlacementGroupUse(Operation *op, Value pg,
                                             SchedulingStrategyAttr strategy,
                                             ResourcesAttr demand) {
  bool inGroup =
      strategy && strategy.getKind() == SchedulingKind::placement_group;
  if (pg && !inGroup)
    return op->emitOpError("runs 'in' a placement group, so its strategy must "
                           "be #ray.strategy<placement_group ...>");
  if (inGroup && !pg)
    return op->emitOpError("has a placement_group strategy but no 'in %pg' "
                           "operand naming the group");
  if (!pg)
    return success();
  auto group = pg.getDefiningOp<PlacementGroupOp>();
  if (!group)
    return success(); // A graph input: its bundles are unknown here.
  SmallVector<BundleOp> bundles = group.getBundleOps();
  int64_t index = strategy.getBundleIndex();
  if (index >= static_cast<int64_t>(bundles.size()))
    return op->emitOpError()
               .append("bundle index ", index,
                       " is out of range: the placement group has ",
                       bundles.size(), " bundle(s)")
               .attachNote(group.getLoc())
           << "placement group defined here";
  if (!demand)
    return success();
  if (index >= 0) {
    ResourcesAttr holds = bundles[index].getResources();
    if (!demand.fitsIn(holds))
      return op->emitOpError()
                 .append("demands ", demand.str(), " but bundle ", index,
                         " of its placement group holds only ", holds.str())
                 .attachNote(bundles[index].getLoc())
             << "bundle defined here";
    return success();
  }
  if (llvm::none_of(
          bundles, [&](BundleOp b) { return demand.fitsIn(b.getResources()); }))
    return op->emitOpError()
               .append("demands ", demand.str(),
                       " but no bundle of its placement group holds that much")
               .attachNote(group.getLoc())
           << "placement group defined here";
  return success();
}

/// Checks that an optional integer attribute is at least `min`.
static LogicalResult verifyAtLeast(Operation *op, IntegerAttr attr,
                                   StringRef name, int64_t min,
                                   StringRef meaning = "") {
  if (!attr || attr.getInt() >= min)
    return success();
  InFlightDiagnostic diag = op->emitOpError() << name << " must be >= " << min;
  if (!meaning.empty())
    diag << " (" << meaning << ")";
  return diag << ", got " << attr.getInt();
}

static LogicalResult verifyRetries(Operation *op, IntegerAttr maxRetries) {
  return verifyAtLeast(op, maxRetries, "max_retries", -1, "-1: forever");
}

/// A label selector must parse (LabelSelector.h); work in a placement group
/// runs where its bundle is, so it takes none.
static LogicalResult verifyLabelSelector(Operation *op, DictionaryAttr selector,
                                         Value pg) {
  if (!selector)
    return success();
  if (llvm::Error e = parseLabelSelector(selector).takeError())
    return op->emitOpError() << llvm::toString(std::move(e));
  if (pg)
    return op->emitOpError("runs in a placement group, where its bundle is: "
                           "it cannot have a label_selector as well");
  return success();
}

//===----------------------------------------------------------------------===//
// RemoteFuncOp, ActorClassOp
//===----------------------------------------------------------------------===//

static LogicalResult verifyValueTypes(Operation *op, StringRef what,
                                      FunctionType type) {
  for (Type t : llvm::concat<const Type>(type.getInputs(), type.getResults()))
    if (!isValidRefElementType(t))
      return op->emitOpError()
             << what << " must use plain value types (builtin scalars, "
             << "tensors or !ray.opaque), got " << t;
  return success();
}

LogicalResult RemoteFuncOp::verify() {
  return verifyValueTypes(*this, "a remote function's signature",
                          getFunctionType());
}

void ActorClassOp::build(OpBuilder &builder, OperationState &state,
                         StringRef name, FunctionType ctorType) {
  state.addAttribute(getSymNameAttrName(state.name),
                     builder.getStringAttr(name));
  state.addAttribute(getConstructorTypeAttrName(state.name),
                     TypeAttr::get(ctorType));
  Region *body = state.addRegion();
  body->emplaceBlock();
}

std::string ActorClassOp::getFactoryName() {
  if (auto factory = getFactory())
    return factory->str();
  return (getSymName() + "::Create").str();
}

LogicalResult ActorClassOp::verify() {
  if (!getConstructorType().getResults().empty())
    return emitOpError("constructor_type must have no results (the "
                       "constructor makes the actor)");
  if (failed(verifyValueTypes(*this, "the constructor's signature",
                              getConstructorType())))
    return failure();
  for (Operation &op : getBody().front()) {
    if (!isa<ActorMethodOp>(op))
      return op.emitOpError("cannot appear in a ray.actor_class; only "
                            "ray.actor_method can");
  }
  return success();
}

LogicalResult ActorMethodOp::verify() {
  return verifyValueTypes(*this, "a method's signature", getFunctionType());
}

//===----------------------------------------------------------------------===//
// GraphOp, OutputOp
//===----------------------------------------------------------------------===//

void GraphOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                    FunctionType type) {
  state.addAttribute(getSymNameAttrName(state.name),
                     builder.getStringAttr(name));
  state.addAttribute(getFunctionTypeAttrName(state.name), TypeAttr::get(type));
  Region *body = state.addRegion();
  Block &block = body->emplaceBlock();
  for (Type t : type.getInputs())
    block.addArgument(t, state.location);
}

ParseResult GraphOp::parse(OpAsmParser &parser, OperationState &result) {
  auto buildType = [](Builder &builder, ArrayRef<Type> args,
                      ArrayRef<Type> results,
                      function_interface_impl::VariadicFlag, std::string &) {
    return builder.getFunctionType(args, results);
  };
  return function_interface_impl::parseFunctionOp(
      parser, result, /*allowVariadic=*/false,
      getFunctionTypeAttrName(result.name), buildType,
      getArgAttrsAttrName(result.name), getResAttrsAttrName(result.name));
}

void GraphOp::print(OpAsmPrinter &p) {
  function_interface_impl::printFunctionOp(
      p, *this, /*isVariadic=*/false, getFunctionTypeAttrName(),
      getArgAttrsAttrName(), getResAttrsAttrName());
}

LogicalResult GraphOp::verify() {
  // The region constraint (exactly one block) already rules out bodiless
  // graphs; every graph input must be a type a value or ref can have.
  for (auto [i, type] : llvm::enumerate(getArgumentTypes()))
    if (!isValidRefElementType(type) &&
        !isa<RefType, ActorType, PlacementGroupType, TokenType>(type))
      return emitOpError() << "input #" << i << " has type " << type
                           << ", which a graph cannot take";
  return success();
}

LogicalResult OutputOp::verify() {
  auto graph = (*this)->getParentOfType<GraphOp>();
  ArrayRef<Type> declared = graph.getResultTypes();
  if (getOutputs().size() != declared.size())
    return emitOpError() << "returns " << getOutputs().size()
                         << " value(s) but graph @" << graph.getSymName()
                         << " declares " << declared.size();
  for (auto [i, value, type] : llvm::enumerate(getOutputs(), declared))
    if (value.getType() != type)
      return emitOpError() << "output #" << i << " has type " << value.getType()
                           << " but graph @" << graph.getSymName()
                           << " declares " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// TaskOp
//===----------------------------------------------------------------------===//

void TaskOp::build(OpBuilder &builder, OperationState &state, TypeRange results,
                   StringRef callee, ValueRange args) {
  state.addOperands(args);
  state.addAttribute(getCalleeAttrName(state.name),
                     FlatSymbolRefAttr::get(builder.getContext(), callee));
  state.addTypes(results);
  state.getOrAddProperties<Properties>().operandSegmentSizes = {
      static_cast<int32_t>(args.size()), 0};
}

void TaskOp::build(OpBuilder &builder, OperationState &state,
                   RemoteFuncOp callee, ValueRange args) {
  SmallVector<Type> results;
  for (Type t : callee.getFunctionType().getResults())
    results.push_back(RefType::get(t));
  build(builder, state, results, callee.getSymName(), args);
}

/// The remote function `name` names, or null after an error on `op`.
static RemoteFuncOp lookupRemoteFunc(Operation *op, FlatSymbolRefAttr name,
                                     SymbolTableCollection &symbolTable) {
  Operation *symbol = symbolTable.lookupNearestSymbolFrom(op, name);
  if (!symbol) {
    op->emitOpError() << "calls " << name
                      << ", but no ray.remote_func of that name exists";
    return nullptr;
  }
  auto callee = dyn_cast<RemoteFuncOp>(symbol);
  if (!callee)
    op->emitOpError() << "calls " << name << ", which is a '"
                      << symbol->getName() << "', not a ray.remote_func";
  return callee;
}

LogicalResult TaskOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  RemoteFuncOp callee = lookupRemoteFunc(*this, getCalleeAttr(), symbolTable);
  if (!callee)
    return failure();
  std::string what = ("@" + getCallee()).str();
  if (failed(verifyCallArgs(*this, what, callee.getFunctionType(), getArgs())))
    return failure();
  ArrayAttr fused = getFusedAttr();
  if (!fused)
    return verifyCallResults(*this, what, callee.getFunctionType(),
                             getResultTypes());
  // A fused chain g(f(args)): f takes the operands, each next function takes
  // the previous one's single result, the last one's results are the op's.
  if (fused.size() < 2 || cast<FlatSymbolRefAttr>(fused[0]) != getCalleeAttr())
    return emitOpError("fused must list at least two functions, the first "
                       "being the callee");
  RemoteFuncOp previous = callee;
  for (Attribute attr : fused.getValue().drop_front()) {
    RemoteFuncOp next =
        lookupRemoteFunc(*this, cast<FlatSymbolRefAttr>(attr), symbolTable);
    if (!next)
      return failure();
    ArrayRef<Type> produced = previous.getFunctionType().getResults();
    ArrayRef<Type> taken = next.getFunctionType().getInputs();
    if (produced.size() != 1 || taken.size() != 1 || produced[0] != taken[0])
      return emitOpError() << "cannot fuse @" << previous.getSymName()
                           << " into @" << next.getSymName()
                           << ": the second must take exactly the first's "
                              "single result";
    previous = next;
  }
  return verifyCallResults(*this, ("@" + previous.getSymName()).str(),
                           previous.getFunctionType(), getResultTypes());
}

LogicalResult TaskOp::verify() {
  if (failed(verifyRetries(*this, getMaxRetriesAttr())) ||
      failed(verifyLabelSelector(*this, getLabelSelectorAttr(), getPg())))
    return failure();
  return verifyPlacementGroupUse(*this, getPg(), getStrategyAttr(),
                                 getResourcesAttr());
}

/// The effects of a call of the remote functions `callees`: none when they
/// are all pure; anything else (an unknown callee included) may read and
/// write the world.
static void addCallEffects(
    Operation *op, ArrayRef<Attribute> callees,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  auto isPure = [&](Attribute name) {
    auto callee = SymbolTable::lookupNearestSymbolFrom<RemoteFuncOp>(
        op, cast<FlatSymbolRefAttr>(name));
    return callee && callee.getPure();
  };
  if (llvm::all_of(callees, isPure))
    return;
  effects.emplace_back(MemoryEffects::Read::get());
  effects.emplace_back(MemoryEffects::Write::get());
}

void TaskOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  SmallVector<Attribute, 4> callees = {getCalleeAttr()};
  if (ArrayAttr fused = getFusedAttr())
    llvm::append_range(callees, fused.getValue());
  addCallEffects(*this, callees, effects);
}

//===----------------------------------------------------------------------===//
// MapOp
//===----------------------------------------------------------------------===//

/// Whether `name` spells `std::vector<E>` for a C++ type E the IR type
/// `element` stands for (integers lose their signedness in the IR, so i64 is
/// int64_t or uint64_t). Not char or uint8_t: msgpack keeps a vector of those
/// as bytes, not as the array of shard results a map makes.
static bool isVectorOf(StringRef name, Type element) {
  if (!name.consume_front("std::vector<") || !name.consume_back(">"))
    return false;
  if (auto cpp = dyn_cast<CppType>(element))
    return name == cpp.getName();
  if (auto integer = dyn_cast<IntegerType>(element)) {
    unsigned width = integer.getWidth();
    if (width == 1)
      return name == "bool";
    std::string bits = std::to_string(width);
    if (width == 8)
      return name == "int8_t";
    return name == "int" + bits + "_t" || name == "uint" + bits + "_t";
  }
  if (element.isF64())
    return name == "double";
  if (element.isF32())
    return name == "float";
  return false;
}

void MapOp::build(OpBuilder &builder, OperationState &state, Type result,
                  StringRef callee, ValueRange args, int64_t shards) {
  state.addOperands(args);
  state.addAttribute(getCalleeAttrName(state.name),
                     FlatSymbolRefAttr::get(builder.getContext(), callee));
  state.addAttribute(getShardsAttrName(state.name),
                     builder.getI64IntegerAttr(shards));
  state.addTypes(result);
  state.getOrAddProperties<Properties>().operandSegmentSizes = {
      static_cast<int32_t>(args.size()), 0};
}

LogicalResult MapOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  RemoteFuncOp callee = lookupRemoteFunc(*this, getCalleeAttr(), symbolTable);
  if (!callee)
    return failure();
  FunctionType signature = callee.getFunctionType();
  ArrayRef<Type> params = signature.getInputs();
  if (params.empty() || !params.front().isInteger(64))
    return emitOpError() << "maps @" << getCallee()
                         << ", whose first parameter must be the shard index "
                            "(i64)";
  std::string what = ("@" + getCallee() + " after its shard index").str();
  // An operand taken shard by shard is the std::vector of the parameter.
  SmallVector<Type> taken(params.drop_front());
  for (int64_t k : getPerShardOperands()) {
    if (k < 0 || k >= static_cast<int64_t>(taken.size()))
      return emitOpError() << "per_shard names operand #" << k << ", but @"
                           << getCallee() << " takes " << taken.size()
                           << " argument(s) after its shard index";
    auto ref = dyn_cast<RefType>(getArgs()[k].getType());
    auto vector = ref ? dyn_cast<CppType>(ref.getElementType()) : CppType();
    if (!vector || !isVectorOf(vector.getName(), taken[k]))
      return emitOpError() << "operand #" << k
                           << " is taken shard by shard, so it must be a "
                              "!ray.ref of the std::vector of '"
                           << typeString(taken[k]) << "', got "
                           << getArgs()[k].getType();
    taken[k] = getArgs()[k].getType();
  }
  FunctionType rest =
      FunctionType::get(getContext(), taken, signature.getResults());
  if (failed(verifyCallArgs(*this, what, rest, getArgs())))
    return failure();
  if (signature.getNumResults() != 1)
    return emitOpError() << "maps @" << getCallee()
                         << ", which must return exactly one value";
  Type element = signature.getResult(0);
  auto vector = dyn_cast<CppType>(getResult().getType().getElementType());
  if (!vector || !isVectorOf(vector.getName(), element))
    return emitOpError() << "result must be a !ray.ref of the std::vector of "
                            "@"
                         << getCallee() << "'s result type ("
                         << typeString(element) << "), got "
                         << getResult().getType();
  return success();
}

LogicalResult MapOp::verify() {
  if (getShards() < 1 || getShards() > kMaxShards)
    return emitOpError() << "shards must be between 1 and " << kMaxShards
                         << ", got " << getShards();
  // Each operand taken shard by shard comes from a map of as many shards,
  // named once.
  ArrayRef<int64_t> perShard = getPerShardOperands();
  for (auto [n, k] : llvm::enumerate(perShard)) {
    if (k < 0 || k >= static_cast<int64_t>(getArgs().size()))
      return emitOpError() << "per_shard names operand #" << k << " of "
                           << getArgs().size();
    if (llvm::is_contained(perShard.take_front(n), k))
      return emitOpError() << "per_shard names operand #" << k << " twice";
    auto producer = getArgs()[k].getDefiningOp<MapOp>();
    if (!producer)
      return emitOpError() << "operand #" << k
                           << " is taken shard by shard, so it must be the "
                              "result of a ray.map";
    if (producer.getShards() != getShards())
      return emitOpError() << "operand #" << k << " comes from a map of "
                           << producer.getShards()
                           << " shards, taken shard by shard by a map of "
                           << getShards();
  }
  if (failed(verifyRetries(*this, getMaxRetriesAttr())) ||
      failed(verifyLabelSelector(*this, getLabelSelectorAttr(), getPg())))
    return failure();
  SchedulingStrategyAttr strategy = getStrategyAttr();
  if (strategy && strategy.getKind() == SchedulingKind::node_affinity)
    return emitOpError("shards are placed by the runtime or their placement "
                       "group: the strategy may be default, spread or "
                       "placement_group");
  if (failed(verifyPlacementGroupUse(*this, getPg(), strategy,
                                     getResourcesAttr())))
    return failure();
  // Over a mesh (no bundle named), shard i runs in bundle i mod B: every
  // bundle must hold a shard.
  auto group =
      getPg() ? getPg().getDefiningOp<PlacementGroupOp>() : PlacementGroupOp();
  if (!group || strategy.getBundleIndex() >= 0 || !getResourcesAttr())
    return success();
  for (auto [index, bundle] : llvm::enumerate(group.getBundleOps()))
    if (!getResourcesAttr().fitsIn(bundle.getResources()))
      return emitOpError()
                 .append("runs a shard in every bundle of its placement "
                         "group, but bundle ",
                         index, " holds only ", bundle.getResources().str(),
                         " of the ", getResourcesAttr().str(),
                         " a shard demands")
                 .attachNote(bundle.getLoc())
             << "bundle defined here";
  return success();
}

void MapOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  Attribute callee = getCalleeAttr();
  addCallEffects(*this, callee, effects);
}

//===----------------------------------------------------------------------===//
// Actor ops
//===----------------------------------------------------------------------===//

void ActorCreateOp::build(OpBuilder &builder, OperationState &state,
                          ActorClassOp cls, ValueRange args) {
  state.addOperands(args);
  state.addAttribute(getActorClassAttrName(state.name),
                     FlatSymbolRefAttr::get(cls.getSymNameAttr()));
  state.addTypes(ActorType::get(builder.getContext(), cls.getSymName()));
  state.getOrAddProperties<Properties>().operandSegmentSizes = {
      static_cast<int32_t>(args.size()), 0};
}

LogicalResult
ActorCreateOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto cls = symbolTable.lookupNearestSymbolFrom<ActorClassOp>(
      *this, getActorClassAttr());
  if (!cls)
    return emitOpError() << "creates @" << getActorClass()
                         << ", but no ray.actor_class of that name exists";
  if (getActor().getType().getClassName() != getActorClass())
    return emitOpError() << "result type " << getActor().getType()
                         << " does not match actor class @" << getActorClass();
  return verifyCallArgs(*this, ("the constructor of @" + getActorClass()).str(),
                        cls.getConstructorType(), getArgs());
}

LogicalResult ActorCreateOp::verify() {
  if (failed(verifyRetries(*this, getMaxRetriesAttr())) ||
      failed(verifyLabelSelector(*this, getLabelSelectorAttr(), getPg())))
    return failure();
  if (failed(verifyAtLeast(*this, getMaxRestartsAttr(), "max_restarts", -1,
                           "-1: forever")) ||
      failed(
          verifyAtLeast(*this, getMaxConcurrencyAttr(), "max_concurrency", 1)))
    return failure();
  // Placing the actor is what needs room in the bundle.
  ResourcesAttr demand = getPlacementResourcesAttr();
  if (!demand)
    demand = getResourcesAttr();
  return verifyPlacementGroupUse(*this, getPg(), getStrategyAttr(), demand);
}

void ActorCallOp::build(OpBuilder &builder, OperationState &state, Value actor,
                        ActorMethodOp method, ValueRange args) {
  SmallVector<Type> results;
  for (Type t : method.getFunctionType().getResults())
    results.push_back(RefType::get(t));
  build(builder, state, results, actor, method.getSymName(), args,
        /*max_retries=*/nullptr, /*priority=*/nullptr, /*cost=*/nullptr,
        /*name=*/nullptr);
}

LogicalResult
ActorCallOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  StringRef className = getActor().getType().getClassName();
  auto cls = symbolTable.lookupNearestSymbolFrom<ActorClassOp>(
      *this, StringAttr::get(getContext(), className));
  if (!cls)
    return emitOpError() << "calls a method of actor class '" << className
                         << "', but no ray.actor_class @" << className
                         << " exists";
  auto method = cls.lookupSymbol<ActorMethodOp>(getMethodAttr());
  if (!method)
    return emitOpError() << "actor class '" << className << "' has no method @"
                         << getMethod();
  std::string what = (className + "::" + getMethod()).str();
  if (failed(verifyCallArgs(*this, what, method.getFunctionType(), getArgs())))
    return failure();
  return verifyCallResults(*this, what, method.getFunctionType(),
                           getResultTypes());
}

LogicalResult ActorCallOp::verify() {
  return verifyRetries(*this, getMaxRetriesAttr());
}

//===----------------------------------------------------------------------===//
// Objects
//===----------------------------------------------------------------------===//

LogicalResult PutOp::verify() {
  Type value = getValue().getType();
  if (!isValidRefElementType(value))
    return emitOpError() << "cannot store a value of type " << value
                         << " (builtin scalars, tensors or !ray.opaque only)";
  if (getRef().getType().getElementType() != value)
    return emitOpError() << "result must be '!ray.ref<" << typeString(value)
                         << ">', got " << getRef().getType();
  return success();
}

OpFoldResult GetOp::fold(FoldAdaptor) {
  // get(put(x)) -> x: the object holds exactly the value that was put.
  if (auto put = getRef().getDefiningOp<PutOp>())
    return put.getValue();
  return {};
}

LogicalResult WaitOp::verify() {
  int64_t n = getNumReturnsAttr().getInt();
  if (n < 1 || n > static_cast<int64_t>(getRefs().size()))
    return emitOpError() << "num_returns must be in [1, " << getRefs().size()
                         << "] (the number of operands), got " << n;
  return verifyAtLeast(*this, getTimeoutMsAttr(), "timeout_ms", -1,
                       "-1: no timeout");
}

LogicalResult WaitOp::canonicalize(WaitOp op, PatternRewriter &rewriter) {
  // An earlier wait in the same block on the same operands with the same
  // options completes at the same moment: reuse it.
  if (op.getRefs().empty())
    return failure();
  for (Operation *user : op.getRefs().front().getUsers()) {
    auto other = dyn_cast<WaitOp>(user);
    if (!other || other == op || other->getBlock() != op->getBlock() ||
        !other->isBeforeInBlock(op))
      continue;
    if (llvm::equal(other.getRefs(), op.getRefs()) &&
        other.getNumReturnsAttr() == op.getNumReturnsAttr() &&
        other.getTimeoutMsAttr() == op.getTimeoutMsAttr()) {
      rewriter.replaceOp(op, other.getReady());
      return success();
    }
  }
  return failure();
}

OpFoldResult JoinOp::fold(FoldAdaptor) {
  // join(%t) of a single token is that token.
  if (getInputs().size() == 1 && isa<TokenType>(getInputs()[0].getType()))
    return getInputs()[0];
  return {};
}

//===----------------------------------------------------------------------===//
// Placement groups
//===----------------------------------------------------------------------===//

void PlacementGroupOp::build(OpBuilder &builder, OperationState &state,
                             PlacementStrategy strategy,
                             ArrayRef<ResourcesAttr> bundles) {
  state.addAttribute(
      getStrategyAttrName(state.name),
      PlacementStrategyAttr::get(builder.getContext(), strategy));
  state.addTypes(PlacementGroupType::get(builder.getContext()));
  Region *region = state.addRegion();
  Block &block = region->emplaceBlock();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&block);
  for (ResourcesAttr bundle : bundles)
    BundleOp::create(builder, state.location, bundle);
}

SmallVector<BundleOp> PlacementGroupOp::getBundleOps() {
  return llvm::to_vector(getBundles().front().getOps<BundleOp>());
}

LogicalResult PlacementGroupOp::verify() {
  int64_t index = 0;
  for (Operation &op : getBundles().front()) {
    auto bundle = dyn_cast<BundleOp>(op);
    if (!bundle)
      return op.emitOpError("cannot appear in a ray.placement_group; only "
                            "ray.bundle can");
    if (bundle.getResources().empty())
      return bundle.emitOpError()
             << "bundle #" << index << " reserves no resources";
    ++index;
  }
  if (index == 0)
    return emitOpError("needs at least one ray.bundle");
  if (ArrayAttr nodes = getBundleNodesAttr()) {
    if (static_cast<int64_t>(nodes.size()) != index)
      return emitOpError() << "bundle_nodes names " << nodes.size()
                           << " node(s) for " << index << " bundle(s)";
    llvm::StringSet<> seen;
    for (Attribute node : nodes) {
      StringRef name = cast<StringAttr>(node).getValue();
      if (name.empty())
        return emitOpError("bundle_nodes names an empty node");
      seen.insert(name);
    }
    if (getStrategy() == PlacementStrategy::strict_pack && seen.size() > 1)
      return emitOpError("is strict_pack, but bundle_nodes puts its bundles "
                         "on several nodes");
    if (getStrategy() == PlacementStrategy::strict_spread &&
        seen.size() != nodes.size())
      return emitOpError("is strict_spread, but bundle_nodes puts two of its "
                         "bundles on one node");
  }
  return success();
}

#define GET_OP_CLASSES
#include "raycc/ir/RayOps.cpp.inc"
