// The runtime API on the embedded runtime, at several thread counts.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"

namespace {

using ::testing::HasSubstr;

int Plus(int a, int b) { return a + b; }
int64_t Square(int64_t x) { return x * x; }
std::string Greet(std::string name) { return "hello " + name; }
std::vector<double> Scale(std::vector<double> v, double k) {
  for (double& x : v) x *= k;
  return v;
}
int Fail(int x) { throw std::invalid_argument("bad input " + std::to_string(x)); }
void Nothing() {}

// Nested: fans out `n` Square tasks from inside a task and sums them; every
// parent blocks in Get, which must not starve the pool.
int64_t SumOfSquares(int64_t n) {
  std::vector<raycc::ObjectRef<int64_t>> refs;
  for (int64_t i = 1; i <= n; ++i) refs.push_back(raycc::Task(Square).Remote(i));
  int64_t sum = 0;
  for (const auto& v : raycc::Get(refs)) sum += *v;
  return sum;
}
int64_t Tree(int64_t depth) {
  if (depth == 0) return 1;
  auto a = raycc::Task(Tree).Remote(depth - 1);
  auto b = raycc::Task(Tree).Remote(depth - 1);
  return *raycc::Get(a) + *raycc::Get(b);
}

std::atomic<int> flaky_calls{0};
int Flaky(int fail_times) {
  if (flaky_calls++ < fail_times) throw std::runtime_error("flaky");
  return 7;
}

int Sleepy(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter* Create(int start) { return new Counter(start); }
  static Counter* CreateFailing(int) { throw std::runtime_error("no counter today"); }
  int Add(int x) {
    value_ += x;
    history_.push_back(x);
    return value_;
  }
  std::vector<int> History() const { return history_; }

 private:
  int value_;
  std::vector<int> history_;
};

RAYCC_REMOTE(Plus, Square, Greet, Scale, Fail, Nothing, SumOfSquares, Tree, Flaky, Sleepy, Counter::Create,
             Counter::CreateFailing, &Counter::Add, &Counter::History);

int Unregistered(int x) { return x; }

class RuntimeApiTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    raycc::Config config;
    config.num_cpus = GetParam();
    config.resources = {{"GPU", 0}, {"custom", 2}};
    raycc::Init(config);
  }
  void TearDown() override { raycc::Shutdown(); }
};

TEST_P(RuntimeApiTest, TaskResultsComeBack) {
  raycc::ObjectRef<int> r = raycc::Task(Plus).Remote(1, 2);
  EXPECT_EQ(*raycc::Get(r), 3);
  EXPECT_EQ(*r.Get(), 3);
  EXPECT_EQ(*raycc::Task(Greet).Remote(std::string("ray")).Get(), "hello ray");
  auto scaled = raycc::Task(Scale).Remote(std::vector<double>{1, 2, 3}, 2.0);
  EXPECT_EQ(*scaled.Get(), (std::vector<double>{2, 4, 6}));
  raycc::Get(raycc::Task(Nothing).Remote());  // void tasks complete
}

TEST_P(RuntimeApiTest, ObjectRefsAreArgumentsAndChainsResolve) {
  auto a = raycc::Task(Plus).Remote(1, 2);
  auto b = raycc::Task(Plus).Remote(a, 10);
  auto c = raycc::Task(Plus).Remote(a, b);
  EXPECT_EQ(*raycc::Get(c), 16);
  auto put = raycc::Put(100);
  EXPECT_EQ(*raycc::Task(Plus).Remote(put, c).Get(), 116);
}

TEST_P(RuntimeApiTest, ManyTasksAllComplete) {
  std::vector<raycc::ObjectRef<int64_t>> refs;
  for (int64_t i = 0; i < 2000; ++i) refs.push_back(raycc::Task(Square).Remote(i));
  int64_t sum = 0;
  for (const auto& v : raycc::Get(refs)) sum += *v;
  int64_t expected = 0;
  for (int64_t i = 0; i < 2000; ++i) expected += i * i;
  EXPECT_EQ(sum, expected);
}

TEST_P(RuntimeApiTest, NestedFanOutDoesNotDeadlock) {
  // More blocked parents than CPUs: each gives its CPU back while waiting.
  std::vector<raycc::ObjectRef<int64_t>> parents;
  for (int i = 0; i < 8; ++i) parents.push_back(raycc::Task(SumOfSquares).Remote(int64_t{10}));
  for (const auto& v : raycc::Get(parents)) EXPECT_EQ(*v, 385);
  EXPECT_EQ(*raycc::Task(Tree).Remote(int64_t{6}).Get(), 64);
}

TEST_P(RuntimeApiTest, ExceptionsReachGetAsTaskErrorAndPropagate) {
  auto bad = raycc::Task(Fail).Remote(3);
  try {
    raycc::Get(bad);
    FAIL() << "expected TaskError";
  } catch (const raycc::TaskError& e) {
    EXPECT_EQ(e.function_name(), "Fail");
    EXPECT_EQ(e.exception_type(), "std::invalid_argument");
    EXPECT_EQ(e.original_message(), "bad input 3");
    EXPECT_THAT(e.where(), HasSubstr("node embedded ("));
    EXPECT_THAT(e.what(), HasSubstr("task Fail raised std::invalid_argument: bad input 3"));
  }
  // A task depending on a failed one fails with the original cause.
  auto dependent = raycc::Task(Plus).Remote(bad, 1);
  try {
    raycc::Get(dependent);
    FAIL() << "expected TaskError";
  } catch (const raycc::TaskError& e) {
    EXPECT_EQ(e.function_name(), "Fail");
  }
}

