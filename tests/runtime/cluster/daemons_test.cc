// raycc-gcs and raycc-raylet as real processes over real gRPC on loopback:
// a node joins, the cluster token is enforced (and refusals counted), bad
// bytes on a port do not crash a daemon, a stopped raylet is marked dead
// with its cause, a second GCS on a port in use fails clearly, and an
// infeasible lease is answered with its cause. Every process is started
// and ended by its PID; every wait is bounded.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gcs/gcs_rpc_client.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "object_store/shared_object_store.h"
#include "processes.h"
#include "raycc/proto/gcs_service.grpc.pb.h"
#include "raycc/proto/raylet_service.grpc.pb.h"
#include "raycc/runtime/common/id.h"
#include "rpc/auth.h"
#include "rpc/server.h"

namespace {

using namespace std::chrono_literals;

using raycc_test::Process;
using raycc_test::ReadAll;
using raycc_test::WaitForPort;

class DaemonsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raycc-daemons-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    token_ = raycc::rpc::GenerateToken();
    ASSERT_TRUE(raycc::rpc::WriteTokenFile(dir_ + "/token", token_).ok());
    gcs_ = std::make_unique<Process>(
        std::vector<std::string>{RAYCC_GCS_BIN, "--port", "0", "--token-file", dir_ + "/token", "--port-file",
                                 dir_ + "/gcs.port", "--node-timeout-ms", "5000"},
        dir_ + "/gcs.log");
    gcs_port_ = WaitForPort(dir_ + "/gcs.port", *gcs_);
    ASSERT_GT(gcs_port_, 0) << ReadAll(dir_ + "/gcs.log");
    gcs_address_ = "127.0.0.1:" + std::to_string(gcs_port_);
  }
  void TearDown() override {
    raylet_.reset();
    gcs_.reset();
    // (A killed raylet leaves its object store: removed by its dead pid.)
    raycc::object_store::SharedObjectStore::RemoveSegmentsOfDeadRaylets();
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)!std::system(cmd.c_str());
  }

  void StartRaylet(const std::string& name) {
    raylet_ = std::make_unique<Process>(
        std::vector<std::string>{RAYCC_RAYLET_BIN, "--gcs-address", gcs_address_, "--num-cpus", "2",
                                 "--resources", R"({"accel": 3})", "--node-name", name, "--token-file",
                                 dir_ + "/token", "--session-dir", dir_ + "/session", "--port-file",
                                 dir_ + "/raylet.port", "--heartbeat-ms", "200"},
        dir_ + "/raylet.log");
    raylet_port_ = WaitForPort(dir_ + "/raylet.port", *raylet_);
    ASSERT_GT(raylet_port_, 0) << ReadAll(dir_ + "/raylet.log");
  }

  std::unique_ptr<raycc::proto::RayletService::Stub> RayletStub() {
    return raycc::proto::RayletService::NewStub(
        raycc::rpc::Connect("127.0.0.1:" + std::to_string(raylet_port_)));
  }

  std::string dir_, token_, gcs_address_;
  int gcs_port_ = 0, raylet_port_ = 0;
  std::unique_ptr<Process> gcs_, raylet_;
};

TEST_F(DaemonsTest, ARayletJoinsAndIsMarkedDeadWhenItStops) {
  StartRaylet("node-a");
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  absl::StatusOr<std::vector<raycc::proto::NodeInfo>> nodes = gcs.TryGetAllNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].node_name(), "node-a");
  EXPECT_EQ((*nodes)[0].state(), raycc::proto::NodeInfo::ALIVE);
  EXPECT_EQ((*nodes)[0].raylet_address().port(), raylet_port_);
  EXPECT_EQ((*nodes)[0].total_resources().quantities().at("CPU"), 2 * 10000);
  EXPECT_EQ((*nodes)[0].total_resources().quantities().at("accel"), 3 * 10000);

  auto stub = RayletStub();
  grpc::ClientContext context;
  raycc::rpc::AddToken(&context, token_);
  raycc::proto::GetNodeStatsReply stats;
  ASSERT_TRUE(stub->GetNodeStats(&context, raycc::proto::GetNodeStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.available_resources().quantities().at("CPU"), 2 * 10000);
  EXPECT_EQ(stats.num_workers(), 0u);

  EXPECT_EQ(raylet_->Stop(), 0) << ReadAll(dir_ + "/raylet.log");
  nodes = gcs.TryGetAllNodes();
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].state(), raycc::proto::NodeInfo::DEAD);
  EXPECT_NE((*nodes)[0].death_cause().find("SIGTERM"), std::string::npos) << (*nodes)[0].death_cause();
  EXPECT_EQ(gcs_->Stop(), 0);
}

