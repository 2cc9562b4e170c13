// The cluster runtime end to end: raycc-gcs, raycc-raylet and a driver
// program (cluster_driver) as real processes over real gRPC on loopback.
// The driver's executable reaches the workers by content hash through the
// GCS; tasks run in worker processes the raylet starts, nested tasks,
// references resolved by their owner, task errors, infeasible demands,
// timeouts, a worker killed under a task (retried, or WorkerDiedError).
// Every process is started and ended by its PID; every wait is bounded.

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gcs/gcs_rpc_client.h"
#include "gmock/gmock.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "object_store/shared_object_store.h"
#include "processes.h"
#include "raycc/proto/raylet_service.grpc.pb.h"
#include "rpc/auth.h"
#include "rpc/server.h"

namespace {

using namespace std::chrono_literals;
using raycc_test::Eventually;
using raycc_test::Process;
using raycc_test::ReadAll;
using raycc_test::WaitForFileText;
using raycc_test::WaitForPort;
using ::testing::HasSubstr;

// "name value" lines -> name -> value.
std::map<std::string, std::string> Lines(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t space = line.find(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

class ClusterRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raycc-cluster-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    token_ = raycc::rpc::GenerateToken();
    ASSERT_TRUE(raycc::rpc::WriteTokenFile(dir_ + "/token", token_).ok());
    gcs_ = std::make_unique<Process>(
        std::vector<std::string>{RAYCC_GCS_BIN, "--port", "0", "--token-file", dir_ + "/token", "--port-file",
                                 dir_ + "/gcs.port"},
        dir_ + "/gcs.log");
    int port = WaitForPort(dir_ + "/gcs.port", *gcs_);
    ASSERT_GT(port, 0) << ReadAll(dir_ + "/gcs.log");
    gcs_address_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override {
    for (auto& raylet : raylets_) raylet.reset();
    gcs_.reset();
    // (Killed raylets leave their object stores: removed by their dead pids.)
    raycc::object_store::SharedObjectStore::RemoveSegmentsOfDeadRaylets();
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)!std::system(cmd.c_str());
  }

  // A raylet named `name` with `cpus` CPUs and `resources` (JSON); returns
  // its port.
  int StartRaylet(const std::string& name, int cpus, const std::string& resources = "{}",
                  const std::string& labels = "", int gpus = 0, std::vector<std::string> extra = {}) {
    const std::string base = dir_ + "/" + name;
    std::vector<std::string> argv{RAYCC_RAYLET_BIN,
                                  "--gcs-address",
                                  gcs_address_,
                                  "--num-cpus",
                                  std::to_string(cpus),
                                  "--num-gpus",
                                  std::to_string(gpus),
                                  "--resources",
                                  resources,
                                  "--node-name",
                                  name,
                                  "--token-file",
                                  dir_ + "/token",
                                  "--session-dir",
                                  base + "-session",
                                  "--port-file",
                                  base + ".port",
                                  "--heartbeat-ms",
                                  "200",
                                  "--labels",
                                  labels};
    argv.insert(argv.end(), extra.begin(), extra.end());
    raylets_.push_back(std::make_unique<Process>(argv, base + ".log"));
    int port = WaitForPort(base + ".port", *raylets_.back());
    EXPECT_GT(port, 0) << ReadAll(base + ".log");
    raylet_ports_.push_back(port);
    return port;
  }

  std::string RayletAddress(size_t i) { return "127.0.0.1:" + std::to_string(raylet_ports_.at(i)); }

  // Runs the driver with `args` to its end (bounded); its output lines.
  std::map<std::string, std::string> RunDriver(std::vector<std::string> args, int* exit_code,
                                               std::vector<std::string> env = {}) {
    std::vector<std::string> argv{RAYCC_CLUSTER_DRIVER_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = dir_ + "/driver.log";
    env.push_back("RAYCC_ADDRESS=" + gcs_address_);
    env.push_back("RAYCC_AUTH_TOKEN=" + token_);
    Process driver(argv, log, env);
    *exit_code = driver.WaitExit(120s);
    output_ = ReadAll(log);
    return Lines(output_);
  }

  raycc::proto::GetNodeStatsReply Stats(int raylet_port) {
    auto stub =
        raycc::proto::RayletService::NewStub(raycc::rpc::Connect("127.0.0.1:" + std::to_string(raylet_port)));
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token_);
    raycc::proto::GetNodeStatsReply stats;
    EXPECT_TRUE(stub->GetNodeStats(&context, raycc::proto::GetNodeStatsRequest(), &stats).ok());
    return stats;
  }

  // The CPU units free on a raylet (0 when the entry is gone: a set drops
  // a resource with nothing free).
  static int64_t FreeCpu(const raycc::proto::GetNodeStatsReply& stats) {
    const auto& free = stats.available_resources().quantities();
    auto it = free.find("CPU");
    return it == free.end() ? 0 : it->second;
  }
  // The raylet's stats once its free CPUs are `cpus` (leases come back
  // after the driver's last reply: the raylet learns of it a little later),
  // or its stats when that did not happen within the bound.
  raycc::proto::GetNodeStatsReply StatsOnceCpusFree(int raylet_port, int64_t cpus) {
    raycc::proto::GetNodeStatsReply stats;
    Eventually([&] {
      stats = Stats(raylet_port);
      return FreeCpu(stats) == cpus * 10000;
    });
    return stats;
  }

  std::string dir_, token_, gcs_address_, output_;
  std::unique_ptr<Process> gcs_;
  std::vector<std::unique_ptr<Process>> raylets_;
  std::vector<int> raylet_ports_;
};

TEST_F(ClusterRuntimeTest, ADriverRunsTasksInWorkerProcesses) {
  int raylet = StartRaylet("node-a", 2);
  int code = -1;
  std::map<std::string, std::string> out = RunDriver({"tasks"}, &code);
  ASSERT_EQ(code, 0) << output_ << ReadAll(dir_ + "/node-a.log");
  EXPECT_EQ(out["add"], "3");
  EXPECT_EQ(out["remote_pid_differs"], "1");
  EXPECT_EQ(out["node"], "node-a");
  EXPECT_EQ(out["chain"], "10");
  EXPECT_EQ(out["put_arg"], "42");
  EXPECT_EQ(out["nested"], "285");  // 0^2 + ... + 9^2
  EXPECT_EQ(out["many_sum"], "2450");
  EXPECT_EQ(out["scaled"], "3.000000,5.000000");
  EXPECT_EQ(out["task_error"], "Fails|std::invalid_argument|bad x: 5");
  EXPECT_THAT(out["task_error_where"], HasSubstr("node 'node-a', worker pid"));
  EXPECT_EQ(out["dependent_error"], "1");
  EXPECT_THAT(out["infeasible"], HasSubstr("no node has that much"));
  EXPECT_THAT(out["infeasible"], HasSubstr("'node-a' has"));
  EXPECT_EQ(out["timeout"], "1");
  EXPECT_EQ(out["wait_unready"], "1");
  EXPECT_EQ(out["fifo"], "released");
  EXPECT_EQ(out["live_objects"], "0");

  // The driver's program was uploaded once and run as the workers; leases
  // reuse workers (far fewer processes than the 60-odd tasks).
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  absl::StatusOr<std::vector<std::string>> code_keys = gcs.KvKeys("code", "");
  ASSERT_TRUE(code_keys.ok()) << code_keys.status();
  EXPECT_EQ(code_keys->size(), 1u);
  raycc::proto::GetNodeStatsReply stats = StatsOnceCpusFree(raylet, 2);
  EXPECT_GE(stats.workers_started(), 1u);
  EXPECT_LE(stats.workers_started(), 20u);
  EXPECT_EQ(FreeCpu(stats), 2 * 10000);  // every lease returned
}

// A driver's timeline shows the tasks its tasks submitted: each worker
// passes its nested tasks' attempts back with its reply.
TEST_F(ClusterRuntimeTest, ADriversTimelineShowsNestedTasks) {
  StartRaylet("node-a", 2);
  int code = -1;
  const std::string timeline = dir_ + "/nested.json";
  std::map<std::string, std::string> out = RunDriver({"nested_timeline", timeline}, &code);
  ASSERT_EQ(code, 0) << output_;
  EXPECT_EQ(out["nested"], "14");  // 0 + 1 + 4 + 9
  std::map<std::string, int> ran;
  std::istringstream lines(ReadAll(timeline));
  for (std::string line; std::getline(lines, line);) {
    if (line.find(R"("ph": "X")") == std::string::npos) continue;
    const size_t name = line.find(R"("name": ")") + 9;
    ++ran[line.substr(name, line.find('"', name) - name)];
    EXPECT_THAT(line, HasSubstr(R"("status": "finished")"));
    EXPECT_THAT(line, HasSubstr(R"("node": "node-a")")) << line;
  }
  EXPECT_EQ(ran, (std::map<std::string, int>{{"Square", 4}, {"SumOfSquares", 1}})) << ReadAll(timeline);
}

// The control service killed (SIGKILL) and started again over the same
// Redis: it recovers its tables, the raylet's heartbeats reach it (it is
// alive past the node timeout), and a driver's job runs as before.
TEST_F(ClusterRuntimeTest, ARestartedGcsOverRedisRecoversItsTablesAndTheClusterCarriesOn) {
  int redis_port = 0;
  std::unique_ptr<Process> redis = raycc_test::StartRedis(dir_, &redis_port);
  if (redis == nullptr) GTEST_SKIP() << "no redis-server at " << REDIS_SERVER_BIN << " could be started";
  const std::string redis_address = "127.0.0.1:" + std::to_string(redis_port);
  // This test's GCS keeps its tables in Redis, on a port it keeps.
  auto start_gcs = [&](const std::string& port, const std::string& log) {
    (void)std::remove((dir_ + "/gcs.port").c_str());
    gcs_ = std::make_unique<Process>(
        std::vector<std::string>{RAYCC_GCS_BIN, "--port", port, "--token-file", dir_ + "/token",
                                 "--port-file", dir_ + "/gcs.port", "--redis-address", redis_address,
                                 "--node-timeout-ms", "1500"},
        log);
    return WaitForPort(dir_ + "/gcs.port", *gcs_);
  };
  gcs_.reset();
  const int port = start_gcs("0", dir_ + "/gcs-first.log");
  ASSERT_GT(port, 0) << ReadAll(dir_ + "/gcs-first.log");
  gcs_address_ = "127.0.0.1:" + std::to_string(port);
  StartRaylet("node-a", 2);
  int code = -1;
  std::map<std::string, std::string> out = RunDriver({"tasks"}, &code);
  ASSERT_EQ(code, 0) << output_;
  {
    raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
    ASSERT_TRUE(*gcs.KvPut("test", "kept", "across restarts", true));
  }
  // A driver that runs across the restart: set up before it, go on after.
  const std::string across_log = dir_ + "/across.log";
  Process across({RAYCC_CLUSTER_DRIVER_BIN, "across_restart", dir_}, across_log,
                 {"RAYCC_ADDRESS=" + gcs_address_, "RAYCC_AUTH_TOKEN=" + token_});
  ASSERT_EQ(WaitForFileText(
                dir_ + "/ready", [](const std::string& text) { return !text.empty(); }, across),
            "ready")
      << ReadAll(across_log);

  gcs_.reset();  // SIGKILL: nothing is written on the way out
  ASSERT_EQ(start_gcs(std::to_string(port), dir_ + "/gcs-second.log"), port)
      << ReadAll(dir_ + "/gcs-second.log");
  const auto restarted = std::chrono::steady_clock::now();
  // (The line comes after the port file: waited for.)
  EXPECT_THAT(WaitForFileText(
                  dir_ + "/gcs-second.log",
                  [](const std::string& text) { return text.find("recovered") != std::string::npos; }, *gcs_),
              HasSubstr("1 node(s) recovered"));
  std::ofstream(dir_ + "/go") << "go";
  ASSERT_EQ(across.WaitExit(120s), 0) << ReadAll(across_log);
  std::map<std::string, std::string> went_on = Lines(ReadAll(across_log));
  EXPECT_EQ(went_on["before"], "11");
  EXPECT_EQ(went_on["actor_after"], "12") << "its actor lived through the restart";
  EXPECT_EQ(went_on["by_name_after"], "1") << "and is found by name in the recovered directory";
  EXPECT_EQ(went_on["new_actor_after"], "101");
  EXPECT_EQ(went_on["task_after"], "7");
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  EXPECT_EQ(**gcs.KvGet("test", "kept"), "across restarts");
  absl::StatusOr<std::vector<std::string>> code_keys = gcs.KvKeys("code", "");
  ASSERT_TRUE(code_keys.ok()) << code_keys.status();
  EXPECT_EQ(code_keys->size(), 1u) << "the driver's program, uploaded before the restart";
  // A job after the restart: its raylet, the same one, leases it workers.
  out = RunDriver({"tasks"}, &code);
  ASSERT_EQ(code, 0) << output_ << ReadAll(dir_ + "/node-a.log");
  EXPECT_EQ(out["add"], "3");
  EXPECT_EQ(out["node"], "node-a");
  // The node outlives the node timeout (1.5 s) after the restart, twice
  // over: its heartbeats reach the new GCS. (Every answer in that span,
  // asked back to back, says ALIVE; a GCS that heard nothing would have
  // marked it dead after 1.5 s.)
  const auto until = restarted + std::chrono::milliseconds(3000);
  int answers = 0;
  while (std::chrono::steady_clock::now() < until) {
    std::vector<raycc::proto::NodeInfo> nodes = gcs.GetAllNodes();
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].node_name(), "node-a");
    ASSERT_EQ(nodes[0].state(), raycc::proto::NodeInfo::ALIVE) << nodes[0].death_cause();
    ++answers;
  }
  EXPECT_GT(answers, 0);
  EXPECT_TRUE(raylets_[0]->Alive());
}

