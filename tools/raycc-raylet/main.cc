// raycc-raylet: one per node. Registers the node with the GCS, leases
// workers (processes it starts from the job's uploaded code) and accounts
// the node's resources.

#include <algorithm>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gcs/gcs_rpc_client.h"
#include "grpcpp/server.h"
#include "nlohmann/json.hpp"
#include "object_store/shared_object_store.h"
#include "raylet/node_manager.h"
#include "raylet/process_worker_pool.h"
#include "raylet/raylet_server.h"
#include "rpc/auth.h"
#include "rpc/daemon.h"
#include "rpc/server.h"

namespace {

constexpr char kUsage[] = R"(usage: raycc-raylet --gcs-address HOST:PORT [flags]

The raylet of one node of a raycc cluster: it joins the cluster whose GCS is
at --gcs-address and runs the tasks leased to it in worker processes.
Usually started by `raycc start`; several may run on one machine (each with
its own --port and --node-name).

  --gcs-address HOST:P  the cluster's GCS (required)
  --port P              port to serve on (default 0: any free port)
  --bind HOST           address to listen on and to give workers (default
                        127.0.0.1)
  --node-name NAME      the node's name, unique among live nodes (default
                        <hostname>-<port>)
  --num-cpus N          CPUs to offer (default: the machine's hardware threads)
  --num-gpus N          GPUs to offer (default 0)
  --resources JSON      other resources, e.g. '{"TPU": 4, "memory": 1e9}'
  --labels K=V,...      node labels for label selectors
  --session-dir D       where code is cached and worker logs go (default
                        /tmp/raycc/raylet_<pid>)
  --token-file F        the cluster token (default: $RAYCC_AUTH_TOKEN, then
                        $RAYCC_AUTH_TOKEN_FILE)
  --port-file F         write the port served on to F once registered
  --heartbeat-ms N      liveness report interval (default 500)
  --object-store-memory BYTES
                        the node's shared-memory object store (default: 30%
                        of the machine's memory, at most 90% of what
                        /dev/shm has free; pages are taken as objects fill it)
  --object-store-pretouch 0|1
                        1: take all of the store's memory at start, so that
                        objects are written at memory speed rather than at
                        page-fault speed (default 0)
  --object-spilling-directory DIR
                        where the store writes primary copies when it needs
                        room, restored on Get (default: <session-dir>/spill;
                        "" turns spilling off: a full store is an error)
  --object-spilling-threshold F
                        spill in the background while more than this
                        fraction of the store is in use (default 0.8)
  --object-spilling-max-bytes BYTES
                        at most this many bytes spilled at once (default 0:
                        as many as the disk holds)
  --help                this text
)";

int Fail(const std::string &message) {
  std::cerr << "raycc-raylet: " << message << "\n";
  return 1;
}

bool ParseNonNegative(const std::string &text, double *out) {
  return absl::SimpleAtod(text, out) && *out >= 0;
}

// 30% of the machine's memory, at most 90% of what /dev/shm has free less
// the segment's own bookkeeping (a container's /dev/shm may be small: the
// store must never be bigger than the space behind it, or a write past
// that space would kill the writer with SIGBUS), at least 1 MiB (objects
// that do not fit stay in their owners' memory).
uint64_t DefaultObjectStoreBytes() {
  uint64_t bytes = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                   static_cast<uint64_t>(::sysconf(_SC_PAGE_SIZE)) * 3 / 10;
  struct statvfs shm;
  if (::statvfs("/dev/shm", &shm) == 0) {
    const uint64_t room =
        static_cast<uint64_t>(shm.f_bavail) * shm.f_frsize * 9 / 10;
    const uint64_t bookkeeping = 8 << 20;
    bytes =
        std::min<uint64_t>(bytes, room > bookkeeping ? room - bookkeeping : 0);
  }
  return std::max<uint64_t>(bytes, 1 << 20);
}

} // namespace