TEST_P(RuntimeApiTest, RetryExceptionsRetriesApplicationErrors) {
  flaky_calls = 0;
  EXPECT_EQ(*raycc::Task(Flaky).SetMaxRetries(3).SetRetryExceptions(true).Remote(2).Get(), 7);
  EXPECT_EQ(flaky_calls.load(), 3);
  flaky_calls = 0;
  EXPECT_THROW(raycc::Task(Flaky).SetMaxRetries(1).SetRetryExceptions(true).Remote(5).Get(),
               raycc::TaskError);
  EXPECT_EQ(flaky_calls.load(), 2);
  flaky_calls = 0;
  // Without SetRetryExceptions, application errors are not retried.
  EXPECT_THROW(raycc::Task(Flaky).SetMaxRetries(3).Remote(1).Get(), raycc::TaskError);
  EXPECT_EQ(flaky_calls.load(), 1);
}

std::atomic<bool> many_gate_open{false};
int HeldUntilOpened() {
  while (!many_gate_open) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 1;
}
RAYCC_REMOTE(HeldUntilOpened);

TEST_P(RuntimeApiTest, GetOfManyRefsKeepsOrderAndThrowsTheFirstFailure) {
  // More than one lock's worth (256): typed results, values Put as they
  // are, and objects held only as bytes (read through the fallback).
  std::vector<raycc::ObjectRef<int>> refs;
  for (int i = 0; i < 700; ++i) {
    if (i % 3 == 0) {
      refs.push_back(raycc::Task(Plus).Remote(i, 0));
    } else if (i % 3 == 1) {
      refs.push_back(raycc::Put(i));
    } else {
      refs.push_back(
          raycc::ObjectRef<int>::Adopt(raycc::internal::CurrentRuntime().Put(raycc::Serialize(i))));
    }
  }
  std::vector<std::shared_ptr<int>> values = raycc::Get(refs);
  ASSERT_EQ(values.size(), refs.size());
  for (int i = 0; i < 700; ++i) EXPECT_EQ(*values[i], i) << i;

  std::vector<raycc::ObjectRef<int>> failing = {raycc::Task(Plus).Remote(1, 1), raycc::Task(Fail).Remote(3),
                                                raycc::Task(Fail).Remote(4)};
  try {
    raycc::Get(failing);
    FAIL() << "a failed object must throw";
  } catch (const raycc::TaskError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad input 3"));
  }
  std::vector<raycc::ObjectRef<void>> voids = {raycc::Task(Nothing).Remote(), raycc::Task(Nothing).Remote()};
  EXPECT_EQ(raycc::Get(voids).size(), 2u);

  // A timeout bounds the call; what was ready stays readable.
  many_gate_open = false;
  auto held = raycc::Task(HeldUntilOpened).Remote();
  EXPECT_THROW(raycc::Get(std::vector<raycc::ObjectRef<int>>{refs[0], held}, /*timeout_ms=*/20),
               raycc::GetTimeoutError);
  many_gate_open = true;
  EXPECT_EQ(*raycc::Get(std::vector<raycc::ObjectRef<int>>{refs[3], held}).at(1), 1);
}

TEST_P(RuntimeApiTest, GetTimesOutAndWaitSplitsReadyFromUnready) {
  auto slow = raycc::Task(Sleepy).Remote(300);
  EXPECT_THROW(raycc::Get(slow, /*timeout_ms=*/10), raycc::GetTimeoutError);
  auto fast = raycc::Put(1);
  raycc::WaitResult<int> w = raycc::Wait(std::vector<raycc::ObjectRef<int>>{slow, fast}, 1, 5000);
  ASSERT_EQ(w.ready.size(), 1u);
  EXPECT_EQ(w.ready[0], fast);
  ASSERT_EQ(w.unready.size(), 1u);
  EXPECT_EQ(w.unready[0], slow);
  w = raycc::Wait(std::vector<raycc::ObjectRef<int>>{slow, fast}, 2, -1);
  EXPECT_EQ(w.ready.size(), 2u);
  EXPECT_THROW(raycc::Wait(std::vector<raycc::ObjectRef<int>>{fast}, 2, 0), raycc::RayccError);
}

