// The control service's components, each over an in-memory storage, and
// the Gcs that serializes them. Placement groups are reserved over a fake
// raylet that can refuse a prepare, to prove the two-phase rollback.

#include "gcs/gcs.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gcs/in_memory_gcs_storage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/runtime/common/status.h"

namespace raycc::gcs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ResourceSet Res(std::map<std::string, double> q) { return *ResourceSet::Create(q); }

proto::NodeInfo Node(const NodeId& id, const std::string& name, std::map<std::string, double> total) {
  proto::NodeInfo node;
  node.set_node_id(id.Binary());
  node.set_node_name(name);
  Res(total).ToProto(node.mutable_total_resources());
  return node;
}

TEST(InMemoryGcsStorageTest, TablesAreSeparateAndScansKeepKeyOrder) {
  InMemoryGcsStorage storage;
  ASSERT_TRUE(storage.Put("a", "k2", "2").ok());
  ASSERT_TRUE(storage.Put("a", "k1", "1").ok());
  ASSERT_TRUE(storage.Put("a", "x", "x").ok());
  ASSERT_TRUE(storage.Put("b", "k1", "other").ok());
  EXPECT_EQ(**storage.Get("a", "k1"), "1");
  EXPECT_EQ(**storage.Get("b", "k1"), "other");
  EXPECT_FALSE(storage.Get("c", "k1")->has_value());
  auto scan = *storage.Scan("a", "k");
  ASSERT_EQ(scan.size(), 2u);
  EXPECT_EQ(scan[0].first, "k1");
  EXPECT_EQ(scan[1].first, "k2");
  EXPECT_TRUE(*storage.Delete("a", "k1"));
  EXPECT_FALSE(*storage.Delete("a", "k1"));
  ASSERT_TRUE(storage.Put("a", "k2", "two").ok());  // overwrites
  EXPECT_EQ(**storage.Get("a", "k2"), "two");
}

TEST(NodeTableTest, NamesAreUniqueAmongLiveNodesAndDeathIsRecorded) {
  InMemoryGcsStorage storage;
  NodeTable nodes(storage);
  NodeId a = NodeId::FromRandom(), b = NodeId::FromRandom(), c = NodeId::FromRandom();
  ASSERT_TRUE(nodes.Register(Node(a, "n1", {{"CPU", 2}})).ok());
  absl::Status dup = nodes.Register(Node(b, "n1", {{"CPU", 2}}));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.message(), HasSubstr("a node named 'n1' is alive already"));
  EXPECT_EQ(nodes.Register(Node(a, "n9", {{"CPU", 2}})).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(nodes.Register(Node(c, "", {{"CPU", 2}})).code(), absl::StatusCode::kInvalidArgument);
  proto::NodeInfo bad = Node(c, "n3", {{"CPU", 1}});
  (*bad.mutable_total_resources()->mutable_quantities())["CPU"] = -5;
  EXPECT_EQ(nodes.Register(bad).code(), absl::StatusCode::kInvalidArgument);
  proto::NodeInfo short_id = Node(c, "n3", {{"CPU", 1}});
  short_id.set_node_id("abc");
  EXPECT_EQ(nodes.Register(short_id).code(), absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(nodes.MarkDead(a, "its raylet stopped").ok());
  EXPECT_EQ(nodes.Find(a)->state(), proto::NodeInfo::DEAD);
  EXPECT_EQ(nodes.Find(a)->death_cause(), "its raylet stopped");
  EXPECT_TRUE(nodes.Register(Node(b, "n1", {{"CPU", 4}})).ok()) << "a dead node's name is free";
  ASSERT_EQ(nodes.AliveTotals().size(), 1u);
  EXPECT_EQ(nodes.AliveTotals()[0].first, b);
  EXPECT_EQ(nodes.MarkDead(c, "x").code(), absl::StatusCode::kNotFound);
  // What is stored is what the table says.
  proto::NodeInfo stored;
  ASSERT_TRUE(stored.ParseFromString(**storage.Get(tables::kNodes, a.Binary())));
  EXPECT_EQ(stored.state(), proto::NodeInfo::DEAD);
  EXPECT_EQ(stored.node_name(), "n1");
}

proto::ActorSpec Actor(const ActorId& id, const std::string& name = "") {
  proto::ActorSpec spec;
  spec.set_actor_id(id.Binary());
  spec.set_class_name("Counter");
  spec.set_name(name);
  return spec;
}

TEST(ActorDirectoryTest, ANameBelongsToOneLiveActorAndIsFreedByItsDeath) {
  InMemoryGcsStorage storage;
  ActorDirectory actors(storage);
  JobId job = JobId::FromInt(1);
  ActorId a = ActorId::Of(job), b = ActorId::Of(job), c = ActorId::Of(job);
  ASSERT_TRUE(actors.Register(Actor(a, "counter")).ok());
  EXPECT_EQ(actors.Find(a)->state(), proto::PENDING_CREATION);
  absl::Status taken = actors.Register(Actor(b, "counter"));
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(taken.message(), HasSubstr("an actor named 'counter' already exists"));
  proto::ActorSpec other_ns = Actor(c, "counter");
  other_ns.set_namespace_("elsewhere");
  EXPECT_TRUE(actors.Register(other_ns).ok()) << "names are per namespace";
  EXPECT_EQ(actors.Register(Actor(a)).code(), absl::StatusCode::kAlreadyExists);

  NodeId node = NodeId::FromRandom();
  proto::Address where;
  where.set_node_id(node.Binary());
  where.set_port(4242);
  ASSERT_TRUE(actors.MarkAlive(a, where).ok());
  EXPECT_EQ(actors.FindNamed("", "counter")->state(), proto::ALIVE);
  EXPECT_EQ(actors.Find(a)->address().node_id(), node.Binary());
  EXPECT_EQ(actors.Find(a)->address().port(), 4242);
  ASSERT_TRUE(actors.MarkRestarting(a).ok());
  ASSERT_TRUE(actors.MarkAlive(a, where).ok());
  EXPECT_EQ(actors.Find(a)->num_restarts(), 1u);
  ASSERT_TRUE(actors.MarkDead(a, "killed by its owner").ok());
  ASSERT_TRUE(actors.MarkDead(a, "a later cause").ok());
  EXPECT_EQ(actors.Find(a)->death_cause(), "killed by its owner");
  EXPECT_EQ(actors.FindNamed("", "counter"), nullptr);
  EXPECT_EQ(actors.MarkAlive(a, where).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(actors.Register(Actor(b, "counter")).ok()) << "the dead actor's name is free";
  EXPECT_EQ(actors.FindNamed("", "counter")->spec().actor_id(), b.Binary());
  EXPECT_EQ(actors.MarkDead(ActorId::Of(job), "x").code(), absl::StatusCode::kNotFound);
  proto::ActorInfo stored;
  ASSERT_TRUE(stored.ParseFromString(**storage.Get(tables::kActors, a.Binary())));
  EXPECT_EQ(stored.state(), proto::DEAD);
}

TEST(ActorDirectoryTest, OnlyTheNewestDeadActorsAreRemembered) {
  InMemoryGcsStorage storage;
  ActorDirectory actors(storage, /*dead_kept=*/3);
  JobId job = JobId::FromInt(1);
  std::vector<ActorId> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(ActorId::Of(job));
    ASSERT_TRUE(actors.Register(Actor(ids.back())).ok());
  }
  ActorId alive = ActorId::Of(job);
  ASSERT_TRUE(actors.Register(Actor(alive, "keeper")).ok());
  for (const ActorId& id : ids) ASSERT_TRUE(actors.MarkDead(id, "killed " + id.Hex()).ok());
  // The two oldest deaths are forgotten, in memory and in storage.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(actors.Find(ids[i]), nullptr) << i;
    EXPECT_FALSE(storage.Get(tables::kActors, ids[i].Binary())->has_value()) << i;
    EXPECT_EQ(actors.MarkDead(ids[i], "again").code(), absl::StatusCode::kNotFound);
  }
  for (int i = 2; i < 5; ++i) {
    ASSERT_NE(actors.Find(ids[i]), nullptr) << i;
    EXPECT_EQ(actors.Find(ids[i])->death_cause(), "killed " + ids[i].Hex());
  }
  // A live actor is never forgotten, however many die.
  EXPECT_EQ(actors.FindNamed("", "keeper")->state(), proto::PENDING_CREATION);
  EXPECT_EQ(actors.size(), 4u);
  // Dying twice does not count twice: the remembered set stays the same.
  ASSERT_TRUE(actors.MarkDead(ids[4], "again").ok());
  EXPECT_NE(actors.Find(ids[2]), nullptr);
}

