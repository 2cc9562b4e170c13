//===- Cluster.cpp - raycc start, stop and status
//--------------------------===//
//
// Starts the cluster's daemons on this machine (a head: raycc-gcs and a
// raylet; or a raylet that joins), ends them by the pids it recorded, and
// shows what the cluster holds. Everything lives in a session folder
// (rpc/session.h): the token, the GCS address, pid files, logs.
//
//===----------------------------------------------------------------------===//

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <dirent.h>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "Commands.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gcs/gcs_rpc_client.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "object_store/shared_object_store.h"
#include "raycc/proto/raylet_service.grpc.pb.h"
#include "raycc/runtime/common/resource_set.h"
#include "rpc/auth.h"
#include "rpc/content_hash.h"
#include "rpc/daemon.h"
#include "rpc/server.h"
#include "rpc/session.h"

namespace raycc::tools {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopGrace = std::chrono::seconds(15);

constexpr const char *kStartUsage = R"(USAGE: raycc start --head [options]
       raycc start --address HOST:PORT [options]

Starts cluster daemons on this machine, in the background, in a new session
folder under /tmp/raycc (or $RAYCC_SESSION_ROOT): logs/, pid files, the
cluster token, the GCS address. `raycc stop` ends them.

  --head               start the control service (raycc-gcs) and a raylet,
                       generating the cluster token
  --address HOST:PORT  start a raylet that joins the cluster there; its token
                       comes from --token-file, RAYCC_AUTH_TOKEN(_FILE), or
                       this machine's latest session
  --port P             the head's GCS port (default 6390)
  --redis-address H:P  (head) keep the GCS's tables in the Redis at H:P, so
                       that a GCS started again over it (same --port)
                       recovers its nodes, actors, placement groups, jobs
                       and KV; the password, if any, in
                       $RAYCC_REDIS_PASSWORD (default: in memory)
  --redis-prefix NAME  (head) the Redis keys' prefix (default raycc)
  --bind HOST          listen on HOST (default 127.0.0.1: this machine only)
  --num-cpus N         the node's CPUs (default: all hardware threads)
  --num-gpus N         the node's GPUs (default 0)
  --resources JSON     other resources, e.g. '{"accel": 2}'
  --labels k=v,...     the node's labels
  --node-name NAME     the node's name (default <hostname>-<port>)
  --object-store-memory BYTES
                       the node's shared-memory object store (default: 30%
                       of memory, at most 90% of /dev/shm's free space)
  --object-store-pretouch 0|1
                       1: take the store's memory at start (objects are then
                       written at memory speed, not page-fault speed)
  --object-spilling-directory DIR
                       where the store spills objects when it needs room
                       (default: <session>/spill; "" turns spilling off)
  --object-spilling-threshold F
                       spill in the background above this fraction of the
                       store (default 0.8)
  --object-spilling-max-bytes BYTES
                       at most this much spilled at once (default: as much
                       as the disk holds)
  --token-file F       (joining) the cluster token
  -h, --help           this text

Several raylets may run on one machine (start more with --address), each
with its own resources and port.
)";

constexpr const char *kStopUsage = R"(USAGE: raycc stop

Ends the raylets and control services `raycc start` started on this machine
(by the pids in the session folders; never by name): SIGTERM, then SIGKILL
after 15 s.
)";

constexpr const char *kStatusUsage =
    R"(USAGE: raycc status [--address HOST:PORT] [--token-file F]

Shows the cluster's nodes (alive or dead, with the cause), their resources
used and total, workers and pending leases. Default: the cluster of this
machine's latest session.
)";

int Error(const char *command, const std::string &message,
          int code = kExitFailure) {
  std::fprintf(stderr, "raycc %s: %s\n", command, message.c_str());
  return code;
}

std::string ReadText(const std::string &path) {
  absl::StatusOr<std::string> bytes = rpc::ReadFileBytes(path);
  return bytes.ok() ? *bytes : std::string();
}

