// Ray's C++ API on raycc: the entry points that are not templates.

#include <cxxabi.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "ray/api.h"

namespace ray {
namespace {

std::mutex g_mu;
std::string g_namespace;  // of the job Init started (GetNamespace)

/// The value of `--name=value` or `--name value` at argv[*i] (advancing *i
/// past a separate value); nullopt when argv[*i] is not that flag.
std::optional<std::string> FlagValue(int argc, char** argv, int* i, absl::string_view name) {
  absl::string_view arg = argv[*i];
  if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) return std::nullopt;
  if (!absl::ConsumePrefix(&arg, name)) return std::nullopt;
  if (absl::ConsumePrefix(&arg, "=")) return std::string(arg);
  if (!arg.empty()) return std::nullopt;  // (a longer flag name)
  if (*i + 1 >= argc) throw internal::RayException(absl::StrCat("--", name, " needs a value"));
  return std::string(argv[++*i]);
}

/// Reads Ray's --ray_* flags into `config`. Flags of Ray's own worker
/// processes are accepted and ignored; any other --ray_* flag is an error
/// (a misspelt flag must not be ignored); arguments of the program itself
/// are left alone.
void ReadFlags(RayConfig& config, int argc, char** argv) {
  static const char* const kWorkerOnly[] = {"ray_job_id",
                                            "ray_node_manager_port",
                                            "ray_raylet_socket_name",
                                            "ray_plasma_store_socket_name",
                                            "ray_session_dir",
                                            "ray_logs_dir",
                                            "ray_node_ip_address",
                                            "startup_token",
                                            "ray_runtime_env_hash"};
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (auto v = FlagValue(argc, argv, &i, "ray_address")) {
      config.address = *v;
    } else if (auto v = FlagValue(argc, argv, &i, "ray_code_search_path")) {
      config.code_search_path = absl::StrSplit(*v, ':', absl::SkipEmpty());
    } else if (auto v = FlagValue(argc, argv, &i, "ray_job_namespace")) {
      config.ray_namespace = *v;
    } else if (auto v = FlagValue(argc, argv, &i, "ray_redis_password")) {
      config.redis_password_ = *v;
    } else if (auto v = FlagValue(argc, argv, &i, "ray_head_args")) {
      for (absl::string_view head_arg : absl::StrSplit(*v, ' ', absl::SkipEmpty()))
        config.head_args.emplace_back(head_arg);
    } else if (auto v = FlagValue(argc, argv, &i, "ray_default_actor_lifetime")) {
      const std::string lifetime = absl::AsciiStrToLower(*v);
      if (lifetime == "detached") {
        config.default_actor_lifetime = ActorLifetime::DETACHED;
      } else if (lifetime == "non_detached") {
        config.default_actor_lifetime = ActorLifetime::NON_DETACHED;
      } else {
        throw internal::RayException(
            "--ray_default_actor_lifetime: expected detached or non_detached, got '" + *v + "'");
      }
    } else if (auto v = FlagValue(argc, argv, &i, "ray_runtime_env")) {
      if (!v->empty() && *v != "{}") {
        throw internal::RayException("--ray_runtime_env: runtime environments are not supported by raycc");
      }
    } else {
      bool known = false;
      for (const char* name : kWorkerOnly) {
        int at = i;
        if (FlagValue(argc, argv, &at, name)) {
          known = true;
          i = at;
          break;
        }
      }
      if (!known && (absl::StartsWith(arg, "--ray_") || absl::StartsWith(arg, "-ray_"))) {
        throw internal::RayException(
            absl::StrCat("unknown flag ", arg,
                         " (ray::Init reads --ray_address, --ray_code_search_path, "
                         "--ray_job_namespace, --ray_head_args, --ray_redis_password, "
                         "--ray_default_actor_lifetime)"));
      }
    }
  }
}

