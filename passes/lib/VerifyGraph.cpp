//===- VerifyGraph.cpp - ray-verify-graph ---------------------------------===//
//
// A graph's dependencies are acyclic by construction: its body is one SSA
// block (the verifier rejects a use before its definition) and the order of
// calls on an actor is their block order. What can still be wrong is checked
// here: an actor used after it was killed is an error; an actor nobody calls
// and pure work that reaches no output are warnings.
//
//===----------------------------------------------------------------------===//

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/BitVector.h"

#include "DependencyGraph.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYVERIFYGRAPH
#include "raycc/passes/Passes.h.inc"

namespace {

struct VerifyGraph : impl::RayVerifyGraphBase<VerifyGraph> {
  void runOnOperation() override {
    bool failedAny = false;
    for (GraphOp graph : getOperation().getOps<GraphOp>()) {
      if (failed(checkKills(graph)))
        failedAny = true;
      warnUnusedActors(graph);
      warnDeadWork(graph);
    }
    if (failedAny)
      signalPassFailure();
  }

  /// Calls and kills of an actor after a kill of it.
  LogicalResult checkKills(GraphOp graph) {
    llvm::DenseMap<Value, ActorKillOp> killed;
    LogicalResult result = success();
    for (Operation &op : graph.getBodyBlock()) {
      Value actor;
      if (auto call = dyn_cast<ActorCallOp>(op))
        actor = call.getActor();
      else if (auto kill = dyn_cast<ActorKillOp>(op))
        actor = kill.getActor();
      if (!actor)
        continue;
      if (auto it = killed.find(actor); it != killed.end()) {
        InFlightDiagnostic diag = op.emitError()
                                  << (isa<ActorKillOp>(op) ? "kills" : "calls")
                                  << " an actor that was already killed";
        diag.attachNote(it->second.getLoc()) << "the actor is killed here";
        result = failure();
        continue;
      }
      if (auto kill = dyn_cast<ActorKillOp>(op))
        killed[actor] = kill;
    }
    return result;
  }

  void warnUnusedActors(GraphOp graph) {
    graph.walk([](ActorCreateOp create) {
      bool called =
          llvm::any_of(create.getActor().getUsers(), [](Operation *u) {
            return isa<ActorCallOp, OutputOp>(u);
          });
      if (!called)
        create.emitWarning() << "actor of class @" << create.getActorClass()
                             << " is created but never called";
    });
  }

  /// Effect-free work whose results reach neither an output nor an op with
  /// effects.
  void warnDeadWork(GraphOp graph) {
    DependencyGraph deps = DependencyGraph::build(graph);
    llvm::BitVector live(deps.nodes.size());
    SmallVector<unsigned> worklist;
    auto markLive = [&](unsigned i) {
      if (!live.test(i)) {
        live.set(i);
        worklist.push_back(i);
      }
    };
    for (auto [i, op] : llvm::enumerate(deps.nodes))
      if (!isMemoryEffectFree(op))
        markLive(i);
    Operation *output = graph.getBodyBlock().getTerminator();
    for (Value v : output->getOperands())
      if (int p = deps.producer(v); p >= 0)
        markLive(p);
    while (!worklist.empty()) {
      unsigned i = worklist.pop_back_val();
      for (unsigned p : deps.preds[i])
        markLive(p);
    }
    for (auto [i, op] : llvm::enumerate(deps.nodes))
      if (!live.test(i) && isa<TaskOp, MapOp, PutOp, GetOp, WaitOp, JoinOp>(op))
        op->emitWarning("result reaches no output and no op with effects; "
                        "ray-dead-task-elim removes it");
  }
};

} // namespace

} // namespace raycc::passes