TEST_F(ClusterRuntimeTest, ActorsKeepStateRunCallsInOrderAndDieOrRestart) {
  int raylet = StartRaylet("node-a", 2);
  int code = -1;
  std::map<std::string, std::string> out = RunDriver({"actors"}, &code);
  ASSERT_EQ(code, 0) << output_ << ReadAll(dir_ + "/node-a.log");
  EXPECT_EQ(out["ordered"], "11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,");
  EXPECT_EQ(out["actor_pid_differs"], "1");
  EXPECT_EQ(out["by_name"], "130");  // from a task in another process
  EXPECT_EQ(out["after_by_name"], "130");
  EXPECT_EQ(out["named_lookup"], "1");
  EXPECT_EQ(out["unknown_name"], "0");
  EXPECT_EQ(out["method_error"], "1");
  EXPECT_EQ(out["still_alive"], "131");
  EXPECT_EQ(out["victim_alive"], "2");
  EXPECT_EQ(out["killed_elsewhere"], "1");
  EXPECT_THAT(out["killed_by_other"], HasSubstr("killed by raycc::Kill from another process"));
  EXPECT_EQ(out["victim_name_free"], "1");
  EXPECT_THAT(out["killed"], HasSubstr("killed by raycc::Kill"));
  EXPECT_EQ(out["before_crash"], "6");
  EXPECT_THAT(out["crash"], HasSubstr("died while running Counter::Crash"));
  EXPECT_THAT(out["crash"], HasSubstr("killed by signal 9"));
  EXPECT_EQ(out["restarted"], "6");
  EXPECT_THAT(out["crash_again"], HasSubstr("died while running Counter::Crash"));
  EXPECT_THAT(out["no_restarts_left"], HasSubstr("the actor is dead"));
  EXPECT_THAT(out["constructor"], HasSubstr("constructor raised std::domain_error: negative start"));
  EXPECT_EQ(out["live_objects"], "0");
  // Every actor's worker was ended with its actor or its owner.
  EXPECT_EQ(FreeCpu(StatsOnceCpusFree(raylet, 2)), 2 * 10000);
}

