// The raylet's NodeManager as one component: leases against this node's
// resources, spillback, infeasibility, the scheduling strategies, a worker
// blocked in Get, and placement-group bundles. The control service is the
// in-process gcs::Gcs; the worker pool is a fake that records what it is
// asked to start and kill (a "worker" registers when the test says so).

#include "raylet/node_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "gcs/bundle_reserver_interface.h"
#include "gcs/gcs.h"
#include "rpc/content_hash.h"

namespace raycc::raylet {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kWait = std::chrono::seconds(10);

ResourceSet Res(std::initializer_list<std::pair<std::string, double>> quantities) {
  return *ResourceSet::Create(quantities);
}

class FakeWorkerPool : public WorkerPoolInterface {
 public:
  void SetExitCallback(ExitCallback callback) override { exit_ = std::move(callback); }
  absl::StatusOr<int> Start(const WorkerLaunch& launch) override {
    std::lock_guard<std::mutex> lock(mu_);
    launches_.push_back(launch);
    cv_.notify_all();
    return 1000 + static_cast<int>(launches_.size());
  }
  void Kill(const WorkerId& worker) override {
    std::lock_guard<std::mutex> lock(mu_);
    killed_.push_back(worker);
  }
  void Shutdown() override {}
  size_t started() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return launches_.size();
  }
  size_t exited() const override { return 0; }

  /// The n-th worker started (0-based), waiting for it (bounded); its pid
  /// is 1001 + n.
  std::optional<WorkerLaunch> WaitLaunch(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, kWait, [&] { return launches_.size() > n; })) return std::nullopt;
    return launches_[n];
  }
  std::vector<WorkerId> killed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return killed_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WorkerLaunch> launches_;
  std::vector<WorkerId> killed_;
  ExitCallback exit_;
};

class NodeManagerTest : public ::testing::Test {
 protected:
  void Start(const ResourceSet& total, std::map<std::string, std::string> labels = {}) {
    char tmpl[] = "/tmp/raycc_node_manager_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // The job's "program": any bytes, stored in the GCS under their hash.
    const std::string program = "#!/bin/sh\nexit 0\n";
    code_ = rpc::Sha256Hex(program);
    ASSERT_TRUE(gcs_.KvPut("code", code_, program, true).ok());
    NodeManagerOptions options;
    options.node_id = NodeId::FromRandom();
    options.node_name = "here";
    options.host = "127.0.0.1";
    options.port = 7000;
    options.total = total;
    options.labels = std::move(labels);
    options.session_dir = dir_;
    options.spill_hold =
        std::chrono::minutes(10);  // (leases spilled count against a peer for the test's length)
    // Every waiter must be woken by what it waits for: a poll would hide a
    // missed wake-up (it never comes within a test).
    options.cancel_poll = std::chrono::hours(1);
    self_ = options.node_id;
    nm_ = std::make_unique<NodeManager>(std::move(options), gcs_, pool_);
  }
  void TearDown() override {
    nm_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  /// A peer node, alive, with `available` free of `total` as its last
  /// report says; the raylet hears of it.
  NodeId AddPeer(const std::string& name, int port, const ResourceSet& total, const ResourceSet& available,
                 std::map<std::string, std::string> labels = {}) {
    proto::NodeInfo node;
    const NodeId id = NodeId::FromRandom();
    node.set_node_id(id.Binary());
    node.set_node_name(name);
    node.mutable_raylet_address()->set_host("127.0.0.1");
    node.mutable_raylet_address()->set_port(port);
    node.mutable_raylet_address()->set_node_id(id.Binary());
    total.ToProto(node.mutable_total_resources());
    available.ToProto(node.mutable_available_resources());
    for (const auto& [k, v] : labels) (*node.mutable_labels())[k] = v;
    EXPECT_TRUE(gcs_.RegisterNode(node).ok());
    nm_->SetClusterNodes(gcs_.GetAllNodes());
    return id;
  }

  proto::RequestWorkerLeaseRequest Lease(const ResourceSet& resources) const {
    proto::RequestWorkerLeaseRequest request;
    proto::TaskSpec* task = request.mutable_task();
    resources.ToProto(task->mutable_required_resources());
    task->set_job_id(job_.Binary());
    task->mutable_function()->set_library("sha256:" + code_);
    return request;
  }

  std::future<absl::StatusOr<proto::RequestWorkerLeaseReply>> LeaseAsync(proto::RequestWorkerLeaseRequest r) {
    return std::async(std::launch::async,
                      [this, r = std::move(r)] { return nm_->RequestLease(r, [] { return false; }); });
  }

  /// Starts the n-th worker the raylet asked for: it registers.
  void Register(size_t n) {
    std::optional<WorkerLaunch> launch = pool_.WaitLaunch(n);
    ASSERT_TRUE(launch.has_value()) << "no worker " << n << " was started";
    ASSERT_TRUE(
        nm_->RegisterWorker(launch->worker, 20000 + static_cast<int>(n), 1001 + static_cast<int>(n), job_)
            .ok());
  }

  /// A lease that queues here and is granted once worker `n` registers.
  proto::RequestWorkerLeaseReply Granted(const proto::RequestWorkerLeaseRequest& r, size_t n) {
    auto reply = LeaseAsync(r);
    Register(n);
    EXPECT_EQ(reply.wait_for(kWait), std::future_status::ready);
    absl::StatusOr<proto::RequestWorkerLeaseReply> got = reply.get();
    EXPECT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got->has_worker_address()) << got->DebugString();
    return *got;
  }

