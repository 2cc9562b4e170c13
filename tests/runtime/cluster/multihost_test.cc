// Two hosts in network namespaces: each its own address on a veth pair the
// test makes (and removes), a GCS and a raylet on "host A", a raylet on
// "host B", a driver on A whose work spills to B over the veth. Nothing
// listens on or talks to the machine's own interfaces. Needs root (network
// namespaces); skipped with the reason otherwise. Every process is started
// and ended by its PID; every wait is bounded.

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "object_store/shared_object_store.h"
#include "processes.h"
#include "rpc/auth.h"

namespace {

using namespace std::chrono_literals;
using raycc_test::Process;
using raycc_test::ReadAll;
using raycc_test::WaitForPort;
using ::testing::HasSubstr;

std::string FindIp() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

// Runs `ip args...` to its end; its exit code.
int Ip(const std::string& ip, std::vector<std::string> args, const std::string& log) {
  args.insert(args.begin(), ip);
  Process process(args, log);
  return process.WaitExit(30s);
}

class MultiHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "network namespaces need root; this test runs as uid " << ::geteuid();
    ip_ = FindIp();
    if (ip_.empty()) GTEST_SKIP() << "no `ip` command (iproute2) on this machine";
    char tmpl[] = "/tmp/raycc-multihost-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    const std::string tag = std::to_string(::getpid() % 100000);
    ns_a_ = "raycc-" + tag + "-a";
    ns_b_ = "raycc-" + tag + "-b";
    const std::string subnet = "10.213." + std::to_string(::getpid() % 250) + ".";
    host_a_ = subnet + "1";
    host_b_ = subnet + "2";
    const std::string log = dir_ + "/ip.log";
    if (Ip(ip_, {"netns", "add", ns_a_}, log) != 0) {
      GTEST_SKIP() << "cannot make a network namespace here: " << ReadAll(log);
    }
    made_a_ = true;
    ASSERT_EQ(Ip(ip_, {"netns", "add", ns_b_}, log), 0) << ReadAll(log);
    made_b_ = true;
    const std::string veth_a = "rv" + tag + "a", veth_b = "rv" + tag + "b";
    for (const std::vector<std::string>& step : std::vector<std::vector<std::string>>{
             {"link", "add", veth_a, "type", "veth", "peer", "name", veth_b},
             {"link", "set", veth_a, "netns", ns_a_},
             {"link", "set", veth_b, "netns", ns_b_},
             {"-n", ns_a_, "addr", "add", host_a_ + "/24", "dev", veth_a},
             {"-n", ns_b_, "addr", "add", host_b_ + "/24", "dev", veth_b},
             {"-n", ns_a_, "link", "set", veth_a, "up"},
             {"-n", ns_b_, "link", "set", veth_b, "up"},
             {"-n", ns_a_, "link", "set", "lo", "up"},
             {"-n", ns_b_, "link", "set", "lo", "up"}}) {
      ASSERT_EQ(Ip(ip_, step, log), 0) << "ip " << step[0] << " ...: " << ReadAll(log);
    }
    token_ = raycc::rpc::GenerateToken();
    ASSERT_TRUE(raycc::rpc::WriteTokenFile(dir_ + "/token", token_).ok());
  }

  void TearDown() override {
    // Processes first (by PID), then the namespaces (their veth ends go too).
    driver_.reset();
    raylets_.clear();
    gcs_.reset();
    raycc::object_store::SharedObjectStore::RemoveSegmentsOfDeadRaylets();
    const std::string log = dir_ + "/ip.log";
    if (made_a_) EXPECT_EQ(Ip(ip_, {"netns", "del", ns_a_}, log), 0) << ReadAll(log);
    if (made_b_) EXPECT_EQ(Ip(ip_, {"netns", "del", ns_b_}, log), 0) << ReadAll(log);
    if (!dir_.empty()) (void)!std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  // `argv` run inside namespace `ns` (ip netns exec execs it: same PID).
  std::vector<std::string> In(const std::string& ns, std::vector<std::string> argv) {
    argv.insert(argv.begin(), {ip_, "netns", "exec", ns});
    return argv;
  }

  int StartRaylet(const std::string& ns, const std::string& host, const std::string& name,
                  const std::string& resources) {
    const std::string base = dir_ + "/" + name;
    raylets_.push_back(std::make_unique<Process>(
        In(ns, {RAYCC_RAYLET_BIN, "--gcs-address", gcs_address_, "--bind", host, "--num-cpus", "1",
                "--resources", resources, "--node-name", name, "--token-file", dir_ + "/token",
                "--session-dir", base + "-session", "--port-file", base + ".port", "--heartbeat-ms", "200"}),
        base + ".log"));
    int port = WaitForPort(base + ".port", *raylets_.back());
    EXPECT_GT(port, 0) << ReadAll(base + ".log");
    return port;
  }

  std::string ip_, dir_, ns_a_, ns_b_, host_a_, host_b_, token_, gcs_address_;
  bool made_a_ = false, made_b_ = false;
  std::unique_ptr<Process> gcs_, driver_;
  std::vector<std::unique_ptr<Process>> raylets_;
};

TEST_F(MultiHostTest, ADriverOnOneHostRunsWorkOnAnother) {
  gcs_ = std::make_unique<Process>(In(ns_a_, {RAYCC_GCS_BIN, "--bind", host_a_, "--port", "0", "--token-file",
                                              dir_ + "/token", "--port-file", dir_ + "/gcs.port"}),
                                   dir_ + "/gcs.log");
  int port = WaitForPort(dir_ + "/gcs.port", *gcs_);
  ASSERT_GT(port, 0) << ReadAll(dir_ + "/gcs.log");
  gcs_address_ = host_a_ + ":" + std::to_string(port);
  StartRaylet(ns_a_, host_a_, "small", "{}");
  StartRaylet(ns_b_, host_b_, "big", R"({"big": 1})");

  // The driver on A: a task only B can hold spills there; B's worker runs
  // nested tasks through B's raylet and answers the driver over the veth.
  const std::string log = dir_ + "/driver.log";
  driver_ = std::make_unique<Process>(
      In(ns_a_, {RAYCC_CLUSTER_DRIVER_BIN, "spill"}), log,
      std::vector<std::string>{"RAYCC_ADDRESS=" + gcs_address_, "RAYCC_AUTH_TOKEN=" + token_});
  ASSERT_EQ(driver_->WaitExit(120s), 0) << ReadAll(log) << ReadAll(dir_ + "/big.log");
  const std::string out = ReadAll(log);
  EXPECT_THAT(out, HasSubstr("local small\n"));
  EXPECT_THAT(out, HasSubstr("spilled big\n"));
  EXPECT_THAT(out, HasSubstr("nested_on_big 285\n"));
  EXPECT_THAT(out, HasSubstr("live_objects 0\n"));
  // B's raylet really is on B's address (its log names where it serves).
  EXPECT_THAT(ReadAll(dir_ + "/big.log"), HasSubstr("serving on " + host_b_ + ":"));
}

}  // namespace