TEST_P(RuntimeApiTest, ActorCallsRunInSubmissionOrder) {
  auto counter = raycc::Actor(Counter::Create).Remote(100);
  std::vector<raycc::ObjectRef<int>> results;
  // Arguments that become ready out of order still run in call order.
  auto late = raycc::Task(Sleepy).Remote(50);
  results.push_back(counter.Task(&Counter::Add).Remote(late));
  for (int i = 1; i <= 50; ++i) results.push_back(counter.Task(&Counter::Add).Remote(i));
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

TEST_P(RuntimeApiTest, CancelStopsTasksThatHaveNotStarted) {
  // Occupy every CPU, then queue one more: it cannot have started.
  std::vector<raycc::ObjectRef<int>> busy;
  for (int i = 0; i < GetParam(); ++i) busy.push_back(raycc::Task(Sleepy).Remote(200));
  auto queued = raycc::Task(Plus).Remote(1, 2);
  auto waiting = raycc::Task(Plus).Remote(queued, 1);  // also waits for its argument
  EXPECT_TRUE(raycc::Cancel(waiting));
  EXPECT_TRUE(raycc::Cancel(queued));
  EXPECT_FALSE(raycc::Cancel(queued));  // once
  EXPECT_THROW(raycc::Get(queued), raycc::TaskCancelledError);
  EXPECT_THROW(raycc::Get(waiting), raycc::TaskCancelledError);
  for (const auto& b : busy) EXPECT_EQ(*raycc::Get(b), 200);
  // A finished task cannot be cancelled; its value stays.
  EXPECT_FALSE(raycc::Cancel(busy[0]));
  EXPECT_EQ(*raycc::Get(busy[0]), 200);
  // Dependents of a cancelled task fail too.
  auto late = raycc::Task(Plus).Remote(queued, 5);
  EXPECT_THROW(raycc::Get(late), raycc::TaskCancelledError);
}

std::atomic<int> saw_cancel{0};
// Works for up to `ms`, checking for cancellation; returns how it ended.
std::atomic<int> patients_started{0};
int Patient(int ms) {
  ++patients_started;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (raycc::IsCancelled()) {
      ++saw_cancel;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return ms;
}
// Starts a patient child and waits for it.
int PatientParent(int ms) { return *raycc::Task(Patient).Remote(ms).Get(); }
// Ignores everything until released, then reports whether it was cancelled.
std::atomic<bool> release_stubborn{false};
std::atomic<bool> stubborn_started{false};
int Stubborn() {
  stubborn_started = true;
  while (!release_stubborn) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (raycc::IsCancelled()) ++saw_cancel;
  return 1;
}
RAYCC_REMOTE(Patient, PatientParent, Stubborn);

TEST_P(RuntimeApiTest, CancelTellsARunningTaskAndItsChildren) {
  saw_cancel = 0;
  release_stubborn = false;
  stubborn_started = false;
  patients_started = 0;
  EXPECT_FALSE(raycc::IsCancelled());  // (outside any task)
  auto running = raycc::Task(Stubborn).Remote();
  auto dependent = raycc::Task(Plus).Remote(running, 1);
  while (!stubborn_started) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // it runs now
  EXPECT_TRUE(raycc::Cancel(running));
  EXPECT_FALSE(raycc::Cancel(running));  // once
  try {
    raycc::Get(running);
    FAIL() << "expected TaskCancelledError";
  } catch (const raycc::TaskCancelledError& e) {
    EXPECT_THAT(e.what(), HasSubstr("was cancelled while it ran"));
  }
  EXPECT_THROW(raycc::Get(dependent), raycc::TaskCancelledError);
  // (Get did not wait for it: it is still held.) Released, it sees that it
  // was cancelled, and what it returns is dropped.
  release_stubborn = true;
  // Recursive: the parent's child (which it waits for) is cancelled too.
  auto parent = raycc::Task(PatientParent).Remote(20000);
  while (patients_started == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the child runs
  EXPECT_TRUE(raycc::Cancel(parent));
  EXPECT_THROW(raycc::Get(parent), raycc::TaskCancelledError);
  // Both running tasks saw it and returned; their CPUs serve new work.
  for (int tries = 0; tries < 500 && saw_cancel < 2; ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(saw_cancel.load(), 2);
  std::vector<raycc::ObjectRef<int>> after;
  for (int i = 0; i < GetParam(); ++i) after.push_back(raycc::Task(Plus).Remote(i, 1));
  for (int i = 0; i < GetParam(); ++i) EXPECT_EQ(*after[i].Get(), i + 1);
}

std::atomic<bool> gate_started{false}, gate_open{false};
// Runs until the test opens the gate (it says when it has started).
int Gate() {
  gate_started = true;
  while (!gate_open) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 7;
}
RAYCC_REMOTE(Gate);

TEST_P(RuntimeApiTest, PlacementGroupsReserveAndRunTheirTasks) {
  // The node has "custom" = 2; a group reserving both leaves none outside.
  raycc::PlacementGroup pg = raycc::CreatePlacementGroup({.bundles = {{{"custom", 1}}, {{"custom", 1}}},
                                                          .strategy = raycc::PlacementStrategy::kPack,
                                                          .name = "pg"});
  EXPECT_TRUE(pg.Wait(10));
  EXPECT_EQ(*raycc::Task(Plus).SetResources({{"custom", 1}}).SetPlacementGroup(pg, 0).Remote(1, 2).Get(), 3);
  EXPECT_EQ(*raycc::Task(Plus).SetResources({{"custom", 1}}).SetPlacementGroup(pg).Remote(2, 2).Get(), 4);
  // Outside the group nothing is left: such a task waits...
  auto outside = raycc::Task(Plus).SetResources({{"custom", 1}}).Remote(3, 3);
  EXPECT_THROW(raycc::Get(outside, 100), raycc::GetTimeoutError);
  // ...and a second group waits for the first to go.
  raycc::PlacementGroup second = raycc::CreatePlacementGroup({.bundles = {{{"custom", 2}}}});
  EXPECT_FALSE(second.Wait(0));
  raycc::RemovePlacementGroup(pg.GetID());
  // Removing the first lets either the waiting task or the second group in.
  EXPECT_TRUE(second.Wait(10) || *raycc::Get(outside, 10000) == 6);
  raycc::RemovePlacementGroup(second.GetID());
  EXPECT_EQ(*raycc::Get(outside, 10000), 6);
}

TEST_P(RuntimeApiTest, PlacementGroupMisuseAndInfeasibility) {
  raycc::PlacementGroup pg = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}}});
  EXPECT_THROW(raycc::Task(Plus).SetPlacementGroup(pg, 1), raycc::RayccError);  // index out of range
  try {
    raycc::Task(Plus).SetResources({{"CPU", 1}, {"custom", 1}}).SetPlacementGroup(pg, 0).Remote(1, 1);
    FAIL() << "expected InfeasibleError";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("demands more than bundle 0 of its placement group holds"));
  }
  try {
    raycc::CreatePlacementGroup(
        {.bundles = {{{"CPU", 1}}, {{"CPU", 1}}}, .strategy = raycc::PlacementStrategy::kStrictSpread});
    FAIL() << "expected InfeasibleError";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(
        e.what(),
        HasSubstr("strict_spread needs 2 distinct nodes that each hold a bundle; the runtime has 1 node(s)"));
  }
  EXPECT_THROW(raycc::CreatePlacementGroup({.bundles = {{{"GPU", 1}}}}), raycc::InfeasibleError);
  EXPECT_THROW(raycc::CreatePlacementGroup({.bundles = {}}), raycc::RayccError);
  EXPECT_THROW(raycc::CreatePlacementGroup({.bundles = {{{"CPU", -1}}}}), raycc::RayccError);
  // Work still queued in a removed group fails instead of waiting forever.
  std::vector<raycc::ObjectRef<int>> busy;
  for (int i = 0; i < 3; ++i) busy.push_back(raycc::Task(Sleepy).SetPlacementGroup(pg, 0).Remote(100));
  raycc::RemovePlacementGroup(pg.GetID());
  int failed = 0;
  for (const auto& b : busy) {
    try {
      raycc::Get(b);
    } catch (const raycc::TaskCancelledError& e) {
      EXPECT_THAT(e.what(), HasSubstr("its placement group was removed"));
      ++failed;
    }
  }
  EXPECT_GE(failed, 2);  // at most one of the three had started
  // Queued work in a group where one task waits for another: both fail with
  // the group's removal, once each, and nothing is left behind.
  size_t base = raycc::internal::CurrentRuntime().LiveObjects();
  {
    raycc::PlacementGroup doomed = raycc::CreatePlacementGroup({.bundles = {{{"custom", 1}}}});
    ASSERT_TRUE(doomed.Wait(10));
    gate_started = false;
    gate_open = false;
    auto holder = raycc::Task(Gate).SetResources({{"custom", 1}}).SetPlacementGroup(doomed, 0).Remote();
    while (!gate_started) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // it holds the bundle
    auto first = raycc::Task(Plus).SetResources({{"custom", 1}}).SetPlacementGroup(doomed, 0).Remote(1, 2);
    auto second =
        raycc::Task(Plus).SetResources({{"custom", 1}}).SetPlacementGroup(doomed, 0).Remote(first, 1);
    raycc::RemovePlacementGroup(doomed.GetID());
    for (const auto* r : {&first, &second}) {
      try {
        raycc::Get(*r);
        FAIL() << "expected TaskCancelledError";
      } catch (const raycc::TaskCancelledError& e) {
        EXPECT_THAT(e.what(), HasSubstr("its placement group was removed"));
      }
    }
    gate_open = true;
    EXPECT_EQ(*holder.Get(), 7);
  }
  EXPECT_EQ(raycc::internal::CurrentRuntime().LiveObjects(), base);
  EXPECT_THROW(raycc::Task(Plus).SetPlacementGroup(pg, 0).Remote(1, 1), raycc::RayccError);
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