// The daemon `name` next to this raycc (build tree or <prefix>/bin), else on
// PATH.
std::string FindDaemon(const std::string &name) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string dir(self, n);
    dir.resize(dir.rfind('/'));
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  const char *path = std::getenv("PATH");
  std::string paths = path != nullptr ? path : "";
  for (size_t start = 0; start <= paths.size();) {
    size_t end = paths.find(':', start);
    if (end == std::string::npos)
      end = paths.size();
    std::string candidate = paths.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return "";
}

// Starts `argv` detached (own session, stdin from /dev/null, output to
// `log`); its pid, or -1.
pid_t Spawn(std::vector<std::string> argv, const std::string &log) {
  std::vector<char *> args;
  for (std::string &a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  int log_fd =
      ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0)
    return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  return pid;
}

// The port a daemon wrote to `path` once serving; 0 when it exited first or
// kStartTimeout passed. Waits on inotify and the daemon's pidfd.
int WaitForPortFile(const std::string &path, pid_t pid) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  int inotify = ::inotify_init1(IN_CLOEXEC);
  ::inotify_add_watch(inotify, path.substr(0, path.rfind('/')).c_str(),
                      IN_MOVED_TO | IN_CLOSE_WRITE);
  auto end = std::chrono::steady_clock::now() + kStartTimeout;
  int port = 0;
  for (;;) {
    std::string text = ReadText(path);
    if (!text.empty() && text.back() == '\n') {
      (void)absl::SimpleAtoi(absl::StripSuffix(text, "\n"), &port);
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    pollfd fds[2] = {{inotify, POLLIN, 0}, {pidfd, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(left.count())) <= 0 ||
        (fds[1].revents & POLLIN))
      break;
    char events[4096];
    (void)!::read(inotify, events, sizeof(events));
  }
  ::close(inotify);
  if (pidfd >= 0)
    ::close(pidfd);
  if (port == 0)
    ::waitpid(pid, nullptr, WNOHANG); // (reap it if it exited)
  return port;
}

// What a daemon's log says about why it stopped: its own lines
// ("raycc-gcs: ..."), else the log's end.
std::string Tail(const std::string &text) {
  std::string own;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "raycc-"))
      absl::StrAppend(&own, "  ", line, "\n");
  }
  if (!own.empty())
    return own;
  return text.size() > 2000 ? "..." + text.substr(text.size() - 2000) : text;
}

absl::StatusOr<std::string> NewSession() {
  std::string root = rpc::SessionRoot();
  ::mkdir(root.c_str(), 0755);
  char stamp[64];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d_%H-%M-%S",
                std::localtime(&now));
  std::string dir = absl::StrCat(root, "/session_", stamp, "_", ::getpid());
  if (::mkdir(dir.c_str(), 0700) != 0 ||
      ::mkdir((dir + "/logs").c_str(), 0755) != 0)
    return absl::InternalError(
        absl::StrCat("cannot create the session folder '", dir, "'"));
  return dir;
}

void PointLatestAt(const std::string &dir) {
  std::string root = rpc::SessionRoot();
  std::string tmp = absl::StrCat(root, "/.session_latest.", ::getpid());
  ::unlink(tmp.c_str());
  // Relative to the root (the session's own name), so the link resolves
  // whether the root was given as a relative or an absolute path.
  std::string name = dir.substr(dir.rfind('/') + 1);
  if (::symlink(name.c_str(), tmp.c_str()) == 0)
    (void)::rename(tmp.c_str(), (root + "/session_latest").c_str());
}