  /// An immediate reply (spillback, infeasible): the lease does not queue.
  proto::RequestWorkerLeaseReply Answer(const proto::RequestWorkerLeaseRequest& r) {
    absl::StatusOr<proto::RequestWorkerLeaseReply> got = nm_->RequestLease(r, [] { return true; });
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : proto::RequestWorkerLeaseReply();
  }

  static WorkerId WorkerOf(const proto::RequestWorkerLeaseReply& reply) {
    return *WorkerId::FromBinary(reply.worker_address().worker_id());
  }

  size_t Pending() const {
    proto::GetNodeStatsReply stats;
    nm_->FillStats(&stats);
    return stats.num_pending_leases();
  }
  bool WaitPending(size_t n) const {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (Pending() != n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  /// Waits until `n` workers wait to take their CPU back.
  bool WaitUnblocking(size_t n) const {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (nm_->unblocks_waiting() != n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  gcs::Gcs gcs_;
  FakeWorkerPool pool_;
  std::string dir_;
  std::string code_;
  NodeId self_;
  JobId job_ = JobId::FromInt(7);
  std::unique_ptr<NodeManager> nm_;
};

TEST_F(NodeManagerTest, ALeaseGetsAWorkerStartedForItThatIsReusedOnceReturned) {
  Start(Res({{"CPU", 2}}));
  proto::RequestWorkerLeaseReply first = Granted(Lease(Res({{"CPU", 1}})), 0);
  EXPECT_EQ(first.worker_address().node_id(), self_.Binary());
  EXPECT_EQ(first.worker_address().port(), 20000);
  EXPECT_EQ(nm_->available().Get("CPU"), *FixedPoint::FromDouble(1));
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(first), false).ok());
  EXPECT_EQ(nm_->available().Get("CPU"), *FixedPoint::FromDouble(2));
  // The idle worker of the same job and code takes the next lease.
  absl::StatusOr<proto::RequestWorkerLeaseReply> again =
      nm_->RequestLease(Lease(Res({{"CPU", 1}})), [] { return false; });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(WorkerOf(*again), WorkerOf(first));
  EXPECT_EQ(pool_.started(), 1u);
}

TEST_F(NodeManagerTest, ALeaseThatDoesNotFitWaitsForResourcesAndNeverOverCommits) {
  Start(Res({{"CPU", 1}}));
  proto::RequestWorkerLeaseReply first = Granted(Lease(Res({{"CPU", 1}})), 0);
  auto second = LeaseAsync(Lease(Res({{"CPU", 1}})));
  ASSERT_TRUE(WaitPending(1));
  EXPECT_EQ(nm_->available().Get("CPU"), FixedPoint());
  EXPECT_EQ(pool_.started(), 1u);  // (nothing started for it: no room)
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(first), false).ok());
  ASSERT_EQ(second.wait_for(kWait), std::future_status::ready);
  absl::StatusOr<proto::RequestWorkerLeaseReply> got = second.get();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(WorkerOf(*got), WorkerOf(first));
  EXPECT_EQ(nm_->available().Get("CPU"), FixedPoint());
}