TEST_P(RuntimeApiTest, ResourcesAreCheckedAndCounted) {
  try {
    raycc::Task(Plus).SetResources({{"GPU", 1}}).Remote(1, 2);
    FAIL() << "expected InfeasibleError";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no node has resource 'GPU'"));
  }
  EXPECT_THROW(raycc::Task(Plus).SetResources({{"CPU", 1000}}).Remote(1, 2), raycc::InfeasibleError);
  EXPECT_THROW(raycc::Task(Plus).SetResources({{"CPU", -1}}).Remote(1, 2), raycc::RayccError);
  // Two "custom" units: tasks needing 1 each run, at most two at a time.
  std::vector<raycc::ObjectRef<int>> refs;
  for (int i = 0; i < 4; ++i) refs.push_back(raycc::Task(Plus).SetResources({{"custom", 1}}).Remote(i, 1));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*raycc::Get(refs[i]), i + 1);
}

TEST_P(RuntimeApiTest, MisuseIsAClearError) {
  try {
    raycc::Task(Unregistered).Remote(1);
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not registered"));
  }
  EXPECT_THROW(raycc::Init(), raycc::RayccError);  // already initialized
}

INSTANTIATE_TEST_SUITE_P(ThreadCounts, RuntimeApiTest, ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "cpus";
                         });

TEST(RuntimeLifecycleTest, UseBeforeInitIsAClearError) {
  EXPECT_FALSE(raycc::IsInitialized());
  try {
    raycc::Task(Plus).Remote(1, 2);
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not initialized: call raycc::Init() first"));
  }
  EXPECT_THROW(raycc::Put(1), raycc::RayccError);
}

TEST(RuntimeLifecycleTest, InitFromCommandLine) {
  const char* argv[] = {"prog", "--raycc-num-cpus=3"};
  raycc::Init(2, const_cast<char**>(argv));
  EXPECT_TRUE(raycc::IsInitialized());
  EXPECT_EQ(*raycc::Task(Plus).Remote(2, 2).Get(), 4);
  raycc::Shutdown();
  EXPECT_FALSE(raycc::IsInitialized());
  const char* bad[] = {"prog", "--raycc-num-cpus=many"};
  EXPECT_THROW(raycc::Init(2, const_cast<char**>(bad)), raycc::RayccError);
  raycc::Config config;
  config.resources = {{"CPU", 4}};
  EXPECT_THROW(raycc::Init(config), raycc::RayccError);
  EXPECT_FALSE(raycc::IsInitialized());
}

