// Actors: calls run in submission order, dead actors surface as
// ActorDiedError, named actors are found by name, and restarts rebuild an
// actor while they last.

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "embedded/embedded_runtime.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

using ::testing::HasSubstr;

TEST_P(RuntimeApiTest, ActorCallsRunInSubmissionOrder) {
  auto counter = raycc::Actor(Counter::Create).Remote(100);
  std::vector<raycc::ObjectRef<int>> results;
  // Arguments that become ready out of order still run in call order: the
  // first call's argument is held until every call is submitted.
  held_tasks.Reset();
  auto late = raycc::Task(Held).Remote(50);
  results.push_back(counter.Task(&Counter::Add).Remote(late));
  for (int i = 1; i <= 50; ++i) results.push_back(counter.Task(&Counter::Add).Remote(i));
  EXPECT_TRUE(raycc::Wait(results, 1, /*timeout_ms=*/0).ready.empty()) << "a call ran before the first";
  held_tasks.release.Set();
  std::vector<int> expected_history = {50};
  int running = 150;
  EXPECT_EQ(*raycc::Get(results[0]), running);
  for (int i = 1; i <= 50; ++i) {
    running += i;
    expected_history.push_back(i);
    EXPECT_EQ(*raycc::Get(results[i]), running);
  }
  EXPECT_EQ(*counter.Task(&Counter::History).Remote().Get(), expected_history);
}

TEST_P(RuntimeApiTest, DeadActorsSurfaceAsActorDiedError) {
  auto counter = raycc::Actor(Counter::Create).Remote(0);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 1);
  counter.Kill();
  EXPECT_THROW(counter.Task(&Counter::Add).Remote(1).Get(), raycc::ActorDiedError);
  auto broken = raycc::Actor(Counter::CreateFailing).Remote(0);
  try {
    broken.Task(&Counter::Add).Remote(1).Get();
    FAIL() << "expected ActorDiedError";
  } catch (const raycc::ActorDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("its constructor failed: std::runtime_error: no counter today"));
  }
}

TEST_P(RuntimeApiTest, NamedActorsAreFoundByName) {
  EXPECT_FALSE(raycc::GetActor<Counter>("counter").has_value());
  auto counter = raycc::Actor(Counter::Create).SetName("counter").Remote(10);
  std::optional<raycc::ActorHandle<Counter>> found = raycc::GetActor<Counter>("counter");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->ID(), counter.ID());
  EXPECT_EQ(*found->Task(&Counter::Add).Remote(5).Get(), 15);
  try {
    raycc::Actor(Counter::Create).SetName("counter").Remote(0);
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("an actor named 'counter' already exists"));
  }
  EXPECT_THROW(raycc::GetActor<std::string>("counter"), raycc::RayccError);
  counter.Kill();
  EXPECT_FALSE(raycc::GetActor<Counter>("counter").has_value());
  // The name is free again once its actor is dead.
  auto again = raycc::Actor(Counter::Create).SetName("counter").Remote(1);
  EXPECT_EQ(raycc::GetActor<Counter>("counter")->ID(), again.ID());
}

std::atomic<int> shaky_constructions{0};
class Shaky {
 public:
  /// Fails its first `failures` constructions.
  static Shaky* Create(int failures) {
    if (shaky_constructions++ < failures) throw std::runtime_error("not yet");
    return new Shaky();
  }
  int Ping() { return ++pings_; }

 private:
  int pings_ = 0;
};
RAYCC_REMOTE(Shaky::Create, &Shaky::Ping);

class RuntimeRestartTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { raycc::Init(raycc::Config{.num_cpus = 2}); }
  void TearDown() override { raycc::Shutdown(); }
};

TEST_P(RuntimeRestartTest, KillWithRestartRebuildsTheActorUntilRestartsRunOut) {
  auto counter = raycc::Actor(Counter::Create).SetMaxRestarts(1).SetMaxConcurrency(GetParam()).Remote(5);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 6);
  counter.Kill(/*no_restart=*/false);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 6);  // state started over from 5
  counter.Kill(/*no_restart=*/false);                          // no restart left
  EXPECT_THROW(counter.Task(&Counter::Add).Remote(1).Get(), raycc::ActorDiedError);
  // Kill() (no_restart) ends an actor that still had restarts.
  auto other = raycc::Actor(Counter::Create).SetMaxRestarts(-1).Remote(0);
  other.Kill();
  EXPECT_THROW(other.Task(&Counter::Add).Remote(1).Get(), raycc::ActorDiedError);
}

TEST_P(RuntimeRestartTest, AConstructorThatThrowsIsRetriedWhileRestartsLast) {
  shaky_constructions = 0;
  auto shaky = raycc::Actor(Shaky::Create).SetMaxRestarts(2).SetMaxConcurrency(GetParam()).Remote(2);
  EXPECT_EQ(*shaky.Task(&Shaky::Ping).Remote().Get(), 1);  // third construction worked
  shaky_constructions = 0;
  auto hopeless = raycc::Actor(Shaky::Create).SetMaxRestarts(1).Remote(5);
  try {
    hopeless.Task(&Shaky::Ping).Remote().Get();
    FAIL() << "expected ActorDiedError";
  } catch (const raycc::ActorDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("its constructor failed: std::runtime_error: not yet"));
  }
  EXPECT_THROW(raycc::Actor(Counter::Create).SetMaxRestarts(-2).Remote(0), raycc::RayccError);
}

