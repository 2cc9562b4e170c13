// `raycc start`, `raycc status` and `raycc stop` as a user runs them: a head
// and a joining raylet in a session folder (a private RAYCC_SESSION_ROOT),
// a driver that joins with address "auto" and the session's token, a second
// head on a port in use refused, and stop ending every daemon by the pid it
// recorded. The test ends anything left by those pids too.

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gcs/gcs_rpc_client.h"
#include "gmock/gmock.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "processes.h"
#include "raycc/proto/job_service.grpc.pb.h"
#include "rpc/auth.h"
#include "rpc/server.h"

namespace {

using namespace std::chrono_literals;
using raycc_test::Process;
using raycc_test::ReadAll;
using ::testing::HasSubstr;

class RayccCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raycc-cli-test-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    int code = 0;
    Run({"stop"}, &code);
    // Whatever stop could not end: by the pids the sessions recorded.
    std::string pids = Shell("cat " + root_ + "/session_*_*/*.pid " + root_ +
                             "/session_*_*/jobs/*/supervisor.pid 2>/dev/null; sed -n 's/^pid=//p' " + root_ +
                             "/session_*_*/jobs/*/status 2>/dev/null");
    std::istringstream in(pids);
    for (int pid = 0; in >> pid;) {
      if (pid > 0) ::kill(pid, SIGKILL);
    }
    Shell("rm -rf '" + root_ + "'");
  }

  static std::string Shell(const std::string& command) {
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[4096];
      for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) out.append(buffer, n);
      ::pclose(pipe);
    }
    return out;
  }

  // Runs `raycc args...` (or another program, when `program` is set) to its
  // end; its output.
  std::string Run(std::vector<std::string> args, int* code, const std::string& program = RAYCC_BIN,
                  std::vector<std::string> env = {}) {
    args.insert(args.begin(), program);
    // (this machine's sessions, unless `env` says otherwise)
    if (std::none_of(env.begin(), env.end(),
                     [](const std::string& e) { return e.rfind("RAYCC_SESSION_ROOT=", 0) == 0; })) {
      env.push_back("RAYCC_SESSION_ROOT=" + root_);
    }
    const std::string log = root_ + "/run-" + std::to_string(runs_++) + ".log";
    Process process(args, log, env);
    *code = process.WaitExit(120s);
    return ReadAll(log);
  }

  std::string root_;
  int runs_ = 0;
};