TEST(RuntimeLifecycleTest, TimelineRecordsEveryAttempt) {
  std::string path = ::testing::TempDir() + "/raycc_timeline_test.json";
  std::remove(path.c_str());
  flaky_calls = 0;
  raycc::Init(raycc::Config{.num_cpus = 2, .timeline_path = path});
  EXPECT_EQ(*raycc::Task(Plus).SetName("plus one").Remote(1, 1).Get(), 2);
  EXPECT_EQ(*raycc::Task(Flaky).SetRetryExceptions(true).SetMaxRetries(2).Remote(1).Get(), 7);
  EXPECT_THROW(raycc::Task(Fail).Remote(3).Get(), raycc::TaskError);
  auto counter = raycc::Actor(Counter::Create).Remote(5);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 6);
  raycc::Shutdown();

  std::ifstream in(path);
  ASSERT_TRUE(in) << "no timeline at " << path;
  std::stringstream text;
  text << in.rdbuf();
  std::string t = text.str();
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = t.find(needle); at != std::string::npos; at = t.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(t.front(), '[');
  EXPECT_EQ(count("\"ph\": \"X\""), 6u);  // plus, flaky twice, fail, create, add
  EXPECT_EQ(count("\"name\": \"plus one\""), 1u);
  EXPECT_EQ(count("\"name\": \"Flaky\""), 2u);
  EXPECT_EQ(count("\"status\": \"retried\""), 1u);
  EXPECT_EQ(count("\"status\": \"failed\""), 1u);
  EXPECT_EQ(count("\"name\": \"Counter::Create\""), 1u);
  EXPECT_EQ(count("\"name\": \"Counter::Add\""), 1u);
  EXPECT_EQ(count("\"node_id\": -1"), 6u);  // all submitted at run time
  // Both workers are named, even one that ran nothing, and the actor's thread.
  EXPECT_EQ(count("{\"name\": \"worker 0\"}"), 1u);
  EXPECT_EQ(count("{\"name\": \"worker 1\"}"), 1u);
  EXPECT_EQ(count("{\"name\": \"actor Counter::Create "), 1u);
  // The lane of tasks Get ran on the caller's thread is named only if one did.
  bool ran_inline = count("\"pid\": 1, \"tid\": 0, \"args\": {\"node_id\"") > 0;
  EXPECT_EQ(count("{\"name\": \"caller of Get (tasks run inline)\"}"), ran_inline ? 1u : 0u);
  EXPECT_EQ(count("\"name\": \"thread_name\""), ran_inline ? 4u : 3u);
}

std::string ThreadOf() {
  std::ostringstream id;
  id << std::this_thread::get_id();
  return id.str();
}
std::string ParentAndChildThreads() { return ThreadOf() + " " + *raycc::Task(ThreadOf).Remote().Get(); }
RAYCC_REMOTE(ThreadOf, ParentAndChildThreads);

TEST(RuntimeInlineTest, GetRunsAReadyTaskOnTheCallersThread) {
  raycc::Init(raycc::Config{.num_cpus = 1});
  // A child the parent waits for runs on the parent's thread: the parent
  // lends it its CPU, and no other thread exists to take it.
  std::string both = *raycc::Task(ParentAndChildThreads).Remote().Get();
  std::string parent = both.substr(0, both.find(' '));
  EXPECT_EQ(both, parent + " " + parent);
  // Nothing else could run it either (the one CPU is taken): the driver's
  // Get runs a resource-free task itself instead of waiting forever.
  auto hold = raycc::Task(Sleepy).Remote(300);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(*raycc::Task(ThreadOf).SetResources({}).Remote().Get(), ThreadOf());
  EXPECT_EQ(*hold.Get(), 300);
  raycc::Shutdown();
}

TEST(RuntimeBatchTest, SubmitTasksWiresABatchAndChecksItFirst) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  using raycc::internal::BatchedTask;
  using raycc::internal::TaskArgument;
  const auto* plus = raycc::internal::RemoteRegistry::Instance().FunctionByName("Plus");
  ASSERT_NE(plus, nullptr);
  raycc::internal::CallOptions options;
  auto value = [](int v) { return TaskArgument{false, {}, raycc::Serialize(v)}; };
  auto earlier = [](int k) {
    TaskArgument a;
    a.batch_index = k;
    return a;
  };
  // (1 + 2) -> (3 + 3) -> (6 + 3): the third adds the first two.
  std::vector<BatchedTask> tasks = {{plus, {value(1), value(2)}, &options, 0},
                                    {plus, {earlier(0), earlier(0)}, &options, 0},
                                    {plus, {earlier(1), earlier(0)}, &options, -1}};
  std::vector<raycc::ObjectId> ids =
      raycc::internal::CurrentRuntime().SubmitTasks(std::move(tasks), {{{"CPU", 1}}});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(*raycc::ObjectRef<int>(ids[2]).Get(), 9);
  // A task that uses a later one, or a resource set no node has: nothing runs.
  std::vector<BatchedTask> forward = {{plus, {earlier(1), value(1)}, &options, -1},
                                      {plus, {value(1), value(1)}, &options, -1}};
  EXPECT_THROW(raycc::internal::CurrentRuntime().SubmitTasks(std::move(forward), {}), raycc::RayccError);
  std::vector<BatchedTask> huge = {{plus, {value(1), value(1)}, &options, 0}};
  try {
    raycc::internal::CurrentRuntime().SubmitTasks(std::move(huge), {{{"CPU", 64}}});
    FAIL() << "expected InfeasibleError";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("task Plus"));
  }
  raycc::Shutdown();
}

TEST(RuntimeBatchTest, ABatchThatFailsPartWaySubmitsNothing) {
  // The first task is fine; the second cannot be submitted. Before anything
  // was checked against the runtime's state the first was already queued,
  // and its result, which no one could ever reference, stayed forever.
  raycc::Init(raycc::Config{.num_cpus = 2});
  size_t base = raycc::internal::CurrentRuntime().LiveObjects();
  using raycc::internal::BatchedTask;
  using raycc::internal::TaskArgument;
  const auto* plus = raycc::internal::RemoteRegistry::Instance().FunctionByName("Plus");
  ASSERT_NE(plus, nullptr);
  auto value = [](int v) { return TaskArgument{false, {}, raycc::Serialize(v)}; };
  raycc::internal::CallOptions fine, nowhere, no_group;
  nowhere.node_name = "nowhere";
  nowhere.node_soft = false;
  no_group.placement_group = raycc::PlacementGroupId::Of(raycc::JobId::FromInt(7));
  TaskArgument missing;
  missing.by_ref = true;
  missing.ref = *raycc::ObjectId::ForPut(raycc::TaskId::Of(raycc::JobId::FromInt(7)), 1);
  std::vector<std::pair<std::vector<BatchedTask>, std::string>> cases;
  cases.push_back({{{plus, {value(1), value(2)}, &fine, -1}, {plus, {value(1), value(2)}, &nowhere, -1}},
                   "must run on node 'nowhere'"});
  cases.push_back({{{plus, {value(1), value(2)}, &fine, -1}, {plus, {value(1), value(2)}, &no_group, -1}},
                   "placement group"});
  cases.push_back(
      {{{plus, {value(1), value(2)}, &fine, -1}, {plus, {missing, value(2)}, &fine, -1}}, "does not exist"});
  for (auto& [tasks, error] : cases) {
    try {
      raycc::internal::CurrentRuntime().SubmitTasks(std::move(tasks), {});
      ADD_FAILURE() << "expected an error naming " << error;
    } catch (const raycc::RayccError& e) {
      EXPECT_THAT(e.what(), HasSubstr(error));
    }
    EXPECT_EQ(raycc::internal::CurrentRuntime().LiveObjects(), base) << error;
  }
  raycc::Shutdown();
}

