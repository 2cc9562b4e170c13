#pragma once

/// \file
/// A task of the embedded runtime, from submission until its result is
/// settled: what it runs, the objects it reads and makes, what it holds,
/// where it may run. Guarded by the runtime's lock (except `cancelled`).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "embedded/object_table.h"
#include "raycc/runtime/api/object_ref_handle.h"
#include "raycc/runtime/api/remote_registry.h"
#include "raycc/runtime/api/runtime_interface.h"
#include "raycc/runtime/common/id.h"
#include "raylet/local_resources.h"
#include "scheduling/policy_options.h"

namespace raycc::internal::embedded {

struct GraphNode;  // embedded/graph_run.cc
struct GraphLane;

/// What the timeline says of one task, call or actor (null when the
/// timeline is off: a queued task carries one pointer).
struct TraceInfo {
  std::string label, graph;
  int64_t plan_node = -1;
  double submitted_us = 0;
};
using Traced = std::unique_ptr<const TraceInfo>;

/// The objects a task's ObjectRef arguments name, in order; pinned by the
/// task, so the pointers stay good (the object table is a node map).
using ArgObjects = absl::InlinedVector<Object*, 4>;

struct Task {
  TaskId id;
  const RemoteFunction* function = nullptr;
  std::vector<TaskArgument> args;
  ArgObjects arg_objects;  // once enqueued
  ObjectId result;
  Object* result_object = nullptr;  // once enqueued; good until it completes
  const raylet::Demand* demand = nullptr;
  int64_t priority = 0;
  uint64_t sequence = 0;
  int retries_left = 0;
  bool retry_exceptions = false;
  int unresolved = 0;
  // Set under mu_; read by the task's own code (IsCancelled) without it.
  std::atomic<bool> cancelled{false};
  bool started = false;
  bool done = false;  // its result is settled (a value, an error, cancelled)
  TaskId parent;      // the task that submitted it (nil: the driver)
  // Where it may run (CallOptions, checked) and where it runs (a node
  // index of resources_).
  scheduling::PolicyOptions where;
  int node = -1;
  // The GPUs it holds while it runs.
  std::vector<int> gpu_ids;
  // The caller's reference to the result (SubmitTask), which a successful
  // value is published to (PublishToCaller).
  std::weak_ptr<ObjectRefHandle> caller_ref;
  Traced traced;
  // A runner of a graph run instead (no function, no result): it holds
  // its lane's demand and runs the lane's ready nodes until none is left.
  std::shared_ptr<GraphRun> run;
  int32_t lane = -1;
};

}  // namespace raycc::internal::embedded