TEST(JobTableTest, IdsAreNeverReusedOnTheSameStorage) {
  InMemoryGcsStorage storage;
  JobId first, second, third;
  {
    JobTable jobs(storage);
    first = *jobs.NextJobId();
    second = *jobs.NextJobId();
    proto::Address driver;
    driver.set_host("127.0.0.1");
    ASSERT_TRUE(jobs.Add(first, driver, 10).ok());
    EXPECT_EQ(jobs.Add(first, driver, 11).code(), absl::StatusCode::kAlreadyExists);
    ASSERT_TRUE(jobs.MarkFinished(first, 20).ok());
    EXPECT_TRUE(jobs.Find(first)->finished());
    EXPECT_EQ(jobs.Find(first)->end_time_ms(), 20);
    EXPECT_EQ(jobs.MarkFinished(second, 20).code(), absl::StatusCode::kNotFound);
  }
  JobTable restarted(storage);  // a GCS restarted on the same storage
  third = *restarted.NextJobId();
  EXPECT_EQ(first, JobId::FromInt(1));
  EXPECT_EQ(second, JobId::FromInt(2));
  EXPECT_EQ(third, JobId::FromInt(3));
  ASSERT_TRUE(storage.Put(tables::kMeta, "last_job", "garbage").ok());
  EXPECT_EQ(restarted.NextJobId().status().code(), absl::StatusCode::kDataLoss);
}

TEST(KvStoreTest, PutIfAbsentKeysByPrefixAndNamespaces) {
  InMemoryGcsStorage storage;
  KvStore kv(storage);
  EXPECT_TRUE(*kv.Put("fn", "prog/abc", "v1", /*overwrite=*/false));
  EXPECT_FALSE(*kv.Put("fn", "prog/abc", "v2", /*overwrite=*/false));
  EXPECT_EQ(**kv.Get("fn", "prog/abc"), "v1") << "not overwritten";
  EXPECT_FALSE(*kv.Put("fn", "prog/abc", "v3", /*overwrite=*/true)) << "not new";
  EXPECT_EQ(**kv.Get("fn", "prog/abc"), "v3");
  EXPECT_TRUE(*kv.Put("fn", "prog/abd", "x", false));
  EXPECT_TRUE(*kv.Put("fn", "other", "x", false));
  EXPECT_TRUE(*kv.Put("ns2", "prog/zzz", "x", false));
  EXPECT_THAT(*kv.Keys("fn", "prog/"), ElementsAre("prog/abc", "prog/abd"));
  EXPECT_TRUE(*kv.Del("fn", "prog/abc"));
  EXPECT_FALSE(*kv.Del("fn", "prog/abc"));
  EXPECT_FALSE(kv.Get("fn", "prog/abc")->has_value());
  EXPECT_EQ(kv.Put("fn", "", "x", true).status().code(), absl::StatusCode::kInvalidArgument);
}