// Starts a raylet of `session` joining `gcs_address`; its port, or 0 with
// `*why` set.
int StartRaylet(const std::string &session, const std::string &gcs_address,
                std::map<std::string, std::string> &flags, std::string *why) {
  std::string raylet = FindDaemon("raycc-raylet");
  if (raylet.empty()) {
    *why = "cannot find raycc-raylet next to raycc or on PATH";
    return 0;
  }
  std::string name = absl::StrCat(
      "raylet-", std::chrono::steady_clock::now().time_since_epoch().count());
  std::vector<std::string> argv{raylet,
                                "--gcs-address",
                                gcs_address,
                                "--token-file",
                                session + "/token",
                                "--session-dir",
                                session,
                                "--port-file",
                                absl::StrCat(session, "/", name, ".port")};
  for (const char *flag :
       {"bind", "num-cpus", "num-gpus", "resources", "labels", "node-name",
        "object-store-memory", "object-store-pretouch",
        "object-spilling-directory", "object-spilling-threshold",
        "object-spilling-max-bytes"}) {
    if (flags.count(flag))
      argv.insert(argv.end(), {absl::StrCat("--", flag), flags[flag]});
  }
  std::string log = absl::StrCat(session, "/logs/", name, ".log");
  pid_t pid = Spawn(argv, log);
  if (pid < 0) {
    *why = "cannot start raycc-raylet";
    return 0;
  }
  (void)rpc::WriteFileAtomically(absl::StrCat(session, "/", name, ".pid"),
                                 absl::StrCat(pid, "\n"));
  int port = WaitForPortFile(absl::StrCat(session, "/", name, ".port"), pid);
  if (port == 0)
    *why = absl::StrCat("the raylet did not start (", log, "):\n",
                        Tail(ReadText(log)));
  return port;
}

// The token for `address`: --token-file, the environment, or this
// machine's session of that cluster.
absl::StatusOr<std::string>
TokenFor(const std::string &address,
         std::map<std::string, std::string> &flags) {
  if (flags.count("token-file"))
    return rpc::ReadTokenFile(flags["token-file"]);
  absl::StatusOr<std::string> token = rpc::TokenFromEnvironment();
  if (!absl::IsNotFound(token.status()))
    return token;
  absl::StatusOr<rpc::Session> session = rpc::LatestSession();
  if (session.ok() && session->address == address)
    return rpc::ReadTokenFile(session->token_file);
  return absl::NotFoundError(
      "no cluster token: pass --token-file, or set RAYCC_AUTH_TOKEN or "
      "RAYCC_AUTH_TOKEN_FILE (the head's session folder has it in 'token')");
}

int StartHead(std::map<std::string, std::string> &flags) {
  std::string gcs = FindDaemon("raycc-gcs");
  if (gcs.empty())
    return Error("start", "cannot find raycc-gcs next to raycc or on PATH");
  absl::StatusOr<std::string> session = NewSession();
  if (!session.ok())
    return Error("start", std::string(session.status().message()), kExitIO);
  std::string token = rpc::GenerateToken();
  if (absl::Status s = rpc::WriteTokenFile(*session + "/token", token); !s.ok())
    return Error("start", std::string(s.message()), kExitIO);
  std::string port = flags.count("port") ? flags["port"] : "6390";
  std::vector<std::string> argv{gcs,
                                "--port",
                                port,
                                "--token-file",
                                *session + "/token",
                                "--port-file",
                                *session + "/gcs.port",
                                "--session-dir",
                                *session};
  if (std::string self = FindDaemon("raycc"); !self.empty())
    argv.insert(argv.end(), {"--raycc", self});
  if (flags.count("bind"))
    argv.insert(argv.end(), {"--bind", flags["bind"]});
  for (const char *redis : {"redis-address", "redis-prefix"})
    if (flags.count(redis))
      argv.insert(argv.end(), {std::string("--") + redis, flags[redis]});
  std::string log = *session + "/logs/gcs.log";
  pid_t pid = Spawn(argv, log);
  if (pid < 0)
    return Error("start", "cannot start raycc-gcs");
  (void)rpc::WriteFileAtomically(*session + "/gcs.pid",
                                 absl::StrCat(pid, "\n"));
  int bound = WaitForPortFile(*session + "/gcs.port", pid);
  if (bound == 0) {
    ::unlink((*session + "/gcs.pid").c_str());
    return Error("start", absl::StrCat("the control service did not start (",
                                       log, "):\n", Tail(ReadText(log))));
  }
  std::string host = flags.count("bind") && flags["bind"] != "0.0.0.0"
                         ? flags["bind"]
                         : "127.0.0.1";
  std::string address = absl::StrCat(host, ":", bound);
  (void)rpc::WriteFileAtomically(*session + "/address", address + "\n");
  std::string why;
  if (StartRaylet(*session, address, flags, &why) == 0) {
    ::kill(pid, SIGTERM);
    return Error("start", why);
  }
  PointLatestAt(*session);
  std::printf("raycc: started the head of a cluster at %s\n"
              "  session:      %s (logs/, token)\n"
              "  join a node:  RAYCC_AUTH_TOKEN_FILE=%s/token raycc start "
              "--address %s\n"
              "  run a driver: RAYCC_ADDRESS=%s ./prog   (or Config{.address = "
              "\"auto\"} on this machine)\n"
              "  stop:         raycc stop\n",
              address.c_str(), session->c_str(), session->c_str(),
              address.c_str(), address.c_str());
  return kExitOk;
}

