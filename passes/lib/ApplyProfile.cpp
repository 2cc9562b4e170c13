//===- ApplyProfile.cpp - ray-apply-profile -------------------------------===//
//
// Durations from a measured run: the median `dur` of each name's finished
// runs in a `raycc run --timeline` file becomes the #ray.cost duration of
// the ops of that name that have none. O(E log E + V) for E timeline events
// and V ops.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "DependencyGraph.h"
#include "raycc/passes/Passes.h"

using namespace mlir;
using namespace raycc::ray;

namespace raycc::passes {
#define GEN_PASS_DEF_RAYAPPLYPROFILE
#include "raycc/passes/Passes.h.inc"

namespace {

/// The median duration (µs, at least 1) of each name's finished runs in a
/// trace-event timeline, or an error naming what is wrong with it.
llvm::Expected<llvm::StringMap<uint64_t>> readProfile(StringRef path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("profile '" + path + "': " + why);
  };
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path);
  if (!file)
    return fail("cannot read it: " + file.getError().message());
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*file)->getBuffer());
  if (!json)
    return fail("not JSON: " + llvm::toString(json.takeError()));
  // A list of events, or {"traceEvents": [...]}.
  const llvm::json::Array *events = json->getAsArray();
  if (const llvm::json::Object *object = json->getAsObject())
    events = object->getArray("traceEvents");
  if (!events)
    return fail("not a timeline (a list of trace events)");
  llvm::StringMap<std::vector<double>> runs;
  for (const llvm::json::Value &event : *events) {
    const llvm::json::Object *e = event.getAsObject();
    if (!e || e->getString("ph") != "X")
      continue;
    std::optional<StringRef> name = e->getString("name");
    std::optional<double> dur = e->getNumber("dur");
    if (!name || !dur || !std::isfinite(*dur) || *dur < 0)
      return fail("an \"X\" event without a name or a duration >= 0");
    if (const llvm::json::Object *args = e->getObject("args"))
      if (std::optional<StringRef> status = args->getString("status"))
        if (*status != "finished")
          continue;
    runs[*name].push_back(*dur);
  }
  llvm::StringMap<uint64_t> median;
  for (auto &[name, durations] : runs) {
    auto mid = durations.begin() + durations.size() / 2;
    std::nth_element(durations.begin(), mid, durations.end());
    median[name] = std::max<uint64_t>(1, std::llround(*mid));
  }
  return median;
}

/// The name a timeline shows an op under: its `name`, else its function's.
StringRef displayName(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>("name"))
    return name.getValue();
  if (auto task = dyn_cast<TaskOp>(op))
    return task.getCallee();
  if (auto create = dyn_cast<ActorCreateOp>(op))
    return create.getActorClass();
  if (auto call = dyn_cast<ActorCallOp>(op))
    return call.getMethod();
  return "";
}

struct ApplyProfile : impl::RayApplyProfileBase<ApplyProfile> {
  using Base::Base;

  void runOnOperation() override {
    if (profileFile.empty())
      return markAllAnalysesPreserved();
    llvm::Expected<llvm::StringMap<uint64_t>> profile =
        readProfile(profileFile);
    if (!profile) {
      getOperation().emitError() << llvm::toString(profile.takeError());
      return signalPassFailure();
    }
    getOperation().walk([&](Operation *op) {
      if (!isa<TaskOp, ActorCreateOp, ActorCallOp>(op))
        return;
      auto measured = profile->find(displayName(op));
      if (measured == profile->end())
        return;
      if (estimatedDurationUs(op, /*fallback=*/0) > 0)
        return; // (the program's own estimate stays)
      op->setAttr("cost", CostAttr::get(op->getContext(), measured->second,
                                        estimatedResultBytes(op)));
    });
  }
};

} // namespace

} // namespace raycc::passes