/// Raylets as plain maps of free units; a prepare can be made to fail.
class FakeRaylets : public BundleReserverInterface {
 public:
  std::vector<std::pair<NodeId, scheduling::Units>> nodes;
  int refuse_prepare = -1;  // the n-th prepare (0-based) says no
  int prepares = 0;
  std::vector<std::string> log;

  int Index(const NodeId& id) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].first == id) return static_cast<int>(i);
    return -1;
  }
  std::vector<std::pair<NodeId, scheduling::Units>> AvailableResources() override { return nodes; }
  bool PrepareBundle(const PlacementGroupId&, int index, const scheduling::Units& bundle,
                     const NodeId& node) override {
    if (prepares++ == refuse_prepare) {
      log.push_back("refuse " + std::to_string(index));
      return false;
    }
    for (const auto& [name, q] : bundle) nodes[Index(node)].second[name] -= q;
    log.push_back("prepare " + std::to_string(index));
    return true;
  }
  void CommitBundle(const PlacementGroupId&, int index, const scheduling::Units&, const NodeId&) override {
    log.push_back("commit " + std::to_string(index));
  }
  void CancelBundle(const PlacementGroupId&, int index, const scheduling::Units& bundle,
                    const NodeId& node) override {
    for (const auto& [name, q] : bundle) nodes[Index(node)].second[name] += q;
    log.push_back("cancel " + std::to_string(index));
  }
  void ReturnBundle(const PlacementGroupId&, int index, const scheduling::Units& bundle,
                    const NodeId& node) override {
    for (const auto& [name, q] : bundle) nodes[Index(node)].second[name] += q;
    log.push_back("return " + std::to_string(index));
  }
};

class PlacementGroupManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      NodeId id = NodeId::FromRandom();
      totals_.emplace_back(id, Res({{"CPU", 2}}));
      raylets_.nodes.emplace_back(id, scheduling::ToUnits(Res({{"CPU", 2}})));
    }
  }
  absl::Status Create(const PlacementGroupId& id, scheduling::BundleStrategy strategy,
                      std::vector<std::map<std::string, double>> bundles, const std::string& name = "g") {
    std::vector<ResourceSet> sets;
    for (auto& b : bundles) sets.push_back(Res(b));
    return groups_.Create(id, name, strategy, sets, totals_, "placement group '" + name + "'");
  }
  InMemoryGcsStorage storage_;
  PlacementGroupManager groups_{storage_};
  std::vector<std::pair<NodeId, ResourceSet>> totals_;
  FakeRaylets raylets_;
  JobId job_ = JobId::FromInt(1);
};

