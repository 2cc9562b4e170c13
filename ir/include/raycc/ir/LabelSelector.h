//===- LabelSelector.h - label constraints on nodes -------------*- C++ -*-===//
//
// A task's or actor's label selector (DSL SetLabelSelector, the
// `label_selector` attribute of ray.task and ray.actor.create): which
// cluster nodes, by their labels, it may run on. Ray's syntax: each entry
// key -> "v" (the label equals v), "!v" (it is not v, or absent), "in(a,b)"
// (one of them), "!in(a,b)" (none of them, or absent); every entry must
// hold. The IR layer may not link the runtime: these rules restate the
// runtime's (runtime/scheduling/label_selector.h), and
// tests/passes/label_selector_agreement_test.cpp checks both on one table.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_IR_LABELSELECTOR_H
#define RAYCC_IR_LABELSELECTOR_H

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace raycc::ray {

/// One constraint on one label.
struct LabelConstraint {
  std::string key;
  bool negated = false;                     ///< "!v", "!in(...)"
  llvm::SmallVector<std::string, 2> values; ///< one for "v", several for in()
};

/// Every constraint must hold. Empty: any node.
using LabelSelector = std::vector<LabelConstraint>;

/// Parses one entry; the error names the entry and what is wrong with it.
llvm::Expected<LabelConstraint> parseLabelConstraint(llvm::StringRef key,
                                                     llvm::StringRef spec);

/// Parses a `label_selector` attribute (string values); a null attribute is
/// the empty selector.
llvm::Expected<LabelSelector> parseLabelSelector(mlir::DictionaryAttr attr);

/// Whether a node with `labels` satisfies every constraint.
bool matchesLabels(const std::map<std::string, std::string> &labels,
                   const LabelSelector &selector);

/// "{region in (a, b), zone != z}", as the runtime writes it in messages.
std::string formatLabelSelector(const LabelSelector &selector);

} // namespace raycc::ray

#endif // RAYCC_IR_LABELSELECTOR_H
