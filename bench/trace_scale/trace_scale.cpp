// How long tracing takes against how long the host compiler takes to build
// the same graph program (the yardstick: tracing 100,000 tasks must
// take well under the host compile). Each size is traced in-process from
// trace_program.cc (linked into this binary) and turned into IR; the host
// compiler then builds trace_program.cc with the flags `raycc compile` uses.
//
//   build/bench/trace_scale [--sizes 1000,10000,100000] [--repeats 3]
//                           [--cxx c++] [--no-host]

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "mlir/IR/MLIRContext.h"
#include "raycc/frontend/TraceToMlir.h"
#include "raycc/frontend/trace.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes = {1000, 10000, 100000};
  int repeats = 3;
  std::string cxx = std::getenv("CXX") ? std::getenv("CXX") : "c++";
  bool host = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::stringstream ss(argv[++i]);
      for (std::string s; std::getline(ss, s, ',');) sizes.push_back(std::stoll(s));
    } else if (a == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--cxx" && i + 1 < argc) {
      cxx = argv[++i];
    } else if (a == "--no-host") {
      host = false;
    } else {
      std::fprintf(stderr, "usage: trace_scale [--sizes N,...] [--repeats R] [--cxx CXX] [--no-host]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  const raycc::trace::GraphEntry* entry = raycc::trace::GraphRegistry::Instance().Find("butterfly");
  if (entry == nullptr) {
    std::fprintf(stderr, "trace_scale: the butterfly graph is not registered\n");
    return 1;
  }

  double hostSeconds = 0;
  if (host) {
    // The host compile `raycc compile` runs (same flags), median of repeats.
    std::string cmd = cxx + " -std=c++20 -fPIC -shared -O2 -I" RAYCC_SOURCE_DIR
                            "/runtime/include -I" RAYCC_SOURCE_DIR "/frontend/include " RAYCC_SOURCE_DIR
                            "/bench/trace_scale/trace_program.cc -o /tmp/raycc_trace_scale.so";
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
      auto start = std::chrono::steady_clock::now();
      int rc = std::system(cmd.c_str());
      if (rc != 0) {
        std::fprintf(stderr, "trace_scale: the host compile failed: %s\n", cmd.c_str());
        return 1;
      }
      times.push_back(Seconds(start));
    }
    std::remove("/tmp/raycc_trace_scale.so");
    hostSeconds = Median(times);
  }

  std::printf("%10s %12s %12s %12s %16s %18s\n", "tasks", "trace s", "to-IR s", "total s", "host compile s",
              "total / host");
  for (int64_t n : sizes) {
    std::vector<double> trace, ir;
    for (int r = 0; r < repeats; ++r) {
      auto start = std::chrono::steady_clock::now();
      raycc::trace::Graph graph =
          raycc::trace::TraceGraph(*entry, {{"tasks", std::to_string(n)}, {"width", "100"}});
      trace.push_back(Seconds(start));
      if (!graph.errors.empty()) {
        std::fprintf(stderr, "trace_scale: %s\n", graph.errors.front().message.c_str());
        return 1;
      }
      start = std::chrono::steady_clock::now();
      mlir::MLIRContext ctx;
      auto module = raycc::frontend::buildModule(ctx, {graph});
      ir.push_back(Seconds(start));
      if (!module) return 1;
    }
    double t = Median(trace), i = Median(ir);
    if (host) {
      std::printf("%10lld %12.4f %12.4f %12.4f %16.3f %17.1f%%\n", static_cast<long long>(n), t, i, t + i,
                  hostSeconds, 100 * (t + i) / hostSeconds);
    } else {
      std::printf("%10lld %12.4f %12.4f %12.4f %16s %18s\n", static_cast<long long>(n), t, i, t + i, "-",
                  "-");
    }
  }
  std::printf("medians of %d runs; host compile: %s -O2 of trace_program.cc\n", repeats, cxx.c_str());
  return 0;
}