TEST_F(PlacementGroupManagerTest, InfeasibleGroupsAreRefusedNamingWhy) {
  using S = scheduling::BundleStrategy;
  struct Case {
    S strategy;
    std::vector<std::map<std::string, double>> bundles;
    std::string says;
  } cases[] = {
      {S::kPack, {{{"GPU", 1}}}, "placement group 'g': bundle 0: "},
      {S::kStrictSpread,
       {{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}},
       "strict_spread needs 4 distinct nodes that each hold a bundle; the runtime has 3 node(s)"},
      {S::kStrictPack, {{{"CPU", 2}}, {{"CPU", 1}}}, "no node can hold all bundles {CPU: 3} (strict_pack)"},
      {S::kPack,
       {{{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}},
       "the runtime's 3 node(s) cannot hold all bundles {CPU: 8} at once (pack)"},
      {S::kSpread, {{{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}}, "at once (spread)"},
  };
  for (const Case& c : cases) {
    absl::Status s = Create(PlacementGroupId::Of(job_), c.strategy, c.bundles);
    EXPECT_TRUE(IsInfeasible(s)) << s;
    EXPECT_THAT(s.message(), HasSubstr(c.says));
  }
  EXPECT_EQ(groups_.pending(), 0u) << "nothing infeasible is kept";
  EXPECT_EQ(Create(PlacementGroupId::Of(job_), S::kPack, {}).code(), absl::StatusCode::kInvalidArgument);
  PlacementGroupId id = PlacementGroupId::Of(job_);
  ASSERT_TRUE(Create(id, S::kPack, {{{"CPU", 1}}}).ok());
  EXPECT_EQ(Create(id, S::kPack, {{{"CPU", 1}}}).code(), absl::StatusCode::kInvalidArgument) << "id reused";
}

TEST_F(PlacementGroupManagerTest, PinnedBundlesAreCheckedAndReservedOnlyWhereTheyArePinned) {
  using S = scheduling::BundleStrategy;
  auto create = [&](const PlacementGroupId& id, S strategy,
                    std::vector<std::map<std::string, double>> bundles, std::vector<NodeId> pins) {
    std::vector<ResourceSet> sets;
    for (auto& b : bundles) sets.push_back(Res(b));
    return groups_.Create(id, "p", strategy, sets, totals_, "placement group 'p'", pins);
  };
  NodeId n0 = totals_[0].first, n1 = totals_[1].first, n2 = totals_[2].first;
  struct Case {
    S strategy;
    std::vector<std::map<std::string, double>> bundles;
    std::vector<NodeId> pins;
    absl::StatusCode code;
    std::string says;
  } refused[] = {
      {S::kPack,
       {{{"CPU", 1}}, {{"CPU", 1}}},
       {n0},
       absl::StatusCode::kInvalidArgument,
       "1 bundle node(s) for 2"},
      {S::kStrictPack,
       {{{"CPU", 1}}, {{"CPU", 1}}},
       {n0, n1},
       absl::StatusCode::kInvalidArgument,
       "strict_pack, but bundles 0 and 1 are pinned to different nodes"},
      {S::kStrictSpread,
       {{{"CPU", 1}}, {{"CPU", 1}}},
       {n2, n2},
       absl::StatusCode::kInvalidArgument,
       "strict_spread, but bundles 0 and 1 are pinned to one node"},
      {S::kPack,
       {{{"CPU", 2}}, {{"CPU", 1}}},
       {n1, n1},
       absl::StatusCode::kResourceExhausted,
       "need {CPU: 3}, more than its total {CPU: 2}"},
      {S::kPack,
       {{{"CPU", 1}}},
       {NodeId::FromRandom()},
       absl::StatusCode::kResourceExhausted,
       "which is not alive"},
  };
  for (const Case& c : refused) {
    absl::Status s = create(PlacementGroupId::Of(job_), c.strategy, c.bundles, c.pins);
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_THAT(s.message(), HasSubstr(c.says));
  }
  // Pinned to the last node, though the strategy alone would pack it on the first.
  PlacementGroupId id = PlacementGroupId::Of(job_);
  ASSERT_TRUE(create(id, S::kPack, {{{"CPU", 1}}, {{"CPU", 1}}}, {n2, n2}).ok());
  EXPECT_THAT(groups_.ReservePending(raylets_), ElementsAre(id));
  EXPECT_EQ(groups_.Find(id)->bundle_nodes, (std::vector<NodeId>{n2, n2}));
  // A pinned group waits for room on its node even when others have room.
  PlacementGroupId waits = PlacementGroupId::Of(job_);
  ASSERT_TRUE(create(waits, S::kPack, {{{"CPU", 1}}}, {n2}).ok());
  EXPECT_TRUE(groups_.ReservePending(raylets_).empty());
  EXPECT_EQ(groups_.Find(waits)->state, proto::PG_PENDING);
  ASSERT_TRUE(groups_.Remove(id, raylets_).ok());
  EXPECT_THAT(groups_.ReservePending(raylets_), ElementsAre(waits));
  EXPECT_EQ(groups_.Find(waits)->bundle_nodes, (std::vector<NodeId>{n2}));
  (void)n0;
}

TEST_F(PlacementGroupManagerTest, AFailedPrepareRollsBackAndTheGroupStaysPendingUntilItFits) {
  PlacementGroupId id = PlacementGroupId::Of(job_);
  ASSERT_TRUE(
      Create(id, scheduling::BundleStrategy::kStrictSpread, {{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}}).ok());
  raylets_.refuse_prepare = 2;  // the third raylet says no
  EXPECT_TRUE(groups_.ReservePending(raylets_).empty());
  EXPECT_THAT(raylets_.log, ElementsAre("prepare 0", "prepare 1", "refuse 2", "cancel 0", "cancel 1"));
  for (const auto& [node, units] : raylets_.nodes)
    EXPECT_EQ(units.at("CPU"), 2 * FixedPoint::kScale) << "rolled back";
  EXPECT_EQ(groups_.Find(id)->state, proto::PG_PENDING);
  EXPECT_EQ(groups_.pending(), 1u);

  raylets_.log.clear();
  EXPECT_THAT(groups_.ReservePending(raylets_), ElementsAre(id));
  EXPECT_THAT(raylets_.log,
              ElementsAre("prepare 0", "prepare 1", "prepare 2", "commit 0", "commit 1", "commit 2"));
  const PlacementGroupRecord& group = *groups_.Find(id);
  EXPECT_EQ(group.state, proto::PG_CREATED);
  std::set<NodeId> distinct(group.bundle_nodes.begin(), group.bundle_nodes.end());
  EXPECT_EQ(distinct.size(), 3u);
  EXPECT_EQ(groups_.pending(), 0u);
  // Stored as the table says, with each bundle's node.
  proto::PlacementGroupInfo stored;
  ASSERT_TRUE(stored.ParseFromString(**storage_.Get(tables::kPlacementGroups, id.Binary())));
  EXPECT_EQ(stored.state(), proto::PG_CREATED);
  ASSERT_EQ(stored.spec().bundles_size(), 3);
  EXPECT_EQ(stored.spec().bundles(2).node_id(), group.bundle_nodes[2].Binary());
  EXPECT_EQ(stored.spec().strategy(), proto::STRICT_SPREAD);
}

TEST_F(PlacementGroupManagerTest, GroupsAreReservedOldestFirstAndRemovalFreesTheirBundles) {
  using S = scheduling::BundleStrategy;
  PlacementGroupId big = PlacementGroupId::Of(job_), next = PlacementGroupId::Of(job_);
  ASSERT_TRUE(Create(big, S::kPack, {{{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}}, "big").ok());
  ASSERT_TRUE(Create(next, S::kPack, {{{"CPU", 1}}}, "next").ok());
  EXPECT_THAT(groups_.ReservePending(raylets_), ElementsAre(big)) << "the cluster is full after the first";
  EXPECT_EQ(groups_.Find(next)->state, proto::PG_PENDING);
  EXPECT_EQ(groups_.FindByName("big")->id, big);

  raylets_.log.clear();
  EXPECT_TRUE(*groups_.Remove(big, raylets_));
  EXPECT_THAT(raylets_.log, ElementsAre("return 0", "return 1", "return 2"));
  EXPECT_FALSE(*groups_.Remove(big, raylets_)) << "removed already";
  EXPECT_EQ(groups_.Find(big)->state, proto::PG_REMOVED);
  EXPECT_EQ(groups_.FindByName("big"), nullptr);
  EXPECT_THAT(groups_.ReservePending(raylets_), ElementsAre(next));
  // A pending group is removed without touching a raylet. (`next` holds one
  // CPU: two strict_pack groups of 2 CPUs fit, the third waits.)
  std::vector<PlacementGroupId> packs;
  for (int i = 0; i < 3; ++i) {
    packs.push_back(PlacementGroupId::Of(job_));
    ASSERT_TRUE(Create(packs.back(), S::kStrictPack, {{{"CPU", 2}}}).ok());
  }
  EXPECT_THAT(groups_.ReservePending(raylets_), ElementsAre(packs[0], packs[1]));
  EXPECT_EQ(groups_.Find(packs[2])->state, proto::PG_PENDING);
  raylets_.log.clear();
  EXPECT_FALSE(*groups_.Remove(packs[2], raylets_));
  EXPECT_TRUE(raylets_.log.empty());
  EXPECT_EQ(groups_.pending(), 0u);
  EXPECT_EQ(groups_.Remove(PlacementGroupId::Of(job_), raylets_).status().code(),
            absl::StatusCode::kNotFound);
}

// A node dies: its bundles are reserved again elsewhere, as the strategy
// allows; the group's other bundles stay where they are.
TEST_F(PlacementGroupManagerTest, BundlesLostWithANodeAreReservedAgainElsewhere) {
  using S = scheduling::BundleStrategy;
  auto kill = [&](const NodeId& node) {  // (the raylet is gone, then the GCS learns it)
    const int index = raylets_.Index(node);
    EXPECT_GE(index, 0) << "killed twice";
    if (index >= 0) raylets_.nodes.erase(raylets_.nodes.begin() + index);
    return groups_.OnNodeDead(node);
  };
  PlacementGroupId spread = PlacementGroupId::Of(job_);
  ASSERT_TRUE(Create(spread, S::kSpread, {{{"CPU", 1}}, {{"CPU", 1}}}, "spread").ok());
  ASSERT_THAT(groups_.ReservePending(raylets_), ElementsAre(spread));
  const std::vector<NodeId> before = groups_.Find(spread)->bundle_nodes;
  ASSERT_NE(before[0], before[1]);

  EXPECT_THAT(kill(before[1]), ElementsAre(spread));
  EXPECT_EQ(groups_.Find(spread)->state, proto::PG_RESCHEDULING);
  EXPECT_TRUE(groups_.Find(spread)->bundle_nodes[1].IsNil());
  EXPECT_EQ(groups_.pending(), 1u);
  EXPECT_TRUE(PlacementGroupManager::ToInfo(*groups_.Find(spread)).spec().bundles(1).node_id().empty());
  raylets_.log.clear();
  EXPECT_THAT(groups_.ReservePending(raylets_), ElementsAre(spread));
  EXPECT_THAT(raylets_.log, ElementsAre("prepare 1", "commit 1")) << "only the lost bundle moves";
  const PlacementGroupRecord* after = groups_.Find(spread);
  EXPECT_EQ(after->state, proto::PG_CREATED);
  EXPECT_EQ(after->bundle_nodes[0], before[0]);
  EXPECT_FALSE(after->bundle_nodes[1].IsNil());
  EXPECT_NE(after->bundle_nodes[1], before[1]);
  EXPECT_EQ(groups_.pending(), 0u);
  ASSERT_TRUE(*groups_.Remove(spread, raylets_));

  // strict_spread: a lost bundle never joins a node of the group's others;
  // with none free it waits, RESCHEDULING, for a new node.
  PlacementGroupId strict = PlacementGroupId::Of(job_);
  ASSERT_TRUE(Create(strict, S::kStrictSpread, {{{"CPU", 1}}, {{"CPU", 1}}}, "strict").ok());
  ASSERT_THAT(groups_.ReservePending(raylets_), ElementsAre(strict));
  const std::vector<NodeId> spread_on = groups_.Find(strict)->bundle_nodes;
  EXPECT_THAT(kill(spread_on[0]), ElementsAre(strict));
  EXPECT_THAT(groups_.ReservePending(raylets_), IsEmpty()) << "the only other node holds bundle 1";
  EXPECT_EQ(groups_.Find(strict)->state, proto::PG_RESCHEDULING);
  NodeId fresh = NodeId::FromRandom();
  raylets_.nodes.emplace_back(fresh, scheduling::ToUnits(Res({{"CPU", 2}})));
  EXPECT_THAT(groups_.ReservePending(raylets_), ElementsAre(strict));
  EXPECT_EQ(groups_.Find(strict)->bundle_nodes[0], fresh);
  EXPECT_EQ(groups_.Find(strict)->bundle_nodes[1], spread_on[1]);

  // Removing a RESCHEDULING group gives back only the bundles it still holds.
  EXPECT_THAT(kill(fresh), ElementsAre(strict));
  EXPECT_EQ(groups_.Find(strict)->state, proto::PG_RESCHEDULING);
  const size_t pending = groups_.pending();
  raylets_.log.clear();
  EXPECT_TRUE(*groups_.Remove(strict, raylets_));
  EXPECT_THAT(raylets_.log, ElementsAre("return 1")) << "bundle 0 went with its node";
  EXPECT_EQ(groups_.pending(), pending - 1);

  // strict_pack: all its bundles go with the node, and come back together.
  raylets_.nodes.emplace_back(NodeId::FromRandom(), scheduling::ToUnits(Res({{"CPU", 2}})));
  ASSERT_EQ(raylets_.nodes.size(), 2u);
  PlacementGroupId pack = PlacementGroupId::Of(job_);
  ASSERT_TRUE(Create(pack, S::kStrictPack, {{{"CPU", 0.5}}, {{"CPU", 0.5}}}, "pack").ok());
  ASSERT_THAT(groups_.ReservePending(raylets_), ElementsAre(pack));
  const NodeId packed_on = groups_.Find(pack)->bundle_nodes[0];
  EXPECT_THAT(kill(packed_on), ElementsAre(pack));
  EXPECT_THAT(groups_.ReservePending(raylets_), ElementsAre(pack));
  const PlacementGroupRecord* repacked = groups_.Find(pack);
  EXPECT_EQ(repacked->state, proto::PG_CREATED);
  EXPECT_EQ(repacked->bundle_nodes[0], repacked->bundle_nodes[1]);
  EXPECT_EQ(repacked->bundle_nodes[0], raylets_.nodes[0].first);
  // A node no group uses dies: nothing changes.
  EXPECT_THAT(groups_.OnNodeDead(NodeId::FromRandom()), IsEmpty());
}

TEST_F(PlacementGroupManagerTest, OnlyTheLatestRemovedGroupsAreRemembered) {
  std::vector<PlacementGroupId> ids;
  for (int i = 0; i < 1100; ++i) {
    ids.push_back(PlacementGroupId::Of(job_));
    ASSERT_TRUE(Create(ids.back(), scheduling::BundleStrategy::kPack, {{{"CPU", 1}}}).ok());
    groups_.ReservePending(raylets_);
    ASSERT_TRUE(*groups_.Remove(ids.back(), raylets_));
  }
  EXPECT_EQ(groups_.Find(ids.front()), nullptr) << "forgotten";
  EXPECT_FALSE(storage_.Get(tables::kPlacementGroups, ids.front().Binary())->has_value());
  EXPECT_EQ(groups_.Find(ids.back())->state, proto::PG_REMOVED);
  EXPECT_EQ(storage_.Scan(tables::kPlacementGroups, "")->size(), 1024u);
  for (const auto& [node, units] : raylets_.nodes) EXPECT_EQ(units.at("CPU"), 2 * FixedPoint::kScale);
}

TEST(GcsTest, AFinishedJobsPlacementGroupsAreRemovedAndOthersKept) {
  Gcs gcs;
  FakeRaylets raylets;
  NodeId a = NodeId::FromRandom();
  ASSERT_TRUE(gcs.RegisterNode(Node(a, "a", {{"CPU", 2}})).ok());
  raylets.nodes.emplace_back(a, scheduling::ToUnits(Res({{"CPU", 2}})));
  gcs.SetBundleReserver(&raylets);
  const JobId ending = JobId::FromInt(7), other = JobId::FromInt(8);
  ASSERT_TRUE(gcs.AddJob(ending, proto::Address()).ok());
  ASSERT_TRUE(gcs.AddJob(other, proto::Address()).ok());
  PlacementGroupId mine = PlacementGroupId::Of(ending), theirs = PlacementGroupId::Of(other);
  PlacementGroupId waiting = PlacementGroupId::Of(other);
  ASSERT_TRUE(
      gcs.CreatePlacementGroup(mine, "", scheduling::BundleStrategy::kPack, {Res({{"CPU", 1}})}, {}).ok());
  ASSERT_TRUE(
      gcs.CreatePlacementGroup(theirs, "", scheduling::BundleStrategy::kPack, {Res({{"CPU", 1}})}, {}).ok());
  ASSERT_TRUE(
      gcs.CreatePlacementGroup(waiting, "", scheduling::BundleStrategy::kPack, {Res({{"CPU", 1}})}, {}).ok());
  EXPECT_EQ(*gcs.GetPlacementGroupState(waiting), proto::PG_PENDING) << "the node is full";
  ASSERT_TRUE(gcs.MarkJobFinished(ending).ok());
  EXPECT_EQ(*gcs.GetPlacementGroupState(mine), proto::PG_REMOVED);
  EXPECT_EQ(*gcs.GetPlacementGroupState(theirs), proto::PG_CREATED) << "another job's group stays";
  EXPECT_EQ(*gcs.GetPlacementGroupState(waiting), proto::PG_CREATED) << "reserved in the room freed";
}

TEST(GcsTest, AFinishedJobsActorsAreDead) {
  Gcs gcs;
  const JobId ending = JobId::FromInt(9), other = JobId::FromInt(10);
  ASSERT_TRUE(gcs.AddJob(ending, proto::Address()).ok());
  ASSERT_TRUE(gcs.AddJob(other, proto::Address()).ok());
  ActorId mine = ActorId::Of(ending), theirs = ActorId::Of(other);
  ASSERT_TRUE(gcs.RegisterActor(Actor(mine, "mine")).ok());
  ASSERT_TRUE(gcs.RegisterActor(Actor(theirs, "theirs")).ok());
  ASSERT_TRUE(gcs.MarkJobFinished(ending).ok());
  EXPECT_EQ(gcs.GetActor(mine)->state(), proto::DEAD);
  EXPECT_THAT(gcs.GetActor(mine)->death_cause(), HasSubstr("finished"));
  EXPECT_NE(gcs.GetActor(theirs)->state(), proto::DEAD);
  EXPECT_FALSE(gcs.GetNamedActor("", "mine").has_value()) << "its name is free again";
}

// Counts the reserver's batch calls (their work is the default's).
class CountingRaylets : public FakeRaylets {
 public:
  int reserve_calls = 0, return_calls = 0;
  std::vector<bool> ReserveGroups(
      const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups) override {
    ++reserve_calls;
    return FakeRaylets::ReserveGroups(groups);
  }
  void ReturnGroups(const std::vector<std::pair<PlacementGroupId, std::vector<BundleAt>>>& groups) override {
    ++return_calls;
    FakeRaylets::ReturnGroups(groups);
  }
};

proto::PlacementGroupOp CreateOp(const PlacementGroupId& id, double cpus) {
  proto::PlacementGroupOp op;
  proto::PlacementGroupSpec* spec = op.mutable_create();
  spec->set_placement_group_id(id.Binary());
  spec->set_strategy(proto::PACK);
  Res({{"CPU", cpus}}).ToProto(spec->add_bundles()->mutable_resources());
  return op;
}

TEST(GcsTest, CreationsAndRemovalsInOneCallAreReservedAndGivenBackTogether) {
  Gcs gcs;
  CountingRaylets raylets;
  const NodeId a = NodeId::FromRandom();
  ASSERT_TRUE(gcs.RegisterNode(Node(a, "a", {{"CPU", 4}})).ok());
  raylets.nodes.emplace_back(a, scheduling::ToUnits(Res({{"CPU", 4}})));
  gcs.SetBundleReserver(&raylets);
  const JobId job = JobId::FromInt(1);
  std::vector<PlacementGroupId> ids;
  proto::ApplyPlacementGroupOpsRequest request;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(PlacementGroupId::Of(job));
    *request.add_ops() = CreateOp(ids.back(), 1);
  }
  *request.add_ops() = CreateOp(PlacementGroupId::Of(job), 8);        // infeasible: refused, naming why
  request.add_ops()->set_remove(PlacementGroupId::Of(job).Binary());  // unknown
  request.add_ops()->mutable_create();                                // no id
  absl::StatusOr<proto::ApplyPlacementGroupOpsReply> reply = gcs.ApplyPlacementGroupOps(request);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->results_size(), 8);
  // Four fit at once (one reservation pass for all), the fifth waits.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(reply->results(i).code(), 0);
    EXPECT_EQ(reply->results(i).state(), proto::PG_CREATED) << i;
  }
  EXPECT_EQ(reply->results(4).state(), proto::PG_PENDING);
  EXPECT_EQ(raylets.reserve_calls, 1);
  EXPECT_EQ(reply->results(5).code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(reply->results(5).message(), HasSubstr("exceeds every node"));
  EXPECT_EQ(reply->results(6).code(), static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_EQ(reply->results(7).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));

  // Two removals in one call: their bundles go back in one call, and the
  // waiting group takes the room they left in the same call.
  proto::ApplyPlacementGroupOpsRequest removals;
  removals.add_ops()->set_remove(ids[0].Binary());
  removals.add_ops()->set_remove(ids[1].Binary());
  reply = gcs.ApplyPlacementGroupOps(removals);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->results(0).code(), 0);
  EXPECT_EQ(raylets.return_calls, 1);
  EXPECT_EQ(*gcs.GetPlacementGroupState(ids[0]), proto::PG_REMOVED);
  EXPECT_EQ(*gcs.GetPlacementGroupState(ids[4]), proto::PG_CREATED);
  EXPECT_EQ(raylets.nodes[0].second.at("CPU"), 10000) << "three held: two left, and the one that waited";
}