TEST_F(RayccCliTest, StartJoinStatusDriverAndStop) {
  int code = -1;
  std::string out = Run({"start", "--head", "--port", "0", "--num-cpus", "1", "--node-name", "head"}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("started the head of a cluster at 127.0.0.1:"));
  std::string address = ReadAll(root_ + "/session_latest/address");
  ASSERT_FALSE(address.empty());
  address.pop_back();  // (the newline)
  const std::string port = address.substr(address.find(':') + 1);

  out = Run({"start", "--head", "--port", port}, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("cannot listen on 127.0.0.1:" + port));

  out = Run({"start", "--address", address, "--num-cpus", "1", "--resources", R"({"big": 1})", "--node-name",
             "second"},
            &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("joined the cluster at " + address));

  out = Run({"status"}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("nodes: 2 alive, 0 dead"));
  EXPECT_THAT(out, HasSubstr("head"));
  EXPECT_THAT(out, HasSubstr("CPU 0/1, big 0/1"));
  EXPECT_THAT(out, HasSubstr("placement groups: none"));

  // A placement group (made here as a driver would) shows with its bundles'
  // nodes, and its reservation counts as used.
  {
    std::string token = ReadAll(root_ + "/session_latest/token");
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
    raycc::gcs::GcsRpcClient gcs(address, token);
    const raycc::PlacementGroupId id = raycc::PlacementGroupId::Of(raycc::JobId::FromInt(7));
    absl::StatusOr<raycc::ResourceSet> bundle = raycc::ResourceSet::Create({{"big", 1.0}});
    ASSERT_TRUE(bundle.ok());
    ASSERT_TRUE(gcs.CreatePlacementGroup(id, "trainers", raycc::scheduling::BundleStrategy::kStrictPack,
                                         {*bundle}, {})
                    .ok());
    absl::StatusOr<bool> ready = gcs.WaitPlacementGroupReady(id, 30000);
    ASSERT_TRUE(ready.ok() && *ready) << ready.status();
    out = Run({"status"}, &code);
    ASSERT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr("placement groups: 1 PG_CREATED"));
    EXPECT_THAT(out, HasSubstr("trainers"));
    EXPECT_THAT(out, HasSubstr("STRICT_PACK"));
    EXPECT_THAT(out, HasSubstr("@second"));
    EXPECT_THAT(out, HasSubstr("CPU 0/1, big 1/1"));
    ASSERT_TRUE(gcs.RemovePlacementGroup(id).ok());
    out = Run({"status"}, &code);
    EXPECT_THAT(out, HasSubstr("placement groups: 1 PG_REMOVED"));
    EXPECT_THAT(out, HasSubstr("CPU 0/1, big 0/1"));
  }

  // A driver on this machine joins with "auto" and the session's token.
  out = Run({"tasks"}, &code, RAYCC_CLUSTER_DRIVER_BIN, {"RAYCC_ADDRESS=auto"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("add 3\n"));
  EXPECT_THAT(out, HasSubstr("nested 285\n"));

  std::string pids = Shell("cat " + root_ + "/session_*_*/*.pid");
  out = Run({"stop"}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("stopped gcs"));
  std::istringstream in(pids);
  int stopped = 0;
  for (int pid = 0; in >> pid; ++stopped) {
    // Gone, or a zombie waiting for init to reap it: not running.
    std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
    EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << "pid " << pid << ": " << stat;
  }
  EXPECT_EQ(stopped, 3);  // the GCS and two raylets

  out = Run({"status"}, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("raycc start --head"));
  out = Run({"stop"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_THAT(out, HasSubstr("nothing to stop"));
}

TEST_F(RayccCliTest, SubmitRunsADriverAsASupervisedJob) {
  int code = -1;
  std::string out = Run({"start", "--head", "--port", "0", "--num-cpus", "2"}, &code);
  ASSERT_EQ(code, 0) << out;

  // Waits for the job to end, with its output and its exit code.
  out = Run({"submit", "--name", "ok", "--", RAYCC_CLUSTER_DRIVER_BIN, "tasks"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("add 3\n"));
  EXPECT_THAT(out, HasSubstr("job 'ok' SUCCEEDED"));
  out = Run({"job", "status", "ok"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("job ok: SUCCEEDED (exit code 0)"));
  out = Run({"submit", "--name", "ok", "--", "/bin/true"}, &code);
  EXPECT_EQ(code, 1);
  EXPECT_THAT(out, HasSubstr("has a job named 'ok' already"));

  out = Run({"submit", "--name", "bad", "--", "/bin/false"}, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("job 'bad' FAILED"));
  out = Run({"submit", "--name", "missing", "--", "no-such-program-here"}, &code);
  EXPECT_EQ(code, 127) << out;
  EXPECT_THAT(out, HasSubstr("cannot run no-such-program-here"));

  // A job that runs until stopped: the supervisor ends it; its leases and
  // actor go with it.
  out = Run({"submit", "--no-wait", "--name", "held", "--", RAYCC_CLUSTER_DRIVER_BIN, "hold", root_}, &code);
  ASSERT_EQ(code, 0) << out;
  const auto end = std::chrono::steady_clock::now() + 60s;
  do {
    out = Run({"job", "logs", "held"}, &code);
  } while (out.find("holding 1") == std::string::npos && std::chrono::steady_clock::now() < end);
  ASSERT_THAT(out, HasSubstr("holding 1"));
  EXPECT_THAT(Run({"job", "status", "held"}, &code), HasSubstr("job held: RUNNING"));
  out = Run({"job", "stop", "held"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("job held STOPPED"));
  out = Run({"job", "list"}, &code);
  EXPECT_THAT(out, HasSubstr("held"));
  EXPECT_THAT(out, HasSubstr("STOPPED"));
  EXPECT_THAT(out, HasSubstr("SUCCEEDED"));

  out = Run({"job", "status", "nobody"}, &code);
  EXPECT_EQ(code, 1);
  EXPECT_THAT(out, HasSubstr("no job named 'nobody'"));
  out = Run({"submit", "--name", "x"}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(out, HasSubstr("name the program after --"));
  out = Run({"job", "frobnicate", "x"}, &code);
  EXPECT_EQ(code, 2);
  out = Run({"stop"}, &code);
  EXPECT_EQ(code, 0) << out;
}

TEST_F(RayccCliTest, AJobSubmittedFromElsewhereRunsOnTheHeadAndIsWatchedFromThere) {
  int code = -1;
  std::string out = Run({"start", "--head", "--port", "0", "--num-cpus", "2"}, &code);
  ASSERT_EQ(code, 0) << out;
  std::string address = ReadAll(root_ + "/session_latest/address");
  address.pop_back();
  std::string token = ReadAll(root_ + "/session_latest/token");
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  // A submitter with no session of this cluster: a folder of its own, the
  // head's address and the token.
  const std::string elsewhere = root_ + "/elsewhere";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0755), 0);
  const std::vector<std::string> env{"RAYCC_SESSION_ROOT=" + elsewhere, "RAYCC_AUTH_TOKEN=" + token};
  const std::string script = elsewhere + "/job.sh";
  std::ofstream(script) << "#!/bin/sh\necho \"ran $0 with $1\"\necho \"joins $RAYCC_ADDRESS\"\n";
  ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
  out =
      Run({"submit", "--address", address, "--name", "remote", "--", script, "hello"}, &code, RAYCC_BIN, env);
  EXPECT_EQ(code, 0) << out;
  // The head ran the copy it was sent, in its own session folder.
  std::string head_session = Shell("readlink -f " + root_ + "/session_latest");
  head_session.pop_back();
  EXPECT_THAT(out, HasSubstr("ran " + head_session + "/jobs/remote/program with hello")) << out;
  EXPECT_THAT(out, HasSubstr("joins " + address));
  EXPECT_THAT(out, HasSubstr("job 'remote' SUCCEEDED"));
  out = Run({"job", "status", "remote", "--address", address}, &code, RAYCC_BIN, env);
  EXPECT_THAT(out, HasSubstr("job remote: SUCCEEDED (exit code 0)")) << out;
  EXPECT_THAT(out, HasSubstr(head_session + "/jobs/remote/log"));

  // A driver that runs until stopped: its log and its stop, from elsewhere.
  out = Run({"submit", "--no-wait", "--address", address, "--name", "held", "--", RAYCC_CLUSTER_DRIVER_BIN,
             "hold", root_},
            &code, RAYCC_BIN, env);
  ASSERT_EQ(code, 0) << out;
  const auto end = std::chrono::steady_clock::now() + 60s;
  do {
    out = Run({"job", "logs", "held", "--address", address}, &code, RAYCC_BIN, env);
  } while (out.find("holding 1") == std::string::npos && std::chrono::steady_clock::now() < end);
  ASSERT_THAT(out, HasSubstr("holding 1"));
  out = Run({"job", "stop", "held", "--address", address}, &code, RAYCC_BIN, env);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("job held STOPPED"));
  // Nothing of the jobs is on the submitter's side.
  EXPECT_EQ(Shell("ls " + elsewhere), "job.sh\n");
  // A program the head does not have, by name: a clear failure.
  out = Run({"submit", "--address", address, "--name", "nope", "--", "no-such-program-here"}, &code,
            RAYCC_BIN, env);
  EXPECT_EQ(code, 127) << out;
  EXPECT_THAT(out, HasSubstr("cannot run no-such-program-here"));
  out = Run({"submit", "--address", address, "--name", "../x", "--", "/bin/true"}, &code, RAYCC_BIN, env);
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("not 1 to 128 of letters"));
  // The job agent wants the token, as every port does; and a name that
  // would leave the jobs folder is refused there too.
  auto agent = raycc::proto::JobService::NewStub(raycc::rpc::Connect(address));
  raycc::proto::StartJobRequest start;
  start.set_name("sneaky");
  start.add_argv("/bin/true");
  raycc::proto::StartJobReply reply;
  {
    grpc::ClientContext context;
    EXPECT_EQ(agent->StartJob(&context, start, &reply).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  start.set_name("..");
  {
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token);
    EXPECT_EQ(agent->StartJob(&context, start, &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }

  // `raycc stop` on the head ends the jobs it runs, through their supervisors.
  out = Run({"submit", "--no-wait", "--name", "left", "--", RAYCC_CLUSTER_DRIVER_BIN, "hold", root_}, &code);
  ASSERT_EQ(code, 0) << out;
  const auto end2 = std::chrono::steady_clock::now() + 60s;
  do {
    out = Run({"job", "logs", "left"}, &code);
  } while (out.find("holding 1") == std::string::npos && std::chrono::steady_clock::now() < end2);
  ASSERT_THAT(out, HasSubstr("holding 1"));
  out = Run({"stop"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("stopped the supervisor of job left"));
  EXPECT_THAT(ReadAll(head_session + "/jobs/left/status"), HasSubstr("state=STOPPED"));
}

TEST_F(RayccCliTest, BadCommandLinesAreClearErrors) {
  int code = -1;
  std::string out = Run({"start"}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(out, HasSubstr("give either --head or --address"));
  out = Run({"start", "--head", "--num-cpus"}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(out, HasSubstr("--num-cpus needs a value"));
  out = Run({"start", "--address", "nonsense"}, &code);
  EXPECT_EQ(code, 2);
  out = Run({"start", "--address", "127.0.0.1:1"}, &code);
  EXPECT_EQ(code, 1);
  EXPECT_THAT(out, HasSubstr("no cluster token"));
  out = Run({"start", "--help"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_THAT(out, HasSubstr("USAGE: raycc start --head"));
  out = Run({"status", "--bogus", "1"}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(out, HasSubstr("unknown flag --bogus"));
}

}  // namespace
