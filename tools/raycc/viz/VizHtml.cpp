//===- VizHtml.cpp - the graph visualizer page ----------------------------===//

#include "viz/VizHtml.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "raycc_viz_assets.h"
#include "viz/Json.h"
#include "viz/PlanGraph.h"

namespace raycc::tools::viz {
namespace {

const char *kindName(proto::PlanNodeKind kind) {
  switch (kind) {
  case proto::TASK:
    return "task";
  case proto::ACTOR_CREATE:
    return "actor_create";
  case proto::ACTOR_CALL:
    return "actor_call";
  case proto::ACTOR_KILL:
    return "actor_kill";
  case proto::PUT:
    return "put";
  case proto::GET:
    return "get";
  case proto::WAIT:
    return "wait";
  case proto::JOIN:
    return "join";
  case proto::MAP:
    return "map";
  default:
    return "other";
  }
}

/// Coordinates to a tenth of a point: finer is invisible and costs bytes.
double tenth(double v) { return std::round(v * 10) / 10; }

void writeBox(JsonWriter &w, const Box &b) {
  w.beginArray();
  w.number(tenth(b.x));
  w.number(tenth(b.y));
  w.number(tenth(b.width));
  w.number(tenth(b.height));
  w.endArray();
}

/// Quantities are fixed point, 10000 per unit (common.proto).
void writeResources(JsonWriter &w, const proto::ResourceSet &resources) {
  std::map<std::string, int64_t> sorted(resources.quantities().begin(),
                                        resources.quantities().end());
  w.beginObject();
  for (const auto &[name, units] : sorted) {
    w.key(name);
    w.number(static_cast<double>(units) / 10000);
  }
  w.endObject();
}

void writeLocation(JsonWriter &w, const proto::SourceLocation &loc) {
  w.beginObject();
  w.key("file");
  w.string(loc.file());
  w.key("line");
  w.integer(loc.line());
  w.key("column");
  w.integer(loc.column());
  w.endObject();
}

std::string schedulingText(const proto::ExecPlan &plan,
                           const proto::PlanScheduling &s) {
  switch (s.strategy_case()) {
  case proto::PlanScheduling::kSpread:
    return "spread";
  case proto::PlanScheduling::kNodeAffinity:
    return "node affinity: " + s.node_affinity().node_name() +
           (s.node_affinity().soft() ? " (soft)" : " (hard)");
  case proto::PlanScheduling::kPlacementGroup: {
    uint32_t g = s.placement_group().placement_group();
    std::string name = g < static_cast<uint32_t>(plan.placement_groups_size())
                           ? plan.placement_groups(g).name()
                           : "";
    int bundle = s.placement_group().bundle_index();
    return "placement group " + std::to_string(g) +
           (name.empty() ? "" : " \"" + name + "\"") +
           (bundle < 0 ? ", any bundle" : ", bundle " + std::to_string(bundle));
  }
  default:
    return "default";
  }
}

/// What a run did to one plan node, merged over its attempts.
struct NodeRun {
  double start = 0;
  double end = 0;
  int attempts = 0;
  std::string status;
  std::string worker;
  std::string clusterNode;
};

/// The events of `timeline` that belong to one graph, digested for the page.
struct GraphRun {
  std::vector<const TimelineEvent *> events;
  double t0 = 0;
  double t1 = 0;
  std::map<uint32_t, NodeRun> nodes;
  std::vector<uint32_t> critical;
  int unmatched = 0;
};

GraphRun digestRun(const proto::ExecPlan &plan, const Timeline &timeline,
                   const std::vector<PlanEdge> &edges) {
  GraphRun run;
  for (const TimelineEvent &e : timeline.events)
    if (e.graph.empty() || e.graph == plan.graph_name())
      run.events.push_back(&e);
  if (run.events.empty())
    return run;
  run.t0 = run.events.front()->startUs;
  run.t1 = run.t0;
  for (const TimelineEvent *e : run.events) {
    run.t0 = std::min(run.t0, e->startUs);
    run.t1 = std::max(run.t1, e->startUs + e->durationUs);
  }
  for (const TimelineEvent *e : run.events) {
    if (e->planNode < 0 || e->planNode >= plan.nodes_size()) {
      run.unmatched += e->planNode >= 0;
      continue;
    }
    double start = e->startUs - run.t0, end = start + e->durationUs;
    auto [it, fresh] = run.nodes.try_emplace(e->planNode);
    NodeRun &r = it->second;
    if (fresh || start < r.start)
      r.start = start;
    if (fresh || end >= r.end) {
      r.end = end;
      r.status = e->status;
      r.worker = workerKey(e->pid, e->tid);
      r.clusterNode = e->clusterNode;
    }
    ++r.attempts;
  }

  // The path that was actually critical: from the node that finished last,
  // back through the predecessor that finished last, which is the one that
  // held the node up. A node without events (run inline, say) passes its
  // latest predecessor through.
  int n = plan.nodes_size();
  std::vector<double> end(n, -1);
  std::vector<int> gate(n, -1);
  size_t k = 0;
  for (int id = 0; id < n; ++id) {
    for (; k < edges.size() && edges[k].to == static_cast<uint32_t>(id); ++k)
      if (end[edges[k].from] > end[id]) {
        end[id] = end[edges[k].from];
        gate[id] = static_cast<int>(edges[k].from);
      }
    if (auto it = run.nodes.find(id); it != run.nodes.end())
      end[id] = it->second.end;
  }
  int last = -1;
  for (const auto &[id, r] : run.nodes)
    if (last < 0 || r.end > end[last])
      last = static_cast<int>(id);
  for (int id = last; id >= 0; id = gate[id])
    run.critical.push_back(static_cast<uint32_t>(id));
  std::reverse(run.critical.begin(), run.critical.end());
  return run;
}

void writeTimeline(JsonWriter &w, const GraphRun &run,
                   const Timeline &timeline) {
  double span = run.t1 - run.t0;
  // Gaps shorter than this are scheduling noise, not idleness.
  double minGap = std::max(1.0, span / 1000);
  std::map<std::string, std::vector<const TimelineEvent *>> byWorker;
  std::set<std::string> pids;
  for (const TimelineEvent *e : run.events) {
    byWorker[workerKey(e->pid, e->tid)].push_back(e);
    pids.insert(e->pid + "/");
  }
  // A thread the trace names in a process that ran this graph gets a lane
  // even if it ran none of it: an idle worker is what a timeline is for.
  for (const auto &[key, name] : timeline.threadNames)
    if (pids.count(key.substr(0, key.find('/') + 1)))
      byWorker[key];

  w.beginObject();
  w.key("span_us");
  w.number(span);
  w.key("events");
  w.integer(static_cast<int64_t>(run.events.size()));
  w.key("unmatched");
  w.integer(run.unmatched);
  w.key("critical");
  w.beginArray();
  for (uint32_t id : run.critical)
    w.integer(id);
  w.endArray();
  w.key("workers");
  w.beginArray();
  for (auto &[key, events] : byWorker) {
    std::stable_sort(events.begin(), events.end(),
                     [](const TimelineEvent *a, const TimelineEvent *b) {
                       return a->startUs < b->startUs;
                     });
    auto name = timeline.threadNames.find(key);
    w.beginObject();
    w.key("key");
    w.string(key);
    w.key("name");
    w.string(name != timeline.threadNames.end() ? name->second
                                                : "worker " + key);
    double busy = 0, cursor = 0;
    std::vector<std::pair<double, double>> gaps;
    w.key("tasks");
    w.beginArray();
    for (const TimelineEvent *e : events) {
      double start = e->startUs - run.t0, end = start + e->durationUs;
      if (start - cursor >= minGap)
        gaps.emplace_back(cursor, start - cursor);
      busy += std::max(0.0, end - std::max(start, cursor));
      cursor = std::max(cursor, end);
      w.beginArray();
      w.number(start);
      w.number(e->durationUs);
      w.integer(e->planNode);
      w.string(e->name);
      w.string(e->status);
      w.endArray();
    }
    w.endArray();
    if (span - cursor >= minGap)
      gaps.emplace_back(cursor, span - cursor);
    w.key("busy_us");
    w.number(busy);
    w.key("gaps");
    w.beginArray();
    for (const auto &[start, length] : gaps) {
      w.beginArray();
      w.number(start);
      w.number(length);
      w.endArray();
    }
    w.endArray();
    w.endObject();
  }
  w.endArray();
  w.endObject();
}

void writeNode(JsonWriter &w, const proto::ExecPlan &plan,
               const proto::PlanNode &node, int id,
               const std::map<int, std::vector<std::string>> &outputs) {
  w.key("id");
  w.integer(id);
  w.key("kind");
  w.string(kindName(node.kind()));
  w.key("name");
  w.string(node.name().empty() ? node.function().name() : node.name());
  if (!node.function().name().empty()) {
    w.key("function");
    w.string(node.function().name());
  }
  if (!node.function().signature().empty()) {
    w.key("signature");
    w.string(node.function().signature());
  }
  if (node.fused_functions_size() > 0) {
    w.key("fused");
    w.beginArray();
    for (const proto::FunctionDescriptor &f : node.fused_functions())
      w.string(f.name());
    w.endArray();
  }
  if (!node.resources().quantities().empty()) {
    w.key("resources");
    writeResources(w, node.resources());
  }
  if (!node.placement().node_name().empty()) {
    w.key("node");
    w.string(node.placement().node_name());
  }
  if (int group = placementGroupOf(plan, node); group >= 0) {
    w.key("group");
    w.integer(group);
    if (int bundle = bundleOf(plan, node); bundle >= 0) {
      w.key("bundle");
      w.integer(bundle);
    }
  }
  w.key("scheduling");
  w.string(schedulingText(plan, node.scheduling()));
  w.key("priority");
  w.integer(node.priority());
  w.key("critical");
  w.boolean(node.on_critical_path());
  if (node.max_retries() != 0) {
    w.key("max_retries");
    w.integer(node.max_retries());
  }
  if (node.cost().estimated_duration_us() || node.cost().result_bytes()) {
    w.key("cost");
    w.beginObject();
    w.key("duration_us");
    w.integer(static_cast<int64_t>(node.cost().estimated_duration_us()));
    w.key("result_bytes");
    w.integer(static_cast<int64_t>(node.cost().result_bytes()));
    w.endObject();
  }
  if (!node.location().file().empty()) {
    w.key("location");
    writeLocation(w, node.location());
  }
  if (node.kind() == proto::ACTOR_CREATE) {
    const proto::PlanActorOptions &a = node.actor();
    w.key("actor");
    w.beginObject();
    w.key("class");
    w.string(a.class_name());
    w.key("name");
    w.string(a.name());
    w.key("max_restarts");
    w.integer(a.max_restarts());
    w.key("max_concurrency");
    w.integer(a.max_concurrency());
    if (!a.placement_resources().quantities().empty()) {
      w.key("placement_resources");
      writeResources(w, a.placement_resources());
    }
    w.endObject();
  }
  if (node.kind() == proto::WAIT) {
    w.key("wait");
    w.beginObject();
    w.key("num_returns");
    w.integer(node.wait().num_returns());
    w.key("timeout_ms");
    w.integer(node.wait().timeout_ms());
    w.endObject();
  }
  std::vector<std::string> inputs;
  int constants = 0;
  for (const proto::PlanOperand &operand : node.operands()) {
    if (operand.has_graph_input()) {
      uint32_t i = operand.graph_input();
      inputs.push_back(i < static_cast<uint32_t>(plan.inputs_size())
                           ? plan.inputs(i).name()
                           : "#" + std::to_string(i));
    }
    constants += operand.source_case() == proto::PlanOperand::kConstant;
  }
  if (!inputs.empty()) {
    w.key("inputs");
    w.beginArray();
    for (const std::string &name : inputs)
      w.string(name);
    w.endArray();
  }
  if (constants) {
    w.key("constants");
    w.integer(constants);
  }
  if (auto it = outputs.find(id); it != outputs.end()) {
    w.key("outputs");
    w.beginArray();
    for (const std::string &name : it->second)
      w.string(name);
    w.endArray();
  }
  if (node.result_types_size() > 0) {
    w.key("results");
    w.beginArray();
    for (const proto::PlanType &t : node.result_types())
      w.string(t.ir_type());
    w.endArray();
  }
}

void writeRun(JsonWriter &w, const NodeRun &r) {
  w.beginObject();
  w.key("start_us");
  w.number(r.start);
  w.key("dur_us");
  w.number(r.end - r.start);
  w.key("status");
  w.string(r.status);
  w.key("attempts");
  w.integer(r.attempts);
  w.key("worker");
  w.string(r.worker);
  if (!r.clusterNode.empty()) {
    w.key("cluster_node");
    w.string(r.clusterNode);
  }
  w.endObject();
}

void writeGroup(JsonWriter &w, const proto::ExecPlan &plan, int g,
                const std::vector<int> &members, const GraphLayout *layout) {
  const proto::PlanPlacementGroup &group = plan.placement_groups(g);
  w.beginObject();
  w.key("index");
  w.integer(g);
  w.key("name");
  w.string(group.name());
  w.key("strategy");
  w.string(proto::PlacementStrategy_Name(group.strategy()));
  w.key("synthesized");
  w.boolean(group.synthesized());
  if (!group.location().file().empty()) {
    w.key("location");
    writeLocation(w, group.location());
  }
  w.key("bundles");
  w.beginArray();
  for (int b = 0; b < group.bundles_size(); ++b) {
    w.beginObject();
    w.key("resources");
    writeResources(w, group.bundles(b));
    if (b < group.bundle_nodes_size() && !group.bundle_nodes(b).empty()) {
      w.key("node");
      w.string(group.bundle_nodes(b));
    }
    if (layout)
      for (const GraphLayout::BundleBox &bb : layout->bundles)
        if (bb.group == g && bb.bundle == b) {
          w.key("box");
          writeBox(w, bb.box);
        }
    w.endObject();
  }
  w.endArray();
  w.key("members");
  w.beginArray();
  for (int id : members)
    w.integer(id);
  w.endArray();
  if (layout && g < static_cast<int>(layout->groups.size()) &&
      layout->groups[g].width > 0) {
    w.key("box");
    writeBox(w, layout->groups[g]);
  }
  w.endObject();
}

/// Replaces the first `marker` after `from` in `text`; false when absent.
bool replaceMarker(std::string &text, size_t &from, std::string_view marker,
                   std::string_view content) {
  size_t pos = text.find(marker, from);
  if (pos == std::string::npos)
    return false;
  text.replace(pos, marker.size(), content);
  from = pos + content.size();
  return true;
}

} // namespace

std::string graphToJson(const proto::ExecPlan &plan, const Timeline *timeline,
                        const GraphLayout *layout) {
  std::vector<PlanEdge> edges = planEdges(plan);
  if (layout && layout->nodes.size() != static_cast<size_t>(plan.nodes_size()))
    layout = nullptr;
  GraphRun run;
  if (timeline)
    run = digestRun(plan, *timeline, edges);
  std::map<int, std::vector<std::string>> outputs;
  for (const proto::PlanOutput &out : plan.outputs())
    if (out.value().has_node_result())
      outputs[out.value().node_result().node()].push_back(out.name());

  JsonWriter w;
  w.beginObject();
  w.key("name");
  w.string(plan.graph_name());
  w.key("cluster");
  w.string(plan.cluster_name());
  w.key("opt_level");
  w.integer(plan.opt_level());
  w.key("inputs");
  w.beginArray();
  for (const proto::PlanInput &in : plan.inputs()) {
    w.beginObject();
    w.key("name");
    w.string(in.name());
    w.key("type");
    w.string(in.type().ir_type());
    w.endObject();
  }
  w.endArray();

  w.key("nodes");
  w.beginArray();
  std::vector<std::vector<int>> members(plan.placement_groups_size());
  for (int id = 0; id < plan.nodes_size(); ++id) {
    const proto::PlanNode &node = plan.nodes(id);
    if (int g = placementGroupOf(plan, node); g >= 0)
      members[g].push_back(id);
    w.beginObject();
    writeNode(w, plan, node, id, outputs);
    if (layout) {
      w.key("box");
      writeBox(w, layout->nodes[id]);
      if (layout->aggregated) {
        w.key("unit");
        w.integer(layout->unitOf[id]);
      }
    }
    if (auto it = run.nodes.find(id); it != run.nodes.end()) {
      w.key("run");
      writeRun(w, it->second);
    }
    w.endObject();
  }
  w.endArray();

  w.key("edges");
  w.beginArray();
  for (const PlanEdge &e : edges) {
    w.beginArray();
    w.integer(e.from);
    w.integer(e.to);
    w.integer(e.control ? 1 : 0);
    w.endArray();
  }
  w.endArray();

  w.key("groups");
  w.beginArray();
  for (int g = 0; g < plan.placement_groups_size(); ++g)
    writeGroup(w, plan, g, members[g], layout);
  w.endArray();

  w.key("layout");
  w.beginObject();
  w.key("engine");
  w.string(layout ? "dot" : "none");
  if (layout) {
    w.key("width");
    w.number(tenth(layout->width));
    w.key("height");
    w.number(tenth(layout->height));
    w.key("aggregated");
    w.boolean(layout->aggregated);
    if (layout->aggregated) {
      w.key("units");
      w.beginArray();
      for (const Box &b : layout->units)
        writeBox(w, b);
      w.endArray();
    }
  }
  w.endObject();

  if (timeline && !run.events.empty()) {
    w.key("timeline");
    writeTimeline(w, run, *timeline);
  }
  w.endObject();
  return w.take();
}

std::string pageToJson(const std::vector<proto::ExecPlan> &plans,
                       const std::vector<GraphLayout> &layouts,
                       std::string_view title, const Timeline *timeline) {
  JsonWriter w;
  w.beginObject();
  w.key("version");
  w.integer(kVizModelVersion);
  w.key("title");
  w.string(title);
  w.key("graphs");
  w.beginArray();
  for (size_t i = 0; i < plans.size(); ++i)
    w.raw(graphToJson(plans[i], timeline,
                      i < layouts.size() ? &layouts[i] : nullptr));
  w.endArray();
  w.endObject();
  return w.take();
}

bool fillTemplate(std::string_view html, std::string_view css,
                  std::string_view js, std::string_view model,
                  std::string *page, std::string *error) {
  // Markers are replaced in document order and the search resumes after
  // each insertion, so text inside the inserted parts is never taken for a
  // marker.
  *page = std::string(html);
  size_t from = 0;
  if (!replaceMarker(*page, from, "/*RAYCC_VIZ_CSS*/", css) ||
      !replaceMarker(*page, from, "/*RAYCC_VIZ_DATA*/", model) ||
      !replaceMarker(*page, from, "/*RAYCC_VIZ_JS*/", js)) {
    *error = "the viewer template lacks a /*RAYCC_VIZ_...*/ marker";
    return false;
  }
  return true;
}

std::string renderHtml(const std::vector<proto::ExecPlan> &plans,
                       const VizOptions &options, const Timeline *timeline,
                       std::string *error) {
  if (plans.empty()) {
    *error = "there is no graph to show";
    return "";
  }
  std::vector<GraphLayout> layouts;
  if (options.runLayout) {
    layouts.resize(plans.size());
    for (size_t i = 0; i < plans.size(); ++i) {
      if (!layoutPlan(plans[i], options.layout, &layouts[i], error)) {
        if (error->find("raycc viz needs") == std::string::npos)
          *error = "laying out @" + plans[i].graph_name() + ": " + *error;
        return "";
      }
    }
  }
  std::string title = options.title;
  for (size_t i = 0; options.title.empty() && i < plans.size(); ++i)
    title += (i ? ", " : "") + plans[i].graph_name();
  std::string page;
  if (!fillTemplate(kVizViewerHtml, kVizViewerCss, kVizViewerJs,
                    pageToJson(plans, layouts, title, timeline), &page, error))
    return "";
  return page;
}

} // namespace raycc::tools::viz