TEST_F(NodeManagerTest, ALeaseThisNodeHasNoRoomForSpillsToAPeerThatHas) {
  Start(Res({{"CPU", 1}}));
  Granted(Lease(Res({{"CPU", 1}})), 0);
  const NodeId b = AddPeer("b", 7001, Res({{"CPU", 4}}), Res({{"CPU", 4}}));
  proto::RequestWorkerLeaseReply reply = Answer(Lease(Res({{"CPU", 1}})));
  ASSERT_TRUE(reply.has_retry_at_raylet()) << reply.DebugString();
  EXPECT_EQ(reply.retry_at_raylet().node_id(), b.Binary());
  EXPECT_EQ(reply.retry_at_raylet().port(), 7001);
  // What was spilled counts against the peer until it reports again: four
  // more fit there, a fifth finds no room anywhere and queues here.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Answer(Lease(Res({{"CPU", 1}}))).retry_at_raylet().port(), 7001);
  auto queued = LeaseAsync(Lease(Res({{"CPU", 1}})));
  EXPECT_TRUE(WaitPending(1));
  nm_->Shutdown();
  ASSERT_EQ(queued.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(queued.get()->canceled());
}

TEST_F(NodeManagerTest, LeasesArePlacedByTheHybridPolicyTheEmbeddedRuntimeUses) {
  // scheduling::HybridPolicy over (this node, the peers): here while this
  // node is less than half used, then the least used node with room.
  Start(Res({{"CPU", 4}}));
  const NodeId b = AddPeer("b", 7001, Res({{"CPU", 4}}), Res({{"CPU", 4}}));
  Granted(Lease(Res({{"CPU", 1}})), 0);
  Granted(Lease(Res({{"CPU", 1}})), 1);
  EXPECT_EQ(Answer(Lease(Res({{"CPU", 1}}))).retry_at_raylet().node_id(), b.Binary());
  // b is now taken as 1 of 4 used: half-used here still loses to it.
  EXPECT_EQ(Answer(Lease(Res({{"CPU", 1}}))).retry_at_raylet().node_id(), b.Binary());
  EXPECT_EQ(pool_.started(), 2u);
}

TEST_F(NodeManagerTest, AnInfeasibleLeaseNamesEveryNodeAndOneOnlyAPeerCanHoldGoesThere) {
  Start(Res({{"CPU", 2}}));
  const NodeId b = AddPeer("b", 7001, Res({{"CPU", 4}, {"GPU", 1}}), Res({{"CPU", 4}, {"GPU", 1}}));
  proto::RequestWorkerLeaseReply reply = Answer(Lease(Res({{"CPU", 8}})));
  EXPECT_THAT(reply.infeasible_reason(), HasSubstr("no node has that much"));
  EXPECT_THAT(reply.infeasible_reason(), HasSubstr("'here' has {CPU: 2}"));
  EXPECT_THAT(reply.infeasible_reason(), HasSubstr("'b' has {CPU: 4, GPU: 1}"));
  reply = Answer(Lease(Res({{"CPU", 1}, {"GPU", 1}})));
  EXPECT_EQ(reply.retry_at_raylet().node_id(), b.Binary()) << reply.DebugString();
  // Spilled once already: the raylet it went to does not send it on.
  proto::RequestWorkerLeaseRequest spilled = Lease(Res({{"CPU", 1}, {"GPU", 1}}));
  spilled.set_spilled(true);
  EXPECT_THAT(Answer(spilled).infeasible_reason(), HasSubstr("{CPU: 1, GPU: 1}"));
}

TEST_F(NodeManagerTest, NodeAffinitySendsALeaseToItsNodeOrSaysWhyItCannot) {
  Start(Res({{"CPU", 2}}));
  const NodeId b = AddPeer("b", 7001, Res({{"CPU", 2}}), Res({{"CPU", 2}}));
  proto::RequestWorkerLeaseRequest to_b = Lease(Res({{"CPU", 1}}));
  to_b.mutable_task()->mutable_scheduling_strategy()->mutable_node_affinity()->set_node_id(b.Binary());
  EXPECT_EQ(Answer(to_b).retry_at_raylet().node_id(), b.Binary());

  proto::RequestWorkerLeaseRequest to_nowhere = Lease(Res({{"CPU", 1}}));
  auto* affinity = to_nowhere.mutable_task()->mutable_scheduling_strategy()->mutable_node_affinity();
  affinity->set_node_id(NodeId::FromRandom().Binary());
  EXPECT_THAT(Answer(to_nowhere).infeasible_reason(), HasSubstr("dead, unknown, or too small"));
  // Soft: the node's absence is no reason not to run.
  affinity->set_soft(true);
  auto reply = LeaseAsync(to_nowhere);
  Register(0);
  ASSERT_EQ(reply.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(reply.get()->worker_address().node_id(), self_.Binary());
}

TEST_F(NodeManagerTest, SpreadLeasesTakeTurnsAmongTheNodes) {
  Start(Res({{"CPU", 4}}));
  // An idle worker here, so that a lease granted here returns at once.
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(Granted(Lease(Res({{"CPU", 1}})), 0)), false).ok());
  const NodeId b = AddPeer("b", 7001, Res({{"CPU", 4}}), Res({{"CPU", 4}}));
  proto::RequestWorkerLeaseRequest spread = Lease(Res({{"CPU", 1}}));
  spread.mutable_task()->mutable_scheduling_strategy()->mutable_spread();
  int here = 0, there = 0;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<proto::RequestWorkerLeaseReply> got = nm_->RequestLease(spread, [] { return false; });
    ASSERT_TRUE(got.ok()) << got.status();
    if (got->has_retry_at_raylet()) {
      EXPECT_EQ(got->retry_at_raylet().node_id(), b.Binary());
      ++there;
    } else {
      ASSERT_TRUE(got->has_worker_address()) << got->DebugString();
      ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(*got), false).ok());
      ++here;
    }
  }
  EXPECT_EQ(here, 2);
  EXPECT_EQ(there, 2);
  EXPECT_EQ(pool_.started(), 1u);
}

