//===- Job.cpp - raycc submit and raycc job -------------------------------===//
//
// A job is a driver program run under a supervisor on this machine (run it
// on the head, as Ray's `ray job submit` runs drivers there): `raycc submit`
// starts the supervisor detached, which starts the program joined to the
// cluster (RAYCC_ADDRESS, RAYCC_AUTH_TOKEN), sends its output to the job's
// log and records its state in the GCS (KV namespace "jobs"), so `raycc job
// status` works from any machine that has the token. `raycc job stop`
// asks the supervisor, which ends the program (SIGTERM, SIGKILL after 10 s).
//
//===----------------------------------------------------------------------===//

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "Commands.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gcs/gcs_rpc_client.h"
#include "rpc/content_hash.h"
#include "rpc/daemon.h"
#include "rpc/session.h"

namespace raycc::tools {
namespace {

constexpr char kJobs[] = "jobs";
constexpr auto kStopGrace = std::chrono::seconds(10);

constexpr const char *kSubmitUsage =
    R"(USAGE: raycc submit [--address HOST:PORT|auto] [--name NAME] [--no-wait]
                    [--token-file F] -- PROGRAM [ARGS...]

Runs PROGRAM (a driver: a program that calls raycc::Init) as a job of the
cluster: a supervisor on this machine starts it joined to the cluster
(RAYCC_ADDRESS and RAYCC_AUTH_TOKEN are set for it), writes its output to the
job's log and records its state in the cluster's control service. Without
--no-wait, follows the log until the job ends and exits with its exit code.
Default address: $RAYCC_ADDRESS, else this machine's latest session.
)";

constexpr const char *kJobUsage =
    R"(USAGE: raycc job list|status NAME|logs NAME [--follow]|stop NAME
                 [--address HOST:PORT|auto] [--token-file F]

  list           every job the cluster knows, one a line
  status NAME    the job's state (PENDING, RUNNING, SUCCEEDED, FAILED,
                 STOPPED), exit code and log
  logs NAME      the job's output (on the machine it ran on); --follow
                 keeps printing until the job ends
  stop NAME      ends the job's program (SIGTERM, then SIGKILL after 10 s)
)";

int Fail(const char *command, const std::string &message,
         int code = kExitFailure) {
  std::fprintf(stderr, "raycc %s: %s\n", command, message.c_str());
  return code;
}

using Record = std::map<std::string, std::string>;

std::string Encode(const Record &record) {
  std::string out;
  for (const auto &[key, value] : record) {
    std::string flat = value;
    for (char &c : flat)
      if (c == '\n')
        c = ' ';
    absl::StrAppend(&out, key, "=", flat, "\n");
  }
  return out;
}

Record Decode(const std::string &text) {
  Record record;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    size_t eq = line.find('=');
    if (eq != absl::string_view::npos)
      record[std::string(line.substr(0, eq))] =
          std::string(line.substr(eq + 1));
  }
  return record;
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

std::string HostName() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof(buf) - 1);
  return buf;
}

/// The cluster's address from --address, $RAYCC_ADDRESS or this machine's
/// latest session ("auto" too).
absl::StatusOr<std::string> Address(std::map<std::string, std::string> &flags) {
  std::string address = flags.count("address") ? flags["address"] : "";
  if (address.empty()) {
    const char *env = std::getenv("RAYCC_ADDRESS");
    address = env != nullptr ? env : "";
  }
  if (address.empty() || address == "auto") {
    absl::StatusOr<rpc::Session> session = rpc::LatestSession();
    if (!session.ok())
      return session.status();
    address = session->address;
  }
  return address;
}

struct Cluster {
  std::string address, token;
  std::unique_ptr<gcs::GcsRpcClient> gcs;
};

absl::StatusOr<Cluster> Connect(std::map<std::string, std::string> &flags) {
  Cluster cluster;
  absl::StatusOr<std::string> address = Address(flags);
  if (!address.ok())
    return address.status();
  cluster.address = *address;
  absl::StatusOr<std::string> token = clusterToken(cluster.address, flags);
  if (!token.ok())
    return token.status();
  cluster.token = *token;
  cluster.gcs = std::make_unique<gcs::GcsRpcClient>(
      cluster.address, cluster.token, std::chrono::seconds(10));
  return cluster;
}

absl::StatusOr<Record> Load(gcs::GcsRpcClient &gcs, const std::string &name) {
  absl::StatusOr<std::optional<std::string>> text = gcs.KvGet(kJobs, name);
  if (!text.ok())
    return text.status();
  if (!text->has_value())
    return absl::NotFoundError("the cluster has no job named '" + name +
                               "' (raycc job list shows them)");
  return Decode(**text);
}