int Join(std::map<std::string, std::string> &flags) {
  std::string address = flags["address"];
  std::string host;
  int port = 0;
  if (absl::Status s = rpc::SplitAddress(address, &host, &port); !s.ok())
    return Error("start", std::string(s.message()), kExitUsage);
  absl::StatusOr<std::string> token = TokenFor(address, flags);
  if (!token.ok())
    return Error("start", std::string(token.status().message()));
  absl::StatusOr<std::string> session = NewSession();
  if (!session.ok())
    return Error("start", std::string(session.status().message()), kExitIO);
  if (absl::Status s = rpc::WriteTokenFile(*session + "/token", *token);
      !s.ok())
    return Error("start", std::string(s.message()), kExitIO);
  (void)rpc::WriteFileAtomically(*session + "/address", address + "\n");
  std::string why;
  int raylet_port = StartRaylet(*session, address, flags, &why);
  if (raylet_port == 0)
    return Error("start", why);
  PointLatestAt(*session);
  std::printf("raycc: started a raylet on port %d that joined the cluster at "
              "%s\n  session: %s\n",
              raylet_port, address.c_str(), session->c_str());
  return kExitOk;
}

// The pid files of every session, raylets first (on SIGTERM a raylet tells
// its GCS that it stops, so the GCSs go last): (session, file) pairs.
std::vector<std::pair<std::string, std::string>>
PidFiles(const std::vector<std::string> &sessions) {
  std::vector<std::pair<std::string, std::string>> jobs, raylets, gcs;
  for (const std::string &session : sessions) {
    // The supervisors of jobs the head runs: first, while the cluster is up.
    if (DIR *dir = ::opendir((session + "/jobs").c_str())) {
      while (dirent *entry = ::readdir(dir)) {
        std::string file =
            session + "/jobs/" + entry->d_name + "/supervisor.pid";
        const std::string name = entry->d_name;
        if (name != "." && name != ".." && ::access(file.c_str(), R_OK) == 0)
          jobs.emplace_back(session, file);
      }
      ::closedir(dir);
    }
    DIR *dir = ::opendir(session.c_str());
    if (dir == nullptr)
      continue;
    while (dirent *entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (!absl::EndsWith(name, ".pid"))
        continue;
      (absl::StartsWith(name, "raylet-") ? raylets : gcs)
          .emplace_back(session, session + "/" + name);
    }
    ::closedir(dir);
  }
  jobs.insert(jobs.end(), raylets.begin(), raylets.end());
  jobs.insert(jobs.end(), gcs.begin(), gcs.end());
  return jobs;
}

// True when `pid` is still the daemon this session started (not a recycled
// pid): its program is a raycc daemon and its command line names the session.
bool IsOurDaemon(int pid, const std::string &session) {
  std::string cmdline = ReadText(absl::StrCat("/proc/", pid, "/cmdline"));
  if (cmdline.empty())
    return false;
  std::string program = cmdline.substr(0, cmdline.find('\0'));
  bool daemon =
      absl::EndsWith(program, "raycc-gcs") ||
      absl::EndsWith(program, "raycc-raylet") ||
      cmdline.find(std::string("\0__supervise\0", 13)) != std::string::npos;
  return daemon && cmdline.find(session) != std::string::npos;
}