TEST(GcsTest, AGroupIsReservedWhenANodeJoinsOrResourcesFree) {
  Gcs gcs;
  FakeRaylets raylets;
  NodeId a = NodeId::FromRandom();
  ASSERT_TRUE(gcs.RegisterNode(Node(a, "a", {{"CPU", 1}})).ok());
  raylets.nodes.emplace_back(a, scheduling::ToUnits(Res({{"CPU", 1}})));
  PlacementGroupId id = PlacementGroupId::Of(JobId::FromInt(1));
  ASSERT_TRUE(
      gcs.CreatePlacementGroup(id, "g", scheduling::BundleStrategy::kPack, {Res({{"CPU", 1}})}, {}).ok());
  EXPECT_EQ(*gcs.GetPlacementGroupState(id), proto::PG_PENDING) << "no raylets yet";
  EXPECT_EQ(gcs.pending_placement_groups(), 1u);
  gcs.SetBundleReserver(&raylets);
  EXPECT_THAT(gcs.ReservePending(), ElementsAre(id));
  EXPECT_EQ(*gcs.GetPlacementGroupState(id), proto::PG_CREATED);
  std::vector<NodeId> nodes;
  EXPECT_TRUE(gcs.VisitPlacementGroup(id, [&](const PlacementGroupRecord& g) { nodes = g.bundle_nodes; }));
  EXPECT_EQ(nodes, std::vector<NodeId>{a});

  // Feasibility is judged on the nodes the GCS knows.
  PlacementGroupId two = PlacementGroupId::Of(JobId::FromInt(1));
  absl::Status s = gcs.CreatePlacementGroup(two, "", scheduling::BundleStrategy::kStrictSpread,
                                            {Res({{"CPU", 1}}), Res({{"CPU", 1}})}, {});
  EXPECT_TRUE(IsInfeasible(s));
  EXPECT_THAT(s.message(), HasSubstr("placement group: strict_spread needs 2 distinct nodes"));
  NodeId b = NodeId::FromRandom();
  ASSERT_TRUE(gcs.RegisterNode(Node(b, "b", {{"CPU", 1}})).ok());
  raylets.nodes.emplace_back(b, scheduling::ToUnits(Res({{"CPU", 1}})));
  ASSERT_TRUE(gcs.CreatePlacementGroup(two, "", scheduling::BundleStrategy::kStrictSpread,
                                       {Res({{"CPU", 1}}), Res({{"CPU", 1}})}, {})
                  .ok());
  // A compiler's pins: by node name, only there, and checked.
  PlacementGroupId pinned = PlacementGroupId::Of(JobId::FromInt(1));
  absl::Status unknown = gcs.CreatePlacementGroup(pinned, "p", scheduling::BundleStrategy::kPack,
                                                  {Res({{"CPU", 1}})}, {"nowhere"});
  EXPECT_TRUE(IsInfeasible(unknown)) << unknown;
  EXPECT_THAT(unknown.message(), HasSubstr("bundle 0 is pinned to node 'nowhere', which is not a live node"));
  EXPECT_EQ(*gcs.GetPlacementGroupState(two), proto::PG_PENDING) << "a holds the first group";
  ASSERT_TRUE(gcs.RemovePlacementGroup(id).ok());  // frees a: `two` is reserved by the removal
  EXPECT_EQ(*gcs.GetPlacementGroupState(two), proto::PG_CREATED);
  EXPECT_EQ(gcs.GetPlacementGroupState(PlacementGroupId::Of(JobId::FromInt(1))).status().code(),
            absl::StatusCode::kNotFound);

  // The rest of the interface, through the Gcs.
  ASSERT_TRUE(gcs.RegisterActor(Actor(ActorId::Of(JobId::FromInt(1)), "x")).ok());
  EXPECT_TRUE(gcs.GetNamedActor("", "x").has_value());
  EXPECT_EQ(gcs.GetAllNodes().size(), 2u);
  EXPECT_TRUE(*gcs.KvPut("ns", "k", "v", false));
  EXPECT_EQ(**gcs.KvGet("ns", "k"), "v");
  JobId job = *gcs.NextJobId();
  EXPECT_TRUE(gcs.AddJob(job, proto::Address()).ok());
  EXPECT_TRUE(gcs.MarkJobFinished(job).ok());
}

