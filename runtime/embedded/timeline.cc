// TimelineRecorder: task attempts as Chrome trace events.

#include "embedded/timeline.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace raycc::internal {
namespace {

/// A JSON string literal of `s`.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == '<' || c == '>' || c == '&') {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

}  // namespace

absl::Status TimelineRecorder::Check(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  // Write() writes <path>.tmp and renames it over <path>: check exactly that
  // can be done (a directory that is not writable fails here, not at the
  // end of a long run).
  std::string tmp = path + ".tmp";
  bool ok = static_cast<bool>(std::ofstream(tmp, std::ios::trunc));
  ok = ok && std::rename(tmp.c_str(), path.c_str()) == 0;
  std::remove(tmp.c_str());
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("cannot write the timeline to '", path, "'"));
  return absl::OkStatus();
}

TimelineRecorder::TimelineRecorder(std::string path)
    : path_(std::move(path)), start_(std::chrono::steady_clock::now()), unix_start_us_(UnixNowUs()) {}

double TimelineRecorder::UnixNowUs() {
  return std::chrono::duration<double, std::micro>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double TimelineRecorder::NowUs() const {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_).count();
}

void TimelineRecorder::Record(Attempt attempt) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  attempts_.push_back(std::move(attempt));
}

void TimelineRecorder::NameThread(int tid, std::string name, bool only_if_used) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  threads_.push_back({tid, std::move(name), only_if_used});
}

absl::Status TimelineRecorder::Write() const {
  if (!enabled()) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return absl::InternalError(absl::StrCat("cannot write the timeline to '", tmp, "'"));
    out << "[\n";
    bool first = true;
    auto sep = [&] {
      if (!first) out << ",\n";
      first = false;
    };
    sep();
    out << R"({"ph": "M", "name": "process_name", "pid": 1, "args": {"name": )" << Quote(process_name_)
        << "}}";
    for (const auto& [tid, name, only_if_used] : threads_) {
      if (only_if_used && std::none_of(attempts_.begin(), attempts_.end(),
                                       [tid = tid](const Attempt& a) { return a.tid == tid; })) {
        continue;
      }
      sep();
      out << R"({"ph": "M", "name": "thread_name", "pid": 1, "tid": )" << tid << R"(, "args": {"name": )"
          << Quote(name) << "}}";
    }
    for (const Attempt& a : attempts_) {
      sep();
      out << absl::StrFormat(
          R"({"ph": "X", "name": %s, "cat": "task", "ts": %.3f, "dur": %.3f, "pid": 1, "tid": %d, )"
          R"("args": {"node_id": %d, "graph": %s, "status": "%s", "node": %s, "submitted_us": %.3f}})",
          Quote(a.name), a.start_us, a.end_us - a.start_us, a.tid, a.plan_node, Quote(a.graph), a.status,
          Quote(a.node), a.submitted_us);
    }
    out << "\n]\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write the timeline to '", tmp, "'"));
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write the timeline to '", path_, "'"));
  }
  return absl::OkStatus();
}

}  // namespace raycc::internal
