//===- VizHtmlTest.cpp - the visualizer's JSON, trace reader and page -----===//

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "SamplePlan.h"
#include "raycc_viz_assets.h"
#include "viz/DotLayout.h"
#include "viz/Json.h"
#include "viz/PlanGraph.h"
#include "viz/Timeline.h"
#include "viz/VizHtml.h"

namespace raycc::tools::viz {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

JsonValue parsed(const std::string& json) {
  JsonValue value;
  std::string error;
  EXPECT_TRUE(parseJson(json, &value, &error)) << error << "\n" << json;
  return value;
}

TEST(VizJsonTest, EscapesForJsonAndForHtml) {
  std::string out;
  appendJsonString(out, std::string("a\"b\\c\n\x01<>&\xe2\x80\xa8 \xc3\xa9") + "\xff");
  EXPECT_EQ(out,
            "\"a\\\"b\\\\c\\n\\u0001\\u003c\\u003e\\u0026\\u2028 "
            "\xc3\xa9\\ufffd\"");
}

TEST(VizJsonTest, WriterPlacesCommas) {
  JsonWriter w;
  w.beginObject();
  w.key("a");
  w.beginArray();
  w.integer(1);
  w.number(2.5);
  w.boolean(true);
  w.null();
  w.endArray();
  w.key("b");
  w.beginObject();
  w.endObject();
  w.key("c");
  w.string("x");
  w.endObject();
  EXPECT_EQ(w.str(), "{\"a\":[1,2.5,true,null],\"b\":{},\"c\":\"x\"}");
}

TEST(VizJsonTest, ParsesWhatItWrites) {
  JsonValue v = parsed(
      "{\"s\": \"\\u00e9\\ud83d\\ude00\\n\", \"n\": -1.5e2, "
      "\"a\": [true, null, {}]}");
  ASSERT_TRUE(v.isObject());
  EXPECT_EQ(v.find("s")->string, "\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_EQ(v.find("n")->number, -150);
  EXPECT_EQ(v.find("a")->items.size(), 3u);
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(VizJsonTest, ErrorsNameThePosition) {
  JsonValue v;
  std::string error;
  EXPECT_FALSE(parseJson("{\"a\": 1,\n \"b\": }", &v, &error));
  EXPECT_NE(error.find("line 2, column 7"), std::string::npos) << error;
  EXPECT_FALSE(parseJson("[1, 2] x", &v, &error));
  EXPECT_NE(error.find("after the JSON value"), std::string::npos) << error;
  // Deep nesting is an error, not a stack overflow.
  EXPECT_FALSE(parseJson(std::string(100000, '['), &v, &error));
  EXPECT_NE(error.find("too deep"), std::string::npos) << error;
}

TEST(VizGraphJsonTest, ModelHoldsNodesEdgesAndGroups) {
  std::string json = graphToJson(samplePlan(), nullptr);
  JsonValue g = parsed(json);
  EXPECT_EQ(g.find("name")->string, "ps");
  const JsonValue& nodes = *g.find("nodes");
  ASSERT_EQ(nodes.items.size(), 4u);
  EXPECT_EQ(nodes.items[0].find("kind")->string, "actor_create");
  EXPECT_EQ(nodes.items[0].find("actor")->find("class")->string, "Server");
  const JsonValue& grad = nodes.items[1];
  EXPECT_EQ(grad.find("kind")->string, "task");
  EXPECT_EQ(grad.find("node")->string, "node-a");
  EXPECT_EQ(grad.find("group")->number, 0);
  EXPECT_EQ(grad.find("bundle")->number, 0);
  EXPECT_EQ(grad.find("resources")->find("CPU")->number, 0.5);
  EXPECT_EQ(grad.find("location")->find("file")->string, "prog.cc");
  EXPECT_EQ(grad.find("location")->find("line")->number, 42);
  EXPECT_EQ(grad.find("location")->find("column")->number, 7);
  EXPECT_EQ(grad.find("inputs")->items[0].string, "steps");
  EXPECT_TRUE(grad.find("critical")->boolean);
  EXPECT_EQ(grad.find("box"), nullptr);  // no layout given
  EXPECT_EQ(nodes.items[3].find("fused")->items.size(), 2u);
  EXPECT_EQ(nodes.items[3].find("outputs")->items[0].string, "result");

  // 0->1, 0->2, 0->3, 1->3 (control), 2->3; the repeated operand is one edge.
  const JsonValue& edges = *g.find("edges");
  ASSERT_EQ(edges.items.size(), 5u);
  int control = 0;
  for (const JsonValue& e : edges.items) control += e.items[2].number == 1;
  EXPECT_EQ(control, 0);  // 1->3 also carries data: data wins

  const JsonValue& group = g.find("groups")->items.at(0);
  EXPECT_EQ(group.find("strategy")->string, "STRICT_SPREAD");
  EXPECT_EQ(group.find("members")->items.size(), 2u);
  EXPECT_EQ(group.find("bundles")->items.at(1).find("node")->string, "node-b");
  EXPECT_EQ(g.find("layout")->find("engine")->string, "none");
  EXPECT_EQ(g.find("timeline"), nullptr);
}

TEST(VizGraphJsonTest, ScriptInATaskNameStaysText) {
  std::string json = graphToJson(samplePlan(), nullptr);
  EXPECT_EQ(json.find('<'), std::string::npos);
  EXPECT_EQ(json.find('>'), std::string::npos);
  EXPECT_NE(json.find("\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"), std::string::npos);
  // And the name reads back exactly.
  EXPECT_EQ(parsed(json).find("nodes")->items[2].find("name")->string, kHostile);
}

TEST(VizGraphJsonTest, ControlOnlyEdgesAreMarked) {
  proto::ExecPlan plan;
  addNode(plan, proto::TASK, "a");
  addNode(plan, proto::JOIN, "j")->add_control_deps(0);
  addNode(plan, proto::TASK, "bad")->add_control_deps(7);  // out of range
  std::vector<PlanEdge> edges = planEdges(plan);
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_TRUE(edges[0].control);
}

TEST(VizGraphJsonTest, RunOverlay) {
  Timeline run = sampleRun();
  JsonValue g = parsed(graphToJson(samplePlan(), &run));
  const JsonValue& nodes = *g.find("nodes");
  const JsonValue* r2 = nodes.items[2].find("run");
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->find("start_us")->number, 100);
  EXPECT_EQ(r2->find("dur_us")->number, 220);
  EXPECT_EQ(r2->find("attempts")->number, 2);
  EXPECT_EQ(r2->find("status")->string, "finished");
  EXPECT_EQ(r2->find("worker")->string, "1/2");

  const JsonValue& t = *g.find("timeline");
  EXPECT_EQ(t.find("span_us")->number, 350);
  EXPECT_EQ(t.find("events")->number, 6);  // another_graph's is left out
  // 0 -> 2 (finished at 320, after 1 at 150) -> 3.
  const JsonValue& critical = *t.find("critical");
  ASSERT_EQ(critical.items.size(), 3u);
  EXPECT_EQ(critical.items[0].number, 0);
  EXPECT_EQ(critical.items[1].number, 2);
  EXPECT_EQ(critical.items[2].number, 3);
  // Worker 1/1 ran 0..150 and 320..350: idle from 150 to 320.
  const JsonValue& workers = *t.find("workers");
  ASSERT_EQ(workers.items.size(), 3u);
  const JsonValue& w1 = workers.items[0];
  EXPECT_EQ(w1.find("key")->string, "1/1");
  ASSERT_EQ(w1.find("gaps")->items.size(), 1u);
  EXPECT_EQ(w1.find("gaps")->items[0].items[0].number, 150);
  EXPECT_EQ(w1.find("gaps")->items[0].items[1].number, 170);
  EXPECT_EQ(w1.find("busy_us")->number, 180);
}

TEST(VizGraphJsonTest, NamedIdleWorkersGetALane) {
  Timeline run = sampleRun();
  run.threadNames[workerKey("1", "9")] = "worker 8";       // ran nothing
  run.threadNames[workerKey("2", "1")] = "other process";  // not this graph's
  JsonValue g = parsed(graphToJson(samplePlan(), &run));
  const JsonValue& workers = *g.find("timeline")->find("workers");
  ASSERT_EQ(workers.items.size(), 4u);
  const JsonValue* idle = nullptr;
  for (const JsonValue& w : workers.items) {
    EXPECT_NE(w.find("key")->string, "2/1");
    if (w.find("key")->string == "1/9") idle = &w;
  }
  ASSERT_NE(idle, nullptr);
  EXPECT_EQ(idle->find("name")->string, "worker 8");
  EXPECT_EQ(idle->find("busy_us")->number, 0);
  EXPECT_TRUE(idle->find("tasks")->items.empty());
  // Idle for the whole run: one gap from 0 to the span.
  ASSERT_EQ(idle->find("gaps")->items.size(), 1u);
  EXPECT_EQ(idle->find("gaps")->items[0].items[1].number, 350);
}

TEST(VizTimelineTest, ReadsCompleteAndBeginEndEvents) {
  Timeline t;
  std::string error;
  ASSERT_TRUE(parseChromeTrace(R"({"traceEvents": [
    {"ph": "M", "name": "thread_name", "pid": 1, "tid": 7,
     "args": {"name": "worker 7"}},
    {"ph": "X", "name": "Grad", "ts": 10.5, "dur": 4, "pid": 1, "tid": 7,
     "args": {"node_id": 1, "graph": "ps", "status": "finished",
              "node": "node-a"}},
    {"ph": "B", "name": "Apply", "ts": 20, "pid": 1, "tid": "w2"},
    {"ph": "i", "name": "ignored", "ts": 21, "pid": 1, "tid": 7},
    {"ph": "E", "ts": 26, "pid": 1, "tid": "w2", "args": {"node_id": 3}},
    {"ph": "X", "name": "no timestamp", "pid": 1, "tid": 7},
    {"ph": "C", "name": "counter", "ts": 1, "args": {"v": 1}}
  ]})",
                               &t, &error))
      << error;
  ASSERT_EQ(t.events.size(), 2u);
  EXPECT_EQ(t.events[0].name, "Grad");
  EXPECT_EQ(t.events[0].planNode, 1);
  EXPECT_EQ(t.events[0].graph, "ps");
  EXPECT_EQ(t.events[0].clusterNode, "node-a");
  EXPECT_EQ(t.events[0].startUs, 10.5);
  EXPECT_EQ(t.events[0].durationUs, 4);
  EXPECT_EQ(t.events[0].tid, "7");
  EXPECT_EQ(t.events[1].name, "Apply");
  EXPECT_EQ(t.events[1].planNode, 3);
  EXPECT_EQ(t.events[1].durationUs, 6);
  EXPECT_EQ(t.events[1].tid, "w2");
  EXPECT_EQ(t.threadNames[workerKey("1", "7")], "worker 7");
}