/// Whether `pid` is the supervisor of job `name` (its command line says so).
bool IsSupervisor(int pid, const std::string &name) {
  std::string cmdline;
  absl::StatusOr<std::string> bytes =
      rpc::ReadFileBytes(absl::StrCat("/proc/", pid, "/cmdline"));
  if (!bytes.ok())
    return false;
  std::vector<std::string> args = absl::StrSplit(*bytes, '\0');
  return args.size() > 2 && args[1] == "__supervise" && args[2] == name;
}

/// Prints the log from `offset` on; the new offset.
size_t PrintFrom(const std::string &path, size_t offset) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return offset;
  char buf[65536];
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), static_cast<off_t>(offset));
    if (n <= 0)
      break;
    std::fwrite(buf, 1, static_cast<size_t>(n), stdout);
    offset += static_cast<size_t>(n);
  }
  std::fflush(stdout);
  ::close(fd);
  return offset;
}

/// Prints the log as it grows until the supervisor `pid` ends.
void Follow(const std::string &log, int pid) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  size_t offset = 0;
  for (;;) {
    offset = PrintFrom(log, offset);
    if (pidfd < 0)
      break;
    pollfd fd{pidfd, POLLIN, 0};
    if (::poll(&fd, 1, 100) > 0)
      break; // (it ended: print what is left)
  }
  PrintFrom(log, offset);
  if (pidfd >= 0)
    ::close(pidfd);
}

int ExitCodeOf(const Record &record) {
  int code = 1;
  auto it = record.find("exit_code");
  if (it != record.end() && absl::SimpleAtoi(it->second, &code))
    return code;
  return record.count("state") && record.at("state") == "SUCCEEDED" ? 0 : 1;
}

void Describe(const std::string &name, const Record &record) {
  auto get = [&](const char *key) {
    auto it = record.find(key);
    return it == record.end() ? std::string() : it->second;
  };
  std::printf("job %s: %s", name.c_str(), get("state").c_str());
  if (!get("exit_code").empty())
    std::printf(" (exit code %s)", get("exit_code").c_str());
  if (!get("signal").empty())
    std::printf(" (signal %s)", get("signal").c_str());
  std::printf("\n  command:   %s\n  submitted: %s on %s\n",
              get("command").c_str(), get("submitted").c_str(),
              get("host").c_str());
  if (!get("ended").empty())
    std::printf("  ended:     %s\n", get("ended").c_str());
  std::printf("  log:       %s\n", get("log").c_str());
}

} // namespace

int runSubmit(int argc, char **argv) {
  std::vector<char *> before, program;
  bool dashes = false;
  for (int i = 0; i < argc; ++i) {
    if (!dashes && std::strcmp(argv[i], "--") == 0) {
      dashes = true;
      continue;
    }
    (dashes ? program : before).push_back(argv[i]);
  }
  std::vector<char *> args = before;
  args.insert(args.begin(),
              const_cast<char *>("submit")); // (ParseFlags skips argv[0])
  for (char *&arg : args)
    if (std::strcmp(arg, "--no-wait") == 0)
      arg = const_cast<char *>("--no-wait=1");
  auto flags = rpc::ParseFlags(static_cast<int>(args.size()), args.data(),
                               {"address", "name", "no-wait", "token-file"});
  if (!flags.ok())
    return Fail("submit", std::string(flags.status().message()), kExitUsage);
  if (flags->count("help")) {
    std::fputs(kSubmitUsage, stdout);
    return kExitOk;
  }
  if (program.empty())
    return Fail("submit",
                "name the program after --: raycc submit -- ./prog args",
                kExitUsage);
  absl::StatusOr<Cluster> cluster = Connect(*flags);
  if (!cluster.ok())
    return Fail("submit", std::string(cluster.status().message()));
  absl::StatusOr<std::vector<proto::NodeInfo>> nodes =
      cluster->gcs->TryGetAllNodes();
  if (!nodes.ok())
    return Fail("submit", std::string(nodes.status().message()));

  std::string name =
      flags->count("name")
          ? (*flags)["name"]
          : absl::StrCat("job_", std::time(nullptr), "_", ::getpid());
  if (name.empty() || name.find_first_of("/\n\t ") != std::string::npos)
    return Fail("submit", "--name: use letters, digits, '-', '_' and '.'",
                kExitUsage);
  const std::string dir = absl::StrCat(rpc::SessionRoot(), "/jobs/", name);
  std::string command;
  for (char *arg : program)
    absl::StrAppend(&command, command.empty() ? "" : " ", arg);
  Record record{{"state", "PENDING"}, {"command", command},
                {"host", HostName()}, {"log", dir + "/log"},
                {"submitted", Now()}, {"address", cluster->address}};
  absl::StatusOr<bool> added =
      cluster->gcs->KvPut(kJobs, name, Encode(record), /*overwrite=*/false);
  if (!added.ok())
    return Fail("submit", std::string(added.status().message()));
  if (!*added)
    return Fail("submit", "the cluster has a job named '" + name + "' already");
  ::mkdir(rpc::SessionRoot().c_str(), 0755);
  ::mkdir((rpc::SessionRoot() + "/jobs").c_str(), 0755);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    (void)cluster->gcs->KvDel(kJobs, name);
    return Fail("submit", "cannot make the job's folder " + dir + ": " +
                              std::strerror(errno));
  }

  std::string self = findSibling("raycc");
  if (self.empty())
    return Fail("submit", "cannot find raycc itself (to run the supervisor)");
  std::vector<std::string> sup{self, "__supervise",    name,
                               dir,  cluster->address, "--"};
  for (char *arg : program)
    sup.push_back(arg);
  ::setenv("RAYCC_AUTH_TOKEN", cluster->token.c_str(), 1);
  int pid = spawnDetached(sup, dir + "/log");
  if (pid <= 0)
    return Fail("submit", "cannot start the job's supervisor");
  std::printf("raycc submit: job '%s' submitted to %s\n  log: %s/log   status: "
              "raycc job status %s\n",
              name.c_str(), cluster->address.c_str(), dir.c_str(),
              name.c_str());
  std::fflush(stdout);
  if (flags->count("no-wait"))
    return kExitOk;
  Follow(dir + "/log", pid);
  ::waitpid(pid, nullptr, 0);
  absl::StatusOr<Record> final = Load(*cluster->gcs, name);
  if (!final.ok())
    return Fail("submit", std::string(final.status().message()));
  std::printf("raycc submit: job '%s' %s\n", name.c_str(),
              (*final)["state"].c_str());
  return ExitCodeOf(*final);
}

