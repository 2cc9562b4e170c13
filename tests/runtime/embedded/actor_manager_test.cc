// The embedded runtime's actor manager alone, with a fake host: calls run
// in submission order on one instance; a constructor that throws is retried
// while restarts are left, then the actor is dead and its calls fail with
// the cause; Kill rebuilds while restarts are left and ends it for good
// otherwise; an actor with no room waits for some; removing its placement
// group kills it, placed or waiting; ended actors are forgotten and calls on
// them fail as the directory says.

#include "embedded/actor_manager.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "gcs/gcs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/proto/gcs_service.pb.h"

namespace raycc::internal::embedded {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

JobId Job() { return JobId::FromInt(1); }
ObjectId Result(uint32_t n) { return *ObjectId::ForPut(TaskId::ForDriver(Job()), n); }

// The host's part, in a few maps: objects are "ready" ids; results are the
// text a call gave or its error message; room is a count of free slots.
class FakeHost : public ActorHost {
 public:
  std::mutex mu;
  std::condition_variable cv;  // anything changed
  bool stopping = false;
  int free_slots = 1;
  std::map<ObjectId, int> pins;
  std::map<ObjectId, std::string> results, errors;
  int unplaced = 0;

  // Waits (bounded) until `done()` under mu.
  bool Eventually(const std::function<bool()>& done) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 30s, done);
  }
  void Changed() { cv.notify_all(); }

  void RunActorThread(Actor&, int, absl::FunctionRef<void(std::unique_lock<std::mutex>&)> body) override {
    std::unique_lock<std::mutex> lock(mu);
    body(lock);
  }
  bool Stopping() const override { return stopping; }
  void WaitUntil(std::unique_lock<std::mutex>& lock, absl::FunctionRef<bool()> done, bool) override {
    cv.wait(lock, [&] { return done(); });
  }
  bool ArgsReady(const std::vector<TaskArgument>&) override { return true; }
  std::shared_ptr<const ErrorInfo> CollectArgs(const std::vector<TaskArgument>& args,
                                               const std::vector<const std::type_info*>&,
                                               std::unique_lock<std::mutex>&, CollectedArgs* out) override {
    for (const TaskArgument& arg : args) out->views.push_back(ArgView(arg.value));
    return nullptr;
  }
  void UseArgs(const std::vector<TaskArgument>& args, int sign, const std::string& what) override {
    for (const TaskArgument& arg : args) {
      if (!arg.by_ref) continue;
      if (sign > 0 && !pins.contains(arg.ref)) throw RayccError(what + ": argument missing");
      pins[arg.ref] += sign;
    }
  }
  void FailCall(const ObjectId& result, std::shared_ptr<const ErrorInfo> error) override {
    errors[result] = error->message;
    cv.notify_all();
  }
  void FinishCall(const ObjectId& result, Outcome outcome, const std::string&) override {
    if (outcome.error) {
      errors[result] = outcome.error->message;
    } else {
      results[result] = *outcome.data;
    }
    cv.notify_all();
  }
  bool Place(Actor& actor) override {
    if (actor.node >= 0) return true;
    if (free_slots == 0) return false;
    --free_slots;
    actor.node = 0;
    return true;
  }
  void Unplace(Actor&) override {
    ++free_slots;
    ++unplaced;
    cv.notify_all();
  }
  NodeId NodeIdOf(int) const override { return node_; }
  void SetThreadNode(int) override {}
  Outcome AttemptCall(const Traced&, int, int& retries_left, bool retry_exceptions, bool* retry,
                      absl::FunctionRef<Outcome()> invoke) override {
    Outcome outcome = invoke();
    *retry = outcome.error != nullptr && retry_exceptions && retries_left != 0;
    if (*retry && retries_left > 0) --retries_left;
    return outcome;
  }

 private:
  NodeId node_ = NodeId::FromRandom();
};

// A counter actor: Add appends its argument to what it holds and returns
// it; its constructor fails while `ctor_failures` is above zero.
struct Counter {
  std::string seen;
};
int ctor_failures = 0;
int instances = 0;
// The gate of HoldMethod (below): a call holds until the test opens it.
std::mutex gate_mu;
std::condition_variable gate_cv;
bool gate_open = false, holding = false, destroyed_while_held = false;

RemoteFunction CounterFactory() {
  RemoteFunction f;
  f.name = "Counter";
  f.create = [](const ArgBuffers&) -> void* {
    if (ctor_failures > 0) {
      --ctor_failures;
      throw std::runtime_error("no counter today");
    }
    ++instances;
    return new Counter;
  };
  f.destroy = [](void* p) {
    --instances;
    {
      std::lock_guard<std::mutex> lock(gate_mu);
      if (holding && !gate_open) destroyed_while_held = true;
    }
    delete static_cast<Counter*>(p);
  };
  return f;
}

