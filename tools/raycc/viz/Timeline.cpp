//===- Timeline.cpp - task events of a run, read from a trace -------------===//

#include "viz/Timeline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "viz/Json.h"

namespace raycc::tools::viz {
namespace {

/// pid and tid may be numbers or strings in the wild.
std::string idText(const JsonValue *v) {
  if (!v)
    return "";
  if (v->isString())
    return v->string;
  if (v->isNumber()) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.15g", v->number);
    return buf;
  }
  return "";
}

std::string stringMember(const JsonValue &object, std::string_view name) {
  const JsonValue *v = object.find(name);
  return v && v->isString() ? v->string : "";
}

/// Copies the fields the visualizer reads from `args` onto `event`; members
/// that are absent leave the event as it is (an "E" adds to its "B").
void readArgs(const JsonValue *args, TimelineEvent &event) {
  if (!args || !args->isObject())
    return;
  if (const JsonValue *id = args->find("node_id");
      id && id->isNumber() && std::isfinite(id->number))
    event.planNode = id->number >= 0 && id->number < 4e9
                         ? static_cast<int64_t>(id->number)
                         : -1;
  if (const JsonValue *v = args->find("graph"); v && v->isString())
    event.graph = v->string;
  if (const JsonValue *v = args->find("node"); v && v->isString())
    event.clusterNode = v->string;
  if (const JsonValue *v = args->find("status"); v && v->isString())
    event.status = v->string;
}

bool finiteNumber(const JsonValue *v) {
  return v && v->isNumber() && std::isfinite(v->number);
}

/// Parses, tolerating a JSON array whose closing bracket is missing: Chrome
/// allows that so a trace stays readable after its writer crashed.
bool parseTraceText(std::string_view json, JsonValue *root,
                    std::string *error) {
  if (parseJson(json, root, error))
    return true;
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || json[first] != '[')
    return false;
  std::string closed(json);
  while (!closed.empty() && (closed.back() == ',' || closed.back() == ' ' ||
                             closed.back() == '\n' || closed.back() == '\r' ||
                             closed.back() == '\t'))
    closed.pop_back();
  closed += ']';
  std::string ignored;
  return parseJson(closed, root, &ignored);
}

} // namespace

std::string workerKey(std::string_view pid, std::string_view tid) {
  return std::string(pid) + "/" + std::string(tid);
}

bool parseChromeTrace(std::string_view json, Timeline *out,
                      std::string *error) {
  *out = Timeline();
  JsonValue root;
  std::string parseError;
  if (!parseTraceText(json, &root, &parseError)) {
    if (error)
      *error = "the timeline is not valid JSON: " + parseError;
    return false;
  }
  const JsonValue *events = &root;
  if (root.isObject())
    events = root.find("traceEvents");
  if (!events || !events->isArray()) {
    if (error)
      *error = "the timeline is not a Chrome trace: expected an array of "
               "events or an object with a \"traceEvents\" array";
    return false;
  }

  // Open "B" events per worker, innermost last.
  std::map<std::string, std::vector<TimelineEvent>> open;
  for (const JsonValue &e : events->items) {
    if (!e.isObject())
      continue;
    std::string ph = stringMember(e, "ph");
    std::string pid = idText(e.find("pid"));
    std::string tid = idText(e.find("tid"));
    if (ph == "M") {
      const JsonValue *args = e.find("args");
      if (stringMember(e, "name") == "thread_name" && args)
        out->threadNames[workerKey(pid, tid)] = stringMember(*args, "name");
      continue;
    }
    if (ph != "X" && ph != "B" && ph != "E")
      continue;
    const JsonValue *ts = e.find("ts");
    if (!finiteNumber(ts))
      continue;
    if (ph == "E") {
      auto it = open.find(workerKey(pid, tid));
      if (it == open.end() || it->second.empty())
        continue;
      TimelineEvent event = std::move(it->second.back());
      it->second.pop_back();
      readArgs(e.find("args"), event);
      event.durationUs = std::max(0.0, ts->number - event.startUs);
      out->events.push_back(std::move(event));
      continue;
    }
    TimelineEvent event;
    event.name = stringMember(e, "name");
    event.pid = pid;
    event.tid = tid;
    event.startUs = ts->number;
    readArgs(e.find("args"), event);
    if (ph == "B") {
      open[workerKey(pid, tid)].push_back(std::move(event));
      continue;
    }
    const JsonValue *dur = e.find("dur");
    event.durationUs = finiteNumber(dur) ? std::max(0.0, dur->number) : 0;
    out->events.push_back(std::move(event));
  }
  return true;
}

} // namespace raycc::tools::viz