int runSupervise(int argc, char **argv) {
  // argv: __supervise NAME DIR ADDRESS -- PROGRAM ARGS...
  if (argc < 6 || std::strcmp(argv[4], "--") != 0)
    return Fail("__supervise", "internal command (raycc submit runs it)",
                kExitUsage);
  // Stop requests arrive as SIGTERM/SIGINT, read from a signalfd: blocked
  // before any thread exists (gRPC's threads inherit the mask).
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);
  int sigfd = ::signalfd(-1, &stop, SFD_CLOEXEC);
  const std::string name = argv[1], dir = argv[2], address = argv[3];
  const char *token = std::getenv("RAYCC_AUTH_TOKEN");
  gcs::GcsRpcClient gcs(address, token != nullptr ? token : "",
                        std::chrono::seconds(10));
  Record record;
  if (absl::StatusOr<Record> loaded = Load(gcs, name); loaded.ok())
    record = *loaded;
  auto save = [&] {
    const std::string text = Encode(record);
    (void)rpc::WriteFileAtomically(dir + "/status", text);
    (void)gcs.KvPut(kJobs, name, text, /*overwrite=*/true);
  };

  pid_t child = ::fork();
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &stop, nullptr);
    ::setenv("RAYCC_ADDRESS", address.c_str(), 1);
    ::setenv("RAYCC_JOB_NAME", name.c_str(), 1);
    ::execvp(argv[5], argv + 5);
    std::fprintf(stderr, "raycc job %s: cannot run %s: %s\n", name.c_str(),
                 argv[5], std::strerror(errno));
    ::_exit(127);
  }
  record["state"] = "RUNNING";
  record["pid"] = std::to_string(child);
  record["supervisor_pid"] = std::to_string(::getpid());
  record["started"] = Now();
  save();

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  bool stopping = false;
  auto kill_at = std::chrono::steady_clock::time_point::max();
  for (;;) {
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {sigfd, POLLIN, 0}};
    int timeout = 200;
    if (::poll(fds, 2, timeout) > 0) {
      if (fds[0].revents & POLLIN)
        break;
      if (fds[1].revents & POLLIN) {
        signalfd_siginfo info;
        (void)!::read(sigfd, &info, sizeof(info));
        if (!stopping) {
          stopping = true;
          ::kill(child, SIGTERM);
          kill_at = std::chrono::steady_clock::now() + kStopGrace;
        }
      }
    }
    if (stopping && std::chrono::steady_clock::now() >= kill_at) {
      ::kill(child, SIGKILL);
      kill_at = std::chrono::steady_clock::time_point::max();
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  record["ended"] = Now();
  if (WIFEXITED(status)) {
    record["exit_code"] = std::to_string(WEXITSTATUS(status));
    record["state"] = stopping
                          ? "STOPPED"
                          : (WEXITSTATUS(status) == 0 ? "SUCCEEDED" : "FAILED");
  } else if (WIFSIGNALED(status)) {
    record["signal"] = std::to_string(WTERMSIG(status));
    record["exit_code"] = std::to_string(128 + WTERMSIG(status));
    record["state"] = stopping ? "STOPPED" : "FAILED";
  }
  save();
  return kExitOk;
}

