//===- LowerToPlan.cpp - ray-lower-to-plan --------------------------------===//
//
// The ExecPlan is the only thing the runtime reads of the compiler's output;
// every decision a pass made must survive this lowering (tested in
// tests/passes/lower_to_plan_test.cpp).
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <google/protobuf/text_format.h>

#include "DependencyGraph.h"
#include "ResourceDefaults.h"
#include "raycc/passes/Passes.h"
#include "raycc/passes/Plan.h"
#include "raycc/proto/exec_plan.pb.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYLOWERTOPLAN
#include "raycc/passes/Passes.h.inc"

namespace {

std::string typeText(Type type) {
  std::string out;
  llvm::raw_string_ostream os(out);
  type.print(os);
  return out;
}

void setResources(proto::ResourceSet *out, ResourcesAttr attr) {
  if (!attr)
    return;
  for (NamedAttribute e : attr.getUnits())
    (*out->mutable_quantities())[e.getName().str()] =
        cast<IntegerAttr>(e.getValue()).getInt();
}

void setLocation(proto::SourceLocation *out, Location loc) {
  FileLineColLoc found;
  loc->walk([&](Location l) {
    if (auto fl = dyn_cast<FileLineColLoc>(l)) {
      found = fl;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!found)
    return;
  out->set_file(found.getFilename().str());
  out->set_line(found.getLine());
  out->set_column(found.getColumn());
}

/// A constant as msgpack (int64, double, bool), as the runtime decodes
/// arguments. Other constants are a lowering error.
FailureOr<std::string> msgpackConstant(Attribute value) {
  std::string out;
  auto bigEndian = [&](uint8_t tag, uint64_t bits) {
    out.push_back(static_cast<char>(tag));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((bits >> shift) & 0xff));
  };
  if (auto i = dyn_cast<IntegerAttr>(value)) {
    if (i.getType().isInteger(1)) {
      out.push_back(static_cast<char>(i.getValue().isZero() ? 0xc2 : 0xc3));
      return out;
    }
    if (isa<IntegerType, IndexType>(i.getType())) {
      bigEndian(0xd3, static_cast<uint64_t>(i.getValue().getSExtValue()));
      return out;
    }
  }
  if (auto f = dyn_cast<FloatAttr>(value)) {
    double d = f.getValueAsDouble();
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    bigEndian(0xcb, bits);
    return out;
  }
  return failure();
}

struct Lowering {
  GraphOp graph;
  DependencyGraph deps;
  proto::ExecPlan plan;
  llvm::DenseMap<Operation *, uint32_t> nodeOf;  // op -> plan node id
  llvm::DenseMap<Operation *, uint32_t> groupOf; // pg op -> plan pg index

  LogicalResult operand(Value value, proto::PlanOperand *out) {
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      out->set_graph_input(arg.getArgNumber());
      return success();
    }
    Operation *def = value.getDefiningOp();
    Attribute constant;
    if (matchPattern(value, m_Constant(&constant))) {
      FailureOr<std::string> bytes = msgpackConstant(constant);
      if (failed(bytes))
        return def->emitError("cannot lower this constant to the plan: only "
                              "integers, floats and booleans are supported");
      out->set_constant(*bytes);
      return success();
    }
    auto it = nodeOf.find(def);
    if (it == nodeOf.end())
      return def->emitError("this op's result cannot be a plan operand");
    out->mutable_node_result()->set_node(it->second);
    out->mutable_node_result()->set_result(
        cast<OpResult>(value).getResultNumber());
    return success();
  }

  void scheduling(Operation *op, Value pg, SchedulingStrategyAttr strategy,
                  DictionaryAttr labels, proto::PlanScheduling *out) {
    if (labels)
      for (NamedAttribute entry : labels)
        (*out->mutable_label_selector())[entry.getName().str()] =
            cast<StringAttr>(entry.getValue()).str();
    if (!strategy)
      return;
    switch (strategy.getKind()) {
    case SchedulingKind::default_:
      out->mutable_default_strategy();
      break;
    case SchedulingKind::spread:
      out->mutable_spread();
      break;
    case SchedulingKind::node_affinity:
      out->mutable_node_affinity()->set_node_name(
          strategy.getNode().getValue().str());
      out->mutable_node_affinity()->set_soft(strategy.getSoft());
      break;
    case SchedulingKind::placement_group:
      if (pg && pg.getDefiningOp())
        out->mutable_placement_group()->set_placement_group(
            groupOf.lookup(pg.getDefiningOp()));
      out->mutable_placement_group()->set_bundle_index(
          static_cast<int32_t>(strategy.getBundleIndex()));
      break;
    }
  }

  void common(Operation *op, proto::PlanNode *node) {
    if (auto name = op->getAttrOfType<StringAttr>("name"))
      node->set_name(name.str());
    if (auto p = op->getAttrOfType<IntegerAttr>("priority"))
      node->set_priority(p.getInt());
    node->set_on_critical_path(op->hasAttr("ray.critical"));
    node->set_max_retries(0);
    if (auto r = op->getAttrOfType<IntegerAttr>("max_retries"))
      node->set_max_retries(static_cast<int32_t>(r.getInt()));
    if (auto placement = op->getAttrOfType<PlacementAttr>("placement")) {
      node->mutable_placement()->set_node_name(placement.getNode().str());
      node->mutable_placement()->set_bundle_index(
          static_cast<int32_t>(placement.getBundle()));
    }
    if (auto cost = op->getAttrOfType<CostAttr>("cost")) {
      node->mutable_cost()->set_estimated_duration_us(cost.getDurationUs());
      node->mutable_cost()->set_result_bytes(cost.getResultBytes());
    }
    setLocation(node->mutable_location(), op->getLoc());
    for (Type t : op->getResultTypes())
      node->add_result_types()->set_ir_type(typeText(t));
    node->set_num_results(op->getNumResults());
  }

  LogicalResult lowerOp(Operation *op) {
    if (auto pg = dyn_cast<PlacementGroupOp>(op)) {
      proto::PlanPlacementGroup *group = plan.add_placement_groups();
      group->set_index(plan.placement_groups_size() - 1);
      groupOf[op] = group->index();
      if (auto name = pg.getNameAttr())
        group->set_name(name.str());
      group->set_strategy(
          static_cast<proto::PlacementStrategy>(pg.getStrategy()));
      group->set_synthesized(op->hasAttr("ray.synthesized"));
      for (BundleOp bundle : pg.getBundleOps())
        setResources(group->add_bundles(), bundle.getResources());
      if (ArrayAttr nodes = pg.getBundleNodesAttr())
        for (Attribute n : nodes)
          group->add_bundle_nodes(cast<StringAttr>(n).str());
      setLocation(group->mutable_location(), op->getLoc());
      return success();
    }
    proto::PlanNode *node = plan.add_nodes();
    node->set_id(plan.nodes_size() - 1);
    nodeOf[op] = node->id();
    common(op, node);
    SmallVector<Value> operands;
    if (auto task = dyn_cast<TaskOp>(op)) {
      node->set_kind(proto::TASK);
      node->mutable_function()->set_name(task.getCallee().str());
      if (ArrayAttr fused = task.getFusedAttr())
        for (Attribute f : fused)
          node->add_fused_functions()->set_name(
              cast<FlatSymbolRefAttr>(f).getValue().str());
      setResources(node->mutable_resources(), taskResources(task));
      node->set_retry_exceptions(task.getRetryExceptions());
      scheduling(op, task.getPg(), task.getStrategyAttr(),
                 task.getLabelSelectorAttr(), node->mutable_scheduling());
      operands.assign(task.getArgs().begin(), task.getArgs().end());
    } else if (auto map = dyn_cast<MapOp>(op)) {
      node->set_kind(proto::MAP);
      node->set_shards(map.getShards());
      for (int64_t k : map.getPerShardOperands())
        node->add_per_shard(static_cast<uint32_t>(k));
      node->mutable_function()->set_name(map.getCallee().str());
      setResources(node->mutable_resources(), shardResources(map));
      node->set_retry_exceptions(map.getRetryExceptions());
      scheduling(op, map.getPg(), map.getStrategyAttr(),
                 map.getLabelSelectorAttr(), node->mutable_scheduling());
      operands.assign(map.getArgs().begin(), map.getArgs().end());
    } else if (auto create = dyn_cast<ActorCreateOp>(op)) {
      node->set_kind(proto::ACTOR_CREATE);
      auto cls = SymbolTable::lookupNearestSymbolFrom<ActorClassOp>(
          op, create.getActorClassAttr());
      node->mutable_function()->set_name(cls.getFactoryName());
      proto::PlanActorOptions *actor = node->mutable_actor();
      actor->set_class_name(create.getActorClass().str());
      actor->set_max_restarts(create.getMaxRestartsAttr()
                                  ? create.getMaxRestartsAttr().getInt()
                                  : 0);
      actor->set_max_concurrency(create.getMaxConcurrencyAttr()
                                     ? create.getMaxConcurrencyAttr().getInt()
                                     : 1);
      if (auto name = create.getNameAttr())
        actor->set_name(name.str());
      setResources(actor->mutable_placement_resources(),
                   actorPlacementResources(create));
      setResources(node->mutable_resources(), actorRunningResources(create));
      scheduling(op, create.getPg(), create.getStrategyAttr(),
                 create.getLabelSelectorAttr(), node->mutable_scheduling());
      operands.assign(create.getArgs().begin(), create.getArgs().end());
    } else if (auto call = dyn_cast<ActorCallOp>(op)) {
      node->set_kind(proto::ACTOR_CALL);
      node->mutable_function()->set_name(
          (call.getActor().getType().getClassName() + "::" + call.getMethod())
              .str());
      operands.push_back(call.getActor());
      operands.append(call.getArgs().begin(), call.getArgs().end());
    } else if (auto kill = dyn_cast<ActorKillOp>(op)) {
      node->set_kind(proto::ACTOR_KILL);
      operands.push_back(kill.getActor());
    } else if (auto put = dyn_cast<PutOp>(op)) {
      node->set_kind(proto::PUT);
      operands.push_back(put.getValue());
    } else if (auto get = dyn_cast<GetOp>(op)) {
      node->set_kind(proto::GET);
      operands.push_back(get.getRef());
    } else if (auto wait = dyn_cast<WaitOp>(op)) {
      node->set_kind(proto::WAIT);
      node->mutable_wait()->set_num_returns(wait.getNumReturnsAttr().getInt());
      node->mutable_wait()->set_timeout_ms(wait.getTimeoutMsAttr().getInt());
      operands.assign(wait.getRefs().begin(), wait.getRefs().end());
    } else if (auto join = dyn_cast<JoinOp>(op)) {
      node->set_kind(proto::JOIN);
      operands.assign(join.getInputs().begin(), join.getInputs().end());
    } else {
      return op->emitError()
             << "'" << op->getName() << "' cannot be lowered to the plan";
    }
    for (Value v : operands)
      if (failed(operand(v, node->add_operands())))
        return failure();
    // Ordering on an actor that no data edge carries.
    unsigned i = deps.index.lookup(op);
    for (auto [p, kind] : llvm::zip(deps.preds[i], deps.predKinds[i]))
      if (kind == EdgeKind::ActorOrder)
        node->add_control_deps(nodeOf.lookup(deps.nodes[p]));
    return success();
  }

  LogicalResult run() {
    deps = DependencyGraph::build(graph);
    plan.set_format_version(1);
    plan.set_graph_name(graph.getSymName().str());
    ArrayRef<Type> inputs = graph.getArgumentTypes();
    for (auto [i, type] : llvm::enumerate(inputs)) {
      proto::PlanInput *in = plan.add_inputs();
      auto name = graph.getArgAttrOfType<StringAttr>(i, "ray.name");
      in->set_name(name ? name.str() : "arg" + std::to_string(i));
      in->mutable_type()->set_ir_type(typeText(type));
    }
    for (Operation *op : deps.nodes)
      if (failed(lowerOp(op)))
        return failure();
    Operation *output = graph.getBodyBlock().getTerminator();
    for (auto [i, value] : llvm::enumerate(output->getOperands())) {
      proto::PlanOutput *out = plan.add_outputs();
      auto name = graph.getResultAttrOfType<StringAttr>(i, "ray.name");
      out->set_name(name ? name.str() : "out" + std::to_string(i));
      if (failed(operand(value, out->mutable_value())))
        return failure();
    }
    return success();
  }
};

struct LowerToPlan : impl::RayLowerToPlanBase<LowerToPlan> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<GraphOp> graphs;
    for (GraphOp g : getOperation().getOps<GraphOp>())
      if (graphName.empty() || g.getSymName() == graphName)
        graphs.push_back(g);
    if (!graphName.empty() && graphs.empty()) {
      getOperation().emitError() << "no ray.graph named '" << graphName << "'";
      return signalPassFailure();
    }
    bool text = output == "-";
    if (!text && graphs.size() != 1) {
      getOperation().emitError()
          << "a binary plan holds one graph; this module has " << graphs.size()
          << " (choose one with graph=NAME)";
      return signalPassFailure();
    }
    for (GraphOp g : graphs) {
      FailureOr<proto::ExecPlan> plan =
          lowerGraphToPlan(g, clusterName, optLevel);
      if (failed(plan))
        return signalPassFailure();
      if (text) {
        llvm::outs() << "# ExecPlan for @" << g.getSymName() << "\n"
                     << planToText(*plan);
        continue;
      }
      std::error_code ec;
      llvm::raw_fd_ostream os(output, ec, llvm::sys::fs::OF_None);
      if (ec) {
        getOperation().emitError()
            << "cannot write the plan to '" << output << "': " << ec.message();
        return signalPassFailure();
      }
      os << plan->SerializeAsString();
    }
  }
};

} // namespace