RemoteMethod AddMethod() {
  RemoteMethod m;
  m.name = "Add";
  m.invoke = [](void* self, const ArgBuffers& args) {
    auto* counter = static_cast<Counter*>(self);
    counter->seen += std::string(args.at(0).bytes);
    return counter->seen;
  };
  return m;
}

// A method that holds its call until the test opens the gate (bounded), and
// then reports what its instance has seen.
RemoteMethod HoldMethod() {
  RemoteMethod m;
  m.name = "Hold";
  m.invoke = [](void* self, const ArgBuffers&) {
    std::unique_lock<std::mutex> lock(gate_mu);
    holding = true;
    gate_cv.notify_all();
    gate_cv.wait_for(lock, 30s, [] { return gate_open; });
    return static_cast<Counter*>(self)->seen + "|held";
  };
  return m;
}

class ActorManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctor_failures = 0;
    instances = 0;
    std::lock_guard<std::mutex> lock(gate_mu);
    gate_open = holding = destroyed_while_held = false;
  }
  void TearDown() override {
    std::vector<std::thread> threads;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(host_.mu);
        host_.stopping = true;
        manager_.Stop(&threads, "the test ended");
      }
      host_.Changed();
      if (threads.empty()) break;
      for (std::thread& t : threads) t.join();
      threads.clear();
    }
    manager_.DestroyInstances();
    EXPECT_EQ(instances, 0);
  }

  // Registers and starts a Counter with `restarts` restarts, in `group`.
  ActorId Start(int restarts = 0, PlacementGroupId group = PlacementGroupId(), int threads = 1) {
    auto actor = std::make_shared<Actor>();
    actor->id = ActorId::Of(Job());
    actor->factory = &factory_;
    actor->restarts_left = restarts;
    actor->group = group;
    proto::ActorSpec spec;
    spec.set_actor_id(actor->id.Binary());
    spec.set_job_id(Job().Binary());
    spec.mutable_creation_function()->set_name("Counter");
    spec.set_max_restarts(restarts);
    EXPECT_TRUE(gcs_.RegisterActor(spec).ok());
    std::lock_guard<std::mutex> lock(host_.mu);
    manager_.Start(actor, threads);
    return actor->id;
  }
  // Queues Add(text) (or `method`) on `actor`; its result is Result(n).
  void Add(const ActorId& actor, uint32_t n, const std::string& text, int retries = 0,
           const RemoteMethod* method = nullptr) {
    auto call = std::make_shared<ActorCall>();
    call->method = method != nullptr ? method : &add_;
    call->args.push_back(TaskArgument{false, {}, text});
    call->result = Result(n);
    call->retries_left = retries;
    std::lock_guard<std::mutex> lock(host_.mu);
    manager_.CheckKnown(actor);
    manager_.Submit(actor, call);
  }
  std::string Error(uint32_t n) {
    EXPECT_TRUE(host_.Eventually([&] { return host_.errors.contains(Result(n)); })) << "call " << n;
    return host_.errors[Result(n)];
  }
  std::string Value(uint32_t n) {
    EXPECT_TRUE(host_.Eventually([&] {
      return host_.results.contains(Result(n)) || host_.errors.contains(Result(n));
    })) << "call "
        << n;
    return host_.results.contains(Result(n)) ? host_.results[Result(n)] : "error: " + host_.errors[Result(n)];
  }
  proto::ActorState State(const ActorId& id) { return gcs_.GetActor(id)->state(); }

  RemoteFunction factory_ = CounterFactory();
  RemoteMethod add_ = AddMethod();
  RemoteMethod hold_ = HoldMethod();
  FakeHost host_;
  gcs::Gcs gcs_;
  ActorManager manager_{host_, gcs_, Job()};
};

TEST_F(ActorManagerTest, CallsRunInSubmissionOrderOnOneInstance) {
  ActorId actor = Start();
  for (uint32_t i = 1; i <= 20; ++i) Add(actor, i, std::string(1, static_cast<char>('a' + i - 1)));
  EXPECT_EQ(Value(20), "abcdefghijklmnopqrst");
  EXPECT_EQ(Value(3), "abc");
  EXPECT_EQ(instances, 1);
  EXPECT_EQ(State(actor), proto::ALIVE);
}

TEST_F(ActorManagerTest, AFailingConstructorIsRetriedWhileRestartsAreLeftThenTheActorIsDead) {
  host_.free_slots = 2;  // (room for both)
  ctor_failures = 2;
  ActorId restarted = Start(/*restarts=*/2);
  Add(restarted, 1, "x");
  EXPECT_EQ(Value(1), "x") << "two failures, two restarts: the third try made it";
  ctor_failures = 5;
  ActorId doomed = Start(/*restarts=*/1);
  Add(doomed, 2, "y");
  EXPECT_THAT(Error(2), HasSubstr("is dead: its constructor failed: "));
  EXPECT_THAT(Error(2), HasSubstr("no counter today"));
  EXPECT_EQ(ctor_failures, 3) << "one try and one restart";
  EXPECT_EQ(State(doomed), proto::DEAD);
  EXPECT_THAT(gcs_.GetActor(doomed)->death_cause(), HasSubstr("its constructor failed"));
}

