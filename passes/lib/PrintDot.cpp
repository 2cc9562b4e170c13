//===- PrintDot.cpp - ray-print-dot ---------------------------------------===//

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "DependencyGraph.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYPRINTDOT
#include "raycc/passes/Passes.h.inc"

namespace {

/// Escapes `text` for a double-quoted DOT string.
std::string escape(StringRef text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\')
      out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

/// The node's label, DOT-escaped: what runs, then its name, priority and
/// placement on separate lines.
std::string label(Operation *op) {
  std::string text;
  if (auto task = dyn_cast<TaskOp>(op)) {
    if (ArrayAttr fused = task.getFusedAttr()) {
      for (auto [i, f] : llvm::enumerate(fused))
        text += (i ? " + " : "") + cast<FlatSymbolRefAttr>(f).getValue().str();
    } else {
      text = task.getCallee().str();
    }
  } else if (auto map = dyn_cast<MapOp>(op)) {
    text = map.getCallee().str() + " x" + std::to_string(map.getShards());
  } else if (auto create = dyn_cast<ActorCreateOp>(op)) {
    text = "new " + create.getActorClass().str();
  } else if (auto call = dyn_cast<ActorCallOp>(op)) {
    text = (call.getActor().getType().getClassName() + "::" + call.getMethod())
               .str();
  } else if (isa<PlacementGroupOp>(op)) {
    text = "placement group";
  } else {
    text = op->getName().stripDialect().str();
  }
  if (auto n = op->getAttrOfType<StringAttr>("name"))
    text += "\n\"" + n.str() + "\"";
  if (auto p = op->getAttrOfType<IntegerAttr>("priority"))
    text += "\npriority " + std::to_string(p.getInt());
  if (auto placement = op->getAttrOfType<PlacementAttr>("placement"))
    text += "\n@" + placement.getNode().str();
  return escape(text);
}

const char *shapeOf(Operation *op) {
  if (isa<TaskOp>(op))
    return "box";
  if (isa<MapOp>(op))
    return "box3d";
  if (isa<ActorCreateOp, ActorCallOp, ActorKillOp>(op))
    return "ellipse";
  return "diamond";
}

/// A fill colour per placement node name, stable across runs.
std::string colourOf(Operation *op) {
  static const char *palette[] = {"#cfe2f3", "#d9ead3", "#fff2cc", "#f4cccc",
                                  "#d9d2e9", "#fce5cd", "#d0e0e3", "#ead1dc"};
  auto placement = op->getAttrOfType<PlacementAttr>("placement");
  if (!placement)
    return "white";
  return palette[llvm::hash_value(placement.getNode()) % 8];
}

void printGraph(GraphOp graph, raw_ostream &os) {
  DependencyGraph deps = DependencyGraph::build(graph);
  os << "digraph \"" << escape(graph.getSymName()) << "\" {\n"
     << "  rankdir=LR;\n  node [style=filled, fontname=\"Helvetica\"];\n";
  for (auto [i, type] : llvm::enumerate(graph.getArgumentTypes())) {
    auto name = graph.getArgAttrOfType<StringAttr>(i, "ray.name");
    os << "  in" << i << " [shape=plaintext, style=\"\", label=\"input "
       << escape(name ? name.getValue() : std::to_string(i)) << "\"];\n";
  }
  // Work in a placement group is drawn inside the group's cluster.
  llvm::DenseMap<Operation *, SmallVector<unsigned>> members;
  for (auto [i, op] : llvm::enumerate(deps.nodes)) {
    Value pg;
    if (auto task = dyn_cast<TaskOp>(op))
      pg = task.getPg();
    else if (auto map = dyn_cast<MapOp>(op))
      pg = map.getPg();
    else if (auto create = dyn_cast<ActorCreateOp>(op))
      pg = create.getPg();
    if (pg && pg.getDefiningOp())
      members[pg.getDefiningOp()].push_back(i);
  }
  auto printNode = [&](unsigned i, StringRef indent) {
    Operation *op = deps.nodes[i];
    bool critical = op->hasAttr("ray.critical");
    os << indent << "n" << i << " [shape=" << shapeOf(op) << ", label=\""
       << label(op) << "\", fillcolor=\"" << colourOf(op) << "\"";
    if (critical)
      os << ", color=red, penwidth=2.5";
    os << "];\n";
  };
  llvm::DenseSet<unsigned> drawn;
  unsigned cluster = 0;
  for (auto [i, op] : llvm::enumerate(deps.nodes)) {
    auto pg = dyn_cast<PlacementGroupOp>(op);
    if (!pg)
      continue;
    drawn.insert(i);
    os << "  subgraph cluster_" << cluster++ << " {\n    label=\""
       << stringifyPlacementStrategy(pg.getStrategy()) << " group "
       << escape(pg.getName() ? *pg.getName() : "") << " ("
       << pg.getBundleOps().size() << " bundles)\";\n    style=dashed;\n";
    for (unsigned m : members[op]) {
      printNode(m, "    ");
      drawn.insert(m);
    }
    os << "  }\n";
  }
  for (unsigned i = 0; i < deps.nodes.size(); ++i)
    if (!drawn.contains(i))
      printNode(i, "  ");
  for (const DependencyEdge &e : deps.edges) {
    if (isa<PlacementGroupOp>(deps.nodes[e.from]))
      continue; // Membership is drawn as the cluster.
    bool critical = deps.nodes[e.from]->hasAttr("ray.critical") &&
                    deps.nodes[e.to]->hasAttr("ray.critical");
    os << "  n" << e.from << " -> n" << e.to;
    if (e.kind == EdgeKind::ActorOrder)
      os << " [style=dashed]";
    else if (critical)
      os << " [color=red, penwidth=2.5]";
    os << ";\n";
  }
  for (auto [i, op] : llvm::enumerate(deps.nodes))
    for (Value v : op->getOperands())
      if (auto arg = dyn_cast<BlockArgument>(v))
        os << "  in" << arg.getArgNumber() << " -> n" << i << ";\n";
  Operation *output = graph.getBodyBlock().getTerminator();
  for (auto [i, v] : llvm::enumerate(output->getOperands())) {
    auto name = graph.getResultAttrOfType<StringAttr>(i, "ray.name");
    os << "  out" << i << " [shape=plaintext, style=\"\", label=\"output "
       << escape(name ? name.getValue() : std::to_string(i)) << "\"];\n";
    if (int p = deps.producer(v); p >= 0)
      os << "  n" << p << " -> out" << i << ";\n";
    else if (auto arg = dyn_cast<BlockArgument>(v))
      os << "  in" << arg.getArgNumber() << " -> out" << i << ";\n";
  }
  os << "}\n";
}

struct PrintDot : impl::RayPrintDotBase<PrintDot> {
  using Base::Base;
  void runOnOperation() override {
    std::error_code ec;
    std::unique_ptr<llvm::raw_fd_ostream> file;
    raw_ostream *os = &llvm::outs();
    if (output != "-") {
      file = std::make_unique<llvm::raw_fd_ostream>(output, ec,
                                                    llvm::sys::fs::OF_Text);
      if (ec) {
        getOperation().emitError()
            << "cannot write DOT to '" << output << "': " << ec.message();
        return signalPassFailure();
      }
      os = file.get();
    }
    for (GraphOp graph : getOperation().getOps<GraphOp>())
      printGraph(graph, *os);
    markAllAnalysesPreserved();
  }
};

} // namespace

} // namespace raycc::passes
