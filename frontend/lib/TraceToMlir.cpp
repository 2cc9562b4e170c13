//===- TraceToMlir.cpp - traced graphs to the ray dialect -----------------===//

#include "raycc/frontend/TraceToMlir.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"

#include "raycc/ir/RayOps.h"

using namespace mlir;

namespace raycc::frontend {
namespace {

/// Builds one module; `failed` is set by any error.
class ModuleBuilder {
public:
  explicit ModuleBuilder(MLIRContext &context)
      : ctx(&context), builder(&context) {
    module = ModuleOp::create(UnknownLoc::get(ctx));
    builder.setInsertionPointToEnd(module->getBody());
  }

  OwningOpRef<ModuleOp> build(ArrayRef<trace::Graph> graphs) {
    for (const trace::Graph &graph : graphs) {
      if (!graph.errors.empty()) {
        for (const trace::Diagnostic &d : graph.errors)
          error(loc(d.loc), d.message);
        continue;
      }
      buildGraph(graph);
    }
    if (failed)
      return nullptr;
    // What the user asked for may still break a rule of the dialect
    // (SetMaxConcurrency(0), a graph named like a function): the verifier
    // says so at the user's line.
    if (::mlir::failed(mlir::verify(*module)))
      return nullptr;
    return std::move(module);
  }

private:
  Location loc(const trace::SourceLocation &l) {
    if (l.file.empty())
      return UnknownLoc::get(ctx);
    return FileLineColLoc::get(ctx, l.file, l.line, l.column);
  }

  InFlightDiagnostic error(Location where, const Twine &message) {
    failed = true;
    return emitError(where) << message;
  }

  Type type(const trace::Type &t) {
    switch (t.kind) {
    case trace::Type::Kind::kInteger:
      return builder.getIntegerType(t.width);
    case trace::Type::Kind::kFloat:
      return t.width == 32 ? Type(builder.getF32Type())
                           : Type(builder.getF64Type());
    case trace::Type::Kind::kOpaque:
      return ray::CppType::get(ctx, t.name);
    case trace::Type::Kind::kNone:
      break;
    }
    return {};
  }

  /// The IR type of a value of the graph.
  Type valueType(const trace::Value &v) {
    switch (v.kind) {
    case trace::ValueKind::kRef:
      return ray::RefType::get(type(v.type));
    case trace::ValueKind::kConstant:
      return type(v.type);
    case trace::ValueKind::kActor:
      return ray::ActorType::get(ctx, v.actor_class);
    case trace::ValueKind::kPlacementGroup:
      return ray::PlacementGroupType::get(ctx);
    case trace::ValueKind::kToken:
      return ray::TokenType::get(ctx);
    }
    return {};
  }

  FunctionType signature(const trace::Function &f) {
    SmallVector<Type> params;
    for (const trace::Type &p : f.params)
      params.push_back(type(p));
    SmallVector<Type> results;
    if (f.result.kind != trace::Type::Kind::kNone)
      results.push_back(type(f.result));
    return builder.getFunctionType(params, results);
  }

  /// Declares `f` at module level once; checks later uses agree. Returns
  /// the symbol the ops refer to (the method's name within its class for
  /// methods), or "" after an error.
  std::string declare(const trace::Function &f, Location use) {
    OpBuilder::InsertionGuard guard(builder);
    FunctionType fnType = signature(f);
    auto conflict = [&](FunctionType declared) {
      error(use, "'" + f.registered_name + "' is used with two signatures: ")
          << declared << " and " << fnType;
      return std::string();
    };
    switch (f.kind) {
    case trace::Function::Kind::kTask: {
      if (auto it = tasks.find(f.registered_name); it != tasks.end()) {
        if (it->second.getFunctionType() != fnType)
          return conflict(it->second.getFunctionType());
        return f.registered_name;
      }
      setInsertionPointForDeclarations();
      auto op =
          ray::RemoteFuncOp::create(builder, use, f.registered_name, fnType);
      if (f.pure)
        op.setPure(true);
      tasks[f.registered_name] = op;
      return f.registered_name;
    }
    case trace::Function::Kind::kFactory: {
      ray::ActorClassOp cls = actorClass(f.actor_class, use);
      auto [it, first] =
          factories.try_emplace(f.actor_class, f.registered_name);
      if (first) {
        cls.setConstructorType(fnType);
        if (f.registered_name != f.actor_class + "::Create")
          cls.setFactory(f.registered_name);
        return f.actor_class;
      }
      if (it->second != f.registered_name) {
        error(use, "actor class '" + f.actor_class + "' is created by both '" +
                       it->second + "' and '" + f.registered_name + "'");
        return "";
      }
      if (cls.getConstructorType() != fnType)
        return conflict(cls.getConstructorType());
      return f.actor_class;
    }
    case trace::Function::Kind::kMethod: {
      StringRef name = f.registered_name;
      std::string prefix = f.actor_class + "::";
      if (!name.consume_front(prefix)) {
        error(use, "the method is registered as '" + f.registered_name +
                       "', not as a method of the actor's class '" +
                       f.actor_class + "'");
        return "";
      }
      ray::ActorClassOp cls = actorClass(f.actor_class, use);
      if (auto method = dyn_cast_or_null<ray::ActorMethodOp>(
              SymbolTable::lookupSymbolIn(cls, name))) {
        if (method.getFunctionType() != fnType)
          return conflict(method.getFunctionType());
        return name.str();
      }
      builder.setInsertionPointToEnd(&cls.getBody().front());
      ray::ActorMethodOp::create(builder, use, name, fnType);
      return name.str();
    }
    }
    return "";
  }