TEST_F(DaemonsTest, AKilledRayletIsMarkedDeadByTheGcs) {
  StartRaylet("node-a");
  raylet_.reset();  // SIGKILL: no goodbye; only its silence tells
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  std::string cause;
  // (Bounded; this GCS waits 5 s, its default 3 s.)
  raycc_test::Eventually([&] {
    absl::StatusOr<std::vector<raycc::proto::NodeInfo>> nodes = gcs.TryGetAllNodes();
    if (nodes.ok() && nodes->size() == 1 && (*nodes)[0].state() == raycc::proto::NodeInfo::DEAD) {
      cause = (*nodes)[0].death_cause();
    }
    return !cause.empty();
  });
  EXPECT_EQ(cause.rfind("no heartbeat for ", 0), 0u) << cause;
  EXPECT_TRUE(gcs_->Alive());
}

TEST_F(DaemonsTest, RequestsWithoutTheTokenAreRefusedAndCounted) {
  StartRaylet("node-a");
  raycc::gcs::GcsRpcClient no_token(gcs_address_, "");
  absl::StatusOr<std::vector<raycc::proto::NodeInfo>> nodes = no_token.TryGetAllNodes();
  EXPECT_EQ(nodes.status().code(), absl::StatusCode::kUnauthenticated) << nodes.status();
  raycc::gcs::GcsRpcClient wrong(gcs_address_, std::string(token_.size(), 'x'));
  EXPECT_EQ(wrong.KvPut("ns", "k", "v", true).status().code(), absl::StatusCode::kUnauthenticated);

  auto stub = RayletStub();
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    raycc::proto::GetNodeStatsReply stats;
    grpc::Status s = stub->GetNodeStats(&context, raycc::proto::GetNodeStatsRequest(), &stats);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(s.error_message().find("token"), std::string::npos) << s.error_message();
  }
  grpc::ClientContext context;
  raycc::rpc::AddToken(&context, token_);
  raycc::proto::GetNodeStatsReply stats;
  ASSERT_TRUE(stub->GetNodeStats(&context, raycc::proto::GetNodeStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.unauthenticated_requests(), 3u);
  // The GCS still serves the right token.
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  EXPECT_TRUE(gcs.TryGetAllNodes().ok());
}

