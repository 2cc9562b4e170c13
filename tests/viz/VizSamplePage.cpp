//===- VizSamplePage.cpp - writes a sample page for the browser test ------===//
//
//   raycc_viz_sample_page OUT.html
//
// Renders SamplePlan.h's plan and run through renderHtml, as `raycc viz`
// does, laid out by dot, or by the page itself where Graphviz is missing.
//
//===----------------------------------------------------------------------===//

#include <cstdio>
#include <fstream>
#include <string>

#include "SamplePlan.h"
#include "viz/VizHtml.h"

int main(int argc, char** argv) {
  using namespace raycc::tools::viz;
  if (argc != 2) {
    std::fputs("usage: raycc_viz_sample_page OUT.html\n", stderr);
    return 2;
  }
  VizOptions options;
  std::string error;
  Timeline run = sampleRun();
  std::string page = renderHtml({samplePlan()}, options, &run, &error);
  if (page.empty()) {
    std::fprintf(stderr, "note: %s; the page lays itself out\n", error.c_str());
    options.runLayout = false;
    page = renderHtml({samplePlan()}, options, &run, &error);
  }
  if (page.empty()) {
    std::fprintf(stderr, "raycc_viz_sample_page: %s\n", error.c_str());
    return 1;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out << page;
  if (!out.flush()) {
    std::fprintf(stderr, "raycc_viz_sample_page: cannot write %s\n", argv[1]);
    return 3;
  }
  return 0;
}