TEST_F(NodeManagerTest, ALabelSelectorSendsALeaseToTheNodeWithThoseLabels) {
  Start(Res({{"CPU", 2}}), {{"zone", "north"}});
  const NodeId b = AddPeer("b", 7001, Res({{"CPU", 2}}), Res({{"CPU", 2}}), {{"zone", "south"}});
  proto::RequestWorkerLeaseRequest south = Lease(Res({{"CPU", 1}}));
  (*south.mutable_task()->mutable_label_selector())["zone"] = "south";
  EXPECT_EQ(Answer(south).retry_at_raylet().node_id(), b.Binary());
  proto::RequestWorkerLeaseRequest east = Lease(Res({{"CPU", 1}}));
  (*east.mutable_task()->mutable_label_selector())["zone"] = "east";
  const std::string reason = Answer(east).infeasible_reason();
  EXPECT_THAT(reason, HasSubstr("zone"));
  EXPECT_THAT(reason, HasSubstr("'b' has {CPU: 2} and labels zone=south"));
}

TEST_F(NodeManagerTest, AWorkerBlockedInGetLendsItsCpuAndTakesItBackInTurn) {
  Start(Res({{"CPU", 1}}));
  proto::RequestWorkerLeaseReply blocked = Granted(Lease(Res({{"CPU", 1}})), 0);
  ASSERT_TRUE(nm_->NotifyBlocked(WorkerOf(blocked), true, [] { return false; }).ok());
  EXPECT_EQ(nm_->available().Get("CPU"), *FixedPoint::FromDouble(1));
  proto::RequestWorkerLeaseReply child = Granted(Lease(Res({{"CPU", 1}})), 1);
  // Unblocking waits until the child gives the CPU back.
  auto unblocked = std::async(
      std::launch::async, [&] { return nm_->NotifyBlocked(WorkerOf(blocked), false, [] { return false; }); });
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(child), false).ok());
  ASSERT_EQ(unblocked.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(unblocked.get().ok());
  EXPECT_EQ(nm_->available().Get("CPU"), FixedPoint());  // (held again by the unblocked worker)
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(blocked), false).ok());
  EXPECT_EQ(nm_->available().Get("CPU"), *FixedPoint::FromDouble(1));
}