TEST(RuntimeBatchTest, AReleasedResultLivesUntilTheBatchTasksUsingItAreDone) {
  // A chain across several submission chunks: each result is released (no
  // one outside the batch reads it) and used by the next task only, so it
  // is freed as soon as that task is done; the last one is kept.
  raycc::Init(raycc::Config{.num_cpus = 2});
  size_t base = raycc::internal::CurrentRuntime().LiveObjects();
  using raycc::internal::BatchedTask;
  using raycc::internal::TaskArgument;
  const auto* plus = raycc::internal::RemoteRegistry::Instance().FunctionByName("Plus");
  raycc::internal::CallOptions options;
  const int n = 3000;
  std::vector<BatchedTask> tasks;
  tasks.push_back(
      {plus,
       {TaskArgument{false, {}, raycc::Serialize(0)}, TaskArgument{false, {}, raycc::Serialize(1)}},
       &options,
       -1,
       /*release_result=*/true});
  for (int i = 1; i < n; ++i) {
    TaskArgument previous;
    previous.batch_index = i - 1;
    tasks.push_back(
        {plus, {previous, TaskArgument{false, {}, raycc::Serialize(1)}}, &options, -1, i + 1 < n});
  }
  std::vector<raycc::ObjectId> ids = raycc::internal::CurrentRuntime().SubmitTasks(std::move(tasks), {});
  {
    raycc::ObjectRef<int> last(ids.back());
    EXPECT_EQ(*last.Get(), n);
    EXPECT_EQ(raycc::internal::CurrentRuntime().LiveObjects(), base + 1);  // only the last
  }
  EXPECT_EQ(raycc::internal::CurrentRuntime().LiveObjects(), base);  // and it goes with its reference
  raycc::Shutdown();
}

int64_t SumAll(std::vector<int64_t> v) {
  int64_t s = 0;
  for (int64_t x : v) s += x;
  return s;
}
RAYCC_REMOTE(SumAll);

TEST(RuntimeObjectsTest, PutValuesAreHandedOutWithoutACopy) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  std::vector<int64_t> big(1 << 20, 3);
  const int64_t* buffer = big.data();
  raycc::ObjectRef<std::vector<int64_t>> ref = raycc::Put(std::move(big));
  std::shared_ptr<std::vector<int64_t>> a = ref.Get(), b = raycc::Get(ref);
  EXPECT_EQ(a->data(), buffer);  // the very buffer that was moved in
  EXPECT_EQ(a.get(), b.get());
  // A task gets the bytes (made on demand), and so does a reader that asks
  // for another type.
  EXPECT_EQ(*raycc::Task(SumAll).Remote(ref).Get(), 3 * (1 << 20));
  raycc::ObjectRef<int> small = raycc::Put(7);
  EXPECT_EQ(*raycc::Get(raycc::ObjectRef<int64_t>(small.ID())), 7);
  raycc::Shutdown();
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

INSTANTIATE_TEST_SUITE_P(Concurrency, RuntimeRestartTest, ::testing::Values(1, 3));

size_t Live() { return raycc::internal::CurrentRuntime().LiveObjects(); }

std::vector<int64_t> Ones(int64_t n) { return std::vector<int64_t>(n, 1); }
RAYCC_REMOTE(Ones);

TEST(RuntimeObjectsTest, TaskResultsAreHandedOutWithoutACopy) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  auto ones = raycc::Task(Ones).Remote(int64_t{1} << 20);
  std::shared_ptr<std::vector<int64_t>> a = ones.Get(), b = ones.Get();
  EXPECT_EQ(a.get(), b.get());  // one value, shared
  EXPECT_EQ(a->size(), size_t{1} << 20);
  // A task consumes it (its bytes are made outside the runtime lock), and
  // an actor method's result is a value too.
  EXPECT_EQ(*raycc::Task(SumAll).Remote(ones).Get(), int64_t{1} << 20);
  auto counter = raycc::Actor(Counter::Create).Remote(1);
  auto added = counter.Task(&Counter::Add).Remote(2);
  EXPECT_EQ(added.Get().get(), added.Get().get());
  EXPECT_EQ(*added.Get(), 3);
  // A reader asking for another type gets it through the bytes.
  EXPECT_EQ(*raycc::Get(raycc::ObjectRef<int64_t>(added.ID())), 3);
  raycc::Shutdown();
}