// The GCS publishes actor changes over a stream: a watcher in another
// client sees the actor come alive as it happens (no polling), and bad
// subscriptions are refused.
TEST_F(DaemonsTest, ActorJobAndPlacementGroupChangesArePublishedToSubscribers) {
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_), watcher(gcs_address_, token_);
  const raycc::ActorId id = raycc::ActorId::Of(raycc::JobId::FromInt(9));
  raycc::proto::ActorSpec spec;
  spec.set_actor_id(id.Binary());
  spec.set_class_name("Counter");
  ASSERT_TRUE(gcs.RegisterActor(spec).ok());
  std::atomic<bool> subscribed_alive{false};
  absl::StatusOr<std::optional<raycc::proto::ActorInfo>> seen;
  std::thread watch([&] {
    seen = watcher.WatchActor(
        id, [](const raycc::proto::ActorInfo& info) { return info.state() == raycc::proto::ALIVE; },
        std::chrono::steady_clock::now() + std::chrono::seconds(60), [] { return false; });
  });
  raycc::proto::Address where;
  where.set_host("127.0.0.1");
  where.set_port(4321);
  ASSERT_TRUE(gcs.MarkActorAlive(id, where).ok());
  watch.join();
  ASSERT_TRUE(seen.ok()) << seen.status();
  ASSERT_TRUE(seen->has_value());
  EXPECT_EQ((*seen)->state(), raycc::proto::ALIVE);
  EXPECT_EQ((*seen)->address().port(), 4321);
  // Unknown actors are said to be so; a cancelled watch returns at once.
  absl::StatusOr<std::optional<raycc::proto::ActorInfo>> unknown = watcher.WatchActor(
      raycc::ActorId::Of(raycc::JobId::FromInt(9)), [](const raycc::proto::ActorInfo&) { return false; },
      std::chrono::steady_clock::now() + std::chrono::seconds(60), [] { return false; });
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());

  auto stub = raycc::proto::GcsService::NewStub(raycc::rpc::Connect(gcs_address_));
  auto refused = [&](raycc::proto::SubscribeRequest request, const std::string& token) {
    grpc::ClientContext context;
    if (!token.empty()) raycc::rpc::AddToken(&context, token);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = stub->Subscribe(&context, request);
    raycc::proto::PubMessage message;
    while (reader->Read(&message)) {
    }
    return reader->Finish();
  };
  raycc::proto::SubscribeRequest none;
  EXPECT_EQ(refused(none, token_).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  raycc::proto::SubscribeRequest unknown_channel;
  unknown_channel.add_channels(static_cast<raycc::proto::Channel>(99));
  grpc::Status not_published = refused(unknown_channel, token_);
  EXPECT_EQ(not_published.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(not_published.error_message().find("not published"), std::string::npos);

  // A job's life on its channel: added, then finished.
  const raycc::JobId job = *gcs.NextJobId();
  {
    raycc::proto::SubscribeRequest on_job;
    on_job.add_channels(raycc::proto::JOB_CHANNEL);
    on_job.add_keys(job.Binary());
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token_);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = stub->Subscribe(&context, on_job);
    ASSERT_TRUE(gcs.AddJob(job, raycc::proto::Address()).ok());
    raycc::proto::PubMessage message;
    std::vector<bool> finished;
    while ((finished.empty() || !finished.back()) && reader->Read(&message)) {
      ASSERT_TRUE(message.has_job());
      EXPECT_EQ(message.job().job_id(), job.Binary());
      finished.push_back(message.job().finished());
      if (finished.size() == 1) ASSERT_TRUE(gcs.MarkJobFinished(job).ok());
    }
    context.TryCancel();
    (void)reader->Finish();
    EXPECT_EQ(finished, (std::vector<bool>{false, true}));
  }
  raycc::proto::SubscribeRequest actors;
  actors.add_channels(raycc::proto::ACTOR_CHANNEL);
  EXPECT_EQ(refused(actors, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(gcs.TryGetAllNodes().ok()) << "the GCS still serves";

  // A placement group's life on its channel: the stream starts with its
  // record, then says CREATED once a raylet joins and holds it, then REMOVED.
  const raycc::PlacementGroupId group = raycc::PlacementGroupId::Of(raycc::JobId::FromInt(9));
  StartRaylet("node-a");
  absl::StatusOr<raycc::ResourceSet> cpu = raycc::ResourceSet::Create({{"CPU", 1}});
  ASSERT_TRUE(cpu.ok());
  ASSERT_TRUE(
      gcs.CreatePlacementGroup(group, "g", raycc::scheduling::BundleStrategy::kPack, {*cpu}, {}).ok());
  raycc::proto::SubscribeRequest on_group;
  on_group.add_channels(raycc::proto::PLACEMENT_GROUP_CHANNEL);
  on_group.add_keys(group.Binary());
  grpc::ClientContext context;
  raycc::rpc::AddToken(&context, token_);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub->Subscribe(&context, on_group);
  std::vector<raycc::proto::PlacementGroupState> states;
  raycc::proto::PubMessage message;
  bool removed = false;
  while (!removed && reader->Read(&message)) {
    ASSERT_TRUE(message.has_placement_group());
    EXPECT_EQ(message.placement_group().spec().placement_group_id(), group.Binary());
    states.push_back(message.placement_group().state());
    if (states.back() == raycc::proto::PG_CREATED) {
      ASSERT_TRUE(gcs.RemovePlacementGroup(group).ok());
    }
    removed = states.back() == raycc::proto::PG_REMOVED;
  }
  context.TryCancel();
  (void)reader->Finish();
  ASSERT_TRUE(removed) << "the stream ended before REMOVED";
  EXPECT_EQ(states.back(), raycc::proto::PG_REMOVED);
  EXPECT_NE(std::find(states.begin(), states.end(), raycc::proto::PG_CREATED), states.end());
}

TEST_F(DaemonsTest, GarbageOnAPortDoesNotCrashADaemon) {
  StartRaylet("node-a");
  for (int port : {gcs_port_, raylet_port_}) {
    for (const std::string& junk :
         {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string(4096, '\xff'),
          std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string(64, '\x01')}) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      ASSERT_GE(fd, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
      (void)!::write(fd, junk.data(), junk.size());
      ::close(fd);
    }
  }
  EXPECT_TRUE(gcs_->Alive());
  EXPECT_TRUE(raylet_->Alive());
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  absl::StatusOr<std::vector<raycc::proto::NodeInfo>> nodes = gcs.TryGetAllNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_EQ(nodes->size(), 1u);
  auto stub = RayletStub();
  grpc::ClientContext context;
  raycc::rpc::AddToken(&context, token_);
  raycc::proto::GetNodeStatsReply stats;
  EXPECT_TRUE(stub->GetNodeStats(&context, raycc::proto::GetNodeStatsRequest(), &stats).ok());
}

TEST_F(DaemonsTest, AForgedWorkerRegistrationIsRefused) {
  StartRaylet("node-a");
  auto stub = RayletStub();
  auto attempt = [&](const std::string& worker_id, int port) {
    raycc::proto::RegisterWorkerRequest request;
    request.set_worker_id(worker_id);
    request.set_port(port);
    request.set_pid(::getpid());
    request.set_job_id(std::string("\0\0\0\1", 4));
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token_);
    raycc::proto::RegisterWorkerReply reply;
    return stub->RegisterWorker(&context, request, &reply);
  };
  grpc::Status unknown = attempt(raycc::WorkerId::FromRandom().Binary(), 1234);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND) << unknown.error_message();
  EXPECT_NE(unknown.error_message().find("not started by this raylet"), std::string::npos)
      << unknown.error_message();
  grpc::Status malformed = attempt("short", 1234);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << malformed.error_message();
  EXPECT_TRUE(raylet_->Alive());
  grpc::ClientContext context;
  raycc::rpc::AddToken(&context, token_);
  raycc::proto::GetNodeStatsReply stats;
  ASSERT_TRUE(stub->GetNodeStats(&context, raycc::proto::GetNodeStatsRequest(), &stats).ok());
}