int runJob(int argc, char **argv) {
  // argv: job SUBCOMMAND [NAME] [flags]
  std::vector<char *> positional,
      rest{const_cast<char *>("job")}; // (ParseFlags skips argv[0])
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-' && argv[i][1] == '-') {
      rest.push_back(argv[i]);
      if (std::strchr(argv[i], '=') == nullptr &&
          std::strcmp(argv[i], "--follow") != 0 &&
          std::strcmp(argv[i], "--help") != 0 && i + 1 < argc)
        rest.push_back(argv[++i]);
    } else {
      positional.push_back(argv[i]);
    }
  }
  for (char *&arg : rest)
    if (std::strcmp(arg, "--follow") == 0)
      arg = const_cast<char *>("--follow=1");
  auto flags = rpc::ParseFlags(static_cast<int>(rest.size()), rest.data(),
                               {"address", "token-file", "follow"});
  if (!flags.ok())
    return Fail("job", std::string(flags.status().message()), kExitUsage);
  if (flags->count("help") || positional.empty()) {
    std::fputs(kJobUsage,
               positional.empty() && !flags->count("help") ? stderr : stdout);
    return flags->count("help") ? kExitOk : kExitUsage;
  }
  const std::string command = positional[0];
  if (command != "list" && command != "status" && command != "logs" &&
      command != "stop")
    return Fail("job",
                "unknown command '" + command + "' (list, status, logs, stop)",
                kExitUsage);
  if (command != "list" && positional.size() != 2)
    return Fail("job", "raycc job " + command + " takes one job name",
                kExitUsage);
  absl::StatusOr<Cluster> cluster = Connect(*flags);
  if (!cluster.ok())
    return Fail("job", std::string(cluster.status().message()));
  if (command == "list") {
    absl::StatusOr<std::vector<std::string>> names =
        cluster->gcs->KvKeys(kJobs, "");
    if (!names.ok())
      return Fail("job", std::string(names.status().message()));
    if (names->empty())
      std::printf("no jobs\n");
    for (const std::string &name : *names) {
      absl::StatusOr<Record> record = Load(*cluster->gcs, name);
      if (record.ok())
        std::printf("%-28s %-10s %s\n", name.c_str(),
                    (*record)["state"].c_str(), (*record)["command"].c_str());
    }
    return kExitOk;
  }
  const std::string name = positional[1];
  absl::StatusOr<Record> record = Load(*cluster->gcs, name);
  if (!record.ok())
    return Fail("job", std::string(record.status().message()));
  if (command == "status") {
    Describe(name, *record);
    return kExitOk;
  }
  if (command == "logs") {
    const std::string log = (*record)["log"];
    if (::access(log.c_str(), R_OK) != 0)
      return Fail("job", "the log " + log +
                             " is not on this machine (the job ran on " +
                             (*record)["host"] + ")");
    int supervisor = 0;
    if (flags->count("follow") && (*record)["state"] == "RUNNING" &&
        absl::SimpleAtoi((*record)["supervisor_pid"], &supervisor) &&
        IsSupervisor(supervisor, name)) {
      Follow(log, supervisor);
    } else {
      PrintFrom(log, 0);
    }
    return kExitOk;
  }
  if (command == "stop") {
    int supervisor = 0;
    const std::string state = (*record)["state"];
    if (state != "RUNNING" && state != "PENDING") {
      std::printf("raycc job stop: job %s is %s already\n", name.c_str(),
                  state.c_str());
      return kExitOk;
    }
    if (!absl::SimpleAtoi((*record)["supervisor_pid"], &supervisor) ||
        !IsSupervisor(supervisor, name))
      return Fail(
          "job",
          "job " + name +
              "'s supervisor is not running on this machine (the job ran on " +
              (*record)["host"] + ")");
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, supervisor, 0));
    ::kill(supervisor, SIGTERM);
    pollfd fd{pidfd, POLLIN, 0};
    // (The supervisor ends the program within its grace period.)
    bool ended =
        pidfd >= 0 &&
        ::poll(&fd, 1,
               static_cast<int>((kStopGrace + std::chrono::seconds(5)).count() *
                                1000)) > 0;
    if (pidfd >= 0)
      ::close(pidfd);
    if (!ended)
      return Fail("job", "job " + name + " did not stop");
    absl::StatusOr<Record> after = Load(*cluster->gcs, name);
    std::printf("raycc job stop: job %s %s\n", name.c_str(),
                after.ok() ? (*after)["state"].c_str() : "stopped");
    return kExitOk;
  }
  return Fail("job",
              "unknown command '" + command + "' (list, status, logs, stop)",
              kExitUsage);
}

} // namespace raycc::tools
