//===- Timeline.h - task events of a run, read from a trace -----*- C++ -*-===//
//
// A run recorded with `raycc run --timeline run.json` is a Chrome trace-event
// file (viewable in Perfetto and chrome://tracing). The runtime writes one
// complete ("X") event per task attempt:
//
//   {"ph": "X", "name": "Train::Step", "ts": 1200.5, "dur": 830, "pid": 1,
//    "tid": 3, "args": {"node_id": 12, "graph": "train",
//                       "status": "finished", "node": "node-a"}}
//
// ts and dur are in microseconds; tid is the worker (thread or process).
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_TOOLS_RAYCC_VIZ_TIMELINE_H
#define RAYCC_TOOLS_RAYCC_VIZ_TIMELINE_H

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace raycc::tools::viz {

/// One task attempt: an "X" event, or a matched "B"/"E" pair.
struct TimelineEvent {
  /// The event's name: the function that ran.
  std::string name;
  /// args.graph: the graph the task belongs to; empty when not given.
  std::string graph;
  /// args.node: the cluster node the task ran on; empty when not given.
  std::string clusterNode;
  /// args.status: "finished", "failed", "retried"; empty when not given.
  std::string status;
  /// args.node_id: index into ExecPlan.nodes, or -1 for a task the plan
  /// does not hold (one submitted at run time).
  int64_t planNode = -1;
  double startUs = 0;
  double durationUs = 0;
  /// The process and thread the attempt ran on, as the trace spells them.
  std::string pid;
  std::string tid;
};

/// The task events of one run, in file order.
struct Timeline {
  std::vector<TimelineEvent> events;
  /// Thread names from "M" (metadata) events, keyed by workerKey(pid, tid).
  std::map<std::string, std::string> threadNames;
};

/// The key that identifies one worker lane: "pid/tid".
std::string workerKey(std::string_view pid, std::string_view tid);

/// Reads a Chrome trace (the JSON array format, whose closing bracket may be
/// missing, or the object format with "traceEvents"). Events other than "X",
/// "B", "E" and thread-name metadata are ignored, as are events without a
/// timestamp. On malformed input returns false and sets `error` to a message
/// that names the position of the problem.
bool parseChromeTrace(std::string_view json, Timeline *out, std::string *error);

} // namespace raycc::tools::viz

#endif // RAYCC_TOOLS_RAYCC_VIZ_TIMELINE_H
