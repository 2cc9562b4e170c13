// raycc-gcs: the cluster's global control service (node table, jobs, KV,
// actors, placement groups), over gRPC on one port; its tables in Redis
// when given one, so that a restarted GCS carries on where it stopped.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gcs/gcs.h"
#include "gcs/gcs_server.h"
#include "gcs/job_agent.h"
#include "gcs/redis_gcs_storage.h"
#include "grpcpp/server.h"
#include "rpc/auth.h"
#include "rpc/daemon.h"
#include "rpc/server.h"

namespace {

constexpr char kUsage[] = R"(usage: raycc-gcs [flags]

The global control service of a raycc cluster. Usually started by
`raycc start --head`; run it by hand for tests and demos.

  --port P             port to serve on (default 6390; 0: any free port)
  --bind HOST          address to listen on (default 127.0.0.1: this machine
                       only; 0.0.0.0 for every interface)
  --token-file F       the cluster token (default: $RAYCC_AUTH_TOKEN, then
                       $RAYCC_AUTH_TOKEN_FILE); every request must carry it
  --port-file F        write the port served on to F once serving
  --node-timeout-ms N  a node silent this long is marked dead (default 3000)
  --redis-address H:P  keep the tables in the Redis at H:P: a GCS restarted
                       over the same Redis recovers its nodes, actors,
                       placement groups, jobs and KV (default: in memory,
                       lost with the process)
  --redis-password-file F
                       the Redis password (default: $RAYCC_REDIS_PASSWORD;
                       none when unset)
  --redis-prefix NAME  the Redis keys' prefix, one per cluster sharing a
                       Redis (default raycc)
  --session-dir DIR    the head's session folder: jobs submitted with
                       `raycc submit` run on this machine under supervisors,
                       their logs in DIR/jobs (default: none; no jobs)
  --raycc PATH         the raycc executable that supervises jobs (default:
                       raycc next to raycc-gcs)
  --help               this text
)";

/// `name` in the folder this executable is in.
std::string Sibling(const std::string &name) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0)
    return name;
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + name;
}

int Fail(const std::string &message) {
  std::cerr << "raycc-gcs: " << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  raycc::rpc::StopSignal stop;
  auto flags = raycc::rpc::ParseFlags(argc, argv,
                                      {"port", "bind", "token-file",
                                       "port-file", "node-timeout-ms",
                                       "redis-address", "redis-password-file",
                                       "redis-prefix", "session-dir", "raycc"});
  if (!flags.ok())
    return Fail(std::string(flags.status().message()));
  if (flags->count("help")) {
    std::cout << kUsage;
    return 0;
  }
  int port = 6390, node_timeout_ms = 3000;
  if (flags->count("port") && (!absl::SimpleAtoi((*flags)["port"], &port) ||
                               port < 0 || port > 65535)) {
    return Fail("--port: expected 0..65535, got '" + (*flags)["port"] + "'");
  }
  if (flags->count("node-timeout-ms") &&
      (!absl::SimpleAtoi((*flags)["node-timeout-ms"], &node_timeout_ms) ||
       node_timeout_ms <= 0)) {
    return Fail("--node-timeout-ms: expected a positive number, got '" +
                (*flags)["node-timeout-ms"] + "'");
  }
  std::string bind = flags->count("bind") ? (*flags)["bind"] : "127.0.0.1";
  absl::StatusOr<std::string> token =
      flags->count("token-file")
          ? raycc::rpc::ReadTokenFile((*flags)["token-file"])
          : raycc::rpc::TokenFromEnvironment();
  if (!token.ok())
    return Fail(std::string(token.status().message()));

  std::unique_ptr<raycc::gcs::GcsStorageInterface> storage;
  std::string where_kept = "in memory";
  if (flags->count("redis-address")) {
    absl::StatusOr<raycc::gcs::RedisAddress> address =
        raycc::gcs::ParseRedisAddress((*flags)["redis-address"]);
    if (!address.ok())
      return Fail("--redis-address: " +
                  std::string(address.status().message()));
    if (flags->count("redis-password-file")) {
      std::ifstream in((*flags)["redis-password-file"]);
      std::stringstream text;
      if (in)
        text << in.rdbuf();
      std::string password(absl::StripAsciiWhitespace(text.str()));
      if (!in || password.empty())
        return Fail("--redis-password-file: cannot read a password from '" +
                    (*flags)["redis-password-file"] + "'");
      address->password = password;
    } else if (const char *env = std::getenv("RAYCC_REDIS_PASSWORD")) {
      address->password = env;
    }
    if (flags->count("redis-prefix")) {
      if ((*flags)["redis-prefix"].empty())
        return Fail("--redis-prefix: must not be empty");
      address->prefix = (*flags)["redis-prefix"];
    }
    auto redis = raycc::gcs::RedisGcsStorage::Connect(*address);
    if (!redis.ok())
      return Fail(std::string(redis.status().message()));
    where_kept = "in Redis at " + (*redis)->where() + " (prefix '" +
                 address->prefix + "')";
    storage = *std::move(redis);
  } else if (flags->count("redis-password-file") ||
             flags->count("redis-prefix")) {
    return Fail(
        "--redis-password-file and --redis-prefix need --redis-address");
  }
  raycc::gcs::Gcs gcs(std::move(storage));
  if (absl::Status recovered = gcs.Recover(); !recovered.ok())
    return Fail("recovering the tables " + where_kept + ": " +
                std::string(recovered.message()));
  size_t recovered_nodes = gcs.GetAllNodes().size();
  raycc::gcs::GcsServiceImpl service(
      gcs, *token, std::chrono::milliseconds(node_timeout_ms));
  raycc::gcs::JobAgentOptions jobs;
  if (flags->count("session-dir"))
    jobs.session_dir = (*flags)["session-dir"];
  jobs.raycc = flags->count("raycc") ? (*flags)["raycc"] : Sibling("raycc");
  jobs.token = *token;
  raycc::gcs::JobAgent job_agent(jobs);
  int bound = 0;
  auto server =
      raycc::rpc::StartServer(bind, port, {&service, &job_agent}, &bound);
  if (!server.ok())
    return Fail(std::string(server.status().message()));
  // Jobs on this machine reach the cluster here.
  job_agent.SetGcsAddress(absl::StrCat(
      bind == "0.0.0.0" || bind == "::" ? "127.0.0.1" : bind, ":", bound));
  if (flags->count("port-file")) {
    absl::Status written = raycc::rpc::WriteFileAtomically(
        (*flags)["port-file"], absl::StrCat(bound, "\n"));
    if (!written.ok())
      return Fail(std::string(written.message()));
  }
  // (One write: a reader of the log sees the whole line or none of it.)
  std::cerr << absl::StrCat(
      "raycc-gcs: serving on ", bind, ":", bound, " (pid ", ::getpid(),
      "), tables ", where_kept,
      recovered_nodes > 0
          ? absl::StrCat(", ", recovered_nodes, " node(s) recovered")
          : std::string(),
      "\n");

  std::string reason = stop.Wait();
  std::cerr << "raycc-gcs: stopping (" << reason << "); refused "
            << service.unauthenticated_requests()
            << " unauthenticated requests\n";
  (*server)->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(2));
  return 0;
}