int main(int argc, char **argv) {
  raycc::rpc::StopSignal stop;
  auto flags = raycc::rpc::ParseFlags(
      argc, argv,
      {"gcs-address", "port", "bind", "node-name", "num-cpus", "num-gpus",
       "resources", "labels", "session-dir", "token-file", "port-file",
       "heartbeat-ms", "object-store-memory", "object-store-pretouch",
       "object-spilling-directory", "object-spilling-threshold",
       "object-spilling-max-bytes"});
  if (!flags.ok())
    return Fail(std::string(flags.status().message()));
  auto &f = *flags;
  if (f.count("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!f.count("gcs-address"))
    return Fail("--gcs-address HOST:PORT is required (see --help)");
  int port = 0, heartbeat_ms = 500;
  if (f.count("port") &&
      (!absl::SimpleAtoi(f["port"], &port) || port < 0 || port > 65535)) {
    return Fail("--port: expected 0..65535, got '" + f["port"] + "'");
  }
  if (f.count("heartbeat-ms") &&
      (!absl::SimpleAtoi(f["heartbeat-ms"], &heartbeat_ms) ||
       heartbeat_ms <= 0)) {
    return Fail("--heartbeat-ms: expected a positive number, got '" +
                f["heartbeat-ms"] + "'");
  }
  std::map<std::string, double> quantities;
  double cpus = std::thread::hardware_concurrency(), gpus = 0;
  if (f.count("num-cpus") && !ParseNonNegative(f["num-cpus"], &cpus)) {
    return Fail("--num-cpus: expected a non-negative number, got '" +
                f["num-cpus"] + "'");
  }
  if (f.count("num-gpus") && !ParseNonNegative(f["num-gpus"], &gpus)) {
    return Fail("--num-gpus: expected a non-negative number, got '" +
                f["num-gpus"] + "'");
  }
  if (f.count("resources")) {
    nlohmann::json json = nlohmann::json::parse(f["resources"], nullptr,
                                                /*allow_exceptions=*/false);
    if (!json.is_object())
      return Fail("--resources: expected a JSON object of numbers, got '" +
                  f["resources"] + "'");
    for (const auto &[name, value] : json.items()) {
      if (!value.is_number() || value.get<double>() < 0) {
        return Fail("--resources: '" + name +
                    "' must be a non-negative number");
      }
      quantities[name] = value.get<double>();
    }
  }
  if (cpus > 0)
    quantities["CPU"] = cpus;
  if (gpus > 0)
    quantities["GPU"] = gpus;
  absl::StatusOr<raycc::ResourceSet> total =
      raycc::ResourceSet::Create(quantities);
  if (!total.ok())
    return Fail(std::string(total.status().message()));

  std::map<std::string, std::string> labels;
  if (f.count("labels") && !f["labels"].empty()) {
    for (absl::string_view pair : absl::StrSplit(f["labels"], ',')) {
      std::pair<std::string, std::string> kv =
          absl::StrSplit(pair, absl::MaxSplits('=', 1));
      if (kv.first.empty() || pair.find('=') == absl::string_view::npos) {
        return Fail("--labels: expected K=V,..., got '" + f["labels"] + "'");
      }
      labels[kv.first] = kv.second;
    }
  }
  std::string bind = f.count("bind") ? f["bind"] : "127.0.0.1";
  std::string session = f.count("session-dir")
                            ? f["session-dir"]
                            : absl::StrCat("/tmp/raycc/raylet_", ::getpid());
  ::mkdir("/tmp/raycc", 0755);
  ::mkdir(session.c_str(), 0755);
  ::mkdir((session + "/logs").c_str(), 0755);
  ::mkdir((session + "/code").c_str(), 0755);
  absl::StatusOr<std::string> token =
      f.count("token-file") ? raycc::rpc::ReadTokenFile(f["token-file"])
                            : raycc::rpc::TokenFromEnvironment();
  if (!token.ok())
    return Fail(std::string(token.status().message()));

  uint64_t store_bytes = DefaultObjectStoreBytes();
  if (f.count("object-store-memory")) {
    double bytes = 0;
    if (!ParseNonNegative(f["object-store-memory"], &bytes) ||
        bytes < (1 << 20))
      return Fail("--object-store-memory: expected a number of bytes of at "
                  "least 1 MiB, got '" +
                  f["object-store-memory"] + "'");
    store_bytes = static_cast<uint64_t>(bytes);
  }
  const std::string pretouch =
      f.count("object-store-pretouch") ? f["object-store-pretouch"] : "0";
  if (pretouch != "0" && pretouch != "1")
    return Fail("--object-store-pretouch: expected 0 or 1, got '" + pretouch +
                "'");

  raycc::object_store::StoreOptions store_options;
  store_options.pretouch = pretouch == "1";
  store_options.spill_dir = f.count("object-spilling-directory")
                                ? f["object-spilling-directory"]
                                : session + "/spill";
  double spill_threshold = 0.8;
  if (f.count("object-spilling-threshold") &&
      (!absl::SimpleAtod(f["object-spilling-threshold"], &spill_threshold) ||
       !(spill_threshold > 0 && spill_threshold <= 1)))
    return Fail("--object-spilling-threshold: expected a fraction in (0, 1], "
                "got '" +
                f["object-spilling-threshold"] + "'");
  if (f.count("object-spilling-max-bytes")) {
    double bytes = 0;
    if (!ParseNonNegative(f["object-spilling-max-bytes"], &bytes))
      return Fail("--object-spilling-max-bytes: expected a number of bytes, "
                  "got '" +
                  f["object-spilling-max-bytes"] + "'");
    store_options.spill_max_bytes = static_cast<uint64_t>(bytes);
  }

  raycc::gcs::GcsRpcClient gcs(f["gcs-address"], *token);
  raycc::raylet::NodeManagerOptions options;
  options.node_id = raycc::NodeId::FromRandom();
  // The node's object store: a shared-memory segment this raylet owns (and
  // removes when it stops); its workers and drivers map it by name.
  // (Segments of raylets that were killed go first: nobody else removes them.)
  raycc::object_store::SharedObjectStore::RemoveSegmentsOfDeadRaylets();
  auto store = raycc::object_store::SharedObjectStore::Create(
      raycc::object_store::SharedObjectStore::SegmentName(
          ::getpid(), options.node_id.Hex().substr(0, 16)),
      store_bytes, store_options);
  if (!store.ok())
    return Fail(std::string(store.status().message()));
  options.object_store = store->get();
  options.host = bind == "0.0.0.0" ? "127.0.0.1" : bind;
  options.total = *total;
  options.labels = labels;
  options.session_dir = session;
  options.gcs_address = f["gcs-address"];
  options.token = *token;
  options.spill_hold = std::chrono::milliseconds(2 * heartbeat_ms + 100);
  raycc::raylet::ProcessWorkerPool pool;
  // (the port is known once the server is bound; no request arrives before
  // the node is registered)
  raycc::raylet::NodeManager node(options, gcs, pool);
  raycc::raylet::RayletServiceImpl service(
      node, *token, [&stop] { stop.Stop("ShutdownRaylet request"); });
  int bound = 0;
  auto server = raycc::rpc::StartServer(bind, port, {&service}, &bound);
  if (!server.ok())
    return Fail(std::string(server.status().message()));
  node.SetPort(bound);
  char hostname[256] = "node";
  ::gethostname(hostname, sizeof(hostname) - 1);
  std::string node_name = f.count("node-name")
                              ? f["node-name"]
                              : absl::StrCat(hostname, "-", bound);
  node.SetNodeName(node_name);

  raycc::proto::NodeInfo info;
  info.set_node_id(options.node_id.Binary());
  info.mutable_raylet_address()->set_node_id(options.node_id.Binary());
  info.mutable_raylet_address()->set_host(options.host);
  info.mutable_raylet_address()->set_port(bound);
  total->ToProto(info.mutable_total_resources());
  for (const auto &[k, v] : labels)
    (*info.mutable_labels())[k] = v;
  info.set_node_name(node_name);
  if (absl::Status registered = gcs.RegisterNode(info); !registered.ok()) {
    return Fail("cannot join the cluster: " +
                std::string(registered.message()));
  }
  if (f.count("port-file")) {
    absl::Status written = raycc::rpc::WriteFileAtomically(
        f["port-file"], absl::StrCat(bound, "\n"));
    if (!written.ok())
      return Fail(std::string(written.message()));
  }
  std::cerr << "raycc-raylet: node '" << node_name << "' ("
            << options.node_id.Hex() << ") serving on " << bind << ":" << bound
            << " with " << total->ToString() << ", pid " << ::getpid() << "\n";

  // Heartbeats: liveness, finished jobs, and the node list for spillback.
  std::mutex beat_mu;
  std::condition_variable beat_cv;
  bool beat_stop = false;
  std::thread heartbeat([&] {
    std::unique_lock<std::mutex> lock(beat_mu);
    while (!beat_cv.wait_for(lock, std::chrono::milliseconds(heartbeat_ms),
                             [&] { return beat_stop; })) {
      lock.unlock();
      raycc::proto::NodeResourcesReport report;
      node.Report(&report);
      absl::StatusOr<raycc::proto::HeartbeatReply> reply =
          gcs.Heartbeat(options.node_id, &report);
      if (reply.ok()) {
        if (reply->node_dead())
          stop.Stop("the GCS considers this node dead");
        std::vector<raycc::JobId> finished;
        for (const std::string &job : reply->finished_jobs()) {
          if (auto id = raycc::JobId::FromBinary(job); id.ok())
            finished.push_back(*id);
        }
        node.OnJobsFinished(finished);
        if (auto nodes = gcs.TryGetAllNodes(); nodes.ok())
          node.SetClusterNodes(*std::move(nodes));
      } else {
        std::cerr << "raycc-raylet: heartbeat failed: "
                  << reply.status().message() << "\n";
      }
      lock.lock();
    }
  });

  // The store's housekeeping, on a thread of its own (a long spill must not
  // delay the heartbeats): spilling ahead of need keeps the store under its
  // threshold, so that a create seldom waits for a spill; and what
  // processes of the node that died left there (views, unsealed writes) is
  // given back about once a second (a worker's exit does it at once; a
  // driver of the node is seen here).
  std::thread spiller([&, store = store->get()] {
    const bool spills = !store->spill_dir().empty();
    const auto period = std::chrono::milliseconds(std::min(heartbeat_ms, 200));
    const auto sweep_every = std::chrono::seconds(1);
    auto last_sweep = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(beat_mu);
    while (!beat_cv.wait_for(lock, period, [&] { return beat_stop; })) {
      lock.unlock();
      if (spills)
        store->SpillAbove(spill_threshold);
      if (std::chrono::steady_clock::now() - last_sweep >= sweep_every) {
        store->ReleaseDeadProcesses();
        last_sweep = std::chrono::steady_clock::now();
      }
      lock.lock();
    }
  });

  std::string reason = stop.Wait();
  std::cerr << "raycc-raylet: stopping (" << reason << ")\n";
  {
    std::lock_guard<std::mutex> lock(beat_mu);
    beat_stop = true;
  }
  beat_cv.notify_all();
  heartbeat.join();
  spiller.join();
  node.Shutdown();
  (void)gcs.MarkNodeDead(options.node_id,
                         "the raylet stopped (" + reason + ")");
  (*server)->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(2));
  return 0;
}
