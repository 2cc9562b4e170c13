//===- VizHtml.h - the graph visualizer page --------------------*- C++ -*-===//
//
// `raycc viz` writes one self-contained HTML file: the viewer's HTML, CSS and
// JavaScript (tools/raycc/viz/viewer.*, embedded at build time) and a JSON
// model of the graphs, laid out by Graphviz, optionally with the timeline of
// a run. docs/visualizer.md documents the JSON model.
//
// This library links no LLVM or MLIR: it reads only ExecPlans.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_TOOLS_RAYCC_VIZ_VIZHTML_H
#define RAYCC_TOOLS_RAYCC_VIZ_VIZHTML_H

#include <string>
#include <string_view>
#include <vector>

#include "raycc/proto/exec_plan.pb.h"
#include "viz/DotLayout.h"
#include "viz/Timeline.h"

namespace raycc::tools::viz {

/// Version of the JSON model; bumped on incompatible changes.
inline constexpr int kVizModelVersion = 1;

struct VizOptions {
  /// The page's title; empty: the names of the graphs.
  std::string title;
  LayoutOptions layout;
  /// When false, dot is not run and the page places nodes by rank itself
  /// (a plain fallback, for tests and for machines without Graphviz).
  bool runLayout = true;
};

/// The JSON model of one graph (an object; see docs/visualizer.md), with
/// node boxes from `layout` and the run from `timeline` when given (either
/// may be null). Events of `timeline` belong to the graph when their
/// args.graph is the plan's graph name or empty. Every string is escaped so
/// that the text can sit inside an HTML <script> element.
std::string graphToJson(const proto::ExecPlan &plan, const Timeline *timeline,
                        const GraphLayout *layout = nullptr);

/// The whole page model: {"version", "title", "graphs": [graphToJson...]}.
std::string pageToJson(const std::vector<proto::ExecPlan> &plans,
                       const std::vector<GraphLayout> &layouts,
                       std::string_view title, const Timeline *timeline);

/// Puts the viewer's CSS, JavaScript and the model into the HTML template in
/// place of its markers /*RAYCC_VIZ_CSS*/, /*RAYCC_VIZ_JS*/ and
/// /*RAYCC_VIZ_DATA*/. Returns false and sets `error` when a marker is
/// missing.
bool fillTemplate(std::string_view html, std::string_view css,
                  std::string_view js, std::string_view model,
                  std::string *page, std::string *error);

/// The HTML page showing `plans` (non-empty), overlaid with `timeline` when
/// it is not null. Returns an empty string and sets `error` when the layout
/// fails (Graphviz missing, for one).
std::string renderHtml(const std::vector<proto::ExecPlan> &plans,
                       const VizOptions &options, const Timeline *timeline,
                       std::string *error);

} // namespace raycc::tools::viz

#endif // RAYCC_TOOLS_RAYCC_VIZ_VIZHTML_H
