// raycc-gcs: the cluster's global control service (node table, jobs, KV;
// actors and placement groups as they arrive), over gRPC on one port.

#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gcs/gcs.h"
#include "gcs/gcs_server.h"
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
  --help               this text
)";

int Fail(const std::string &message) {
  std::cerr << "raycc-gcs: " << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  raycc::rpc::StopSignal stop;
  auto flags = raycc::rpc::ParseFlags(
      argc, argv,
      {"port", "bind", "token-file", "port-file", "node-timeout-ms"});
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

  raycc::gcs::Gcs gcs;
  raycc::gcs::GcsServiceImpl service(
      gcs, *token, std::chrono::milliseconds(node_timeout_ms));
  int bound = 0;
  auto server = raycc::rpc::StartServer(bind, port, {&service}, &bound);
  if (!server.ok())
    return Fail(std::string(server.status().message()));
  if (flags->count("port-file")) {
    absl::Status written = raycc::rpc::WriteFileAtomically(
        (*flags)["port-file"], absl::StrCat(bound, "\n"));
    if (!written.ok())
      return Fail(std::string(written.message()));
  }
  std::cerr << "raycc-gcs: serving on " << bind << ":" << bound << " (pid "
            << ::getpid() << ")\n";

  std::string reason = stop.Wait();
  std::cerr << "raycc-gcs: stopping (" << reason << "); refused "
            << service.unauthenticated_requests()
            << " unauthenticated requests\n";
  (*server)->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(2));
  return 0;
}