/// True in a worker process a raylet started from the driver's program.
bool InWorker() {
  const char* worker = std::getenv("RAYCC_WORKER");
  return worker != nullptr && std::string_view(worker) == "1";
}

/// The embedded runtime's resources from Ray's head arguments:
/// --num-cpus=N, --num-gpus=N, --resources='{"name": quantity}'.
void ReadHeadArgs(const std::vector<std::string>& head_args, raycc::Config& out) {
  for (size_t i = 0; i < head_args.size(); ++i) {
    absl::string_view arg = head_args[i];
    std::string name(arg), value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else if (i + 1 < head_args.size()) {
      value = head_args[++i];
    }
    auto number = [&](double* into) {
      if (!absl::SimpleAtod(value, into) || *into < 0) {
        throw internal::RayException(
            absl::StrCat("head_args: ", name, " expects a non-negative number, got '", value, "'"));
      }
    };
    if (name == "--num-cpus") {
      double cpus = 0;
      number(&cpus);
      if (cpus != static_cast<int>(cpus)) {
        throw internal::RayException(
            absl::StrCat("head_args: --num-cpus expects a whole number, got ", value));
      }
      out.num_cpus = static_cast<int>(cpus);
    } else if (name == "--num-gpus") {
      double gpus = 0;
      number(&gpus);
      if (gpus > 0) out.resources["GPU"] = gpus;
    } else if (name == "--resources") {
      nlohmann::json resources = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
      if (!resources.is_object()) {
        throw internal::RayException(
            absl::StrCat("head_args: --resources expects a JSON object of quantities, got '", value, "'"));
      }
      for (const auto& [key, quantity] : resources.items()) {
        if (!quantity.is_number() || quantity.get<double>() < 0) {
          throw internal::RayException(
              absl::StrCat("head_args: --resources: '", key, "' must be a non-negative number"));
        }
        out.resources[key] = quantity.get<double>();
      }
    } else {
      // (Ray hands the rest to the head it starts; the embedded runtime has
      // no use for them.)
      std::cerr << "ray::Init: head_args: '" << arg
                << "' is ignored (the embedded runtime reads --num-cpus, --num-gpus and --resources)\n";
    }
  }
}

PlacementStrategy ToRay(raycc::internal::PlacementGroupStrategy strategy) {
  return static_cast<PlacementStrategy>(static_cast<int>(strategy));
}

PlacementGroupState ToRay(raycc::PlacementGroupInfo::State state) {
  switch (state) {
    case raycc::PlacementGroupInfo::State::kPending:
    case raycc::PlacementGroupInfo::State::kInfeasible:  // (waits for a node that can hold it)
      return PlacementGroupState::PENDING;
    case raycc::PlacementGroupInfo::State::kCreated:
      return PlacementGroupState::CREATED;
    case raycc::PlacementGroupInfo::State::kRemoved:
      return PlacementGroupState::REMOVED;
    case raycc::PlacementGroupInfo::State::kRescheduling:
      return PlacementGroupState::RESCHEDULING;
  }
  return PlacementGroupState::UNRECOGNIZED;
}

PlacementGroup ToRay(const raycc::PlacementGroupInfo& info) {
  PlacementGroupCreationOptions options;
  options.name = info.name;
  options.strategy = ToRay(info.strategy);
  for (const auto& bundle : info.bundles) options.bundles.emplace_back(bundle.begin(), bundle.end());
  return PlacementGroup(info.id.Binary(), std::move(options), ToRay(info.state));
}

}  // namespace

