// raycc: the command-line driver. One binary, one subcommand per job, in the
// manner of `git` or `cargo`. Exit codes are documented in `raycc --help`.

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "Commands.h"
#include "raycc/runtime/gpu/gpu_devices.h"
#include "raycc_version.h"

namespace {

using raycc::tools::kExitFailure;
using raycc::tools::kExitOk;
using raycc::tools::kExitUsage;

constexpr const char *kUsage =
    R"(OVERVIEW: raycc - dataflow-graph compiler and task/actor runtime

USAGE: raycc <command> [options]

COMMANDS:
  compile <prog.cc|.mlir> Compile a graph program into an artifact (.rcx);
                          `raycc compile --help` lists its options.
  run <prog.rcx>          Run a compiled graph on the embedded runtime (or a
                          cluster: --address) and print its outputs
                          (--graph, --input name=JSON).
  viz <prog.rcx>          Draw the graphs as one self-contained HTML page
                          (--timeline run.json overlays a run).
  inspect <prog.rcx>      Show what an artifact holds (--ir, --plan[=GRAPH]).
  start --head | --address HOST:PORT
                          Start cluster daemons on this machine (the head:
                          control service and a raylet; or a joining raylet).
  stop                    End the daemons `raycc start` started here.
  status                  Show the cluster's nodes and their resources.
  submit -- PROGRAM ARGS  Run a driver program as a job of the cluster,
                          supervised on this machine (--no-wait, --name).
  job list|status|logs|stop
                          The cluster's jobs: state, output, stopping one.
  devices [--self-test]   List the GPUs this machine offers as the "GPU" resource.
                          --self-test also runs a small kernel on each one.
  help                    Show this help.

OPTIONS:
  -h, --help              Show this help.
  --version               Show the version.

EXIT CODES:
  0  success
  1  the command failed, or the program has errors (printed on stderr)
  2  bad command line
  3  a file could not be read or written
)";

int Devices(int argc, char **argv) {
  bool self_test = false;
  for (int i = 0; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--self-test") {
      self_test = true;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs("USAGE: raycc devices [--self-test]\n", stdout);
      return kExitOk;
    } else {
      std::fprintf(stderr, "raycc devices: unknown option '%s'\n", argv[i]);
      return kExitUsage;
    }
  }
  raycc::GpuDiscovery discovery = raycc::DiscoverGpus();
  std::fputs(raycc::FormatGpuDiscovery(discovery).c_str(), stdout);
  if (!self_test)
    return kExitOk;
  if (discovery.devices.empty()) {
    std::fputs("self-test skipped: no GPU\n", stdout);
    return kExitOk;
  }
  int rc = kExitOk;
  for (const raycc::GpuDevice &d : discovery.devices) {
    absl::Status s = raycc::RunGpuSelfTest(d.index);
    if (s.ok()) {
      std::printf("GPU %d: self-test passed\n", d.index);
    } else {
      std::fprintf(stderr, "raycc devices: %s\n",
                   std::string(s.message()).c_str());
      rc = kExitFailure;
    }
  }
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  absl::string_view cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (cmd == "--version") {
    std::printf("raycc version %s\n", RAYCC_VERSION);
    return kExitOk;
  }
  if (cmd == "devices")
    return Devices(argc - 2, argv + 2);
  if (cmd == "compile")
    return raycc::tools::runCompile(argc - 1, argv + 1);
  if (cmd == "viz")
    return raycc::tools::runViz(argc - 1, argv + 1);
  if (cmd == "run")
    return raycc::tools::runRun(argc - 1, argv + 1);
  if (cmd == "inspect")
    return raycc::tools::runInspect(argc - 1, argv + 1);
  if (cmd == "start")
    return raycc::tools::runStart(argc - 1, argv + 1);
  if (cmd == "stop")
    return raycc::tools::runStop(argc - 1, argv + 1);
  if (cmd == "status")
    return raycc::tools::runStatus(argc - 1, argv + 1);
  if (cmd == "submit")
    return raycc::tools::runSubmit(argc - 2, argv + 2);
  if (cmd == "job")
    return raycc::tools::runJob(argc - 1, argv + 1);
  if (cmd == "__supervise")
    return raycc::tools::runSupervise(argc - 1, argv + 1);
  std::fprintf(stderr, "raycc: unknown command '%s' (see 'raycc --help')\n",
               argv[1]);
  return kExitUsage;
}