TEST_F(ClusterRuntimeTest, AKilledWorkerIsRetriedOrReported) {
  int raylet = StartRaylet("node-a", 1);
  int code = -1;
  std::map<std::string, std::string> out = RunDriver({"retries", dir_ + "/died-once"}, &code);
  ASSERT_EQ(code, 0) << output_ << ReadAll(dir_ + "/node-a.log");
  EXPECT_EQ(out["retried"], "7");
  EXPECT_THAT(out["worker_died"], HasSubstr("the worker running task AlwaysDies"));
  EXPECT_THAT(out["worker_died"], HasSubstr("max_retries=0"));
  // Its raylet names the node, the pid and the signal.
  EXPECT_THAT(out["worker_died"], HasSubstr("on node 'node-a', its process (pid "));
  EXPECT_THAT(out["worker_died"], HasSubstr("killed by signal 9"));
  EXPECT_EQ(out["live_objects"], "0");
  // The raylet saw the deaths and took the CPU back; it keeps serving.
  raycc::proto::GetNodeStatsReply stats = StatsOnceCpusFree(raylet, 1);
  EXPECT_GE(stats.workers_exited(), 2u);
  EXPECT_EQ(FreeCpu(stats), 1 * 10000);
  EXPECT_TRUE(raylets_[0]->Alive());
}

TEST_F(ClusterRuntimeTest, ATaskTheLocalNodeCannotHoldIsSpilledToOneThatCan) {
  int small = StartRaylet("small", 1);
  StartRaylet("big", 1, R"({"big": 1})");
  int code = -1;
  // The driver's raylet is "small"; the task needs "big", which only the
  // other node has: the lease spills back there.
  std::map<std::string, std::string> out =
      RunDriver({"spill"}, &code, {"RAYCC_RAYLET_ADDRESS=127.0.0.1:" + std::to_string(small)});
  ASSERT_EQ(code, 0) << output_;
  EXPECT_EQ(out["local"], "small");
  EXPECT_EQ(out["spilled"], "big");
  EXPECT_EQ(out["nested_on_big"], "285");
}

// A broadcast: nodes reading one object get it from each other's copies,
// not all from its first holder; a copy's holder that died is passed over.
TEST_F(ClusterRuntimeTest, ABroadcastSpreadsOverTheCopiesAndPassesOverADeadOne) {
  for (const char* name : {"a", "b", "c", "d"})
    StartRaylet(name, 1, "{}", "", 0, {"--object-store-memory", std::to_string(256 << 20)});
  const std::string log = dir_ + "/broadcast.log";
  Process driver({RAYCC_CLUSTER_DRIVER_BIN, "broadcast", dir_, RayletAddress(0), RayletAddress(1),
                  RayletAddress(2), RayletAddress(3)},
                 log,
                 {"RAYCC_ADDRESS=" + gcs_address_, "RAYCC_AUTH_TOKEN=" + token_,
                  "RAYCC_RAYLET_ADDRESS=" + RayletAddress(0)});
  ASSERT_EQ(WaitForFileText(
                dir_ + "/copied", [](const std::string& text) { return !text.empty(); }, driver),
            "copied")
      << ReadAll(log);
  const uint64_t c_pulled = Stats(raylet_ports_[2]).objects_pulled();
  raylets_[1].reset();  // b, which holds a copy of the second object: SIGKILL
  std::ofstream(dir_ + "/go") << "go";
  ASSERT_EQ(driver.WaitExit(120s), 0) << ReadAll(log);
  std::map<std::string, std::string> out = Lines(ReadAll(log));
  EXPECT_EQ(out["on_b"], "ok");
  EXPECT_EQ(out["on_c_d"], "ok");
  EXPECT_EQ(out["served_by_a"], "1") << "a sent the object once, to b";
  EXPECT_EQ(out["served_by_copies"], "2") << "c and d got it from copies";
  EXPECT_EQ(out["second_on_b"], "ok");
  EXPECT_EQ(out["second_on_c"], "ok") << "b was passed over for a";
  EXPECT_EQ(Stats(raylet_ports_[2]).objects_pulled(), c_pulled + 1);
}

// Past what the store's memory and its spill limit hold, Put is an
// ObjectStoreFullError naming the sizes; nothing stored is lost.
TEST_F(ClusterRuntimeTest, AStoreFullPastItsDiskLimitIsAnErrorAndLosesNothing) {
  StartRaylet("a", 1, "{}", "", 0,
              {"--object-store-memory", std::to_string(8 << 20), "--object-spilling-max-bytes",
               std::to_string(4 << 20), "--object-spilling-directory", dir_ + "/spill"});
  int code = -1;
  std::map<std::string, std::string> out =
      RunDriver({"full", RayletAddress(0)}, &code,
                {"RAYCC_RAYLET_ADDRESS=" + RayletAddress(0), "RAYCC_OBJECT_STORE_FULL_WAIT_MS=300"});
  ASSERT_EQ(code, 0) << output_;
  EXPECT_THAT(out["full_error"], HasSubstr("object store full")) << output_;
  EXPECT_THAT(out["full_error"], HasSubstr("needs 2097157 bytes"));
  EXPECT_THAT(out["full_error"], HasSubstr("would pass the limit of 4194304 bytes on disk"));
  EXPECT_THAT(out["full_error"], HasSubstr("no room came in 300 ms of waiting"));
  const int stored = std::stoi(out["stored_before_full"]);
  EXPECT_GE(stored, 3) << "memory holds three, disk one more";
  EXPECT_LT(stored, 12);
  EXPECT_EQ(out["read_back"], out["stored_before_full"]) << "every object stored before reads back whole";
  EXPECT_EQ(out["put_after_free"], "ok");
}

// A Put into a full store waits for room instead of failing at once: freed
// while it waits, the room is its.
TEST_F(ClusterRuntimeTest, APutIntoAFullStoreWaitsForRoom) {
  StartRaylet("a", 1, "{}", "", 0,
              {"--object-store-memory", std::to_string(8 << 20), "--object-spilling-max-bytes",
               std::to_string(4 << 20), "--object-spilling-directory", dir_ + "/spill"});
  int code = -1;
  std::map<std::string, std::string> out =
      RunDriver({"full_waits", RayletAddress(0)}, &code, {"RAYCC_RAYLET_ADDRESS=" + RayletAddress(0)});
  ASSERT_EQ(code, 0) << output_;
  ASSERT_EQ(out["filled"], "1") << output_;
  EXPECT_EQ(out["put_was_refused"], "1") << "the Put met a full store";
  EXPECT_EQ(out["put_waited"], "ok") << "and got the room freed while it waited";
}