// Pub/sub: a subscriber hears the changes of its channels and keys, in
// order and numbered; one that falls behind is closed, not grown without
// bound; closing wakes a waiting subscriber.
TEST(PublisherTest, SubscribersHearTheirChannelsAndKeysInOrder) {
  Publisher publisher;
  Gcs gcs;
  gcs.SetPublisher(&publisher);
  const JobId job = JobId::FromInt(1);
  const ActorId a = ActorId::Of(job), b = ActorId::Of(job);
  std::shared_ptr<Publisher::Subscription> only_a = publisher.Subscribe({proto::ACTOR_CHANNEL}, {a.Binary()});
  std::shared_ptr<Publisher::Subscription> nodes = publisher.Subscribe({proto::NODE_CHANNEL}, {});
  EXPECT_EQ(publisher.subscribers(), 2u);
  ASSERT_TRUE(gcs.RegisterActor(Actor(a)).ok());
  ASSERT_TRUE(gcs.RegisterActor(Actor(b)).ok());
  proto::Address where;
  where.set_host("127.0.0.1");
  where.set_port(7);
  ASSERT_TRUE(gcs.MarkActorAlive(a, where).ok());
  ASSERT_TRUE(gcs.MarkActorDead(a, "killed").ok());
  const auto soon = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::vector<std::pair<proto::ActorState, uint64_t>> heard;
  for (int i = 0; i < 3; ++i) {
    std::optional<proto::PubMessage> m = only_a->Next(soon);
    ASSERT_TRUE(m.has_value()) << i;
    EXPECT_EQ(m->actor().spec().actor_id(), a.Binary()) << "b's changes are not a's subscriber's";
    heard.emplace_back(m->actor().state(), m->sequence());
  }
  EXPECT_EQ(heard, (std::vector<std::pair<proto::ActorState, uint64_t>>{
                       {proto::PENDING_CREATION, 1}, {proto::ALIVE, 3}, {proto::DEAD, 4}}))
      << "in order, numbered per channel (b's registration was 2)";
  EXPECT_EQ(heard.size(), 3u);
  EXPECT_FALSE(only_a->Next(std::chrono::steady_clock::now()).has_value()) << "nothing more";
  EXPECT_FALSE(nodes->Next(std::chrono::steady_clock::now()).has_value()) << "no node changed";

  proto::NodeInfo node;
  const NodeId n = NodeId::FromRandom();
  node.set_node_id(n.Binary());
  node.set_node_name("n");
  ASSERT_TRUE(gcs.RegisterNode(node).ok());
  ASSERT_TRUE(gcs.MarkNodeDead(n, "gone").ok());
  std::optional<proto::PubMessage> joined = nodes->Next(soon), died = nodes->Next(soon);
  ASSERT_TRUE(joined && died);
  EXPECT_EQ(joined->node().state(), proto::NodeInfo::ALIVE);
  EXPECT_EQ(died->node().state(), proto::NodeInfo::DEAD);

  // Behind by more than the bound: closed, saying so.
  std::shared_ptr<Publisher::Subscription> slow = publisher.Subscribe({proto::ACTOR_CHANNEL}, {});
  for (size_t i = 0; i <= Publisher::kMaxQueued; ++i) ASSERT_TRUE(gcs.MarkActorDead(b, "again").ok());
  EXPECT_TRUE(slow->closed());
  EXPECT_THAT(slow->why(), HasSubstr("fell 10000 messages behind"));
  EXPECT_FALSE(slow->Next(soon).has_value());
  // Closing wakes one that waits.
  std::thread closer([&] { publisher.Close("stopping"); });
  EXPECT_FALSE(only_a->Next(std::chrono::steady_clock::now() + std::chrono::minutes(1)).has_value());
  closer.join();
  EXPECT_EQ(only_a->why(), "stopping");
  publisher.Unsubscribe(only_a);
  EXPECT_EQ(publisher.subscribers(), 2u);
  gcs.SetPublisher(nullptr);
}

}  // namespace
}  // namespace raycc::gcs