// Two workers wait to take their CPU back, in turn; the first fits when a
// child returns its CPU while the second still does not: the first is told
// at once (it was left to find out at its next cancellation poll).
TEST_F(NodeManagerTest, AnUnblockThatFitsIsToldThoughTheNextInTurnWaits) {
  Start(Res({{"CPU", 2}}));
  proto::RequestWorkerLeaseReply a = Granted(Lease(Res({{"CPU", 1}})), 0);
  proto::RequestWorkerLeaseReply b = Granted(Lease(Res({{"CPU", 1}})), 1);
  ASSERT_TRUE(nm_->NotifyBlocked(WorkerOf(a), true, [] { return false; }).ok());
  ASSERT_TRUE(nm_->NotifyBlocked(WorkerOf(b), true, [] { return false; }).ok());
  proto::RequestWorkerLeaseReply c1 = Granted(Lease(Res({{"CPU", 1}})), 2);
  proto::RequestWorkerLeaseReply c2 = Granted(Lease(Res({{"CPU", 1}})), 3);
  // (Whatever fails below stops the raylet before the futures are waited
  // for: the waiters end, and so does the test, instead of waiting out the
  // hour-long poll. Hence the futures are declared before the cleanup.)
  std::future<absl::Status> a_back, b_back;
  auto stop_waiters = absl::MakeCleanup([&] { nm_->Shutdown(); });
  a_back = std::async(std::launch::async,
                      [&] { return nm_->NotifyBlocked(WorkerOf(a), false, [] { return false; }); });
  ASSERT_TRUE(WaitUnblocking(1));
  b_back = std::async(std::launch::async,
                      [&] { return nm_->NotifyBlocked(WorkerOf(b), false, [] { return false; }); });
  ASSERT_TRUE(WaitUnblocking(2));
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(c1), false).ok());
  ASSERT_EQ(a_back.wait_for(kWait), std::future_status::ready) << "the first unblock was never told";
  EXPECT_TRUE(a_back.get().ok());
  EXPECT_EQ(b_back.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);  // (no room yet)
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(c2), false).ok());
  ASSERT_EQ(b_back.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(b_back.get().ok());
}

