#include "raycc/api.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "core_worker/user_code.h"
#include "raycc/runtime/api/runtime_factory.h"

namespace raycc {

namespace internal {

bool SharedBytesPayload(std::string_view packed, size_t* offset, size_t* size) {
  if (packed.empty()) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(packed.data());
  auto big_endian = [&](size_t at, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | p[at + i];
    return v;
  };
  size_t header = 0, length = 0;
  switch (p[0]) {
    case 0xc4:  // bin 8
    case 0xd9:  // str 8
      header = 2;
      break;
    case 0xc5:  // bin 16
    case 0xda:  // str 16
      header = 3;
      break;
    case 0xc6:  // bin 32
    case 0xdb:  // str 32
      header = 5;
      break;
    default:
      if ((p[0] & 0xe0) != 0xa0) return false;  // (not a fixstr either)
      header = 1;
      length = p[0] & 0x1f;
  }
  if (packed.size() < header) return false;
  if (header > 1) length = big_endian(1, header - 1);
  if (header + length != packed.size()) return false;
  *offset = header;
  *size = length;
  return true;
}

}  // namespace internal
namespace {

// g_mu serializes Init and Shutdown; the hot paths (every Remote, Get and
// ObjectRef) read g_current without it. Using the API from one thread while
// another shuts the runtime down is a race the caller must avoid (as with
// any object being destroyed); a runtime's own threads are joined before it
// goes, and g_current is cleared first.
std::mutex g_mu;
// Bumped by every Init(), so a reference outliving its runtime is ignored.
uint64_t g_generation = 0;
std::unique_ptr<internal::ManagedRuntime> g_runtime;
std::atomic<internal::ManagedRuntime*> g_current{nullptr};

std::mutex& FactoryMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, internal::RuntimeFactory>& Factories() {
  static auto* factories = new std::map<std::string, internal::RuntimeFactory>();
  return *factories;
}

}  // namespace

namespace internal {

bool RegisterRuntimeFactory(const std::string& kind, RuntimeFactory factory) {
  std::lock_guard<std::mutex> lock(FactoryMutex());
  Factories()[kind] = factory;
  return true;
}

RuntimeFactory FindRuntimeFactory(const std::string& kind) {
  std::lock_guard<std::mutex> lock(FactoryMutex());
  auto it = Factories().find(kind);
  return it == Factories().end() ? nullptr : it->second;
}

RuntimeInterface* CurrentRuntimeOrNull() { return g_current.load(std::memory_order_acquire); }

RuntimeInterface& CurrentRuntime() {
  internal::ManagedRuntime* runtime = g_current.load(std::memory_order_acquire);
  if (runtime == nullptr) throw RayccError("raycc is not initialized: call raycc::Init() first");
  return *runtime;
}

}  // namespace internal

namespace {

internal::ManagedRuntime* StartLocked(const Config& config) {
  if (g_runtime) throw RayccError("raycc::Init: already initialized (call Shutdown() first)");
  std::string address = config.address;
  if (config.local_mode && !address.empty()) {
    throw RayccError("raycc::Init: Config.local_mode runs the embedded runtime, but Config.address names '" +
                     address + "': set one of them");
  }
  if (address.empty() && !config.local_mode) {
    const char* env = std::getenv("RAYCC_ADDRESS");
    if (env != nullptr) address = env;
  }
  const char* kind = address.empty() ? "embedded" : "cluster";
  internal::RuntimeFactory factory = internal::FindRuntimeFactory(kind);
  if (factory == nullptr) {
    if (!address.empty()) {
      throw RayccError("raycc::Init: cannot join the cluster at '" + address +
                       "': this build has no cluster runtime linked in; leave Config.address and "
                       "RAYCC_ADDRESS empty for the embedded runtime");
    }
    throw RayccError(std::string("raycc::Init: no '") + kind + "' runtime is linked in");
  }
  g_runtime = factory(config);
  g_runtime->set_generation(++g_generation);
  g_current.store(g_runtime.get(), std::memory_order_release);
  return g_runtime.get();
}

}  // namespace

void Init() { Init(Config{}); }

void Init(const Config& config) {
  internal::ManagedRuntime* started = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    started = StartLocked(config);
  }
  // A worker process of a cluster serves its raylet from here on (and never
  // returns); a driver goes on.
  started->Serve();
}

namespace internal {

ObjectRefHandle::ObjectRefHandle(const ObjectId& id) : id_(id) {
  internal::ManagedRuntime* runtime = g_current.load(std::memory_order_acquire);
  if (runtime == nullptr) return;  // a ref made without a runtime counts nothing
  runtime->AddObjectRef(id);
  runtime_ = runtime->generation();
}

ObjectRefHandle::ObjectRefHandle(const ObjectId& id, Adopt) : id_(id) {
  internal::ManagedRuntime* runtime = g_current.load(std::memory_order_acquire);
  if (runtime != nullptr) runtime_ = runtime->generation();
}

ObjectRefHandle::~ObjectRefHandle() {
  if (runtime_ == 0) return;
  // Only the runtime it was counted in (not one Init() made since).
  internal::ManagedRuntime* runtime = g_current.load(std::memory_order_acquire);
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
      config.address = std::string(arg.substr(16));
    }
  }
  Init(config);
}

void Shutdown() {
  internal::ManagedRuntime* current = g_current.load(std::memory_order_acquire);
  if (current != nullptr && current->InWorkerThread()) {
    throw RayccError("raycc::Shutdown cannot be called from inside a task or actor");
  }
  std::unique_ptr<internal::ManagedRuntime> runtime;
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

std::string CurrentNodeName() {
  internal::ManagedRuntime* runtime = g_current.load(std::memory_order_acquire);
  return runtime != nullptr ? runtime->CurrentNodeName() : std::string();
}

void ExitActor() {
  internal::ManagedRuntime* runtime = g_current.load(std::memory_order_acquire);
  if (runtime == nullptr || runtime->CurrentActorRestarts() < 0) {
    throw RayccError("ExitActor: called outside of an actor's method (only an actor can exit)");
  }
  throw core_worker::ActorExit{};
}

bool WasCurrentActorRestarted() {
  internal::ManagedRuntime* runtime = g_current.load(std::memory_order_acquire);
  return runtime != nullptr && runtime->CurrentActorRestarts() > 0;
}

bool IsCancelled() {
  internal::ManagedRuntime* runtime = g_current.load(std::memory_order_acquire);
  return runtime != nullptr && runtime->CurrentTaskCancelled();
}

std::vector<int> GetGpuIds() {
  internal::ManagedRuntime* runtime = g_current.load(std::memory_order_acquire);
  return runtime != nullptr ? runtime->CurrentGpuIds() : std::vector<int>();
}

bool IsInitialized() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_runtime != nullptr;
}

}  // namespace raycc