// A worker killed while it reads an object in place: its raylet gives the
// dead reader's pin back, so the object can still be spilled or freed; it
// goes from the store with its last reference.
TEST_F(ClusterRuntimeTest, AKilledReadersPinIsGivenBack) {
  StartRaylet("a", 1, "{}", "", 0, {"--object-store-memory", std::to_string(64 << 20)});
  int code = -1;
  std::map<std::string, std::string> out =
      RunDriver({"killed_reader", RayletAddress(0)}, &code, {"RAYCC_RAYLET_ADDRESS=" + RayletAddress(0)});
  ASSERT_EQ(code, 0) << output_;
  EXPECT_THAT(out["task"], HasSubstr("failed: ")) << "its worker died";
  EXPECT_EQ(out["pinned_after_death"], "0") << "the dead reader's pin was given back";
  EXPECT_EQ(out["dead_pins_released"], "1");
  EXPECT_EQ(out["read_after_death"], "ok");
  EXPECT_EQ(out["objects_left"], "0") << "freed with its last reference";
}

// A Put of a large value of any type is serialized straight into the
// node's store: the largest allocation made meanwhile is far below the
// object's 64 MiB (before, a buffer of its size was made, then copied).
TEST_F(ClusterRuntimeTest, APutOfALargeValueIsWrittenStraightIntoTheStore) {
  StartRaylet("a", 1, "{}", "", 0, {"--object-store-memory", std::to_string(256 << 20)});
  int code = -1;
  std::map<std::string, std::string> out =
      RunDriver({"put_in_place", RayletAddress(0)}, &code, {"RAYCC_RAYLET_ADDRESS=" + RayletAddress(0)});
  ASSERT_EQ(code, 0) << output_;
  EXPECT_EQ(out["in_store"], "yes");
  EXPECT_LT(std::stol(out["largest_allocation_kib"]), 1024) << "no buffer of the object's size";
  EXPECT_EQ(out["read_back"], "ok");
  EXPECT_EQ(out["small"], "ok");
  EXPECT_THAT(out["put_throws"], HasSubstr("the serializer failed midway"));
  EXPECT_EQ(out["put_throws_left"], "0") << "the half-written object was aborted";
  // A task's result too, in its worker.
  EXPECT_EQ(out["result_in_store"], "yes");
  EXPECT_LT(std::stol(out["result_largest_allocation_kib"]), 1024) << "no buffer of the result's size";
  EXPECT_EQ(out["result_read_back"], "ok");
}

// Typed arrays are read where they lie: Get of a SharedArray<double>, and a
// task's SharedArray argument, point into the node's store, aligned.
TEST_F(ClusterRuntimeTest, SharedArraysAreReadInPlace) {
  StartRaylet("a", 1, "{}", "", 0, {"--object-store-memory", std::to_string(256 << 20)});
  int code = -1;
  std::map<std::string, std::string> out =
      RunDriver({"arrays"}, &code, {"RAYCC_RAYLET_ADDRESS=" + RayletAddress(0)});
  ASSERT_EQ(code, 0) << output_;
  EXPECT_EQ(out["put_in_store"], "yes") << output_;
  EXPECT_EQ(out["put_ok"], "ok");
  EXPECT_EQ(out["put_arg"], "yes,yes," + out["expected_sum"]) << "the argument is a view into the store";
  EXPECT_EQ(out["made_in_store"], "yes");
  EXPECT_EQ(out["made_ok"], "ok");
  EXPECT_EQ(out["get_list_in_store"], "yes");
  EXPECT_EQ(out["small"], "ok");
}

// A store smaller than the working set: objects are spilled to disk and
// restored on Get, the workload's results are right, and freeing the
// objects removes their files.
TEST_F(ClusterRuntimeTest, AStoreSmallerThanTheWorkingSetSpillsAndRestores) {
  const std::string spill = dir_ + "/spill";
  StartRaylet("a", 1, "{}", "", 0,
              {"--object-store-memory", std::to_string(8 << 20), "--object-spilling-directory", spill,
               "--object-spilling-threshold", "0.6"});
  int code = -1;
  std::map<std::string, std::string> out =
      RunDriver({"spilling", RayletAddress(0)}, &code, {"RAYCC_RAYLET_ADDRESS=" + RayletAddress(0)});
  ASSERT_EQ(code, 0) << output_ << ReadAll(dir_ + "/a.log");
  EXPECT_EQ(out["spilled_after_puts"], "yes");
  EXPECT_EQ(out["in_store_after_puts"], "12") << "every object is the store's, in memory or on disk";
  EXPECT_EQ(out["read_back"], "12") << "every object read back whole";
  EXPECT_EQ(out["task_read"], "ok");
  EXPECT_EQ(out["restored"], "yes");
  EXPECT_EQ(out["left_objects"], "0");
  EXPECT_EQ(out["left_spilled"], "0");
  raycc::proto::GetNodeStatsReply stats = Stats(raylet_ports_[0]);
  EXPECT_GE(stats.object_store_spills(), 9u);
  EXPECT_LE(stats.object_store_used_bytes(), 8u << 20);
  size_t files = 0;
  std::error_code error;
  for (std::filesystem::recursive_directory_iterator it(spill, error), end; !error && it != end;
       it.increment(error))
    files += it->is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 0u) << "the spill files went with their objects";
  EXPECT_TRUE(std::filesystem::exists(spill)) << "the raylet's spill folder is under the one given";
}