// SIGTERM, then SIGKILL after kStopGrace; true once it is gone.
bool StopProcess(int pid) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0)
    return true; // gone already
  ::kill(pid, SIGTERM);
  pollfd fd{pidfd, POLLIN, 0};
  bool gone =
      ::poll(&fd, 1,
             static_cast<int>(std::chrono::milliseconds(kStopGrace).count())) ==
      1;
  if (!gone) {
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    gone = ::poll(&fd, 1, 5000) == 1;
  }
  ::close(pidfd);
  return gone;
}

int Stop(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kStopUsage, stdout);
      return kExitOk;
    }
    return Error("stop", "unknown option '" + arg + "'", kExitUsage);
  }
  std::string root = rpc::SessionRoot();
  std::vector<std::string> sessions;
  if (DIR *dir = ::opendir(root.c_str())) {
    while (dirent *entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (absl::StartsWith(name, "session_") && name != "session_latest")
        sessions.push_back(root + "/" + name);
    }
    ::closedir(dir);
  }
  int stopped = 0, failed = 0;
  for (const auto &[session, file] : PidFiles(sessions)) {
    int pid = 0;
    std::string text = ReadText(file);
    if (!absl::SimpleAtoi(absl::StripSuffix(text, "\n"), &pid) || pid <= 0 ||
        !IsOurDaemon(pid, session)) {
      ::unlink(file.c_str()); // stale: that process is gone
      continue;
    }
    std::string what = file.substr(file.rfind('/') + 1);
    what.resize(what.size() - 4);
    if (what == "supervisor") // (jobs/NAME/supervisor.pid)
      what = "the supervisor of job " +
             file.substr(0, file.rfind('/')).substr(file.rfind("/jobs/") + 6);
    if (StopProcess(pid)) {
      std::printf("raycc stop: stopped %s (pid %d)\n", what.c_str(), pid);
      ::unlink(file.c_str());
      ++stopped;
    } else {
      std::fprintf(stderr, "raycc stop: %s (pid %d) did not stop\n",
                   what.c_str(), pid);
      ++failed;
    }
  }
  // Object stores of raylets that were killed (a raylet that stops removes
  // its own).
  if (int swept =
          object_store::SharedObjectStore::RemoveSegmentsOfDeadRaylets())
    std::printf(
        "raycc stop: removed %d object store(s) left by killed raylets\n",
        swept);
  if (failed == 0)
    ::unlink((root + "/session_latest").c_str());
  if (stopped == 0 && failed == 0)
    std::printf("raycc stop: nothing to stop\n");
  return failed == 0 ? kExitOk : kExitFailure;
}

std::string Usage(const proto::ResourceSet &total_proto,
                  const proto::ResourceSet &available_proto) {
  absl::StatusOr<ResourceSet> total = ResourceSet::FromProto(total_proto);
  absl::StatusOr<ResourceSet> available =
      ResourceSet::FromProto(available_proto);
  if (!total.ok() || !available.ok())
    return "?";
  std::vector<std::string> parts;
  for (const auto &[name, quantity] : total->SortedEntries()) {
    // (A placement group's renamed resources are shown with the group; the
    // node's own CPU counts a reserved bundle as used.)
    if (absl::StrContains(name, "_group_"))
      continue;
    double all = quantity.ToDouble();
    double used = all - available->Get(name).ToDouble();
    parts.push_back(absl::StrCat(name, " ", used, "/", all));
  }
  return absl::StrJoin(parts, ", ");
}