TEST(RuntimeObjectsTest, AFinishedTaskPublishesItsResultToTheCallersReference) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  auto ones = raycc::Task(Ones).Remote(int64_t{1} << 10);
  std::shared_ptr<std::vector<int64_t>> got = ones.Get();
  // The submitter's reference holds the very value Get handed out, so a
  // later Get reads it there; only as the result's own type.
  std::shared_ptr<const void> published = ones.handle()->PublishedValue(typeid(std::vector<int64_t>));
  ASSERT_NE(published, nullptr);
  EXPECT_EQ(published.get(), got.get());
  EXPECT_EQ(ones.Get().get(), got.get());
  EXPECT_EQ(ones.handle()->PublishedValue(typeid(std::vector<double>)), nullptr);
  // A reference made from the ID is another handle: never published, read
  // through the runtime, the same value.
  raycc::ObjectRef<std::vector<int64_t>> by_id(ones.ID());
  EXPECT_EQ(by_id.handle()->PublishedValue(typeid(std::vector<int64_t>)), nullptr);
  EXPECT_EQ(by_id.Get().get(), got.get());
  // A failure publishes nothing; Get still throws it, alone or among many.
  auto failed = raycc::Task(Fail).Remote(5);
  EXPECT_THROW(failed.Get(), raycc::TaskError);
  EXPECT_EQ(failed.handle()->PublishedValue(typeid(int)), nullptr);
  auto fine = raycc::Task(Plus).Remote(2, 3);
  EXPECT_EQ(*fine.Get(), 5);
  try {
    raycc::Get(std::vector<raycc::ObjectRef<int>>{fine, failed});
    ADD_FAILURE() << "the failed object must throw";
  } catch (const raycc::TaskError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad input 5"));
  }
  // Retried until it succeeds: the final value is published.
  flaky_calls = 0;
  auto flaky = raycc::Task(Flaky).SetMaxRetries(3).SetRetryExceptions(true).Remote(2);
  EXPECT_EQ(*flaky.Get(), 7);
  EXPECT_NE(flaky.handle()->PublishedValue(typeid(int)), nullptr);
  // A reference dropped before its task finishes: nothing to publish to,
  // and the result is still freed.
  size_t live = Live();
  { auto dropped = raycc::Task(Sleepy).Remote(20); }
  for (int i = 0; i < 500 && Live() != live; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(Live(), live);
  raycc::Shutdown();
}

std::vector<double> Halves(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v) out.push_back(x / 2);
  return out;
}
RAYCC_REMOTE(Halves);

TEST(RuntimeObjectsTest, AResultOfAnotherTypeReachesItsConsumerAsBytes) {
  // Ones returns std::vector<int64_t>: SumAll takes that very type (the
  // value is passed as is); Halves takes std::vector<double> (the bytes are
  // made and converted).
  raycc::Init(raycc::Config{.num_cpus = 2});
  auto ones = raycc::Task(Ones).Remote(int64_t{4});
  EXPECT_EQ(*raycc::Task(SumAll).Remote(ones).Get(), 4);
  raycc::ObjectRef<std::vector<double>> as_doubles(ones.ID());  // (a reader of another type)
  EXPECT_EQ(*raycc::Task(Halves).Remote(as_doubles).Get(), std::vector<double>(4, 0.5));
  raycc::Shutdown();
}

TEST(RuntimeRefCountTest, AnObjectIsFreedWhenItsLastReferenceGoes) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  size_t base = Live();
  {
    auto a = raycc::Put(std::vector<int64_t>(1000, 1));
    auto copy = a;  // copies share one reference
    EXPECT_EQ(Live(), base + 1);
    a = raycc::ObjectRef<std::vector<int64_t>>();
    EXPECT_EQ(Live(), base + 1);  // the copy still holds it
    EXPECT_EQ(*raycc::Task(SumAll).Remote(copy).Get(), 1000);
  }
  EXPECT_EQ(Live(), base);  // the Put object and the task result are gone

  // Dropped before the task that makes it ran: freed once it is done.
  raycc::Task(Sleepy).Remote(50);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Live(), base);

  // An argument dropped by its owner lives until the task using it is done.
  raycc::ObjectRef<int64_t> sum;
  {
    auto slow = raycc::Task(Sleepy).Remote(100);
    auto big = raycc::Put(std::vector<int64_t>(10, 2));
    sum = raycc::Task(SumAll).Remote(big);
  }
  EXPECT_EQ(*sum.Get(), 20);
  sum = raycc::ObjectRef<int64_t>();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Live(), base);

  // Many short-lived results do not accumulate.
  for (int i = 0; i < 1000; ++i) raycc::Task(Plus).Remote(i, 1).Get();
  EXPECT_EQ(Live(), base);
  raycc::Shutdown();
}

TEST(RuntimeRefCountTest, TasksPostedFromManyThreadsAllRunAndAreFreed) {
  // Tasks without ObjectRef arguments are posted without the runtime lock
  // and brought in by whoever takes it next; their references (made after
  // the post) must find them, from any thread, while workers drain.
  raycc::Init(raycc::Config{.num_cpus = 2});
  size_t base = Live();
  std::vector<std::thread> threads;
  std::atomic<int64_t> sum{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<raycc::ObjectRef<int>> kept;
      for (int i = 0; i < 5000; ++i) {
        auto r = raycc::Task(Plus).Remote(i, t);
        if (i % 10 == 0) kept.push_back(r);  // the others are dropped at once
      }
      for (const auto& r : kept) sum += *r.Get();
    });
  }
  for (auto& th : threads) th.join();
  int64_t expected = 0;
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 5000; i += 10) expected += i + t;
  EXPECT_EQ(sum.load(), expected);
  // Every result was dropped: all are freed once their tasks are done.
  for (int tries = 0; tries < 200 && Live() != base; ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(Live(), base);
  raycc::Shutdown();
}

int PlusOneByChild(int x) { return *raycc::Task(Plus).Remote(x, 1).Get(); }
std::mutex failed_mu;
std::set<int> failed_once;
int FailsOnce(int key) {
  std::lock_guard<std::mutex> lock(failed_mu);
  if (failed_once.insert(key).second) throw std::runtime_error("first try");
  return key;
}
RAYCC_REMOTE(PlusOneByChild, FailsOnce);

