//===- ApplyProfile.cpp - ray-apply-profile -------------------------------===//
//
// Durations from a measured run: the median `dur` of each name's finished
// runs in a `raycc run --timeline` file becomes the #ray.cost duration of
// the ops of that name that have none. O(E log E + V) for E timeline events
// and V ops.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
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

/// Durations beyond this (2^53 µs, centuries) are not a run's.
constexpr double kMaxDurationUs = 9007199254740992.0;

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
    if (*dur > kMaxDurationUs)
      return fail("a duration of " + std::to_string(*dur) +
                  " us is beyond any run (at most 2^53 us)");
    if (const llvm::json::Object *args = e->getObject("args"))
      if (std::optional<StringRef> status = args->getString("status"))
        if (*status != "finished")
          continue;
    runs[*name].push_back(*dur);
  }
  llvm::StringMap<uint64_t> median;
  for (auto &[name, durations] : runs) {
    llvm::sort(durations);
    size_t n = durations.size();
    double middle = n % 2 ? durations[n / 2]
                          : (durations[n / 2 - 1] + durations[n / 2]) / 2;
    median[name] = std::max<uint64_t>(1, std::llround(middle));
  }
  return median;
}

/// The names a timeline shows an op under, most specific first: its `name`;
/// else what the runtime calls it: the function (a fused chain as "f+g"), an
/// actor's method or factory as "Class::name", each also as "...+after" (the
/// gated form that waits for control dependencies).
SmallVector<std::string, 2> timelineNames(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>("name"))
    return {name.str()};
  std::string function;
  if (auto task = dyn_cast<TaskOp>(op)) {
    function = task.getCallee().str();
    if (ArrayAttr fused = task.getFusedAttr()) {
      function.clear();
      for (Attribute f : fused)
        function += (function.empty() ? "" : "+") +
                    cast<FlatSymbolRefAttr>(f).getValue().str();
    }
  } else if (auto map = dyn_cast<MapOp>(op)) {
    function = map.getCallee().str(); // (each shard's run: a shard's cost)
  } else if (auto create = dyn_cast<ActorCreateOp>(op)) {
    auto cls = SymbolTable::lookupNearestSymbolFrom<ActorClassOp>(
        op, create.getActorClassAttr());
    if (!cls)
      return {};
    function = cls.getFactoryName();
  } else if (auto call = dyn_cast<ActorCallOp>(op)) {
    function =
        (call.getActor().getType().getClassName() + "::" + call.getMethod())
            .str();
  }
  return {function, function + "+after"};
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
      if (!isa<TaskOp, MapOp, ActorCreateOp, ActorCallOp>(op))
        return;
      auto measured = profile->end();
      for (const std::string &name : timelineNames(op))
        if (measured == profile->end())
          measured = profile->find(name);
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