TEST_F(ActorManagerTest, KillRebuildsWhileRestartsAreLeftAndEndsTheActorOtherwise) {
  ActorId actor = Start(/*restarts=*/1);
  Add(actor, 1, "a");
  Add(actor, 2, "b");
  EXPECT_EQ(Value(2), "ab");
  {
    std::lock_guard<std::mutex> lock(host_.mu);
    manager_.Kill(actor, /*no_restart=*/false);
  }
  Add(actor, 3, "c");
  EXPECT_EQ(Value(3), "c") << "a new instance, from the same arguments";
  {
    std::lock_guard<std::mutex> lock(host_.mu);
    manager_.Kill(actor, /*no_restart=*/false);  // (no restart left: for good)
  }
  Add(actor, 4, "d");
  EXPECT_THAT(Error(4), HasSubstr("is dead: it was killed"));
  EXPECT_EQ(State(actor), proto::DEAD);
  EXPECT_TRUE(host_.Eventually([&] { return host_.unplaced == 1; })) << "its room was never given back";
  // A call on an actor that was never made here is refused.
  std::lock_guard<std::mutex> lock(host_.mu);
  EXPECT_THROW(manager_.CheckKnown(ActorId::Of(JobId::FromInt(9))), RayccError);
}

TEST_F(ActorManagerTest, AnActorWithNoRoomWaitsAndRemovingItsGroupKillsItPlacedOrWaiting) {
  PlacementGroupId group = PlacementGroupId::Of(Job());
  ActorId placed = Start(/*restarts=*/0, group);
  ActorId waiting = Start(/*restarts=*/0, group);  // (the one slot is taken)
  Add(placed, 1, "p");
  Add(waiting, 2, "w");
  EXPECT_EQ(Value(1), "p");
  {
    std::lock_guard<std::mutex> lock(host_.mu);
    EXPECT_FALSE(host_.results.contains(Result(2))) << "ran with no room";
    manager_.GroupRemoved(group);
  }
  host_.Changed();
  EXPECT_THAT(Error(2), HasSubstr("its placement group was removed before it could be placed"));
  Add(placed, 3, "q");
  EXPECT_THAT(Error(3), HasSubstr("is dead: its placement group was removed"));
  EXPECT_TRUE(host_.Eventually([&] { return host_.unplaced == 1 && host_.free_slots == 1; }))
      << "the placed actor's room was never given back";
  EXPECT_EQ(State(placed), proto::DEAD);
  EXPECT_EQ(State(waiting), proto::DEAD);
}

TEST_F(ActorManagerTest, EndedActorsAreForgottenAndCallsOnThemFailAsTheDirectorySays) {
  ActorId actor = Start();
  {
    std::lock_guard<std::mutex> lock(host_.mu);
    manager_.Kill(actor, /*no_restart=*/true);
  }
  std::vector<std::thread> threads;
  ASSERT_TRUE(host_.Eventually([&] {
    threads = manager_.TakeEnded();
    return !threads.empty();
  }));
  for (std::thread& t : threads) t.join();
  {
    std::lock_guard<std::mutex> lock(host_.mu);
    EXPECT_EQ(manager_.size(), 0u);
  }
  EXPECT_EQ(instances, 0) << "the last thread out destroys the instance";
  Add(actor, 1, "late");
  EXPECT_THAT(Error(1), HasSubstr("(Counter) is dead: it was killed"));
}

// With several threads, a restart waits for the calls running on the old
// instance: the held call finishes on it, and the next call runs on a new
// one (which has seen nothing).
TEST_F(ActorManagerTest, ARestartWaitsForTheCallsRunningOnTheOldInstance) {
  ActorId actor = Start(/*restarts=*/1, PlacementGroupId(), /*threads=*/3);
  Add(actor, 1, "a");
  EXPECT_EQ(Value(1), "a");
  Add(actor, 2, "", 0, &hold_);
  {
    std::unique_lock<std::mutex> lock(gate_mu);
    ASSERT_TRUE(gate_cv.wait_for(lock, 30s, [] { return holding; })) << "the held call never started";
  }
  {
    std::lock_guard<std::mutex> lock(host_.mu);
    manager_.Kill(actor, /*no_restart=*/false);
  }
  Add(actor, 3, "b");
  {
    std::lock_guard<std::mutex> lock(gate_mu);
    gate_open = true;
  }
  gate_cv.notify_all();
  EXPECT_EQ(Value(2), "a|held") << "the held call ran on the old instance to its end";
  EXPECT_FALSE(destroyed_while_held) << "the old instance was destroyed under a running call";
  EXPECT_EQ(Value(3), "b") << "the call after the restart runs on a new instance";
  EXPECT_EQ(instances, 1);
  EXPECT_EQ(State(actor), proto::ALIVE);
}

}  // namespace
}  // namespace raycc::internal::embedded