std::atomic<int> tracked_alive{0};
class Tracked {
 public:
  static Tracked* Create() { return new Tracked(); }
  Tracked() { ++tracked_alive; }
  ~Tracked() { --tracked_alive; }
  int Ping() { return 1; }
};
RAYCC_REMOTE(Tracked::Create, &Tracked::Ping);

// A compiled graph with actors creates and kills them on every execution: a
// killed actor's state goes when it ends, and its threads are joined, so
// nothing piles up until Shutdown.
TEST_P(RuntimeRestartTest, KilledActorsLeaveNeitherStateNorThreadsBehind) {
  auto* runtime = dynamic_cast<raycc::internal::EmbeddedRuntime*>(&raycc::internal::CurrentRuntime());
  ASSERT_NE(runtime, nullptr);
  tracked_alive = 0;
  constexpr int kActors = 50;
  std::vector<raycc::ActorHandle<Tracked>> killed;
  for (int i = 0; i < kActors; ++i) {
    auto actor = raycc::Actor(Tracked::Create).SetMaxConcurrency(GetParam()).Remote();
    EXPECT_EQ(*actor.Task(&Tracked::Ping).Remote().Get(), 1);
    actor.Kill();
    killed.push_back(actor);
  }
  // Each instance is destroyed once its threads are out, long before Shutdown.
  EXPECT_TRUE(Eventually([] { return tracked_alive.load() == 0; })) << tracked_alive.load() << " alive";
  // The next creation joins the ended actors' threads and forgets them.
  auto survivor = raycc::Actor(Tracked::Create).Remote();
  EXPECT_EQ(runtime->actors_held(), 1u);
  EXPECT_EQ(*survivor.Task(&Tracked::Ping).Remote().Get(), 1);
  // A forgotten actor is still known to be dead, with its cause.
  try {
    killed.front().Task(&Tracked::Ping).Remote().Get();
    FAIL() << "expected ActorDiedError";
  } catch (const raycc::ActorDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Tracked::Create) is dead: it was killed"));
  }
  killed.front().Kill();  // (killing it again is harmless)
}

class Phoenix {
 public:
  static Phoenix* Create() {
    if (phoenix_fail_first && phoenix_constructions++ == 0) throw std::runtime_error("first one fails");
    created_restarted = raycc::WasCurrentActorRestarted();
    return new Phoenix();
  }
  bool Restarted() { return raycc::WasCurrentActorRestarted(); }
  int Leave() { raycc::ExitActor(); }
  int Ping() { return 1; }
  static inline bool phoenix_fail_first = false;
  static inline int phoenix_constructions = 0;
  static inline std::atomic<bool> created_restarted{false};
};
RAYCC_REMOTE(Phoenix::Create, &Phoenix::Restarted, &Phoenix::Leave, &Phoenix::Ping);

TEST_P(RuntimeRestartTest, AnActorKnowsWhetherItWasRestarted) {
  auto actor = raycc::Actor(Phoenix::Create).SetMaxRestarts(2).SetMaxConcurrency(GetParam()).Remote();
  EXPECT_FALSE(*actor.Task(&Phoenix::Restarted).Remote().Get());
  actor.Kill(/*no_restart=*/false);
  EXPECT_TRUE(*actor.Task(&Phoenix::Restarted).Remote().Get());
  EXPECT_TRUE(Phoenix::created_restarted.load());   // (the constructor sees it too)
  EXPECT_FALSE(raycc::WasCurrentActorRestarted());  // outside of an actor
  // A constructor that failed counts as a restart too.
  Phoenix::phoenix_fail_first = true;
  Phoenix::phoenix_constructions = 0;
  auto retried = raycc::Actor(Phoenix::Create).SetMaxRestarts(1).Remote();
  EXPECT_TRUE(*retried.Task(&Phoenix::Restarted).Remote().Get());
  Phoenix::phoenix_fail_first = false;
}

TEST_P(RuntimeRestartTest, ExitActorEndsTheActorForGoodAndFailsItsCalls) {
  auto actor = raycc::Actor(Phoenix::Create).SetMaxRestarts(-1).SetMaxConcurrency(GetParam()).Remote();
  EXPECT_EQ(*actor.Task(&Phoenix::Ping).Remote().Get(), 1);
  auto leave = actor.Task(&Phoenix::Leave).Remote();
  try {
    leave.Get();
    FAIL() << "expected ActorDiedError";
  } catch (const raycc::ActorDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is dead: it exited: Phoenix::Leave called ExitActor"));
  }
  // No restart, though restarts are left: later calls fail the same way.
  EXPECT_THROW(actor.Task(&Phoenix::Ping).Remote().Get(), raycc::ActorDiedError);
  actor.Kill(/*no_restart=*/false);
  EXPECT_THROW(actor.Task(&Phoenix::Ping).Remote().Get(), raycc::ActorDiedError);
  try {
    raycc::ExitActor();
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("outside of an actor"));
  }
}

INSTANTIATE_TEST_SUITE_P(Concurrency, RuntimeRestartTest, ::testing::Values(1, 3));

}  // namespace
}  // namespace raycc_test