TEST_F(NodeManagerTest, GpuLeasesHoldTheirOwnDevicesAndFractionsShareOne) {
  Start(Res({{"CPU", 4}, {"GPU", 2}}));
  auto ids = [](const proto::RequestWorkerLeaseReply& reply) {
    return std::vector<int>(reply.gpu_devices().begin(), reply.gpu_devices().end());
  };
  proto::RequestWorkerLeaseReply a = Granted(Lease(Res({{"CPU", 1}, {"GPU", 1}})), 0);
  proto::RequestWorkerLeaseReply b = Granted(Lease(Res({{"CPU", 1}, {"GPU", 1}})), 1);
  ASSERT_EQ(ids(a).size(), 1u);
  ASSERT_EQ(ids(b).size(), 1u);
  EXPECT_NE(ids(a), ids(b));
  // No device has half of one free: a half waits, and gets a's once a
  // returns; a second half packs onto the same device.
  auto half = LeaseAsync(Lease(Res({{"CPU", 1}, {"GPU", 0.5}})));
  ASSERT_TRUE(WaitPending(1));
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(a), false).ok());
  ASSERT_EQ(half.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(ids(*half.get()), ids(a));
  EXPECT_EQ(ids(Granted(Lease(Res({{"CPU", 1}, {"GPU", 0.5}})), 2)), ids(a));
  // A lease without GPUs holds none.
  EXPECT_THAT(ids(Granted(Lease(Res({{"CPU", 1}})), 3)), ::testing::IsEmpty());
}

TEST_F(NodeManagerTest, ALeaseTakesItsDevicesWhenItIsDispatchedNotWhenItsWorkerArrives) {
  // Two GPUs. A 0.6 lease runs; a second 0.6 lease of other code waits for
  // a worker to start; a 0.8 lease then finds an idle worker. Units alone
  // (2.0 of 2) would let all three run, but no device would be left with
  // 0.6 for the second when its worker arrives: the 0.8 must wait instead.
  Start(Res({{"CPU", 4}, {"GPU", 2}}));
  const std::string library = "another task library";
  const std::string library_hash = rpc::Sha256Hex(library);
  ASSERT_TRUE(gcs_.KvPut("code", library_hash, library, true).ok());
  auto ids = [](const proto::RequestWorkerLeaseReply& reply) {
    return std::vector<int>(reply.gpu_devices().begin(), reply.gpu_devices().end());
  };
  // Two idle workers of the job's own code: one for the first lease, one
  // for the 0.8 lease later.
  proto::RequestWorkerLeaseReply w0 = Granted(Lease(Res({{"CPU", 1}})), 0);
  proto::RequestWorkerLeaseReply w1 = Granted(Lease(Res({{"CPU", 1}})), 1);
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(w0), false).ok());
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(w1), false).ok());
  absl::StatusOr<proto::RequestWorkerLeaseReply> first =
      nm_->RequestLease(Lease(Res({{"CPU", 1}, {"GPU", 0.6}})), [] { return false; });
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(ids(*first).size(), 1u);
  proto::RequestWorkerLeaseRequest other_code = Lease(Res({{"CPU", 1}, {"GPU", 0.6}}));
  other_code.mutable_task()->mutable_function()->add_task_libraries("sha256:" + library_hash);
  auto second = LeaseAsync(other_code);
  ASSERT_TRUE(pool_.WaitLaunch(2).has_value());  // (its worker is starting)
  auto big = LeaseAsync(Lease(Res({{"CPU", 1}, {"GPU", 0.8}})));
  ASSERT_TRUE(WaitPending(2));  // (the big one waits: no device has 0.8 free)
  Register(2);
  ASSERT_EQ(second.wait_for(kWait), std::future_status::ready);
  absl::StatusOr<proto::RequestWorkerLeaseReply> got = second.get();
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(ids(*got).size(), 1u) << "granted without a device";
  EXPECT_NE(ids(*got), ids(*first));
  // Once the first is done, the big one gets the device it freed.
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(*first), false).ok());
  ASSERT_EQ(big.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(ids(*big.get()), ids(*first));
}

