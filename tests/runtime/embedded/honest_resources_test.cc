// Resources are never over-committed on the embedded runtime: a task that
// lent its CPU while it waited in Get takes it back only when it is free;
// an actor with no room waits for some (or for its placement group); node
// affinity binds actors as it binds tasks; impossible pins are infeasible.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"

namespace {

using ::testing::HasSubstr;

/// A gate the test opens; waiting on it is bounded (a broken runtime fails
/// the test instead of hanging it).
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  /// True once open; false after `timeout`.
  bool Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return open_; });
  }
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

Gate release;              // lets Hold return
std::atomic<int> holding;  // Hold calls running
Gate resumed;              // Parent's Get returned
std::atomic<int> running;  // tasks running user code (not waiting in Get)
std::atomic<int> most;     // the most at once

void Enter() {
  int now = ++running;
  for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
  }
}
void Leave() { --running; }

/// Holds its CPU until the test opens `release`.
int Hold() {
  Enter();
  ++holding;
  bool opened = release.Wait();
  --holding;
  Leave();
  return opened ? 1 : 0;
}

Gate latch_open;         // lets Latch::Wait return
Gate competitor_queued;  // the driver has submitted Competitor

/// An actor call the parent waits for: it runs on the actor's own thread
/// (never inline in the parent's Get) and returns once Competitor runs.
class Latch {
 public:
  static Latch* Create() { return new Latch(); }
  int Wait() { return latch_open.Wait() ? 7 : -1; }
};

/// Takes the CPU the parent lent while it waits, ends the parent's wait,
/// then stays until the parent runs again or a second passes: with honest
/// accounting the parent cannot run until this gives the CPU back.
int Competitor() {
  Enter();
  latch_open.Open();
  resumed.Wait(std::chrono::seconds(1));
  Leave();
  return 0;
}

int Parent(std::vector<raycc::ObjectRef<int>> latch) {
  Enter();
  bool queued = competitor_queued.Wait();
  Leave();  // Get lends this task's CPU while it waits
  int got = *raycc::Get(latch[0]);
  Enter();
  resumed.Open();
  Leave();
  return queued ? got : -2;
}

std::atomic<bool> constructed{false};

class Counter {
 public:
  static Counter* Create() {
    constructed = true;
    return new Counter();
  }
  std::string Node() { return raycc::CurrentNodeName(); }
};

RAYCC_REMOTE(Hold, Competitor, Parent, Latch::Create, &Latch::Wait, Counter::Create, &Counter::Node);

/// Polls `done` until it holds (true) or 30 s pass (false).
template <typename F>
bool Eventually(F done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class HonestResourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    release.Reset();
    resumed.Reset();
    latch_open.Reset();
    competitor_queued.Reset();
    running = 0;
    holding = 0;
    most = 0;
    constructed = false;
  }
  void TearDown() override {
    release.Open();
    latch_open.Open();
    competitor_queued.Open();
    raycc::Shutdown();
  }
};

TEST_F(HonestResourcesTest, ATaskBackFromGetWaitsForItsCpu) {
  raycc::Init(raycc::Config{.num_cpus = 1});
  auto latch = raycc::Actor(Latch::Create).Remote();
  raycc::ObjectRef<int> waited = latch.Task(&Latch::Wait).Remote();
  raycc::ObjectRef<int> parent = raycc::Task(Parent).Remote(std::vector{waited});
  ASSERT_TRUE(Eventually([] { return running == 1; }));  // the parent holds the CPU
  raycc::ObjectRef<int> competitor = raycc::Task(Competitor).Remote();
  competitor_queued.Open();
  EXPECT_EQ(*raycc::Get(parent, 60000), 7);
  EXPECT_EQ(*raycc::Get(competitor, 60000), 0);
  // One CPU: never two tasks running user code at once.
  EXPECT_EQ(most.load(), 1);
}

TEST_F(HonestResourcesTest, AnActorWithNoRoomWaitsForIt) {
  raycc::Init(raycc::Config{.num_cpus = 1});
  raycc::ObjectRef<int> holder = raycc::Task(Hold).Remote();
  ASSERT_TRUE(Eventually([] { return holding == 1; }));  // it has the CPU
  auto actor = raycc::Actor(Counter::Create).SetResources({{"CPU", 1}}).Remote();
  raycc::ObjectRef<std::string> node = actor.Task(&Counter::Node).Remote();
  raycc::WaitResult<std::string> early = raycc::Wait(std::vector{node}, 1, 300);
  EXPECT_TRUE(early.ready.empty()) << "the actor ran while its CPU was held by a task";
  EXPECT_FALSE(constructed.load());
  release.Open();
  EXPECT_EQ(*raycc::Get(holder, 30000), 1);
  EXPECT_EQ(*raycc::Get(node, 30000), "embedded");
  EXPECT_TRUE(constructed.load());
}

