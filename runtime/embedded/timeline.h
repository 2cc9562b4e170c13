#pragma once

/// \file
/// The timeline of a run: one Chrome trace-event "X" (complete) event per
/// task attempt, written when the runtime shuts down (Config.timeline_path,
/// `raycc run --timeline`). Perfetto and chrome://tracing open it, and
/// `raycc viz --timeline` overlays it on the compiled graph. Format:
///
///   {"ph": "X", "name": "Gradient", "ts": 1200.5, "dur": 830, "pid": 1,
///    "tid": 3, "args": {"node_id": 12, "graph": "train", "status": "finished",
///                       "node": "embedded", "submitted_us": 1100.0}}
///
/// ts, dur are microseconds since Init; tid is the worker thread (named by
/// "M" thread_name events); node_id is the plan node, -1 for dynamic work.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace raycc::internal {

class TimelineRecorder {
 public:
  /// Records nothing when `path` is empty. Checks now that `path` can be
  /// written (absl error otherwise), so a bad path fails at Init, not at
  /// the end of a long run.
  static absl::Status Check(const std::string& path);
  explicit TimelineRecorder(std::string path);

  bool enabled() const { return !path_.empty(); }
  /// Microseconds since this recorder started.
  double NowUs() const;
  /// A time in microseconds since the Unix epoch (another process's clock,
  /// as on a cluster's workers), in this recorder's microseconds.
  double FromUnixUs(double unix_us) const { return unix_us - unix_start_us_; }
  /// Now, in microseconds since the Unix epoch.
  static double UnixNowUs();

  struct Attempt {
    std::string name;
    std::string graph;
    int64_t plan_node = -1;
    std::string node;  ///< the logical node it ran on
    /// "finished", "failed" or "retried".
    const char* status = "finished";
    double submitted_us = 0, start_us = 0, end_us = 0;
    int tid = 0;
  };
  /// Thread-safe.
  void Record(Attempt attempt);
  /// Names a lane. A worker's lane is named even if it runs nothing (an idle
  /// worker is worth seeing); with `only_if_used`, the name is written only
  /// when an attempt ran on that thread (the lane of callers of Get).
  void NameThread(int tid, std::string name, bool only_if_used = false);
  /// What the trace's one process is called ("raycc embedded runtime").
  void SetProcessName(std::string name) { process_name_ = std::move(name); }
  /// Writes the file (JSON array format).
  absl::Status Write() const;

 private:
  std::string path_;
  std::chrono::steady_clock::time_point start_;
  double unix_start_us_ = 0;  // (start_, on the system clock)
  std::string process_name_ = "raycc embedded runtime";
  mutable std::mutex mu_;
  std::vector<Attempt> attempts_;
  struct Thread {
    int tid;
    std::string name;
    bool only_if_used;
  };
  std::vector<Thread> threads_;
};

}  // namespace raycc::internal