namespace internal {

void RethrowAsRay() {
  try {
    throw;
  } catch (const RayException&) {
    throw;
  } catch (const raycc::TaskError& e) {
    throw RayTaskException(e.what());
  } catch (const raycc::ActorDiedError& e) {
    throw RayActorException(e.what());
  } catch (const raycc::WorkerDiedError& e) {
    throw RayWorkerException(e.what());
  } catch (const raycc::ObjectLostError& e) {
    throw UnreconstructableException(e.what());
  } catch (const raycc::GetTimeoutError& e) {
    throw RayTimeoutException(e.what());
  } catch (const raycc::RayccError& e) {
    throw RayException(e.what());
  }
}

void CheckTaskOptions(const std::unordered_map<std::string, double>& resources) {
  for (const auto& [name, quantity] : resources) {
    if (name.empty()) throw RayException("resource name should not be empty");
    if (quantity <= 0) {
      throw RayException(absl::StrCat("resource '", name, "': the quantity must be above 0, got ", quantity));
    }
    if (quantity > 1 && quantity != static_cast<double>(static_cast<int64_t>(quantity))) {
      throw RayException(absl::StrCat(
          "resource '", name, "': a quantity above 1 must be a whole number (as in Ray), got ", quantity));
    }
  }
}

raycc::PlacementGroup ToRayccGroup(const PlacementGroup& group, int bundle_index) {
  if (group.Empty())
    throw RayException("SetPlacementGroup: the placement group is empty (it names no group)");
  PlacementGroup copy = group;
  const int bundles = static_cast<int>(copy.GetBundles().size());
  if (bundle_index < -1 || bundle_index >= bundles) {
    throw RayException(absl::StrCat("SetPlacementGroup: bundle index ", bundle_index,
                                    " is out of range: the group has ", bundles, " bundle(s)"));
  }
  return raycc::PlacementGroup(IdFromBinary<raycc::PlacementGroupId>(group.GetID(), "placement group"),
                               bundles);
}

std::string QualifiedActorName(const std::string& name, const std::string& ray_namespace) {
  // (An empty namespace is the job's own, as in Ray.)
  const std::string space = ray_namespace.empty() ? GetNamespace() : ray_namespace;
  return space.empty() ? name : absl::StrCat(space, "/", name);
}

std::string TypeName(const char* mangled) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = status == 0 && demangled != nullptr ? demangled : mangled;
  std::free(demangled);
  return out;
}

}  // namespace internal

void Init() {
  RayConfig config;
  Init(config);
}

void Init(RayConfig& config, int argc, char** argv) {
  if (raycc::IsInitialized()) return;  // (as Ray's: a second Init does nothing)
  if (argc != 0 && argv != nullptr && !InWorker()) ReadFlags(config, argc, argv);
  Init(config);
}

void Init(RayConfig& config) {
  if (raycc::IsInitialized()) return;  // (as Ray's: a second Init does nothing)
  if (InWorker()) {
    // A worker process of a cluster runs the driver's program up to here:
    // it joins the cluster its raylet names (RAYCC_ADDRESS), whatever the
    // driver's config says, and serves tasks from raycc::Init on.
    internal::Translated([] { raycc::Init(raycc::Config{}); });
    return;
  }
  if (config.default_actor_lifetime == ActorLifetime::DETACHED) {
    throw internal::RayException(
        "detached actors (ActorLifetime::DETACHED) are not supported by raycc: actors live with their job");
  }
  for (const std::string& path : config.code_search_path) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
      throw internal::RayException("code_search_path: '" + path + "' does not exist");
    }
  }
  raycc::Config raycc_config;
  if (config.local_mode) {
    raycc_config.local_mode = true;
  } else {
    raycc_config.address = config.address;
    if (raycc_config.address.empty()) {
      if (const char* env = std::getenv("RAY_ADDRESS")) raycc_config.address = env;
    }
  }
  // (Ray hands head_args to the head it starts: here they size the
  // embedded runtime; a cluster's nodes got theirs from `raycc start`.)
  const bool embedded =
      config.local_mode || (raycc_config.address.empty() && std::getenv("RAYCC_ADDRESS") == nullptr);
  if (embedded) ReadHeadArgs(config.head_args, raycc_config);
  internal::Translated([&] { raycc::Init(raycc_config); });
  std::lock_guard<std::mutex> lock(g_mu);
  g_namespace = config.ray_namespace;
}