TEST_F(ClusterRuntimeTest, BigObjectsLiveInTheNodesStoreAndAreReadInPlace) {
  // (Two stores holding up to about 700 MiB between them.)
  struct statvfs shm;
  if (::statvfs("/dev/shm", &shm) != 0 || static_cast<uint64_t>(shm.f_bavail) * shm.f_frsize < (3ull << 30))
    GTEST_SKIP() << "needs 3 GiB free in /dev/shm for two nodes' object stores";
  StartRaylet("a", 1);
  StartRaylet("b", 1);
  int code = -1;
  std::map<std::string, std::string> out = RunDriver({"objects", RayletAddress(0), RayletAddress(1)}, &code,
                                                     {"RAYCC_RAYLET_ADDRESS=" + RayletAddress(0)});
  ASSERT_EQ(code, 0) << output_;
  EXPECT_EQ(out["put_objects"], "1") << output_;
  EXPECT_EQ(out["put_used_mib"], "64");
  EXPECT_EQ(out["sum_on_a"], "ok");
  EXPECT_EQ(out["reads_on_a"], "1") << "the worker on a reads the argument in place";
  EXPECT_EQ(out["sum_on_b"], "ok");
  EXPECT_EQ(out["b_objects"], "1") << "b's raylet pulled a copy into its store";
  EXPECT_EQ(out["b_pulled"], "1");
  EXPECT_EQ(out["get"], "ok");
  EXPECT_EQ(out["made_on_a"], "ok");
  EXPECT_EQ(out["made_objects"], "3")
      << "a big result for an owner on its node goes to the store (with the two puts before it)";
  EXPECT_EQ(out["made_then_b"], "ok");
  EXPECT_EQ(out["made_on_b"], "ok");
  EXPECT_EQ(out["made_b_stays_on_b"], "1") << "a big result stays in the store of the node that made it";
  EXPECT_EQ(out["made_on_b_copied_to_a"], "1") << "the owner's Get pulls a copy to its node";
  EXPECT_EQ(out["actor_on_b"], "ok");
  EXPECT_EQ(out["borrowed_on_b"], "ok");
  EXPECT_EQ(out["borrow_pulled_to_b"], "0") << "a borrower reads through the owner: b pulls no copy";
  EXPECT_EQ(out["b_freed_all"], "0") << "the owner frees its primaries on b and the copies b pulled, for "
                                        "tasks, for an actor's call and for a borrower";
  EXPECT_EQ(out["b_had_before_made"], "5")
      << "copies b pulled: the 64 MiB put, the actor's 8 MiB, the 32 MiB result, 256 MiB, the 16 MiB arg";
  EXPECT_EQ(out["shared_in_store"], "yes") << "Get of SharedBytes is a view into the store";
  EXPECT_EQ(out["shared_ok"], "ok");
  EXPECT_EQ(out["arg_on_a"], "ok") << "a SharedBytes argument is a view into a's store";
  EXPECT_EQ(out["arg_on_b"], "ok") << "and into b's, once pulled";
  EXPECT_EQ(out["arg_small"], "ok");
  EXPECT_EQ(out["made_shared_in_store"], "yes");
  EXPECT_EQ(out["made_shared_ok"], "ok");
  EXPECT_EQ(out["from_b_in_store"], "yes");
  EXPECT_EQ(out["from_b_ok"], "ok");
  EXPECT_EQ(out["large_checksum"], "ok") << "256 MiB from a's store to a task on b";
  EXPECT_EQ(out["large_pulled_mib"], "256");
  EXPECT_EQ(out["freed_objects"], "0") << "freed objects leave the owner's store";
  EXPECT_EQ(out["b_pinned_after"], "0") << "b's copies are unpinned (evicted when room is needed)";
  EXPECT_EQ(out["live_objects"], "0");
}

// A node that dies with the only copy of an object: reading it is a clear
// error naming the node's raylet, for the owner and for a task; nothing hangs.
TEST_F(ClusterRuntimeTest, AnObjectWhoseHoldingNodeDiedIsAClearError) {
  int a = StartRaylet("a", 1);
  int b = StartRaylet("b", 1);
  const std::string log = dir_ + "/lost.log";
  Process driver({RAYCC_CLUSTER_DRIVER_BIN, "lost_holder", dir_}, log,
                 {"RAYCC_ADDRESS=" + gcs_address_, "RAYCC_AUTH_TOKEN=" + token_,
                  "RAYCC_RAYLET_ADDRESS=127.0.0.1:" + std::to_string(b)});
  ASSERT_EQ(WaitForFileText(
                dir_ + "/made", [](const std::string& text) { return !text.empty(); }, driver),
            "made")
      << ReadAll(log);
  EXPECT_EQ(Stats(a).object_store_objects(), 1u) << "the result stays in a's store";
  raylets_[0].reset();  // a's raylet (and its workers) killed with SIGKILL
  std::ofstream(dir_ + "/go") << "go";
  ASSERT_EQ(driver.WaitExit(120s), 0) << ReadAll(log);
  std::map<std::string, std::string> out = Lines(ReadAll(log));
  const std::string holder = "127.0.0.1:" + std::to_string(a);
  EXPECT_THAT(out["get_lost"], HasSubstr("cannot be read here"));
  EXPECT_THAT(out["get_lost"], HasSubstr(holder));
  EXPECT_THAT(out["task_lost"], HasSubstr("could not bring object"));
  EXPECT_THAT(out["task_lost"], HasSubstr(holder));
}

TEST_F(ClusterRuntimeTest, ThreeNodesShareTheWork) {
  StartRaylet("a", 1, "{}", "zone=east");
  StartRaylet("b", 1, "{}", "zone=west");
  StartRaylet("c", 1, "{}", "zone=west,accel=a100");
  ASSERT_EQ(::mkdir((dir_ + "/barrier").c_str(), 0755), 0);
  int code = -1;
  // The driver leases from "a"; what a cannot run now is spilled to a node
  // with room, by the free resources each reports in its heartbeat.
  std::map<std::string, std::string> out =
      RunDriver({"nodes", dir_ + "/barrier"}, &code, {"RAYCC_RAYLET_ADDRESS=" + RayletAddress(0)});
  ASSERT_EQ(code, 0) << output_;
  EXPECT_EQ(out["barrier_nodes"], "3") << output_;
  EXPECT_EQ(out["spread_nodes"], "3") << output_;
  EXPECT_EQ(out["affinity"], "c");
  EXPECT_THAT(out["affinity_dead"], HasSubstr("no live node of that name"));
  EXPECT_EQ(out["nested3"], "ok");
  EXPECT_EQ(out["handle_in_task"], "42");
  EXPECT_EQ(out["handle_after"], "42");
  // Label selectors: only matching nodes run the task.
  EXPECT_EQ(out["label_east"], "a");
  EXPECT_EQ(out["label_west_accel"], "c");
  EXPECT_THAT(out["label_not_east"], ::testing::AnyOf("b", "c", "b,c"));
  EXPECT_THAT(out["label_none"], HasSubstr("zone = mars"));
  EXPECT_THAT(out["label_none"], HasSubstr("'c' has {CPU: 1} and labels accel=a100,zone=west"));
  EXPECT_THAT(out["label_bad"], HasSubstr("label selector"));
  EXPECT_EQ(out["live_objects"], "0");
}

TEST_F(ClusterRuntimeTest, AGpuLeaseHoldsItsOwnDevicesAndTheWorkerSeesThem) {
  StartRaylet("a", 2, "{}", "", /*gpus=*/2);
  for (const char* sub : {"/whole", "/halves"}) ASSERT_EQ(::mkdir((dir_ + sub).c_str(), 0755), 0);
  int code = -1;
  std::map<std::string, std::string> out = RunDriver({"gpus", dir_}, &code);
  ASSERT_EQ(code, 0) << output_;
  // Two one-GPU tasks at once: devices 0 and 1, one each.
  EXPECT_EQ(out["gpu_whole"], "0;1") << output_;
  // Two half-GPU tasks at once pack onto one device.
  EXPECT_THAT(out["gpu_halves"], ::testing::AnyOf("0;0", "1;1")) << output_;
  // A task with no GPUs holds none, whatever ran on its worker before.
  EXPECT_EQ(out["gpu_none"], "[]") << output_;
  // An actor's devices are its creation's, for every call.
  EXPECT_EQ(out["gpu_actor"], "0,1") << output_;
  EXPECT_EQ(out["gpu_actor_again"], "0,1") << output_;
}

