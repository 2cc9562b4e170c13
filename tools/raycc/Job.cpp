//===- Job.cpp - raycc submit and raycc job -------------------------------===//
//
// A job is a driver program run on the head under a supervisor, as Ray's
// `ray job submit` runs drivers there, whoever submits it from wherever:
// `raycc submit` records the job in the GCS (KV namespace "jobs"), uploads
// the program when it names a file (KV namespace "code", by its SHA-256),
// and asks the head's job agent (JobService, in raycc-gcs) to start it. The
// supervisor (`raycc __supervise`, on the head) starts the program joined
// to the cluster (RAYCC_ADDRESS, RAYCC_AUTH_TOKEN), writes its output to the
// job's log and its state to the record. `raycc job status|logs|stop` work
// from any machine that has the token: the agent serves the log and stops
// the job through its supervisor (SIGTERM, SIGKILL after 10 s).
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
#include <thread>
#include <vector>

#include "Commands.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gcs/gcs_rpc_client.h"
#include "gcs/job_agent.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "raycc/proto/job_service.grpc.pb.h"
#include "rpc/auth.h"
#include "rpc/content_hash.h"
#include "rpc/daemon.h"
#include "rpc/server.h"
#include "rpc/session.h"

namespace raycc::tools {
namespace {

constexpr char kJobs[] = "jobs";
constexpr auto kStopGrace = std::chrono::seconds(10);

constexpr const char *kSubmitUsage =
    R"(USAGE: raycc submit [--address HOST:PORT|auto] [--name NAME] [--no-wait]
                    [--token-file F] -- PROGRAM [ARGS...]

Runs PROGRAM (a driver: a program that calls raycc::Init) as a job of the
cluster, on the head: a PROGRAM that names a file (it has a '/') is
uploaded, any other is looked up on the head's PATH. A supervisor on the
head starts it joined to the cluster (RAYCC_ADDRESS and RAYCC_AUTH_TOKEN are
set for it), writes its output to the job's log there and records its state
in the cluster's control service. Without --no-wait, follows the log until
the job ends and exits with its exit code.
Default address: $RAYCC_ADDRESS, else this machine's latest session.
)";

constexpr const char *kJobUsage =
    R"(USAGE: raycc job list|status NAME|logs NAME [--follow]|stop NAME
                 [--address HOST:PORT|auto] [--token-file F]

  list           every job the cluster knows, one a line
  status NAME    the job's state (PENDING, RUNNING, SUCCEEDED, FAILED,
                 STOPPED), exit code and log
  logs NAME      the job's output (kept on the head); --follow keeps
                 printing until the job ends
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

/// The head's job agent, with the cluster's token on every call.
class JobAgentClient {
public:
  explicit JobAgentClient(const Cluster &cluster)
      : token_(cluster.token),
        stub_(proto::JobService::NewStub(rpc::Connect(cluster.address))) {}

  absl::StatusOr<proto::StartJobReply>
  Start(const proto::StartJobRequest &request) {
    proto::StartJobReply reply;
    return Call(
        [&](grpc::ClientContext *c) {
          return stub_->StartJob(c, request, &reply);
        },
        std::chrono::seconds(30), reply);
  }
  absl::StatusOr<proto::ReadJobLogReply> Read(const std::string &name,
                                              uint64_t offset) {
    proto::ReadJobLogRequest request;
    request.set_name(name);
    request.set_offset(offset);
    proto::ReadJobLogReply reply;
    return Call(
        [&](grpc::ClientContext *c) {
          return stub_->ReadJobLog(c, request, &reply);
        },
        std::chrono::seconds(10), reply);
  }
  absl::StatusOr<proto::StopJobReply> Stop(const std::string &name) {
    proto::StopJobRequest request;
    request.set_name(name);
    proto::StopJobReply reply;
    return Call(
        [&](grpc::ClientContext *c) {
          return stub_->StopJob(c, request, &reply);
        },
        kStopGrace + std::chrono::seconds(20), reply);
  }

private:
  template <typename Reply, typename F>
  absl::StatusOr<Reply> Call(F call, std::chrono::seconds deadline,
                             Reply &reply) {
    grpc::ClientContext context;
    rpc::AddToken(&context, token_);
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    grpc::Status status = call(&context);
    if (!status.ok())
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          "the head's job agent: " + status.error_message());
    return reply;
  }
  std::string token_;
  std::unique_ptr<proto::JobService::Stub> stub_;
};

