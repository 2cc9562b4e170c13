#include "raycc/api.h"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "core/embedded_runtime.h"

namespace raycc {
namespace {

std::mutex g_mu;
std::unique_ptr<internal::EmbeddedRuntime> g_runtime;

}  // namespace

namespace internal {

RuntimeInterface& CurrentRuntime() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_runtime) throw RayccError("raycc is not initialized: call raycc::Init() first");
  return *g_runtime;
}

}  // namespace internal

void Init() { Init(Config{}); }

void Init(const Config& config) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_runtime) throw RayccError("raycc::Init: already initialized (call Shutdown() first)");
  g_runtime = std::make_unique<internal::EmbeddedRuntime>(config);
}

void Init(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::StartsWith(arg, "--raycc-num-cpus=")) {
      int n = 0;
      if (!absl::SimpleAtoi(arg.substr(17), &n) || n < 0) {
        throw RayccError("--raycc-num-cpus: expected a non-negative integer, got '" +
                         std::string(arg.substr(17)) + "'");
      }
      config.num_cpus = n;
    } else if (absl::StartsWith(arg, "--raycc-timeline=")) {
      config.timeline_path = std::string(arg.substr(17));
    } else if (absl::StartsWith(arg, "--raycc-address=")) {
      throw RayccError(
          "--raycc-address: joining a cluster is not available yet; omit it for the embedded runtime");
    }
  }
  Init(config);
}

void Shutdown() {
  if (internal::EmbeddedRuntime::InWorkerThread()) {
    throw RayccError("raycc::Shutdown cannot be called from inside a task or actor");
  }
  std::unique_ptr<internal::EmbeddedRuntime> runtime;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    runtime.swap(g_runtime);
  }
  // Joins the threads outside g_mu so they can finish, then writes the
  // timeline when one was asked for.
  absl::Status finished = runtime ? runtime->Finish() : absl::OkStatus();
  runtime.reset();
  if (!finished.ok()) throw RayccError(std::string(finished.message()));
}

std::string CurrentNodeName() { return internal::EmbeddedRuntime::CurrentNodeName(); }

std::vector<int> GetGpuIds() { return internal::EmbeddedRuntime::CurrentGpuIds(); }

bool IsInitialized() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_runtime != nullptr;
}

}  // namespace raycc
