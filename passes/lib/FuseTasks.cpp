//===- FuseTasks.cpp - ray-fuse-tasks -------------------------------------===//

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

#include "DependencyGraph.h"
#include "ResourceDefaults.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYFUSETASKS
#include "raycc/passes/Passes.h.inc"

namespace {

/// The chain of functions a task runs: its `fused` list, or its callee.
SmallVector<Attribute> chainOf(TaskOp task) {
  if (ArrayAttr fused = task.getFusedAttr())
    return SmallVector<Attribute>(fused.getValue());
  return {task.getCalleeAttr()};
}

struct FuseTasks : impl::RayFuseTasksBase<FuseTasks> {
  using Base::Base;

  void runOnOperation() override {
    for (GraphOp graph : getOperation().getOps<GraphOp>()) {
      // Block order: a producer is always seen (and possibly already fused
      // with its own producer) before its consumer, so chains grow front to
      // back in one walk.
      for (Operation &op :
           llvm::make_early_inc_range(graph.getBodyBlock().getOperations()))
        if (auto consumer = dyn_cast<TaskOp>(op))
          if (TaskOp producer = fusibleProducer(consumer))
            fuse(producer, consumer);
    }
  }

  bool small(TaskOp task) {
    return estimatedDurationUs(task, /*fallback=*/0) <= maxDurationUs;
  }

  /// The task `consumer` can be fused into, if any.
  TaskOp fusibleProducer(TaskOp consumer) {
    if (consumer.getArgs().size() != 1 || consumer.getPg())
      return {};
    Value input = consumer.getArgs()[0];
    auto producer = input.getDefiningOp<TaskOp>();
    if (!producer || producer.getPg() || producer->getNumResults() != 1 ||
        !input.hasOneUse() || producer->getBlock() != consumer->getBlock())
      return {};
    if (taskResources(producer) != taskResources(consumer) ||
        producer.getStrategyAttr() != consumer.getStrategyAttr() ||
        producer.getPlacementAttr() != consumer.getPlacementAttr() ||
        producer.getLabelSelectorAttr() != consumer.getLabelSelectorAttr() ||
        producer.getMaxRetriesAttr() != consumer.getMaxRetriesAttr() ||
        producer.getRetryExceptions() != consumer.getRetryExceptions())
      return {};
    if (!small(producer) || !small(consumer))
      return {};
    return producer;
  }

  void fuse(TaskOp producer, TaskOp consumer) {
    OpBuilder b(consumer);
    SmallVector<Attribute> chain = chainOf(producer);
    llvm::append_range(chain, chainOf(consumer));
    auto fused = TaskOp::create(
        b, b.getFusedLoc({producer.getLoc(), consumer.getLoc()}),
        consumer.getResultTypes(), producer.getCallee(), producer.getArgs());
    // Options are equal on both (fusibleProducer checked); the fused task
    // keeps the consumer's name and the larger priority.
    if (producer.getResourcesAttr() || consumer.getResourcesAttr())
      fused.setResourcesAttr(taskResources(consumer));
    fused.setStrategyAttr(producer.getStrategyAttr());
    fused.setPlacementAttr(producer.getPlacementAttr());
    fused.setLabelSelectorAttr(producer.getLabelSelectorAttr());
    fused.setMaxRetriesAttr(producer.getMaxRetriesAttr());
    fused.setRetryExceptions(producer.getRetryExceptions());
    fused.setFusedAttr(b.getArrayAttr(chain));
    fused.setNameAttr(consumer.getNameAttr() ? consumer.getNameAttr()
                                             : producer.getNameAttr());
    IntegerAttr p1 = producer.getPriorityAttr(),
                p2 = consumer.getPriorityAttr();
    fused.setPriorityAttr(!p1 || (p2 && p2.getInt() > p1.getInt()) ? p2 : p1);
    uint64_t duration =
        estimatedDurationUs(producer, 0) + estimatedDurationUs(consumer, 0);
    uint64_t bytes = estimatedResultBytes(consumer);
    if (duration || bytes)
      fused.setCostAttr(CostAttr::get(b.getContext(), duration, bytes));
    consumer->replaceAllUsesWith(fused);
    consumer.erase();
    producer.erase();
  }
};

} // namespace

} // namespace raycc::passes
