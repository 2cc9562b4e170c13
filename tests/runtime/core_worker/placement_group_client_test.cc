// The core worker's placement-group client against the in-process GCS: a
// group is checked before it is queued, what queues while a call is out
// goes in the next call, and a created group's answer needs no call.

#include "core_worker/placement_group_client.h"

#include <condition_variable>
#include <mutex>

#include "gcs/gcs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/runtime/common/status.h"

namespace raycc::core_worker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ResourceSet Res(std::initializer_list<std::pair<std::string, double>> q) { return *ResourceSet::Create(q); }

// Raylets that accept every bundle; the first ReserveGroups call waits at
// a gate until the test opens it (so that ops queue behind it).
class GatedRaylets : public gcs::BundleReserverInterface {
 public:
  std::vector<std::pair<NodeId, scheduling::Units>> nodes;
  std::vector<std::pair<NodeId, scheduling::Units>> AvailableResources() override { return nodes; }
  bool PrepareBundle(const PlacementGroupId&, int, const scheduling::Units&, const NodeId&) override {
    return true;
  }
  void CommitBundle(const PlacementGroupId&, int, const scheduling::Units&, const NodeId&) override {}
  void CancelBundle(const PlacementGroupId&, int, const scheduling::Units&, const NodeId&) override {}
  void ReturnBundle(const PlacementGroupId&, int, const scheduling::Units&, const NodeId&) override {}
  std::vector<bool> ReserveGroups(
      const std::vector<std::pair<PlacementGroupId, std::vector<gcs::BundleAt>>>& groups) override {
    std::unique_lock<std::mutex> lock(mu_);
    batches_.push_back(groups.size());
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    lock.unlock();
    return BundleReserverInterface::ReserveGroups(groups);
  }
  bool WaitForBatches(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return batches_.size() >= n; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  std::vector<size_t> batches() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::vector<size_t> batches_;
};

proto::NodeInfo Node(const NodeId& id, const std::string& name, const ResourceSet& total) {
  proto::NodeInfo node;
  node.set_node_id(id.Binary());
  node.set_node_name(name);
  total.ToProto(node.mutable_total_resources());
  return node;
}

class PlacementGroupClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(gcs_.RegisterNode(Node(a_, "a", Res({{"CPU", 4}}))).ok());
    raylets_.nodes.emplace_back(a_, scheduling::ToUnits(Res({{"CPU", 4}})));
    gcs_.SetBundleReserver(&raylets_);
  }
  void TearDown() override { raylets_.Open(); }
  absl::Status Create(PlacementGroupClient& client, const PlacementGroupId& id, const ResourceSet& bundle,
                      std::vector<std::string> pins = {}) {
    return client.Create(id, "g", scheduling::BundleStrategy::kPack, {bundle}, pins);
  }

  gcs::Gcs gcs_;
  GatedRaylets raylets_;
  NodeId a_ = NodeId::FromRandom();
  JobId job_ = JobId::FromInt(3);
};

TEST_F(PlacementGroupClientTest, WhatQueuesWhileACallIsOutGoesInTheNextCall) {
  PlacementGroupClient client(gcs_, std::chrono::minutes(1));
  std::vector<PlacementGroupId> ids;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(PlacementGroupId::Of(job_));
    ASSERT_TRUE(Create(client, ids.back(), Res({{"CPU", 0.01}})).ok());
    if (i == 0) ASSERT_TRUE(raylets_.WaitForBatches(1));  // (the first call is out, held at the gate)
  }
  EXPECT_TRUE(client.busy());
  raylets_.Open();
  client.Flush();
  EXPECT_FALSE(client.busy());
  EXPECT_THAT(raylets_.batches(), ElementsAre(1u, 99u));
  EXPECT_EQ(client.calls(), 2u);
  // Every answer is here: no call, no wait.
  for (const PlacementGroupId& id : ids) {
    std::optional<PlacementGroupClient::Answer> answer =
        client.AnswerFor(id, PlacementGroupClient::Clock::now());
    ASSERT_TRUE(answer.has_value());
    EXPECT_TRUE(answer->status.ok());
    EXPECT_EQ(answer->state, proto::PG_CREATED);
  }
  // Removals queue too; the GCS has them after a flush.
  for (const PlacementGroupId& id : ids) client.Remove(id);
  EXPECT_FALSE(client.AnswerFor(ids[0], std::nullopt).has_value());  // (not a group of this client any more)
  client.Flush();
  for (const PlacementGroupId& id : ids) EXPECT_EQ(*gcs_.GetPlacementGroupState(id), proto::PG_REMOVED);
}

TEST_F(PlacementGroupClientTest, AGroupNoLiveNodeCanHoldIsRefusedAtOnceAndNotSent) {
  raylets_.Open();
  PlacementGroupClient client(gcs_, std::chrono::minutes(1));
  absl::Status too_big = Create(client, PlacementGroupId::Of(job_), Res({{"CPU", 8}}));
  EXPECT_TRUE(IsInfeasible(too_big)) << too_big;
  EXPECT_THAT(too_big.message(), HasSubstr("placement group 'g': bundle 0:"));
  absl::Status pinned = Create(client, PlacementGroupId::Of(job_), Res({{"CPU", 1}}), {"nowhere"});
  EXPECT_TRUE(IsInfeasible(pinned)) << pinned;
  EXPECT_THAT(pinned.message(), HasSubstr("pinned to node 'nowhere', which is not a live node"));
  EXPECT_EQ(client.Create(PlacementGroupId::Of(job_), "g", scheduling::BundleStrategy::kPack, {}, {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(client.busy());
  EXPECT_EQ(client.calls(), 0u);

  // A node that joined after the view was taken is looked for before a
  // group is refused.
  const NodeId b = NodeId::FromRandom();
  ASSERT_TRUE(gcs_.RegisterNode(Node(b, "b", Res({{"GPU", 1}}))).ok());
  raylets_.nodes.emplace_back(b, scheduling::ToUnits(Res({{"GPU", 1}})));
  const PlacementGroupId gpu = PlacementGroupId::Of(job_);
  ASSERT_TRUE(Create(client, gpu, Res({{"GPU", 1}}), {"b"}).ok());
  std::optional<PlacementGroupClient::Answer> answer = client.AnswerFor(gpu, std::nullopt);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->state, proto::PG_CREATED);
}

TEST_F(PlacementGroupClientTest, AnErrorTheGcsGivesIsTheGroupsAnswer) {
  raylets_.Open();
  PlacementGroupClient client(gcs_, std::chrono::minutes(1));
  const PlacementGroupId id = PlacementGroupId::Of(job_);
  ASSERT_TRUE(Create(client, id, Res({{"CPU", 1}})).ok());
  client.Flush();
  // The same id again: the GCS refuses it, and that is what Wait will say.
  ASSERT_TRUE(Create(client, id, Res({{"CPU", 1}})).ok());
  std::optional<PlacementGroupClient::Answer> answer = client.AnswerFor(id, std::nullopt);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(answer->status.message(), HasSubstr("is taken"));
}

}  // namespace
}  // namespace raycc::core_worker