int Status(std::map<std::string, std::string> &flags) {
  std::string address = flags.count("address") ? flags["address"] : "";
  std::string session_dir;
  if (address.empty()) {
    absl::StatusOr<rpc::Session> session = rpc::LatestSession();
    if (!session.ok())
      return Error("status", std::string(session.status().message()));
    address = session->address;
    session_dir = session->dir;
  }
  absl::StatusOr<std::string> token = TokenFor(address, flags);
  if (!token.ok())
    return Error("status", std::string(token.status().message()));
  gcs::GcsRpcClient gcs(address, *token, std::chrono::seconds(5));
  absl::StatusOr<std::vector<proto::NodeInfo>> nodes = gcs.TryGetAllNodes();
  if (!nodes.ok())
    return Error("status", std::string(nodes.status().message()));
  int alive = 0;
  for (const proto::NodeInfo &node : *nodes)
    alive += node.state() == proto::NodeInfo::ALIVE ? 1 : 0;
  std::printf("cluster at %s%s\n", address.c_str(),
              session_dir.empty()
                  ? ""
                  : absl::StrCat(" (session ", session_dir, ")").c_str());
  std::printf("nodes: %d alive, %d dead\n", alive,
              static_cast<int>(nodes->size()) - alive);
  for (const proto::NodeInfo &node : *nodes) {
    std::string raylet = absl::StrCat(node.raylet_address().host(), ":",
                                      node.raylet_address().port());
    if (node.state() != proto::NodeInfo::ALIVE) {
      std::printf("  %-20s DEAD   %s: %s\n", node.node_name().c_str(),
                  raylet.c_str(), node.death_cause().c_str());
      continue;
    }
    grpc::ClientContext context;
    rpc::AddToken(&context, *token);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    proto::GetNodeStatsReply stats;
    grpc::Status s =
        proto::RayletService::NewStub(rpc::Connect(raylet))
            ->GetNodeStats(&context, proto::GetNodeStatsRequest(), &stats);
    if (!s.ok()) {
      std::printf("  %-20s ALIVE  %s: (no answer: %s)\n",
                  node.node_name().c_str(), raylet.c_str(),
                  s.error_message().c_str());
      continue;
    }
    std::printf(
        "  %-20s ALIVE  %s  used/total: %s  workers %u  pending leases %u  "
        "object store %.1f/%.1f MiB (%llu objects; %llu spilled, %.1f "
        "MiB)\n",
        node.node_name().c_str(), raylet.c_str(),
        Usage(stats.total_resources(), stats.available_resources()).c_str(),
        stats.num_workers(), stats.num_pending_leases(),
        stats.object_store_used_bytes() / 1048576.0,
        stats.object_store_capacity_bytes() / 1048576.0,
        static_cast<unsigned long long>(stats.object_store_objects()),
        static_cast<unsigned long long>(stats.object_store_spilled_objects()),
        stats.object_store_spilled_bytes() / 1048576.0);
  }
  absl::StatusOr<std::vector<proto::ActorInfo>> actors = gcs.GetAllActors();
  if (!actors.ok())
    return Error("status", std::string(actors.status().message()));
  std::map<std::string, int> by_state;
  for (const proto::ActorInfo &actor : *actors)
    ++by_state[proto::ActorState_Name(actor.state())];
  std::vector<std::string> counts;
  for (const auto &[state, count] : by_state)
    counts.push_back(absl::StrCat(count, " ", state));
  std::printf("actors: %s\n",
              counts.empty() ? "none" : absl::StrJoin(counts, ", ").c_str());
  for (const proto::ActorInfo &actor : *actors) {
    if (actor.state() == proto::DEAD || actor.spec().name().empty())
      continue;
    std::printf("  %-20s %s  %s:%d\n", actor.spec().name().c_str(),
                proto::ActorState_Name(actor.state()).c_str(),
                actor.address().host().c_str(), actor.address().port());
  }
  absl::StatusOr<std::vector<proto::PlacementGroupInfo>> groups =
      gcs.GetAllPlacementGroups();
  if (!groups.ok())
    return Error("status", std::string(groups.status().message()));
  std::map<std::string, std::string> node_names; // id bytes -> name
  for (const proto::NodeInfo &node : *nodes)
    node_names[node.node_id()] = node.node_name();
  std::map<std::string, int> groups_by_state;
  for (const proto::PlacementGroupInfo &group : *groups)
    ++groups_by_state[proto::PlacementGroupState_Name(group.state())];
  counts.clear();
  for (const auto &[state, count] : groups_by_state)
    counts.push_back(absl::StrCat(count, " ", state));
  std::printf("placement groups: %s\n",
              counts.empty() ? "none" : absl::StrJoin(counts, ", ").c_str());
  for (const proto::PlacementGroupInfo &group : *groups) {
    if (group.state() == proto::PG_REMOVED)
      continue;
    const proto::PlacementGroupSpec &spec = group.spec();
    absl::StatusOr<PlacementGroupId> id =
        PlacementGroupId::FromBinary(spec.placement_group_id());
    std::vector<std::string> bundles;
    for (const proto::Bundle &bundle : spec.bundles()) {
      absl::StatusOr<ResourceSet> resources =
          ResourceSet::FromProto(bundle.resources());
      std::string where = bundle.node_id().empty()
                              ? std::string("-")
                              : node_names[bundle.node_id()];
      bundles.push_back(absl::StrCat(resources.ok() ? resources->ToString()
                                                    : std::string("?"),
                                     "@", where));
    }
    std::printf("  %-20s %s  %s  %s\n",
                spec.name().empty() ? (id.ok() ? id->Hex().c_str() : "?")
                                    : spec.name().c_str(),
                proto::PlacementGroupState_Name(group.state()).c_str(),
                proto::PlacementStrategy_Name(spec.strategy()).c_str(),
                absl::StrJoin(bundles, " ").c_str());
  }
  return kExitOk;
}