  ray::ActorClassOp actorClass(const std::string &name, Location use) {
    if (auto it = classes.find(name); it != classes.end())
      return it->second;
    OpBuilder::InsertionGuard guard(builder);
    setInsertionPointForDeclarations();
    auto cls = ray::ActorClassOp::create(builder, use, name,
                                         builder.getFunctionType({}, {}));
    classes[name] = cls;
    return cls;
  }

  /// Declarations go before the first graph.
  void setInsertionPointForDeclarations() {
    for (Operation &op : module->getBody()->getOperations()) {
      if (isa<ray::GraphOp>(op)) {
        builder.setInsertionPoint(&op);
        return;
      }
    }
    builder.setInsertionPointToEnd(module->getBody());
  }

  ray::ResourcesAttr resources(const std::map<std::string, double> &quantities,
                               Location where) {
    SmallVector<std::pair<StringRef, int64_t>> units;
    for (const auto &[name, quantity] : quantities) {
      if (auto bad = ray::ResourcesAttr::checkName(name)) {
        error(where, *bad);
        continue;
      }
      std::string message;
      FailureOr<int64_t> u = ray::ResourcesAttr::toUnits(quantity, message);
      if (::mlir::failed(u)) {
        error(where, "resource '" + name + "': " + message);
        continue;
      }
      units.emplace_back(name, *u);
    }
    return ray::ResourcesAttr::getFromUnits(ctx, units);
  }

  /// The options every call shares.
  template <typename OpT>
  void setCommonOptions(OpT op, const trace::CallOptions &o) {
    if (o.max_retries)
      op.setMaxRetriesAttr(builder.getI64IntegerAttr(*o.max_retries));
    if (!o.name.empty())
      op.setNameAttr(builder.getStringAttr(o.name));
    if (o.priority)
      op.setPriorityAttr(builder.getI64IntegerAttr(*o.priority));
    if (o.cost_duration_us != 0 || o.cost_result_bytes != 0)
      op.setCostAttr(
          ray::CostAttr::get(ctx, o.cost_duration_us, o.cost_result_bytes));
  }

  /// Resources and placement of tasks, maps and actor creations.
  template <typename OpT>
  void setPlacedOptions(OpT op, const trace::CallOptions &o,
                        ArrayRef<Value> values) {
    if (o.resources)
      op.setResourcesAttr(resources(*o.resources, op.getLoc()));
    if (o.placement_group) {
      op.getPgMutable().assign(values[*o.placement_group]);
      op.setStrategyAttr(
          ray::SchedulingStrategyAttr::getPlacementGroup(ctx, o.bundle_index));
    } else if (!o.node_name.empty()) {
      op.setStrategyAttr(ray::SchedulingStrategyAttr::get(
          ctx, ray::SchedulingKind::node_affinity,
          builder.getStringAttr(o.node_name), o.node_soft, -1));
    } else if (o.strategy == "spread") {
      op.setStrategyAttr(ray::SchedulingStrategyAttr::get(
          ctx, ray::SchedulingKind::spread, StringAttr(), false, -1));
    }
    if (!o.label_selector.empty()) {
      SmallVector<NamedAttribute> entries;
      for (const auto &[key, spec] : o.label_selector)
        entries.push_back(
            builder.getNamedAttr(key, builder.getStringAttr(spec)));
      op.setLabelSelectorAttr(builder.getDictionaryAttr(entries));
    }
  }