TEST_F(NodeManagerTest, AWorkerBlockedInGetLendsOnlyItsCpus) {
  Start(Res({{"CPU", 1}, {"GPU", 1}}));
  proto::RequestWorkerLeaseReply blocked = Granted(Lease(Res({{"CPU", 1}, {"GPU", 1}})), 0);
  ASSERT_TRUE(nm_->NotifyBlocked(WorkerOf(blocked), true, [] { return false; }).ok());
  EXPECT_EQ(nm_->available().Get("CPU"), *FixedPoint::FromDouble(1));
  EXPECT_EQ(nm_->available().Get("GPU"), FixedPoint());  // (its device stays its own)
  auto gpu = LeaseAsync(Lease(Res({{"GPU", 1}})));
  ASSERT_TRUE(WaitPending(1));
  Granted(Lease(Res({{"CPU", 1}})), 1);
  // Returned while blocked: what it kept comes back, not its CPU twice.
  ASSERT_TRUE(nm_->ReturnWorker(WorkerOf(blocked), false).ok());
  ASSERT_EQ(gpu.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(gpu.get()->gpu_devices_size(), 1);
  EXPECT_EQ(nm_->available().Get("CPU"), FixedPoint());
}

TEST_F(NodeManagerTest, BundlesArePreparedAllOrNoneCommittedAndCancelled) {
  Start(Res({{"CPU", 2}}));
  const PlacementGroupId group = PlacementGroupId::Of(job_);
  const std::string suffix = gcs::GroupResourceSuffix(group);
  EXPECT_FALSE(nm_->PrepareBundles(group, {{0, Res({{"CPU", 2}})}, {1, Res({{"CPU", 1}})}}));
  EXPECT_EQ(nm_->available().Get("CPU"), *FixedPoint::FromDouble(2));  // (none held)
  ASSERT_TRUE(nm_->PrepareBundles(group, {{0, Res({{"CPU", 1}})}, {1, Res({{"CPU", 1}})}}));
  EXPECT_EQ(nm_->available().Get("CPU"), FixedPoint());
  EXPECT_FALSE(nm_->PrepareBundles(PlacementGroupId::Of(job_), {{0, Res({{"CPU", 1}})}}));
  nm_->CommitBundles(group, {0, 1});
  EXPECT_EQ(nm_->available().Get("CPU_group" + suffix), *FixedPoint::FromDouble(2));
  EXPECT_EQ(nm_->available().Get("CPU_group_1" + suffix), *FixedPoint::FromDouble(1));

  // Work in bundle 1 runs here, on the bundle's resources.
  proto::RequestWorkerLeaseRequest in_group = Lease(gcs::GroupResources(Res({{"CPU", 1}}), 1, suffix));
  auto* strategy = in_group.mutable_task()->mutable_scheduling_strategy()->mutable_placement_group();
  strategy->set_placement_group_id(group.Binary());
  strategy->set_bundle_index(1);
  proto::RequestWorkerLeaseReply granted = Granted(in_group, 0);
  EXPECT_EQ(nm_->available().Get("CPU_group_1" + suffix), FixedPoint());
  // A second one waits for the bundle, and fails when the group goes; the
  // worker in it is ended; the CPUs come back.
  auto waiting = LeaseAsync(in_group);
  ASSERT_TRUE(WaitPending(1));
  nm_->CancelBundles(group, {0, 1});
  ASSERT_EQ(waiting.wait_for(kWait), std::future_status::ready);
  absl::StatusOr<proto::RequestWorkerLeaseReply> failed = waiting.get();
  EXPECT_THAT(failed.status().message(), HasSubstr("was removed"));
  EXPECT_THAT(pool_.killed(), ::testing::ElementsAre(WorkerOf(granted)));
  EXPECT_EQ(nm_->available().Get("CPU"), *FixedPoint::FromDouble(2));
  for (const auto& [name, q] : nm_->available().SortedEntries()) EXPECT_THAT(name, Not(HasSubstr(suffix)));
}

}  // namespace
}  // namespace raycc::raylet