// ParseFlags takes "--name value" or "--name=value": a bare --head becomes
// --head=1.
absl::StatusOr<std::map<std::string, std::string>>
Flags(int argc, char **argv, const std::vector<std::string> &known) {
  std::vector<char *> args(argv, argv + argc);
  static char head[] = "--head=1";
  for (char *&arg : args) {
    if (std::string_view(arg) == "--head")
      arg = head;
  }
  return rpc::ParseFlags(static_cast<int>(args.size()), args.data(), known);
}

} // namespace

int runStart(int argc, char **argv) {
  auto flags =
      Flags(argc, argv,
            {"head", "address", "port", "bind", "num-cpus", "num-gpus",
             "resources", "labels", "node-name", "token-file",
             "object-store-memory", "object-store-pretouch",
             "object-spilling-directory", "object-spilling-threshold",
             "object-spilling-max-bytes", "redis-address", "redis-prefix"});
  if (!flags.ok())
    return Error("start", std::string(flags.status().message()), kExitUsage);
  if (flags->count("help")) {
    std::fputs(kStartUsage, stdout);
    return kExitOk;
  }
  bool head = flags->count("head") != 0, join = flags->count("address") != 0;
  if (head == join)
    return Error(
        "start",
        "give either --head or --address HOST:PORT (see raycc start --help)",
        kExitUsage);
  if (join && (flags->count("redis-address") || flags->count("redis-prefix")))
    return Error("start",
                 "--redis-address and --redis-prefix are for the head "
                 "(--head), whose control service keeps the tables",
                 kExitUsage);
  return head ? StartHead(*flags) : Join(*flags);
}

int runStop(int argc, char **argv) { return Stop(argc, argv); }

int runStatus(int argc, char **argv) {
  auto flags = Flags(argc, argv, {"address", "token-file"});
  if (!flags.ok())
    return Error("status", std::string(flags.status().message()), kExitUsage);
  if (flags->count("help")) {
    std::fputs(kStatusUsage, stdout);
    return kExitOk;
  }
  return Status(*flags);
}

std::string findSibling(const std::string &name) { return FindDaemon(name); }

absl::StatusOr<std::string>
clusterToken(const std::string &address,
             std::map<std::string, std::string> &flags) {
  return TokenFor(address, flags);
}

int spawnDetached(std::vector<std::string> argv, const std::string &log) {
  return Spawn(std::move(argv), log);
}

} // namespace raycc::tools