TEST(VizTimelineTest, AcceptsAnArrayWithoutItsClosingBracket) {
  Timeline t;
  std::string error;
  EXPECT_TRUE(parseChromeTrace("[{\"ph\": \"X\", \"name\": \"a\", \"ts\": 1, \"dur\": 2},\n", &t, &error))
      << error;
  EXPECT_EQ(t.events.size(), 1u);
}

TEST(VizTimelineTest, RejectsWhatIsNotATrace) {
  Timeline t;
  std::string error;
  EXPECT_FALSE(parseChromeTrace("this is not json", &t, &error));
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
  EXPECT_NE(error.find("line 1, column 1"), std::string::npos) << error;
  EXPECT_FALSE(parseChromeTrace("{\"traceEvents\": [1, 2,, 3]}", &t, &error));
  EXPECT_NE(error.find("column 23"), std::string::npos) << error;
  EXPECT_FALSE(parseChromeTrace("{\"events\": []}", &t, &error));
  EXPECT_NE(error.find("traceEvents"), std::string::npos) << error;
  EXPECT_FALSE(parseChromeTrace("", &t, &error));
}

TEST(VizPageTest, TemplateMarkersAreReplacedOnce) {
  std::string page, error;
  ASSERT_TRUE(
      fillTemplate("<style>/*RAYCC_VIZ_CSS*/</style><x>/*RAYCC_VIZ_DATA*/</x>"
                   "<script>/*RAYCC_VIZ_JS*/</script>",
                   "c", "j", "\"/*RAYCC_VIZ_JS*/\"", &page, &error));
  EXPECT_EQ(page,
            "<style>c</style><x>\"/*RAYCC_VIZ_JS*/\"</x>"
            "<script>j</script>");
  EXPECT_FALSE(fillTemplate("no markers", "c", "j", "{}", &page, &error));
  EXPECT_NE(error.find("marker"), std::string::npos);
}