bool IsInitialized() { return raycc::IsInitialized(); }

void Shutdown() {
  internal::Translated([] { raycc::Shutdown(); });
}

std::string GetNamespace() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_namespace;
}

void ExitActor() {
  internal::Translated([] { raycc::ExitActor(); });
  std::abort();  // (unreachable: raycc::ExitActor throws)
}

bool WasCurrentActorRestarted() { return raycc::WasCurrentActorRestarted(); }

bool PlacementGroup::Wait(int timeout_seconds) {
  if (wait_callback_) return wait_callback_(id_, timeout_seconds);
  if (Empty()) throw internal::RayException("PlacementGroup::Wait: the placement group is empty");
  const raycc::PlacementGroupId id = internal::IdFromBinary<raycc::PlacementGroupId>(id_, "placement group");
  return internal::Translated([&] {
    return raycc::internal::CurrentRuntime().WaitPlacementGroup(id, int64_t{timeout_seconds} * 1000);
  });
}

PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& create_options) {
  if (create_options.bundles.empty()) throw internal::RayException("CreatePlacementGroup: no bundles");
  if (create_options.strategy == PlacementStrategy::UNRECOGNIZED) {
    throw internal::RayException("CreatePlacementGroup: the strategy is UNRECOGNIZED");
  }
  raycc::PlacementGroupCreationOptions options;
  options.name = create_options.name;
  options.strategy = static_cast<raycc::PlacementStrategy>(static_cast<int>(create_options.strategy));
  for (size_t i = 0; i < create_options.bundles.size(); ++i) {
    const auto& bundle = create_options.bundles[i];
    if (bundle.empty())
      throw internal::RayException(absl::StrCat("CreatePlacementGroup: bundle ", i, " is empty"));
    internal::CheckTaskOptions(bundle);
    options.bundles.emplace_back(bundle.begin(), bundle.end());
  }
  if (!options.name.empty()) {
    for (const raycc::PlacementGroupInfo& info :
         internal::Translated([] { return raycc::ListPlacementGroups(); })) {
      if (info.name == options.name && info.state != raycc::PlacementGroupInfo::State::kRemoved) {
        throw internal::RayException("CreatePlacementGroup: a placement group named '" + options.name +
                                     "' exists already");
      }
    }
  }
  raycc::PlacementGroup group = internal::Translated([&] { return raycc::CreatePlacementGroup(options); });
  return PlacementGroup(group.GetID().Binary(), create_options);
}

void RemovePlacementGroup(const std::string& placement_group_id) {
  const raycc::PlacementGroupId id =
      internal::IdFromBinary<raycc::PlacementGroupId>(placement_group_id, "placement group");
  internal::Translated([&] { raycc::RemovePlacementGroup(id); });
}

std::vector<PlacementGroup> GetAllPlacementGroups() {
  std::vector<PlacementGroup> out;
  for (const raycc::PlacementGroupInfo& info :
       internal::Translated([] { return raycc::ListPlacementGroups(); }))
    out.push_back(ToRay(info));
  return out;
}

PlacementGroup GetPlacementGroupById(const std::string& id) {
  for (const raycc::PlacementGroupInfo& info :
       internal::Translated([] { return raycc::ListPlacementGroups(); })) {
    if (info.id.Binary() == id) return ToRay(info);
  }
  return PlacementGroup();
}

PlacementGroup GetPlacementGroup(const std::string& name) {
  // The live group of that name (a removed one only when none lives).
  PlacementGroup found;
  for (const raycc::PlacementGroupInfo& info :
       internal::Translated([] { return raycc::ListPlacementGroups(); })) {
    if (info.name != name) continue;
    if (info.state != raycc::PlacementGroupInfo::State::kRemoved) return ToRay(info);
    if (found.Empty()) found = ToRay(info);
  }
  return found;
}

}  // namespace ray