TEST_F(DaemonsTest, MalformedBundleRequestsAreRefusedAndNothingLeaks) {
  StartRaylet("node-a");  // 2 CPUs
  auto stub = RayletStub();
  const std::string group = raycc::PlacementGroupId::Of(raycc::JobId::FromInt(3)).Binary();
  auto prepare = [&](const std::string& id, int index, const std::map<std::string, int64_t>& units,
                     raycc::proto::PrepareBundleResourcesReply* reply) {
    raycc::proto::PrepareBundleResourcesRequest request;
    request.set_placement_group_id(id);
    raycc::proto::Bundle* bundle = request.add_bundles();
    bundle->set_index(index);
    for (const auto& [name, q] : units) (*bundle->mutable_resources()->mutable_quantities())[name] = q;
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token_);
    return stub->PrepareBundleResources(&context, request, reply);
  };
  raycc::proto::PrepareBundleResourcesReply reply;
  EXPECT_EQ(prepare("short", 0, {{"CPU", 10000}}, &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(prepare(group, -1, {{"CPU", 10000}}, &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(prepare(group, 0, {}, &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(prepare(group, 0, {{"CPU", -5}}, &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(prepare(group, 0, {{"bad name!", 1}}, &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // More than the node has: refused, nothing held.
  ASSERT_TRUE(prepare(group, 0, {{"CPU", 3 * 10000}}, &reply).ok());
  EXPECT_FALSE(reply.success());
  // A real prepare holds the CPU. The same bundle asked again (a GCS
  // restarted before it recorded the reservation) is still held, once;
  // another bundle under its key is refused. A commit of an unknown group
  // and a cancel of it do nothing; cancel gives the CPU back.
  ASSERT_TRUE(prepare(group, 0, {{"CPU", 10000}}, &reply).ok());
  EXPECT_TRUE(reply.success());
  EXPECT_EQ(reply.report().available_resources().quantities().at("CPU"), 10000);
  ASSERT_TRUE(prepare(group, 0, {{"CPU", 10000}}, &reply).ok());
  EXPECT_TRUE(reply.success());
  EXPECT_EQ(reply.report().available_resources().quantities().at("CPU"), 10000) << "held once";
  ASSERT_TRUE(prepare(group, 0, {{"CPU", 5000}}, &reply).ok());
  EXPECT_FALSE(reply.success());
  {
    raycc::proto::CommitBundleResourcesRequest request;
    request.set_placement_group_id(raycc::PlacementGroupId::Of(raycc::JobId::FromInt(4)).Binary());
    request.add_bundle_indices(0);
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token_);
    raycc::proto::CommitBundleResourcesReply commit;
    ASSERT_TRUE(stub->CommitBundleResources(&context, request, &commit).ok());
    EXPECT_EQ(commit.report().available_resources().quantities().at("CPU"), 10000);
  }
  uint64_t version = reply.report().resources_version();
  {
    raycc::proto::CancelResourceReserveRequest request;
    request.set_placement_group_id(group);
    request.add_bundle_indices(0);
    request.add_bundle_indices(7);  // (never prepared: ignored)
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token_);
    raycc::proto::CancelResourceReserveReply cancel;
    ASSERT_TRUE(stub->CancelResourceReserve(&context, request, &cancel).ok());
    EXPECT_EQ(cancel.report().available_resources().quantities().at("CPU"), 2 * 10000);
    EXPECT_GT(cancel.report().resources_version(), version) << "reports are ordered";
  }
  EXPECT_TRUE(raylet_->Alive());

  // The GCS refuses malformed groups with the cause and stays up.
  raycc::gcs::GcsRpcClient gcs(gcs_address_, token_);
  absl::StatusOr<raycc::ResourceSet> cpu = raycc::ResourceSet::Create({{"CPU", 1.0}});
  ASSERT_TRUE(cpu.ok());
  const raycc::PlacementGroupId id = raycc::PlacementGroupId::Of(raycc::JobId::FromInt(5));
  absl::Status none = gcs.CreatePlacementGroup(id, "empty", raycc::scheduling::BundleStrategy::kPack, {}, {});
  EXPECT_EQ(none.code(), absl::StatusCode::kInvalidArgument) << none;
  absl::Status empty_bundle =
      gcs.CreatePlacementGroup(id, "", raycc::scheduling::BundleStrategy::kPack, {raycc::ResourceSet()}, {});
  EXPECT_EQ(empty_bundle.code(), absl::StatusCode::kInvalidArgument) << empty_bundle;
  absl::Status too_many =
      gcs.CreatePlacementGroup(id, "", raycc::scheduling::BundleStrategy::kStrictSpread, {*cpu, *cpu}, {});
  EXPECT_EQ(too_many.code(), absl::StatusCode::kResourceExhausted) << too_many;
  EXPECT_NE(too_many.message().find("strict_spread needs 2 distinct nodes"), std::string::npos) << too_many;
  absl::Status nowhere =
      gcs.CreatePlacementGroup(id, "", raycc::scheduling::BundleStrategy::kPack, {*cpu}, {"no-such-node"});
  EXPECT_EQ(nowhere.code(), absl::StatusCode::kResourceExhausted) << nowhere;
  EXPECT_NE(nowhere.message().find("pinned to node 'no-such-node'"), std::string::npos) << nowhere;
  EXPECT_EQ(gcs.GetPlacementGroup(raycc::PlacementGroupId::Of(raycc::JobId::FromInt(6))).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<bool> unknown_wait =
      gcs.WaitPlacementGroupReady(raycc::PlacementGroupId::Of(raycc::JobId::FromInt(6)), 10);
  EXPECT_EQ(unknown_wait.status().code(), absl::StatusCode::kNotFound);
  // A good one is reserved, and its removal gives the CPU back.
  ASSERT_TRUE(gcs.CreatePlacementGroup(id, "ok", raycc::scheduling::BundleStrategy::kPack, {*cpu}, {}).ok());
  absl::StatusOr<bool> ready = gcs.WaitPlacementGroupReady(id, 30000);
  ASSERT_TRUE(ready.ok() && *ready) << ready.status();
  absl::StatusOr<raycc::proto::PlacementGroupInfo> info = gcs.GetPlacementGroup(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->spec().bundles(0).node_id().size(), 16u);
  ASSERT_TRUE(gcs.RemovePlacementGroup(id).ok());
  absl::StatusOr<bool> removed_wait = gcs.WaitPlacementGroupReady(id, 10);
  EXPECT_EQ(removed_wait.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(gcs_->Alive());
  grpc::ClientContext context;
  raycc::rpc::AddToken(&context, token_);
  raycc::proto::GetNodeStatsReply stats;
  ASSERT_TRUE(stub->GetNodeStats(&context, raycc::proto::GetNodeStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.available_resources().quantities().at("CPU"), 2 * 10000);
  for (const auto& [name, q] : stats.total_resources().quantities())
    EXPECT_EQ(name.find("_group"), std::string::npos) << name << " left in the node's total";
}

TEST_F(DaemonsTest, ASecondGcsOnAPortInUseFailsClearly) {
  Process second({RAYCC_GCS_BIN, "--port", std::to_string(gcs_port_), "--token-file", dir_ + "/token"},
                 dir_ + "/gcs2.log");
  EXPECT_EQ(second.WaitExit(20s), 1);
  std::string log = ReadAll(dir_ + "/gcs2.log");
  EXPECT_NE(log.find(std::to_string(gcs_port_)), std::string::npos) << log;
  EXPECT_NE(log.find("another process"), std::string::npos) << log;
  EXPECT_TRUE(gcs_->Alive());
}

TEST_F(DaemonsTest, AnInfeasibleLeaseNamesItsCauseAndBadCodeIsRefused) {
  StartRaylet("node-a");
  auto stub = RayletStub();
  raycc::proto::RequestWorkerLeaseRequest request;
  raycc::proto::TaskSpec* task = request.mutable_task();
  task->set_job_id(std::string("\0\0\0\1", 4));
  task->mutable_function()->set_library("sha256:" + std::string(64, 'a'));
  (*task->mutable_required_resources()->mutable_quantities())["CPU"] = 64 * 10000;
  {
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token_);
    raycc::proto::RequestWorkerLeaseReply reply;
    grpc::Status s = stub->RequestWorkerLease(&context, request, &reply);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_NE(reply.infeasible_reason().find("node-a"), std::string::npos) << reply.infeasible_reason();
    EXPECT_NE(reply.infeasible_reason().find("CPU"), std::string::npos) << reply.infeasible_reason();
  }
  task->mutable_function()->set_library("sha256:../../etc/passwd");
  {
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token_);
    raycc::proto::RequestWorkerLeaseReply reply;
    grpc::Status s = stub->RequestWorkerLease(&context, request, &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  }
  // Feasible, but its code was never uploaded: a clear error, no worker.
  (*task->mutable_required_resources()->mutable_quantities())["CPU"] = 10000;
  task->mutable_function()->set_library("sha256:" + std::string(64, 'b'));
  {
    grpc::ClientContext context;
    raycc::rpc::AddToken(&context, token_);
    raycc::proto::RequestWorkerLeaseReply reply;
    grpc::Status s = stub->RequestWorkerLease(&context, request, &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
    EXPECT_NE(s.error_message().find("never uploaded"), std::string::npos) << s.error_message();
  }
  EXPECT_TRUE(raylet_->Alive());
}

}  // namespace
