// The Ray C++ programs (programs/*.cc, unchanged) on a real raycc cluster:
// raycc-gcs and two raylets as processes over gRPC on loopback; each program
// joins with Ray's --ray_address flag and the cluster token, and its tasks
// and actors run in worker processes the raylets start from its own
// executable. Every process is started and ended by its PID; every wait is
// bounded.

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "object_store/shared_object_store.h"
#include "processes.h"
#include "rpc/auth.h"

namespace {

using namespace std::chrono_literals;
using raycc_test::Process;
using raycc_test::ReadAll;
using raycc_test::WaitForPort;

class RayProgramOnClusterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raycc-ray-compat-XXXXXX";
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
    for (const char* name : {"node_a", "node_b"}) {
      const std::string base = dir_ + "/" + name;
      raylets_.push_back(std::make_unique<Process>(
          std::vector<std::string>{RAYCC_RAYLET_BIN, "--gcs-address", gcs_address_, "--num-cpus", "4",
                                   "--node-name", name, "--token-file", dir_ + "/token", "--session-dir",
                                   base + "-session", "--port-file", base + ".port", "--heartbeat-ms", "200",
                                   "--object-store-memory", std::to_string(64 << 20)},
          base + ".log"));
      ASSERT_GT(WaitForPort(base + ".port", *raylets_.back()), 0) << ReadAll(base + ".log");
    }
  }
  void TearDown() override {
    for (auto& raylet : raylets_) raylet.reset();
    gcs_.reset();
    raycc::object_store::SharedObjectStore::RemoveSegmentsOfDeadRaylets();
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)!std::system(cmd.c_str());
  }

  std::string dir_, token_, gcs_address_;
  std::unique_ptr<Process> gcs_;
  std::vector<std::unique_ptr<Process>> raylets_;
};

TEST_P(RayProgramOnClusterTest, RunsUnchanged) {
  const std::string program = GetParam();
  const std::string log = dir_ + "/" + program + ".log";
  Process driver({std::string(RAY_PROGRAMS_DIR) + "/ray_" + program, "--ray_address=" + gcs_address_}, log,
                 {"RAYCC_AUTH_TOKEN=" + token_, "RAYCC_ADDRESS=", "RAY_ADDRESS="});
  const int code = driver.WaitExit(240s);
  const std::string output = ReadAll(log);
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find(program + ": ok"), std::string::npos) << output;
  // It ran on the cluster: the raylets started worker processes for it.
  int workers = 0;
  for (const char* name : {"node_a", "node_b"}) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/" + name + "-session/logs", error))
      workers += entry.path().filename().string().rfind("worker-", 0) == 0;
  }
  EXPECT_GT(workers, 0) << "no worker process was started: did the program run in its own process?";
}

INSTANTIATE_TEST_SUITE_P(Programs, RayProgramOnClusterTest,
                         ::testing::Values("tasks", "user_types", "wait_timeouts", "actors", "exceptions",
                                           "nested", "placement_groups", "workload"));

}  // namespace