namespace {

/// The path of the first string field of `message` that is not UTF-8 (a
/// plan is protobuf: such a field would not parse back), or "".
std::string firstNonUtf8Field(const google::protobuf::Message &message) {
  const google::protobuf::Reflection *reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor *> fields;
  reflection->ListFields(message, &fields);
  auto utf8 = [](const std::string &s) {
    const auto *begin = reinterpret_cast<const llvm::UTF8 *>(s.data());
    return llvm::isLegalUTF8String(&begin, begin + s.size());
  };
  for (const google::protobuf::FieldDescriptor *field : fields) {
    const int n =
        field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < n; ++i) {
      if (field->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
        std::string value =
            field->is_repeated()
                ? reflection->GetRepeatedString(message, field, i)
                : reflection->GetString(message, field);
        if (!utf8(value))
          return field->name();
      } else if (field->cpp_type() ==
                 google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
        const google::protobuf::Message &inner =
            field->is_repeated()
                ? reflection->GetRepeatedMessage(message, field, i)
                : reflection->GetMessage(message, field);
        std::string path = firstNonUtf8Field(inner);
        if (!path.empty())
          return field->name() + "." + path;
      }
    }
  }
  return "";
}

} // namespace

FailureOr<proto::ExecPlan> lowerGraphToPlan(GraphOp graph,
                                            llvm::StringRef clusterName,
                                            unsigned optLevel) {
  Lowering lowering;
  lowering.graph = graph;
  if (failed(lowering.run()))
    return failure();
  // (Names in the IR are strings of any bytes; in a plan they are UTF-8.)
  if (std::string field = firstNonUtf8Field(lowering.plan); !field.empty())
    return graph.emitError() << "cannot lower to a plan: its " << field
                             << " is not valid UTF-8 (names must be)";
  lowering.plan.set_cluster_name(clusterName.str());
  lowering.plan.set_opt_level(optLevel);
  if (IntegerAttr makespan = graph.getPredictedMakespanUsAttr())
    lowering.plan.set_predicted_makespan_us(
        static_cast<uint64_t>(makespan.getInt()));
  if (IntegerAttr uncosted = graph.getUncostedWorkAttr())
    lowering.plan.set_uncosted_nodes(static_cast<uint32_t>(uncosted.getInt()));
  return std::move(lowering.plan);
}

std::string planToText(const proto::ExecPlan &plan) {
  std::string out;
  google::protobuf::TextFormat::PrintToString(plan, &out);
  return out;
}

} // namespace raycc::passes