TEST_F(HonestResourcesTest, ActorsHonourNodeAffinity) {
  raycc::Init(raycc::Config{.nodes = {{"a", {{"CPU", 1}}}, {"b", {{"CPU", 1}}}}});
  auto on_b = raycc::Actor(Counter::Create).SetResources({{"CPU", 1}}).SetNodeAffinity("b").Remote();
  EXPECT_EQ(*on_b.Task(&Counter::Node).Remote().Get(30000), "b");
  // b is full now: a hard pin to it waits (here: times out), a soft one
  // goes elsewhere.
  auto soft = raycc::Actor(Counter::Create).SetResources({{"CPU", 1}}).SetNodeAffinity("b", true).Remote();
  EXPECT_EQ(*soft.Task(&Counter::Node).Remote().Get(30000), "a");
  auto hard = raycc::Actor(Counter::Create).SetResources({{"CPU", 1}}).SetNodeAffinity("b").Remote();
  EXPECT_THROW(hard.Task(&Counter::Node).Remote().Get(300), raycc::GetTimeoutError);
  on_b.Kill();
  EXPECT_EQ(*hard.Task(&Counter::Node).Remote().Get(30000), "b");
}

TEST_F(HonestResourcesTest, AHardPinToANodeTooSmallIsInfeasible) {
  raycc::Init(raycc::Config{.nodes = {{"a", {{"CPU", 1}}}, {"b", {{"CPU", 4}}}}});
  try {
    raycc::Task(Hold).SetResources({{"CPU", 2}}).SetNodeAffinity("a").Remote();
    FAIL() << "a task pinned to a node that can never hold it was accepted";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("must run on node 'a', which has {CPU: 1}"));
  }
  EXPECT_THROW(raycc::Actor(Counter::Create).SetResources({{"CPU", 2}}).SetNodeAffinity("a").Remote(),
               raycc::InfeasibleError);
  // Soft: it runs elsewhere.
  release.Open();
  EXPECT_EQ(*raycc::Task(Hold).SetResources({{"CPU", 2}}).SetNodeAffinity("a", true).Remote().Get(30000), 1);
}

TEST_F(HonestResourcesTest, AnActorInAGroupWaitsForItsReservation) {
  raycc::Init(raycc::Config{.nodes = {{"a", {{"CPU", 1}}}, {"b", {{"CPU", 1}}}}});
  raycc::ObjectRef<int> on_a = raycc::Task(Hold).SetNodeAffinity("a").Remote();
  raycc::ObjectRef<int> on_b = raycc::Task(Hold).SetNodeAffinity("b").Remote();
  // Both CPUs held: the group cannot be reserved yet.
  ASSERT_TRUE(Eventually([] { return holding == 2; }));
  raycc::PlacementGroup pg = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}}});
  auto actor = raycc::Actor(Counter::Create).SetResources({{"CPU", 1}}).SetPlacementGroup(pg, 0).Remote();
  raycc::ObjectRef<std::string> node = actor.Task(&Counter::Node).Remote();
  EXPECT_TRUE(raycc::Wait(std::vector{node}, 1, 300).ready.empty());
  EXPECT_FALSE(constructed.load());
  release.Open();
  EXPECT_TRUE(pg.Wait(30));
  std::string where = *node.Get(30000);
  EXPECT_TRUE(where == "a" || where == "b") << where;
  EXPECT_EQ(*on_a.Get(30000) + *on_b.Get(30000), 2);
}

TEST_F(HonestResourcesTest, AnUnplacedActorDiesWhenItsGroupIsRemoved) {
  raycc::Init(raycc::Config{.num_cpus = 1});
  raycc::ObjectRef<int> holder = raycc::Task(Hold).Remote();
  ASSERT_TRUE(Eventually([] { return holding == 1; }));
  raycc::PlacementGroup pg = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}}});
  auto actor = raycc::Actor(Counter::Create).SetResources({{"CPU", 1}}).SetPlacementGroup(pg).Remote();
  raycc::ObjectRef<std::string> node = actor.Task(&Counter::Node).Remote();
  raycc::RemovePlacementGroup(pg.GetID());
  try {
    node.Get(30000);
    FAIL() << "a call on an actor whose group was removed before it was placed succeeded";
  } catch (const raycc::ActorDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("placement group was removed"));
  }
  EXPECT_FALSE(constructed.load());
  release.Open();
  EXPECT_EQ(*raycc::Get(holder, 30000), 1);
}

// As on the cluster (where the raylet ends the group's workers): removing a
// group kills the actors placed in it, and its CPU is the node's again.
TEST_F(HonestResourcesTest, APlacedActorDiesWhenItsGroupIsRemoved) {
  raycc::Init(raycc::Config{.num_cpus = 1});
  raycc::PlacementGroup pg = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}}});
  ASSERT_TRUE(pg.Wait(30));
  auto actor = raycc::Actor(Counter::Create).SetResources({{"CPU", 1}}).SetPlacementGroup(pg).Remote();
  EXPECT_EQ(*actor.Task(&Counter::Node).Remote().Get(30000), "embedded");
  raycc::RemovePlacementGroup(pg.GetID());
  try {
    actor.Task(&Counter::Node).Remote().Get(30000);
    FAIL() << "a call on an actor whose group was removed succeeded";
  } catch (const raycc::ActorDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is dead: its placement group was removed"));
  }
  // The group's CPU is the node's again: a task that needs it runs.
  release.Open();
  EXPECT_EQ(*raycc::Task(Hold).Remote().Get(30000), 1);
}

}  // namespace