TEST_F(ClusterRuntimeTest, PlacementGroupsKeepTheirStrategyAcrossNodes) {
  StartRaylet("a", 2);
  StartRaylet("b", 2);
  StartRaylet("c", 2);
  int code = -1;
  std::map<std::string, std::string> out =
      RunDriver({"groups", dir_}, &code, {"RAYCC_RAYLET_ADDRESS=" + RayletAddress(0)});
  ASSERT_EQ(code, 0) << output_ << ReadAll(dir_ + "/gcs.log");
  // Each strategy's promise, on the nodes that ran the bundles' work.
  EXPECT_EQ(out["strict_spread_nodes"], "3") << out["strict_spread_where"];
  EXPECT_EQ(out["strict_pack_nodes"], "1") << out["strict_pack_where"];
  EXPECT_EQ(out["pack_nodes"], "1") << out["pack_where"];  // (one node holds both)
  EXPECT_EQ(out["spread_nodes"], "3") << out["spread_where"];
  EXPECT_THAT(out["infeasible_spread"], HasSubstr("strict_spread needs 4 distinct nodes"));
  EXPECT_THAT(out["infeasible_bundle"], HasSubstr("bundle 0"));
  // Pending while every CPU is reserved, created once they are given back.
  EXPECT_EQ(out["pending_then_ready"], "0,1");
  EXPECT_EQ(out["wait_removed"], "0");
  EXPECT_EQ(out["actor_on_bundle_node"], "1");
  EXPECT_EQ(out["bundle_full"], "1");
  EXPECT_EQ(out["any_bundle_in_group"], "1");
  EXPECT_THAT(out["too_big_for_bundle"], HasSubstr("more than bundle 0 of its placement group holds"));
  EXPECT_EQ(out["running_started"], "1");
  EXPECT_THAT(out["removed_running"], HasSubstr("died"));
  EXPECT_THAT(out["actor_after_removal"], HasSubstr("died"));
  EXPECT_EQ(out["many_ready"], "300");
  EXPECT_EQ(out["wait_zero"], "no-exception");
  EXPECT_EQ(out["wait_created"], "1");
  EXPECT_EQ(out["wait_after_remove"], "0");
  EXPECT_EQ(out["live_objects"], "0");
  // Every reservation was given back: each node has its CPUs free again and
  // no group's resources left.
  for (int port : raylet_ports_) {
    raycc::proto::GetNodeStatsReply stats = StatsOnceCpusFree(port, 2);
    EXPECT_EQ(FreeCpu(stats), 2 * 10000) << port;
    for (const auto& [name, q] : stats.available_resources().quantities())
      EXPECT_EQ(name.find("_group"), std::string::npos) << name << " left on " << port;
    for (const auto& [name, q] : stats.total_resources().quantities())
      EXPECT_EQ(name.find("_group"), std::string::npos) << name << " left in the total of " << port;
  }
}

// A node dies under a placement group: its bundle is reserved again on
// another node that the strategy allows (strict_spread: not the node of the
// other bundle), after waiting RESCHEDULING for one to join; the surviving
// bundle stays where it was.
TEST_F(ClusterRuntimeTest, APlacementGroupGetsTheBundlesOfADeadNodeBackElsewhere) {
  StartRaylet("a", 2);
  StartRaylet("b", 2);
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  absl::StatusOr<raycc::ResourceSet> cpu = raycc::ResourceSet::Create({{"CPU", 1}});
  ASSERT_TRUE(cpu.ok());
  const raycc::PlacementGroupId id = raycc::PlacementGroupId::Of(raycc::JobId::FromInt(7));
  ASSERT_TRUE(
      gcs.CreatePlacementGroup(id, "pair", raycc::scheduling::BundleStrategy::kStrictSpread, {*cpu, *cpu}, {})
          .ok());
  ASSERT_TRUE(*gcs.WaitPlacementGroupReady(id, 30000));
  auto node_ids = [&] {  // name -> node id, of the live nodes
    std::map<std::string, std::string> ids;
    absl::StatusOr<std::vector<raycc::proto::NodeInfo>> nodes = gcs.TryGetAllNodes();
    if (nodes.ok())
      for (const auto& node : *nodes)
        if (node.state() == raycc::proto::NodeInfo::ALIVE) ids[node.node_name()] = node.node_id();
    return ids;
  };
  auto bundle_nodes = [&] {
    std::vector<std::string> out;
    absl::StatusOr<raycc::proto::PlacementGroupInfo> info = gcs.GetPlacementGroup(id);
    if (info.ok())
      for (const auto& bundle : info->spec().bundles()) out.push_back(bundle.node_id());
    return out;
  };
  auto state = [&] {
    absl::StatusOr<raycc::proto::PlacementGroupInfo> info = gcs.GetPlacementGroup(id);
    return info.ok() ? info->state() : raycc::proto::PG_REMOVED;
  };
  std::map<std::string, std::string> ids = node_ids();
  std::vector<std::string> before = bundle_nodes();
  ASSERT_EQ(before.size(), 2u);
  const int on_b = before[0] == ids["b"] ? 0 : 1;
  ASSERT_EQ(before[on_b], ids["b"]);
  ASSERT_EQ(before[1 - on_b], ids["a"]);

  raylets_[1].reset();  // b: SIGKILL, by its pid
  // Only "a" is left, which holds the other bundle: it waits.
  EXPECT_TRUE(Eventually([&] { return state() == raycc::proto::PG_RESCHEDULING; }))
      << raycc::proto::PlacementGroupState_Name(state()) << "\n"
      << ReadAll(dir_ + "/gcs.log");
  EXPECT_FALSE(*gcs.WaitPlacementGroupReady(id, 0));
  StartRaylet("c", 2);
  EXPECT_TRUE(*gcs.WaitPlacementGroupReady(id, 30000)) << ReadAll(dir_ + "/gcs.log");
  ids = node_ids();
  std::vector<std::string> after = bundle_nodes();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1 - on_b], ids["a"]) << "the surviving bundle stays";
  EXPECT_EQ(after[on_b], ids["c"]) << "the lost bundle moves to the new node";
  // Its resources are on c now.
  raycc::proto::GetNodeStatsReply stats = Stats(raylet_ports_.back());
  bool group_resource = false;
  for (const auto& [name, q] : stats.total_resources().quantities())
    group_resource = group_resource || name.find("_group") != std::string::npos;
  EXPECT_TRUE(group_resource) << "c holds no bundle resources";
  ASSERT_TRUE(gcs.RemovePlacementGroup(id).ok());
}

// An actor in the bundle of a node that dies comes back, fresh, where the
// bundle is reserved again once a node for it joins.
TEST_F(ClusterRuntimeTest, AnActorInALostBundleRestartsWhereTheBundleGoes) {
  int a = StartRaylet("a", 2);
  StartRaylet("b", 2);
  const std::string log = dir_ + "/regroup.log";
  Process driver({RAYCC_CLUSTER_DRIVER_BIN, "regroup", dir_}, log,
                 {"RAYCC_ADDRESS=" + gcs_address_, "RAYCC_AUTH_TOKEN=" + token_,
                  "RAYCC_RAYLET_ADDRESS=127.0.0.1:" + std::to_string(a)});
  ASSERT_EQ(WaitForFileText(
                dir_ + "/placed", [](const std::string& text) { return !text.empty(); }, driver),
            "placed")
      << ReadAll(log);
  raylets_[1].reset();  // b: SIGKILL, by its pid (its workers end with it)
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<std::vector<raycc::proto::NodeInfo>> nodes = gcs.TryGetAllNodes();
    if (!nodes.ok()) return false;
    for (const auto& node : *nodes)
      if (node.node_name() == "b") return node.state() == raycc::proto::NodeInfo::DEAD;
    return false;
  })) << ReadAll(dir_ + "/gcs.log");
  std::ofstream(dir_ + "/go") << "go";
  StartRaylet("c", 2);
  ASSERT_EQ(driver.WaitExit(120s), 0) << ReadAll(log) << ReadAll(dir_ + "/gcs.log");
  std::map<std::string, std::string> out = Lines(ReadAll(log));
  EXPECT_EQ(out["before"], "b");
  EXPECT_EQ(out["count_before"], "5");
  EXPECT_EQ(out["after"], "c") << "strict_spread: never a, which holds the other bundle";
  EXPECT_EQ(out["count_after"], "1") << "restarted fresh";
}