TEST(VizPageTest, EmbeddedViewerCannotEndItsOwnElements) {
  EXPECT_EQ(std::string(kVizViewerJs).find("</script"), std::string::npos);
  EXPECT_EQ(std::string(kVizViewerCss).find("</style"), std::string::npos);
  EXPECT_NE(std::string(kVizViewerHtml).find("/*RAYCC_VIZ_DATA*/"), std::string::npos);
}

TEST(VizPageTest, RendersOneSelfContainedPage) {
  VizOptions options;
  options.runLayout = false;
  std::string error;
  Timeline run = sampleRun();
  std::string page = renderHtml({samplePlan()}, options, &run, &error);
  ASSERT_FALSE(page.empty()) << error;
  EXPECT_EQ(page.find("RAYCC_VIZ_"), std::string::npos);
  EXPECT_NE(page.find("id=\"raycc-data\""), std::string::npos);
  // The viewer's two script elements and no third from the task name.
  EXPECT_EQ(count(page, "</script>"), 2u);
  // The name is there (as the node's name and function), only escaped.
  EXPECT_EQ(count(page, "alert(1)"), count(page, "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"));
  EXPECT_GE(count(page, "alert(1)"), 1u);
  // Nothing is fetched: no external script, style or font.
  EXPECT_EQ(page.find("src="), std::string::npos);
  EXPECT_EQ(page.find("href="), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
}

TEST(VizPageTest, NoGraphIsAnError) {
  std::string error;
  EXPECT_EQ(renderHtml({}, VizOptions(), nullptr, &error), "");
  EXPECT_FALSE(error.empty());
}

TEST(VizLayoutTest, LargePlansAreAggregated) {
  proto::ExecPlan plan;
  plan.add_placement_groups()->add_bundles();
  addNode(plan, proto::TASK, "Load");
  while (plan.nodes_size() < 10000) {
    int round = plan.nodes_size();
    for (int i = 0; i < 99 && plan.nodes_size() < 10000; ++i) {
      proto::PlanNode* map = addNode(plan, proto::TASK, "Map");
      addOperand(map, round - 1);
      if (i % 2) putInGroup(map, 0, 0);
    }
  }
  LayoutUnits units = groupIntoUnits(plan, 1500);
  EXPECT_TRUE(units.aggregated);
  EXPECT_LE(units.units.size(), 1500u);
  ASSERT_EQ(units.unitOf.size(), 10000u);
  // A unit never mixes placement groups.
  for (int id = 0; id < plan.nodes_size(); ++id)
    EXPECT_EQ(units.unitGroup[units.unitOf[id]], placementGroupOf(plan, plan.nodes(id)));
  std::string dot = unitsToDot(plan, units);
  EXPECT_NE(dot.find("subgraph cluster_g0"), std::string::npos);
  EXPECT_NE(dot.find("rankdir=LR"), std::string::npos);

  LayoutUnits small = groupIntoUnits(samplePlan(), 1500);
  EXPECT_FALSE(small.aggregated);
  EXPECT_EQ(small.units.size(), 4u);
}

TEST(VizLayoutTest, MissingDotIsAClearError) {
  LayoutOptions options;
  options.dotPath = "/nonexistent/bin/dot";
  GraphLayout layout;
  std::string error;
  EXPECT_FALSE(layoutPlan(samplePlan(), options, &layout, &error));
  EXPECT_NE(error.find("apt-get install graphviz"), std::string::npos) << error;
}

TEST(VizLayoutTest, DotLaysOutLeftToRight) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) GTEST_SKIP() << "Graphviz's dot is not installed";
  GraphLayout layout;
  std::string error;
  proto::ExecPlan plan = samplePlan();
  ASSERT_TRUE(layoutPlan(plan, LayoutOptions(), &layout, &error)) << error;
  ASSERT_EQ(layout.nodes.size(), 4u);
  EXPECT_LT(layout.nodes[0].x, layout.nodes[1].x);
  EXPECT_LT(layout.nodes[1].x, layout.nodes[3].x);
  EXPECT_GT(layout.nodes[1].width, 0);
  // The group's box holds its members (dot rounds to hundredths).
  const Box& g = layout.groups.at(0);
  for (int id : {1, 2}) {
    const Box& n = layout.nodes[id];
    EXPECT_GE(n.x, g.x - 1);
    EXPECT_GE(n.y, g.y - 1);
    EXPECT_LE(n.x + n.width, g.x + g.width + 1);
    EXPECT_LE(n.y + n.height, g.y + g.height + 1);
  }
  EXPECT_EQ(layout.bundles.size(), 2u);
  JsonValue model = parsed(graphToJson(plan, nullptr, &layout));
  EXPECT_EQ(model.find("layout")->find("engine")->string, "dot");
  EXPECT_EQ(model.find("nodes")->items[1].find("box")->items.size(), 4u);
}

}  // namespace
}  // namespace raycc::tools::viz
