#pragma once

/// \file
/// The cluster runtime: the core worker of a process that joined a raycc
/// cluster (Init with Config.address or RAYCC_ADDRESS). Registered as the
/// "cluster" runtime factory; nothing names it directly.
///
/// A driver uploads its own executable to the GCS once (by content hash),
/// registers a job, owns the objects it makes (MemoryStore and
/// ReferenceCounter here) and submits tasks through the TaskSubmitter:
/// arguments are resolved by the owner and sent inline, workers are leased
/// from the raylets and reused per task shape. A worker process (started by
/// a raylet, RAYCC_WORKER=1) runs the same program: its Init serves
/// CoreWorkerService, registers with its raylet and never returns; tasks it
/// runs may submit tasks of their own, which it owns.
///
/// Not yet on the cluster (each a clear RayccError): actors, placement
/// groups, label selectors, and references that leave their owner's
/// process (ownership on the wire).

#include <memory>

#include "raycc/runtime/api/runtime_factory.h"

namespace raycc::core_worker {

/// Joins the cluster `config.address` (or RAYCC_ADDRESS) names; throws a
/// RayccError naming the address and the cause when it cannot.
std::unique_ptr<internal::ManagedRuntime> MakeClusterRuntime(const Config& config);

}  // namespace raycc::core_worker