TEST_F(ClusterRuntimeTest, ReferencesLeaveTheirOwnerAndAreFreedWhenTheLastBorrowerLetsGo) {
  StartRaylet("a", 2);
  StartRaylet("b", 2);
  int code = -1;
  std::map<std::string, std::string> out = RunDriver({"ownership"}, &code);
  ASSERT_EQ(code, 0) << output_;
  EXPECT_EQ(out["kept"], "1");
  // The driver dropped its reference; a keeper actor in another process
  // borrows the object, so the owner still holds it.
  EXPECT_EQ(out["owner_objects_while_borrowed"], "1");
  EXPECT_EQ(out["borrower_reads"], "41");
  // The keeper passed the borrowed reference to a task in a third process,
  // which read it from the owner.
  EXPECT_EQ(out["third_process_reads"], "41");
  EXPECT_EQ(out["lent_back"], "41");
  EXPECT_EQ(out["still_borrowed"], "1");
  // The keeper let go: the owner freed it.
  EXPECT_EQ(out["freed_when_released"], "1");
  // A worker's own objects, returned in a value and borrowed by the driver.
  EXPECT_EQ(out["worker_owned_sum"], "30");
  EXPECT_EQ(out["borrowed_as_arg"], "15");
  EXPECT_EQ(out["borrowed_in_value"], "30");
  EXPECT_EQ(out["put_holds_ref"], "5");
  EXPECT_EQ(out["put_holds_ref_remote"], "5");
  EXPECT_EQ(out["no_borrowed_left"], "1");
  // A borrower killed while it held a reference: the owner frees it.
  EXPECT_EQ(out["kept_by_doomed"], "1");
  EXPECT_EQ(out["freed_when_borrower_died"], "1");
  EXPECT_EQ(out["live_objects"], "0");
}