/// Prints job `name`'s log from the head, from the start; with `follow`,
/// until the job ends (polled every 100 ms while there is nothing new).
absl::Status PrintLog(JobAgentClient &agent, const std::string &name,
                      bool follow) {
  uint64_t offset = 0;
  for (;;) {
    absl::StatusOr<proto::ReadJobLogReply> part = agent.Read(name, offset);
    if (!part.ok())
      return part.status();
    std::fwrite(part->data().data(), 1, part->data().size(), stdout);
    std::fflush(stdout);
    offset = part->next_offset();
    if (part->ended() || (!follow && part->data().empty()))
      return absl::OkStatus();
    if (part->data().empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
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
  std::printf("\n  command:   %s\n  submitted: %s from %s\n",
              get("command").c_str(), get("submitted").c_str(),
              get("host").c_str());
  if (!get("ran_on").empty())
    std::printf("  ran on:    %s (the head)\n", get("ran_on").c_str());
  if (!get("ended").empty())
    std::printf("  ended:     %s\n", get("ended").c_str());
  std::printf("  log:       %s (on the head; raycc job logs %s)\n",
              get("log").c_str(), name.c_str());
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
  if (absl::Status valid = gcs::JobAgent::CheckJobName(name); !valid.ok())
    return Fail("submit", "--name: " + std::string(valid.message()),
                kExitUsage);
  std::string command;
  for (char *arg : program)
    absl::StrAppend(&command, command.empty() ? "" : " ", arg);

  // A program named by a path is sent to the head; any other is the head's.
  proto::StartJobRequest start;
  start.set_name(name);
  for (char *arg : program)
    start.add_argv(arg);
  const std::string path = program[0];
  if (path.find('/') != std::string::npos) {
    absl::StatusOr<std::string> bytes = rpc::ReadFileBytes(path);
    if (!bytes.ok() || ::access(path.c_str(), X_OK) != 0)
      return Fail("submit",
                  "cannot run " + path + ": " +
                      (bytes.ok() ? "it is not executable"
                                  : std::string(bytes.status().message())));
    const std::string hash = rpc::Sha256Hex(*bytes);
    absl::StatusOr<std::vector<std::string>> present =
        cluster->gcs->KvKeys("code", hash);
    if (!present.ok())
      return Fail("submit", std::string(present.status().message()));
    if (std::find(present->begin(), present->end(), hash) == present->end()) {
      absl::StatusOr<bool> put = cluster->gcs->KvPut(
          "code", hash, *std::move(bytes), /*overwrite=*/false);
      if (!put.ok())
        return Fail("submit", "uploading " + path + ": " +
                                  std::string(put.status().message()));
    }
    start.set_program_sha256(hash);
  }

  Record record{{"state", "PENDING"},
                {"command", command},
                {"host", HostName()},
                {"submitted", Now()},
                {"address", cluster->address}};
  absl::StatusOr<bool> added =
      cluster->gcs->KvPut(kJobs, name, Encode(record), /*overwrite=*/false);
  if (!added.ok())
    return Fail("submit", std::string(added.status().message()));
  if (!*added)
    return Fail("submit", "the cluster has a job named '" + name + "' already");
  JobAgentClient agent(*cluster);
  absl::StatusOr<proto::StartJobReply> started = agent.Start(start);
  if (!started.ok()) {
    (void)cluster->gcs->KvDel(kJobs, name);
    return Fail("submit", std::string(started.status().message()));
  }
  std::printf("raycc submit: job '%s' submitted to %s\n  log (on the head): "
              "%s   status: raycc job status %s\n",
              name.c_str(), cluster->address.c_str(),
              started->log_path().c_str(), name.c_str());
  std::fflush(stdout);
  if (flags->count("no-wait"))
    return kExitOk;
  if (absl::Status followed = PrintLog(agent, name, /*follow=*/true);
      !followed.ok())
    return Fail("submit", std::string(followed.message()));
  absl::StatusOr<Record> final = Load(*cluster->gcs, name);
  if (!final.ok())
    return Fail("submit", std::string(final.status().message()));
  std::printf("raycc submit: job '%s' %s\n", name.c_str(),
              (*final)["state"].c_str());
  return ExitCodeOf(*final);
}

int runSupervise(int argc, char **argv) {
  // argv: __supervise NAME DIR ADDRESS [--code SHA256] -- PROGRAM ARGS...
  // (run by the head's job agent)
  std::vector<char *> args(argv, argv + argc);
  std::string code;
  if (args.size() > 6 && std::strcmp(args[4], "--code") == 0) {
    code = args[5];
    args.erase(args.begin() + 4, args.begin() + 6);
  }
  if (args.size() < 6 || std::strcmp(args[4], "--") != 0)
    return Fail("__supervise", "internal command (raycc submit runs it)",
                kExitUsage);
  args.push_back(nullptr);
  // Stop requests arrive as SIGTERM/SIGINT, read from a signalfd: blocked
  // before any thread exists (gRPC's threads inherit the mask).
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);
  int sigfd = ::signalfd(-1, &stop, SFD_CLOEXEC);
  const std::string name = args[1], dir = args[2], address = args[3];
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
  record["log"] = dir + "/log";
  record["ran_on"] = HostName();
  // The program the submitter sent, made a file here (its name stays
  // argv[0]); without one, the program is looked up on this machine's PATH.
  std::string executable = args[5];
  if (!code.empty()) {
    executable = dir + "/program";
    absl::StatusOr<std::optional<std::string>> bytes = gcs.KvGet("code", code);
    std::string why;
    if (!bytes.ok())
      why = std::string(bytes.status().message());
    else if (!bytes->has_value())
      why = "the cluster has no program " + code;
    else if (rpc::Sha256Hex(**bytes) != code)
      why = "the program stored as " + code + " does not have that hash";
    else if (absl::Status w = rpc::WriteFileAtomically(executable, **bytes);
             !w.ok() || ::chmod(executable.c_str(), 0755) != 0)
      why = "cannot write " + executable;
    if (!why.empty()) {
      std::fprintf(stderr, "raycc job %s: cannot run %s: %s\n", name.c_str(),
                   args[5], why.c_str());
      record["state"] = "FAILED";
      record["exit_code"] = "127";
      record["ended"] = Now();
      save();
      return kExitOk;
    }
  }

  pid_t child = ::fork();
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &stop, nullptr);
    ::setenv("RAYCC_ADDRESS", address.c_str(), 1);
    ::setenv("RAYCC_JOB_NAME", name.c_str(), 1);
    ::execvp(executable.c_str(), args.data() + 5);
    std::fprintf(stderr, "raycc job %s: cannot run %s: %s\n", name.c_str(),
                 args[5], std::strerror(errno));
    ::_exit(127);
  }
  // (`raycc stop` on the head ends what this pid file names first.)
  (void)rpc::WriteFileAtomically(dir + "/supervisor.pid",
                                 absl::StrCat(::getpid(), "\n"));
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
  ::unlink((dir + "/supervisor.pid").c_str());
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
  JobAgentClient agent(*cluster);
  if (command == "logs") {
    if (absl::Status printed =
            PrintLog(agent, name, flags->count("follow") > 0);
        !printed.ok())
      return Fail("job", std::string(printed.message()));
    return kExitOk;
  }
  if (command == "stop") {
    const std::string state = (*record)["state"];
    if (state != "RUNNING" && state != "PENDING") {
      std::printf("raycc job stop: job %s is %s already\n", name.c_str(),
                  state.c_str());
      return kExitOk;
    }
    absl::StatusOr<proto::StopJobReply> stopped = agent.Stop(name);
    if (!stopped.ok())
      return Fail("job", std::string(stopped.status().message()));
    if (!stopped->stopped())
      return Fail("job", "job " + name +
                             " is not running under the head's supervision "
                             "(it ended, or the head restarted since it "
                             "started)");
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
