//===- DependencyGraph.h - who waits for whom in a graph --------*- C++ -*-===//
//
// The dependencies between the ops of one ray.graph, shared by the passes
// that order, prioritise, draw and lower graphs.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_PASSES_DEPENDENCYGRAPH_H
#define RAYCC_PASSES_DEPENDENCYGRAPH_H

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include "raycc/ir/RayOps.h"

namespace raycc::passes {

enum class EdgeKind {
  /// The consumer uses a value the producer makes.
  Data,
  /// Both act on the same actor; the later one runs after the earlier one.
  ActorOrder,
};

struct DependencyEdge {
  unsigned from;
  unsigned to;
  EdgeKind kind;
};

/// Nodes are the ops of a graph body in block order (a topological order),
/// except constants and the terminator. Edges run from producer to consumer.
struct DependencyGraph {
  llvm::SmallVector<mlir::Operation *> nodes;
  llvm::DenseMap<mlir::Operation *, unsigned> index;
  llvm::SmallVector<DependencyEdge> edges;
  llvm::SmallVector<llvm::SmallVector<unsigned, 4>> preds;
  /// The kind of each edge in `preds`, index for index.
  llvm::SmallVector<llvm::SmallVector<EdgeKind, 4>> predKinds;
  llvm::SmallVector<llvm::SmallVector<unsigned, 4>> succs;

  static DependencyGraph build(ray::GraphOp graph);

  /// The node producing `value`, or -1 for graph inputs and constants.
  int producer(mlir::Value value) const;

  /// Each node's bottom level: its own weight plus the heaviest path of
  /// successors after it (the b-level of list scheduling). O(V + E): the
  /// nodes are in a topological order.
  llvm::SmallVector<uint64_t>
  bottomLevels(llvm::ArrayRef<uint64_t> weight) const;
};

/// What an op weighs on a critical path: the estimated duration of work that
/// takes time (tasks, actor creations and calls; 1 µs when unknown), 0 for
/// everything else.
uint64_t workWeight(mlir::Operation *op);

/// The op's estimated duration in µs (`cost` on the op, else on its callee),
/// or `fallback` when unknown.
uint64_t estimatedDurationUs(mlir::Operation *op, uint64_t fallback);
/// The op's estimated result size in bytes, or 0 when unknown.
uint64_t estimatedResultBytes(mlir::Operation *op);

} // namespace raycc::passes

#endif // RAYCC_PASSES_DEPENDENCYGRAPH_H