TEST(RuntimeBatchTest, ShortTasksRunInBatchesThatBlockRetryAndCancelCorrectly) {
  // Thousands of short tasks: once the runtime has seen them run short, a
  // worker claims several at a time. Tasks that block in Get inside a batch
  // (publishing what ran before them, giving back the rest), retries of
  // application errors, and cancellation of queued tasks must all behave as
  // they do one task at a time.
  raycc::Init(raycc::Config{.num_cpus = 2});
  for (int i = 0; i < 200; ++i) raycc::Task(PlusOneByChild).Remote(i).Get();  // (learn: short)
  std::vector<raycc::ObjectRef<int>> blocking;
  for (int i = 0; i < 3000; ++i) blocking.push_back(raycc::Task(PlusOneByChild).Remote(i));
  for (int i = 0; i < 3000; ++i) EXPECT_EQ(*blocking[i].Get(), i + 1);

  std::vector<raycc::ObjectRef<int>> flaky;
  for (int i = 0; i < 3000; ++i)
    flaky.push_back(raycc::Task(FailsOnce).SetMaxRetries(1).SetRetryExceptions(true).Remote(i));
  for (int i = 0; i < 3000; ++i) EXPECT_EQ(*flaky[i].Get(), i);

  std::vector<raycc::ObjectRef<int>> plain;
  for (int i = 0; i < 3000; ++i) plain.push_back(raycc::Task(Plus).Remote(i, i));
  int cancelled = 0;
  for (int i = 2999; i >= 0; i -= 3) cancelled += raycc::Cancel(plain[i]);
  int done = 0, saw_cancelled = 0;
  for (int i = 0; i < 3000; ++i) {
    try {
      EXPECT_EQ(*plain[i].Get(), 2 * i);
      ++done;
    } catch (const raycc::TaskCancelledError&) {
      ++saw_cancelled;
    }
  }
  EXPECT_EQ(saw_cancelled, cancelled);  // exactly those Cancel said it stopped
  EXPECT_EQ(done + saw_cancelled, 3000);
  raycc::Shutdown();
}

// ObjectRefs inside values (Ray's nested references).
std::vector<raycc::ObjectRef<int>> SpawnChildren(int n) {
  std::vector<raycc::ObjectRef<int>> children;
  for (int i = 0; i < n; ++i) children.push_back(raycc::Task(Plus).Remote(i, 100));
  return children;  // not waited for: the caller reads them
}
int SumOfRefs(std::vector<raycc::ObjectRef<int>> refs) {
  int sum = 0;
  for (const auto& r : refs) sum += *r.Get();
  return sum;
}
struct Envelope {
  std::string label;
  raycc::ObjectRef<int> inside;
  MSGPACK_DEFINE(label, inside);
};
int OpenEnvelope(Envelope e) { return *e.inside.Get() + static_cast<int>(e.label.size()); }
RAYCC_REMOTE(SpawnChildren, SumOfRefs, OpenEnvelope);

TEST(RuntimeRefCountTest, RefsInsideValuesKeepTheirObjectsAlive) {
  raycc::Init(raycc::Config{.num_cpus = 1});
  size_t base = Live();
  {
    // A task returns refs to work it started; the caller gets them from it.
    auto outer = raycc::Task(SpawnChildren).Remote(5);
    std::vector<raycc::ObjectRef<int>> children = *outer.Get();
    ASSERT_EQ(children.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(*children[i].Get(), 100 + i);
    // Refs passed inside an argument: the caller drops its own at once; the
    // call (queued behind a sleeper on the only CPU) still finds them.
    auto sleeper = raycc::Task(Sleepy).Remote(100);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // (it holds the CPU now)
    raycc::ObjectRef<int> sum;
    {
      std::vector<raycc::ObjectRef<int>> mine = {raycc::Put(1), raycc::Put(2), raycc::Put(3)};
      sum = raycc::Task(SumOfRefs).Remote(mine);
    }
    Live();  // the dropped references are applied now, before the call runs
    EXPECT_EQ(*sum.Get(), 6);
    // In a user struct (MSGPACK_DEFINE), by value.
    raycc::ObjectRef<int> answer;
    {
      Envelope e{"four", raycc::Put(38)};
      answer = raycc::Task(OpenEnvelope).Remote(e);
    }
    Live();
    EXPECT_EQ(*answer.Get(), 42);
    // Put of a value holding a ref: the inner object lives while it does.
    raycc::ObjectRef<std::vector<raycc::ObjectRef<int>>> boxed;
    {
      auto inner = raycc::Put(7);
      boxed = raycc::Put(std::vector<raycc::ObjectRef<int>>{inner});
    }
    EXPECT_EQ(*(*boxed.Get())[0].Get(), 7);
    EXPECT_EQ(*raycc::Task(SumOfRefs).Remote(boxed).Get(), 7);
    sleeper.Get();
  }
  // Every outer object went, and the inner ones with them.
  for (int tries = 0; tries < 200 && Live() != base; ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(Live(), base);
  raycc::Shutdown();
}

TEST(RuntimeRefCountTest, AReferenceOutlivingItsRuntimeIsHarmless) {
  raycc::Init(raycc::Config{.num_cpus = 1});
  auto kept = raycc::Put(1);
  raycc::Shutdown();
  raycc::Init(raycc::Config{.num_cpus = 1});
  // Put ids restart with the runtime: the new object has the old one's id,
  // so dropping the old reference must not count against it.
  auto fresh = raycc::Put(2);
  ASSERT_EQ(fresh.ID(), kept.ID());
  size_t live = Live();
  kept = raycc::ObjectRef<int>();  // belongs to the old runtime: ignored
  EXPECT_EQ(Live(), live);
  EXPECT_EQ(*fresh.Get(), 2);
  raycc::Shutdown();
}

TEST(RuntimeLifecycleTest, AnUnwritableTimelineFailsAtInit) {
  try {
    raycc::Init(raycc::Config{.timeline_path = "/nonexistent-dir/run.json"});
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot write the timeline to '/nonexistent-dir/run.json'"));
  }
  EXPECT_FALSE(raycc::IsInitialized());
}

}  // namespace