  void buildGraph(const trace::Graph &graph) {
    // The signature: inputs are objects, outputs whatever they name.
    SmallVector<Type> inputTypes, outputTypes;
    for (const trace::NamedValue &in : graph.inputs)
      inputTypes.push_back(valueType(graph.values[in.value]));
    for (const trace::NamedValue &out : graph.outputs)
      outputTypes.push_back(valueType(graph.values[out.value]));
    builder.setInsertionPointToEnd(module->getBody());
    auto op =
        ray::GraphOp::create(builder, loc(graph.loc), graph.name,
                             builder.getFunctionType(inputTypes, outputTypes));
    auto nameAttr = builder.getStringAttr("ray.name");
    for (auto [i, in] : llvm::enumerate(graph.inputs))
      op.setArgAttr(i, nameAttr, builder.getStringAttr(in.name));
    for (auto [i, out] : llvm::enumerate(graph.outputs))
      op.setResultAttr(i, nameAttr, builder.getStringAttr(out.name));

    Block &body = op.getBodyBlock();
    builder.setInsertionPointToEnd(&body);
    SmallVector<Value> values(graph.values.size());
    for (auto [i, in] : llvm::enumerate(graph.inputs)) {
      values[in.value] = body.getArgument(i);
      body.getArgument(i).setLoc(loc(in.loc));
    }

    for (const trace::Op &t : graph.ops) {
      Location where = loc(t.loc);
      SmallVector<Value> operands;
      for (uint32_t v : t.operands)
        operands.push_back(values[v]);
      const trace::Value &result = graph.values[t.result];
      Value defined;
      switch (t.kind) {
      case trace::OpKind::kConstant: {
        Type ty = type(result.type);
        TypedAttr attr;
        if (auto *i = std::get_if<int64_t>(&result.constant))
          attr = builder.getIntegerAttr(ty, *i);
        else
          attr = builder.getFloatAttr(ty, std::get<double>(result.constant));
        defined = arith::ConstantOp::create(builder, where, attr);
        break;
      }
      case trace::OpKind::kTask: {
        std::string callee = declare(graph.functions[t.function], where);
        auto task = ray::TaskOp::create(
            builder, where, TypeRange{valueType(result)}, callee, operands);
        setCommonOptions(task, t.options);
        setPlacedOptions(task, t.options, values);
        if (t.options.retry_exceptions)
          task.setRetryExceptions(true);
        defined = task.getResult(0);
        break;
      }
      case trace::OpKind::kMap: {
        std::string callee = declare(graph.functions[t.function], where);
        auto map = ray::MapOp::create(builder, where, valueType(result), callee,
                                      operands, t.shards);
        setCommonOptions(map, t.options);
        // (No node affinity: the DSL does not compile one on a map.)
        setPlacedOptions(map, t.options, values);
        if (t.options.retry_exceptions)
          map.setRetryExceptions(true);
        if (!t.per_shard.empty())
          map.setPerShardAttr(builder.getDenseI64ArrayAttr(
              SmallVector<int64_t>(t.per_shard.begin(), t.per_shard.end())));
        defined = map.getResult();
        break;
      }
      case trace::OpKind::kActorCreate: {
        const trace::Function &factory = graph.functions[t.function];
        declare(factory, where);
        auto create = ray::ActorCreateOp::create(
            builder, where, actorClass(factory.actor_class, where), operands);
        setCommonOptions(create, t.options);
        setPlacedOptions(create, t.options, values);
        if (t.options.max_restarts)
          create.setMaxRestartsAttr(
              builder.getI64IntegerAttr(*t.options.max_restarts));
        if (t.options.max_concurrency)
          create.setMaxConcurrencyAttr(
              builder.getI64IntegerAttr(*t.options.max_concurrency));
        defined = create.getActor();
        break;
      }
      case trace::OpKind::kActorCall: {
        std::string method = declare(graph.functions[t.function], where);
        auto call = ray::ActorCallOp::create(
            builder, where, TypeRange{valueType(result)}, operands.front(),
            method, ValueRange(operands).drop_front(), nullptr, nullptr,
            nullptr, nullptr);
        setCommonOptions(call, t.options);
        defined = call.getResult(0);
        break;
      }
      case trace::OpKind::kActorKill:
        defined =
            ray::ActorKillOp::create(builder, where, ray::TokenType::get(ctx),
                                     operands.front())
                .getDone();
        break;
      case trace::OpKind::kPlacementGroup: {
        SmallVector<ray::ResourcesAttr> bundles;
        for (const auto &b : t.bundles)
          bundles.push_back(resources(b, where));
        auto pg = ray::PlacementGroupOp::create(
            builder, where, static_cast<ray::PlacementStrategy>(t.strategy),
            bundles);
        if (!t.options.name.empty())
          pg.setNameAttr(builder.getStringAttr(t.options.name));
        defined = pg.getPg();
        break;
      }
      }
      values[t.result] = defined;
    }
    SmallVector<Value> outputs;
    for (const trace::NamedValue &out : graph.outputs)
      outputs.push_back(values[out.value]);
    Location end =
        graph.outputs.empty() ? loc(graph.loc) : loc(graph.outputs.back().loc);
    ray::OutputOp::create(builder, end, outputs);
  }

  MLIRContext *ctx;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  llvm::StringMap<ray::RemoteFuncOp> tasks;
  std::map<std::string, ray::ActorClassOp> classes;
  /// Actor class -> the factory that creates it.
  std::map<std::string, std::string> factories;
  bool failed = false;
};

} // namespace

OwningOpRef<ModuleOp> buildModule(MLIRContext &context,
                                  ArrayRef<trace::Graph> graphs) {
  context.loadDialect<ray::RayDialect, arith::ArithDialect>();
  return ModuleBuilder(context).build(graphs);
}

} // namespace raycc::frontend