// A map (ray.map) on the cluster: its shards run as tasks on the raylets'
// workers, spread over both nodes, and the gather (a builtin every process
// has) puts their results together in shard order.
TEST_F(ClusterRuntimeTest, AMapsShardsRunAcrossTheNodesAndComeBackInOrder) {
  StartRaylet("node-a", 2);
  StartRaylet("node-b", 2);
  const std::string artifact = dir_ + "/squares.rcx";
  {
    Process compile({RAYCC_BIN, "compile", std::string(RAYCC_SOURCE_DIR) + "/tests/lit/frontend/map.cc",
                     "--graph", "squares", "--param", "shards=200", "-o", artifact},
                    dir_ + "/compile.log");
    ASSERT_EQ(compile.WaitExit(300s), 0) << ReadAll(dir_ + "/compile.log");
  }
  const std::string timeline = dir_ + "/run.json";
  Process run(
      {RAYCC_BIN, "run", artifact, "--address", gcs_address_, "--input", "scale=2.0", "--timeline", timeline},
      dir_ + "/run.log", {"RAYCC_AUTH_TOKEN=" + token_});
  ASSERT_EQ(run.WaitExit(120s), 0) << ReadAll(dir_ + "/run.log");
  const std::string out = ReadAll(dir_ + "/run.log");
  EXPECT_THAT(out, HasSubstr("parts: [0, 2, 8, 18, 32, 50,"));
  EXPECT_THAT(out, HasSubstr("total: 5293400"));  // 2 * (0^2 + ... + 199^2)
  std::map<std::string, int> shards_on;           // node -> shards it ran
  std::istringstream lines(ReadAll(timeline));
  for (std::string line; std::getline(lines, line);) {
    if (line.find(R"("ph": "X")") == std::string::npos ||
        line.find(R"("name": "Square")") == std::string::npos)
      continue;
    for (const char* node : {"node-a", "node-b"})
      if (line.find(std::string(R"("node": ")") + node) != std::string::npos) ++shards_on[node];
  }
  EXPECT_EQ(shards_on["node-a"] + shards_on["node-b"], 200) << ReadAll(timeline);
  EXPECT_GT(shards_on["node-a"], 0) << "spread: both nodes run shards";
  EXPECT_GT(shards_on["node-b"], 0) << "spread: both nodes run shards";
  // Shard results too large to travel inline (each in its node's store) are
  // gathered as well: 30,000 copies of each shard index 0..3.
  const std::string big = dir_ + "/big.rcx";
  {
    Process compile({RAYCC_BIN, "compile", std::string(RAYCC_SOURCE_DIR) + "/tests/lit/frontend/map.cc",
                     "--graph", "big", "-o", big},
                    dir_ + "/compile-big.log");
    ASSERT_EQ(compile.WaitExit(300s), 0) << ReadAll(dir_ + "/compile-big.log");
  }
  Process run_big({RAYCC_BIN, "run", big, "--address", gcs_address_}, dir_ + "/run-big.log",
                  {"RAYCC_AUTH_TOKEN=" + token_});
  ASSERT_EQ(run_big.WaitExit(120s), 0) << ReadAll(dir_ + "/run-big.log");
  EXPECT_THAT(ReadAll(dir_ + "/run-big.log"), HasSubstr("sum: 180000"));
}

// `raycc run --address`: a graph compiled for examples/clusters/lab.json
// runs on a cluster of raylets with that description's names and
// resources; its task library reaches raycc-worker processes by content
// hash; its placement groups are reserved across the raylets with their
// strategies and removed when the run ends.
TEST_F(ClusterRuntimeTest, ACompiledGraphRunsOnTheClusterItWasCompiledFor) {
  const std::string memory = R"({"memory": 32000000000})", big_memory = R"({"memory": 64000000000})";
  StartRaylet("gpu-1", 8, memory, "rack=r1", 1);
  StartRaylet("gpu-2", 8, memory, "rack=r1", 1);
  StartRaylet("cpu-1", 16, big_memory, "rack=r2");
  StartRaylet("cpu-2", 16, big_memory, "rack=r2");
  const std::string artifact = dir_ + "/pl.rcx";
  {
    Process compile(
        {RAYCC_BIN, "compile", std::string(RAYCC_SOURCE_DIR) + "/examples/graphs/placement_strategies.cc",
         "--cluster=" + std::string(RAYCC_SOURCE_DIR) + "/examples/clusters/lab.json", "-o", artifact},
        dir_ + "/compile.log");
    ASSERT_EQ(compile.WaitExit(300s), 0) << ReadAll(dir_ + "/compile.log");
  }
  const std::string timeline = dir_ + "/run.json";
  Process run({RAYCC_BIN, "run", artifact, "--address", gcs_address_, "--timeline", timeline},
              dir_ + "/run.log", {"RAYCC_AUTH_TOKEN=" + token_});
  ASSERT_EQ(run.WaitExit(120s), 0) << ReadAll(dir_ + "/run.log");
  const std::string out = ReadAll(dir_ + "/run.log");
  // The same results as on the embedded runtime (tests/lit/examples).
  EXPECT_THAT(out, HasSubstr("score0: 0.16497"));
  EXPECT_THAT(out, HasSubstr("score1: 0.06198"));
  // The run's timeline: every task once, finished, on the node that ran it
  // (Train on a GPU node, as placed), on a lane named for its worker.
  std::map<std::string, int> ran;
  std::istringstream lines(ReadAll(timeline));
  for (std::string line; std::getline(lines, line);) {
    if (line.find(R"("ph": "X")") == std::string::npos) continue;
    const size_t name = line.find(R"("name": ")") + 9;
    const std::string task = line.substr(name, line.find('"', name) - name);
    ++ran[task];
    EXPECT_THAT(line, HasSubstr(R"("status": "finished")"));
    EXPECT_THAT(line, HasSubstr(R"("graph": "pipeline")")) << line;
    if (task == "Train") EXPECT_THAT(line, HasSubstr(R"("node": "gpu-)"));
    EXPECT_THAT(line, ::testing::Not(HasSubstr(R"("dur": -)")));
  }
  // (Log's result is never read; it runs for its effect, and `raycc run`
  // waits for it before the driver leaves.)
  EXPECT_EQ(ran, (std::map<std::string, int>{{"Evaluate", 2}, {"Log", 2}, {"Preprocess", 2}, {"Train", 2}}))
      << ReadAll(timeline);
  EXPECT_THAT(ReadAll(timeline), HasSubstr(", worker pid "));
  EXPECT_THAT(ReadAll(timeline), HasSubstr("raycc cluster at " + gcs_address_));

  // Each group kept its strategy on the real nodes, and the run removed it.
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  absl::StatusOr<std::vector<raycc::proto::NodeInfo>> nodes = gcs.TryGetAllNodes();
  ASSERT_TRUE(nodes.ok());
  std::map<std::string, std::string> names;
  for (const auto& node : *nodes) names[node.node_id()] = node.node_name();
  absl::StatusOr<std::vector<raycc::proto::PlacementGroupInfo>> groups = gcs.GetAllPlacementGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  std::map<std::string, std::vector<std::string>> where;  // group name -> its bundles' nodes
  for (const auto& group : *groups) {
    EXPECT_EQ(group.state(), raycc::proto::PG_REMOVED) << group.spec().name();
    for (const auto& bundle : group.spec().bundles())
      where[group.spec().name()].push_back(names[bundle.node_id()]);
  }
  ASSERT_EQ(where.size(), 4u);
  ASSERT_EQ(where["prep"].size(), 2u);
  EXPECT_EQ(where["prep"][0], where["prep"][1]) << "strict_pack";
  ASSERT_EQ(where["train"].size(), 2u);
  EXPECT_NE(where["train"][0], where["train"][1]) << "strict_spread";
  for (const std::string& node : where["train"]) EXPECT_THAT(node, ::testing::StartsWith("gpu-"));
  // Every node has its resources back.
  for (int port : raylet_ports_) {
    const int64_t total = Stats(port).total_resources().quantities().at("CPU");
    EXPECT_EQ(FreeCpu(StatsOnceCpusFree(port, total / 10000)), total) << port;
  }
}

// A driver killed with SIGKILL says nothing; its raylet watches its pid:
// the workers it leased (a running task's, an actor's) end, the CPUs come
// back, and the GCS ends its job (the actor is dead, its name free).
TEST_F(ClusterRuntimeTest, AKilledDriversLeasesAndActorsAreReleased) {
  int raylet = StartRaylet("node-a", 2);
  const std::string log = dir_ + "/holder.log";
  auto driver = std::make_unique<Process>(
      std::vector<std::string>{RAYCC_CLUSTER_DRIVER_BIN, "hold", dir_}, log,
      std::vector<std::string>{"RAYCC_ADDRESS=" + gcs_address_, "RAYCC_AUTH_TOKEN=" + token_});
  // (the driver prints "holding 1" once its task runs)
  ASSERT_THAT(
      WaitForFileText(
          log, [](const std::string& text) { return text.find("holding 1") != std::string::npos; }, *driver),
      HasSubstr("holding 1"));
  EXPECT_EQ(Stats(raylet).available_resources().quantities().count("CPU"), 0u) << "both CPUs leased";
  driver.reset();  // SIGKILL

  raycc::proto::GetNodeStatsReply stats;
  Eventually([&] {
    stats = Stats(raylet);
    const auto& free = stats.available_resources().quantities();
    return free.count("CPU") > 0 && free.at("CPU") == 2 * 10000 && stats.num_workers() == 0;
  });
  const auto& free = stats.available_resources().quantities();
  EXPECT_EQ(free.count("CPU") > 0 ? free.at("CPU") : 0, 2 * 10000) << "the leases came back";
  EXPECT_EQ(stats.num_workers(), 0u) << "the task's and the actor's workers ended";
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  absl::StatusOr<std::vector<raycc::proto::ActorInfo>> actors = gcs.GetAllActors();
  ASSERT_TRUE(actors.ok());
  ASSERT_EQ(actors->size(), 1u);
  EXPECT_EQ((*actors)[0].state(), raycc::proto::DEAD);
  EXPECT_FALSE(gcs.GetNamedActor("", "held").has_value());
}

// The worker pool prestarts: a driver's job has workers started on its
// raylet as it joins, before it submits anything; they end with the job.
TEST_F(ClusterRuntimeTest, WorkersArePrestartedForANewDriver) {
  int raylet = StartRaylet("node-a", 2);
  const std::string log = dir_ + "/idle.log";
  Process driver({RAYCC_CLUSTER_DRIVER_BIN, "idle", dir_}, log,
                 {"RAYCC_ADDRESS=" + gcs_address_, "RAYCC_AUTH_TOKEN=" + token_});
  ASSERT_EQ(WaitForFileText(
                dir_ + "/ready", [](const std::string& text) { return !text.empty(); }, driver),
            "ready")
      << ReadAll(log);
  EXPECT_TRUE(Eventually([&] { return Stats(raylet).num_workers() == 2; }))
      << "workers: " << Stats(raylet).num_workers();
  EXPECT_EQ(FreeCpu(Stats(raylet)), 2 * 10000) << "idle: nothing leased";
  std::ofstream(dir_ + "/go") << "go";
  ASSERT_EQ(driver.WaitExit(60s), 0) << ReadAll(log);
  EXPECT_THAT(ReadAll(log), HasSubstr("went_on 1"));
  EXPECT_TRUE(Eventually([&] { return Stats(raylet).num_workers() == 0; })) << "they end with the job";
}

TEST_F(ClusterRuntimeTest, NoTokenOrNoClusterIsAClearError) {
  StartRaylet("node-a", 1);
  const std::string log = dir_ + "/no-token.log";
  Process no_token({RAYCC_CLUSTER_DRIVER_BIN, "tasks"}, log, {"RAYCC_ADDRESS=" + gcs_address_});
  EXPECT_EQ(no_token.WaitExit(60s), 134) << ReadAll(log);  // (Init's RayccError is uncaught: abort)
  EXPECT_THAT(ReadAll(log), HasSubstr("needs its token"));

  const std::string log2 = dir_ + "/no-cluster.log";
  Process nobody({RAYCC_CLUSTER_DRIVER_BIN, "tasks"}, log2,
                 {"RAYCC_ADDRESS=127.0.0.1:1", "RAYCC_AUTH_TOKEN=x"});
  EXPECT_EQ(nobody.WaitExit(60s), 134) << ReadAll(log2);
  EXPECT_THAT(ReadAll(log2), HasSubstr("cannot join the cluster at 127.0.0.1:1"));
}

}  // namespace
