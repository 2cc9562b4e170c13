#include "raycc/api.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "core/embedded_runtime.h"

namespace raycc {
namespace {

// g_mu serializes Init and Shutdown; the hot paths (every Remote, Get and
// ObjectRef) read g_current without it. Using the API from one thread while
// another shuts the runtime down is a race the caller must avoid (as with
// any object being destroyed); a runtime's own threads are joined before it
// goes, and g_current is cleared first.
std::mutex g_mu;
// Bumped by every Init(), so a reference outliving its runtime is ignored.
uint64_t g_generation = 0;
std::unique_ptr<internal::EmbeddedRuntime> g_runtime;
std::atomic<internal::EmbeddedRuntime*> g_current{nullptr};

}  // namespace

namespace internal {

RuntimeInterface& CurrentRuntime() {
  internal::EmbeddedRuntime* runtime = g_current.load(std::memory_order_acquire);
  if (runtime == nullptr) throw RayccError("raycc is not initialized: call raycc::Init() first");
  return *runtime;
}

}  // namespace internal

void Init() { Init(Config{}); }

void Init(const Config& config) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_runtime) throw RayccError("raycc::Init: already initialized (call Shutdown() first)");
  g_runtime = std::make_unique<internal::EmbeddedRuntime>(config);
  g_runtime->set_generation(++g_generation);
  g_current.store(g_runtime.get(), std::memory_order_release);
}

namespace internal {

ObjectRefHandle::ObjectRefHandle(const ObjectId& id) : id_(id) {
  internal::EmbeddedRuntime* runtime = g_current.load(std::memory_order_acquire);
  if (runtime == nullptr) return;  // a ref made without a runtime counts nothing
  runtime->AddObjectRef(id);
  runtime_ = runtime->generation();
}

ObjectRefHandle::ObjectRefHandle(const ObjectId& id, Adopt) : id_(id) {
  internal::EmbeddedRuntime* runtime = g_current.load(std::memory_order_acquire);
  if (runtime != nullptr) runtime_ = runtime->generation();
}

ObjectRefHandle::~ObjectRefHandle() {
  if (runtime_ == 0) return;
  // Only the runtime it was counted in (not one Init() made since).
  internal::EmbeddedRuntime* runtime = g_current.load(std::memory_order_acquire);
  if (runtime != nullptr && runtime->generation() == runtime_) runtime->RemoveObjectRef(id_);
}

}  // namespace internal

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
    g_current.store(nullptr, std::memory_order_release);
    runtime.swap(g_runtime);
  }
  // Joins the threads outside g_mu so they can finish, then writes the
  // timeline when one was asked for.
  absl::Status finished = runtime ? runtime->Finish() : absl::OkStatus();
  runtime.reset();
  if (!finished.ok()) throw RayccError(std::string(finished.message()));
}

std::string CurrentNodeName() { return internal::EmbeddedRuntime::CurrentNodeName(); }

bool IsCancelled() { return internal::EmbeddedRuntime::CurrentTaskCancelled(); }

std::vector<int> GetGpuIds() { return internal::EmbeddedRuntime::CurrentGpuIds(); }

bool IsInitialized() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_runtime != nullptr;
}

}  // namespace raycc
