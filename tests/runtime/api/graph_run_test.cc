// Graph runs: a compiled batch of plain tasks runs by dataflow in its own
// queue (runtime/embedded/graph_run.cc). These tests submit batches the way the
// plan executor does (RuntimeInterface::SubmitTasks) and check what a plain
// task would promise: values, failures, retries, nested tasks, cancellation,
// priorities, and that nothing is left behind.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "embedded/embedded_runtime.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace {

using raycc::internal::BatchedTask;
using raycc::internal::CallOptions;
using raycc::internal::TaskArgument;
using ::testing::HasSubstr;

int64_t GrAdd(int64_t a, int64_t b) { return a + b; }
int64_t GrThrow(int64_t x) { throw std::runtime_error("no good " + std::to_string(x)); }
std::atomic<int> gr_flaky_calls{0};
int64_t GrFlaky(int64_t fail_times) {
  if (gr_flaky_calls++ < fail_times) throw std::runtime_error("flaky");
  return 7;
}
// Submits `n` children and sums their squares: a nested Get inside a node.
int64_t GrNested(int64_t n) {
  std::vector<raycc::ObjectRef<int64_t>> refs;
  for (int64_t i = 1; i <= n; ++i) refs.push_back(raycc::Task(GrAdd).Remote(i * i, 0));
  int64_t sum = 0;
  for (const auto& v : raycc::Get(refs)) sum += *v;
  return sum;
}
std::mutex gr_order_mu;
std::vector<int64_t> gr_order;
int64_t GrRecord(int64_t x) {
  std::lock_guard<std::mutex> lock(gr_order_mu);
  gr_order.push_back(x);
  return x;
}
// Runs until the test opens the gate or it is cancelled (kPatience at most:
// then it returns -2).
std::atomic<bool> gr_gate_open{false}, gr_gate_started{false}, gr_saw_cancel{false};
int64_t GrGate(int64_t x) {
  gr_gate_started = true;
  if (!raycc_test::Eventually([] { return gr_gate_open || raycc::IsCancelled(); })) return -2;
  if (!gr_gate_open && raycc::IsCancelled()) {
    gr_saw_cancel = true;
    return -1;
  }
  return x;
}
std::atomic<int> gr_ran{0};
int64_t GrCount(int64_t x) {
  ++gr_ran;
  return x;
}
// The runtime the tests run on, as the embedded runtime (its introspection).
raycc::internal::EmbeddedRuntime* Embedded() {
  return dynamic_cast<raycc::internal::EmbeddedRuntime*>(&raycc::internal::CurrentRuntime());
}
std::atomic<raycc::internal::EmbeddedRuntime*> gr_stopping_runtime{nullptr};
std::atomic<bool> gr_until_started{false}, gr_until_saw_stop{false};
// Returns once the runtime has begun to stop (or after 30 s).
int64_t GrUntilStopping(int64_t x) {
  gr_until_started = true;
  gr_until_saw_stop = raycc_test::Eventually([] { return !gr_stopping_runtime.load()->accepting(); });
  return x;
}

// Where it ran, after what it was given ("a:b:...": a chain's path).
std::string GrNode(std::string before) {
  return (before.empty() ? "" : before + ":") + raycc::CurrentNodeName();
}

// Returns x once `gr_barrier_parties` calls are in it at once (-2 after
// kPatience: they never were).
std::atomic<int> gr_barrier_in{0};
int64_t GrBarrier(int64_t x) {
  ++gr_barrier_in;
  return raycc_test::Eventually([] { return gr_barrier_in.load() >= 2; }) ? x : -2;
}

// x plus the values of the refs inside its second argument.
int64_t GrSumInside(int64_t x, std::vector<raycc::ObjectRef<int64_t>> refs) {
  for (const auto& ref : refs) x += *ref.Get();
  return x;
}
// Where it ran, once 2 calls are in it at once ("" after kPatience: they
// never were).
std::string GrBarrierNode(int64_t) {
  ++gr_barrier_in;
  return raycc_test::Eventually([] { return gr_barrier_in.load() >= 2; }) ? raycc::CurrentNodeName() : "";
}
// The GPU devices it holds, once `gr_barrier_parties` calls are in it at
// once (nothing after kPatience: they never were).
std::vector<int64_t> GrGpus(int64_t) {
  ++gr_barrier_in;
  if (!raycc_test::Eventually([] { return gr_barrier_in.load() >= 2; })) return {};
  std::vector<int> ids = raycc::GetGpuIds();
  return std::vector<int64_t>(ids.begin(), ids.end());
}

RAYCC_REMOTE(GrAdd, GrThrow, GrFlaky, GrNested, GrRecord, GrGate, GrCount, GrUntilStopping, GrNode, GrBarrier,
             GrBarrierNode, GrGpus, GrSumInside);

const raycc::internal::RemoteFunction* Fn(const char* name) {
  const auto* f = raycc::internal::RemoteRegistry::Instance().FunctionByName(name);
  EXPECT_NE(f, nullptr) << name;
  return f;
}
TaskArgument Value(int64_t v) { return TaskArgument{false, {}, raycc::Serialize(v)}; }
TaskArgument Earlier(int k) {
  TaskArgument a;
  a.batch_index = k;
  return a;
}
TaskArgument Ref(const raycc::ObjectId& id) {
  TaskArgument a;
  a.by_ref = true;
  a.ref = id;
  return a;
}
std::vector<raycc::ObjectId> Submit(std::vector<BatchedTask> tasks) {
  return raycc::internal::CurrentRuntime().SubmitTasks(std::move(tasks), {});
}
size_t Live() { return raycc::internal::CurrentRuntime().LiveObjects(); }
// What the E that `f` throws says (a failure, and "", when it throws none).
template <typename E, typename F>
std::string Thrown(F&& f, const char* expected) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected " << expected;
  return "";
}

class GraphRunTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { raycc::Init(raycc::Config{.num_cpus = GetParam()}); }
  void TearDown() override {
    gr_gate_open = true;  // (a test that stopped early must not leave a gate held)
    raycc::Shutdown();
  }
  CallOptions options_;
};

TEST_P(GraphRunTest, ALayeredGraphComputesWhatItsTasksDo) {
  // 20 layers of 50: each node adds two nodes of the layer before; only the
  // last layer is read outside the batch (kept), the rest are released.
  size_t base = Live();
  const int width = 50, layers = 20;
  std::vector<BatchedTask> tasks;
  std::vector<std::vector<int64_t>> expect(layers, std::vector<int64_t>(width));
  for (int l = 0; l < layers; ++l)
    for (int i = 0; i < width; ++i) {
      bool kept = l == layers - 1;
      if (l == 0) {
        tasks.push_back({Fn("GrAdd"), {Value(i), Value(1)}, &options_, -1, !kept});
        expect[l][i] = i + 1;
      } else {
        int a = (l - 1) * width + i, b = (l - 1) * width + (i + 7) % width;
        tasks.push_back({Fn("GrAdd"), {Earlier(a), Earlier(b)}, &options_, -1, !kept});
        expect[l][i] = expect[l - 1][i] + expect[l - 1][(i + 7) % width];
      }
    }
  std::vector<raycc::ObjectId> ids = Submit(std::move(tasks));
  {
    std::vector<raycc::ObjectRef<int64_t>> outputs;
    for (int i = 0; i < width; ++i)
      outputs.push_back(raycc::ObjectRef<int64_t>(ids[(layers - 1) * width + i]));
    std::vector<std::shared_ptr<int64_t>> values = raycc::Get(outputs);
    for (int i = 0; i < width; ++i) EXPECT_EQ(*values[i], expect[layers - 1][i]) << i;
  }
  // The released results never were objects; the kept ones go with their refs.
  EXPECT_EQ(Live(), base);
}

TEST_P(GraphRunTest, AnInputFromOutsideIsPinnedForTheRun) {
  size_t base = Live();
  std::vector<raycc::ObjectId> ids;
  {
    raycc::ObjectRef<int64_t> input = raycc::Put(int64_t{40});
    ids = Submit({{Fn("GrAdd"), {Ref(input.ID()), Value(1)}, &options_, -1, true},
                  {Fn("GrAdd"), {Earlier(0), Ref(input.ID())}, &options_, -1, false}});
  }  // (the caller's reference to the input is gone: the run holds it)
  raycc::ObjectRef<int64_t> out(ids[1]);
  EXPECT_EQ(*out.Get(), 81);
  // Its readers are done (the last let go of it as it published): only the
  // output is left, still referenced.
  EXPECT_EQ(Live(), base + 1);
}

TEST_P(GraphRunTest, AFailureReachesEveryReaderWithItsCause) {
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrThrow"), {Value(3)}, &options_, -1, true},
                                             {Fn("GrAdd"), {Earlier(0), Value(1)}, &options_, -1, true},
                                             {Fn("GrAdd"), {Earlier(1), Value(1)}, &options_, -1, false},
                                             {Fn("GrAdd"), {Value(1), Value(1)}, &options_, -1, false}});
  std::string what = Thrown<raycc::TaskError>([&] { raycc::ObjectRef<int64_t>(ids[2]).Get(); }, "TaskError");
  EXPECT_THAT(what, HasSubstr("GrThrow"));
  EXPECT_THAT(what, HasSubstr("no good 3"));
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(ids[3]).Get(), 2);  // (its own inputs are fine)
}

TEST_P(GraphRunTest, RetriesRunAgain) {
  gr_flaky_calls = 0;
  CallOptions retried;
  retried.max_retries = 3;
  retried.retry_exceptions = true;
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrFlaky"), {Value(2)}, &retried, -1, true},
                                             {Fn("GrAdd"), {Earlier(0), Value(1)}, &options_, -1, false}});
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(ids[1]).Get(), 8);
  EXPECT_EQ(gr_flaky_calls.load(), 3);
}

TEST_P(GraphRunTest, ANodeMayRunNestedTasksAndWaitForThem) {
  // With one CPU the node's runner lends it while the node waits.
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrNested"), {Value(10)}, &options_, -1, true},
                                             {Fn("GrNested"), {Value(5)}, &options_, -1, true},
                                             {Fn("GrAdd"), {Earlier(0), Earlier(1)}, &options_, -1, false}});
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(ids[2]).Get(), 385 + 55);
}

TEST_P(GraphRunTest, CancelledOutputsFailAndTheirReadersToo) {
  gr_gate_open = false;
  gr_gate_started = false;
  gr_saw_cancel = false;
  gr_ran = 0;
  // 0 runs (held), 1 waits for it; both are read outside the batch.
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrGate"), {Value(1)}, &options_, -1, false},
                                             {Fn("GrCount"), {Earlier(0)}, &options_, -1, false},
                                             {Fn("GrAdd"), {Earlier(1), Value(1)}, &options_, -1, false}});
  raycc::ObjectRef<int64_t> running(ids[0]), waiting(ids[1]), after(ids[2]);
  ASSERT_TRUE(raycc_test::Eventually([] { return gr_gate_started.load(); })) << "the gate never started";
  // One not started yet: it never runs, and its reader fails.
  EXPECT_TRUE(raycc::Cancel(waiting));
  EXPECT_FALSE(raycc::Cancel(waiting));
  EXPECT_THAT(Thrown<raycc::TaskCancelledError>([&] { waiting.Get(); }, "TaskCancelledError"),
              HasSubstr("was cancelled before it ran"));
  // One running: Get fails at once while it is still held, and it is told.
  EXPECT_TRUE(raycc::Cancel(running));
  EXPECT_THROW(running.Get(), raycc::TaskCancelledError);
  EXPECT_THROW(after.Get(), raycc::TaskCancelledError);
  EXPECT_TRUE(raycc_test::Eventually([] { return gr_saw_cancel.load(); }))
      << "the running node was never told";
  EXPECT_EQ(gr_ran.load(), 0);
  gr_gate_open = true;
}

TEST_P(GraphRunTest, DoneOutputsCannotBeCancelled) {
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrAdd"), {Value(1), Value(2)}, &options_, -1, false},
                                             {Fn("GrAdd"), {Earlier(0), Value(1)}, &options_, -1, false}});
  raycc::ObjectRef<int64_t> out(ids[1]);
  EXPECT_EQ(*out.Get(), 4);
  EXPECT_FALSE(raycc::Cancel(out));
  EXPECT_EQ(*out.Get(), 4);
}

TEST_P(GraphRunTest, AnInputNotReadyYetIsWaitedFor) {
  gr_gate_open = false;
  gr_gate_started = false;
  gr_ran = 0;
  raycc::ObjectRef<int64_t> held = raycc::Task(GrGate).Remote(int64_t{5});
  // Node 0 waits for the held task; node 1 does not, and runs meanwhile.
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrAdd"), {Ref(held.ID()), Value(1)}, &options_, -1, true},
                                             {Fn("GrCount"), {Value(3)}, &options_, -1, false},
                                             {Fn("GrAdd"), {Earlier(0), Earlier(1)}, &options_, -1, false}});
  raycc::ObjectRef<int64_t> last(ids[2]);
  if (GetParam() > 1) {  // (with one CPU the held task has it)
    EXPECT_EQ(*raycc::ObjectRef<int64_t>(ids[1]).Get(), 3);
    EXPECT_THROW(last.Get(/*timeout_ms=*/0), raycc::GetTimeoutError);  // (still waiting)
  }
  gr_gate_open = true;
  EXPECT_EQ(*last.Get(), 9);
}

TEST_P(GraphRunTest, AFailedInputFromOutsideFailsItsReaders) {
  raycc::ObjectRef<int64_t> failed = raycc::Task(GrThrow).Remote(int64_t{8});
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrAdd"), {Ref(failed.ID()), Value(1)}, &options_, -1, true},
                                             {Fn("GrAdd"), {Earlier(0), Value(1)}, &options_, -1, false}});
  EXPECT_THAT(Thrown<raycc::TaskError>([&] { raycc::ObjectRef<int64_t>(ids[1]).Get(); }, "TaskError"),
              HasSubstr("no good 8"));
}

TEST_P(GraphRunTest, AMissingInputIsAnErrorAndNothingRuns) {
  gr_ran = 0;
  size_t base = Live();
  TaskArgument missing = Ref(*raycc::ObjectId::ForPut(raycc::TaskId::Of(raycc::JobId::FromInt(9)), 1));
  std::string what = Thrown<raycc::RayccError>(
      [&] {
        Submit({{Fn("GrCount"), {Value(1)}, &options_, -1, false},
                {Fn("GrAdd"), {missing, Value(1)}, &options_, -1, false}});
      },
      "RayccError");
  EXPECT_THAT(what, HasSubstr("task GrAdd: argument object"));
  EXPECT_THAT(what, HasSubstr("does not exist"));
  EXPECT_EQ(Live(), base);
  EXPECT_EQ(gr_ran.load(), 0);
}

TEST_P(GraphRunTest, ShutdownDuringARunReturns) {
  // Shutdown while a run is in its first node: the node finishes, the
  // runners take no further node, and Shutdown returns (TearDown's Init is
  // a fresh runtime).
  gr_stopping_runtime = Embedded();
  ASSERT_NE(gr_stopping_runtime.load(), nullptr);
  gr_until_started = false;
  gr_until_saw_stop = false;
  gr_ran = 0;
  std::vector<BatchedTask> tasks;
  tasks.push_back({Fn("GrUntilStopping"), {Value(0)}, &options_, -1, true});
  for (int i = 1; i < 2000; ++i)
    tasks.push_back({Fn("GrCount"), {Earlier(i - 1)}, &options_, -1, i + 1 < 2000});
  uint64_t runs = gr_stopping_runtime.load()->graph_runs_started();
  Submit(std::move(tasks));
  EXPECT_EQ(gr_stopping_runtime.load()->graph_runs_started(), runs + 1);  // a graph run, not task by task
  ASSERT_TRUE(raycc_test::Eventually([] { return gr_until_started.load(); }))
      << "the run's first node never started";
  raycc::Shutdown();
  EXPECT_TRUE(gr_until_saw_stop) << "the first node returned before the runtime stopped";
  EXPECT_EQ(gr_ran.load(), 0) << "nodes ran after the runtime began to stop";
  raycc::Init(raycc::Config{.num_cpus = GetParam()});
}

INSTANTIATE_TEST_SUITE_P(ThreadCounts, GraphRunTest, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return "cpus" + std::to_string(info.param); });

TEST(GraphRunOrderTest, ReadyNodesRunByPriorityThenPlanOrder) {
  // One CPU, so one runner: the order is the queue's. A gate holds the
  // runner while every other node becomes ready.
  raycc::Init(raycc::Config{.num_cpus = 1});
  gr_gate_open = false;
  gr_gate_started = false;
  {
    std::lock_guard<std::mutex> lock(gr_order_mu);
    gr_order.clear();
  }
  CallOptions high, low, first;
  high.priority = 5;
  low.priority = 1;
  first.priority = 100;  // the gate goes first
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrGate"), {Value(0)}, &first, -1, true},
                                             {Fn("GrRecord"), {Value(1)}, &low, -1, false},
                                             {Fn("GrRecord"), {Value(2)}, &high, -1, false},
                                             {Fn("GrRecord"), {Value(3)}, &low, -1, false},
                                             {Fn("GrRecord"), {Value(4)}, &high, -1, false},
                                             {Fn("GrRecord"), {Earlier(0)}, &low, -1, false}});
  EXPECT_TRUE(raycc_test::Eventually([] { return gr_gate_started.load(); })) << "the gate never started";
  gr_gate_open = true;
  for (size_t i = 1; i < ids.size(); ++i) raycc::ObjectRef<int64_t>(ids[i]).Get();
  {
    std::lock_guard<std::mutex> lock(gr_order_mu);
    EXPECT_THAT(gr_order, ::testing::ElementsAre(2, 4, 1, 3, 0));
  }
  raycc::Shutdown();
}

int64_t GrSubmitsABatch(int64_t x) {
  // A batch submitted by a task is a graph run too: its nodes are the
  // task's children.
  CallOptions options;
  std::vector<raycc::ObjectId> ids = raycc::internal::CurrentRuntime().SubmitTasks(
      {{Fn("GrAdd"), {Value(x), Value(1)}, &options, -1, true},
       {Fn("GrAdd"), {Earlier(0), Value(1)}, &options, -1, false}},
      {});
  return *raycc::ObjectRef<int64_t>(ids[1]).Get();
}
// Submits a gate and a node reading it, and waits for the second; says
// what its Get threw (then throws it on).
std::mutex gr_threw_mu;
std::string gr_threw;
int64_t GrSubmitsAGatedBatch(int64_t x) {
  CallOptions options;
  std::vector<raycc::ObjectId> ids = raycc::internal::CurrentRuntime().SubmitTasks(
      {{Fn("GrGate"), {Value(x)}, &options, -1, true},
       {Fn("GrAdd"), {Earlier(0), Value(1)}, &options, -1, false}},
      {});
  try {
    return *raycc::ObjectRef<int64_t>(ids[1]).Get();
  } catch (const raycc::TaskCancelledError& e) {
    std::lock_guard<std::mutex> lock(gr_threw_mu);
    gr_threw = e.what();
    throw;
  }
}
RAYCC_REMOTE(GrSubmitsABatch, GrSubmitsAGatedBatch);

TEST(GraphRunOrderTest, ABatchSubmittedInsideATaskWorks) {
  raycc::Init(raycc::Config{.num_cpus = 1});
  const uint64_t runs = Embedded()->graph_runs_started();
  EXPECT_EQ(*raycc::Task(GrSubmitsABatch).Remote(int64_t{3}).Get(), 5);
  EXPECT_EQ(Embedded()->graph_runs_started(), runs + 1) << "a graph run, not task by task";
  raycc::Shutdown();
}

// The nodes of a run a task submitted are its children: Cancel of the task
// reaches them, the running one through IsCancelled and the one waiting
// for it before it runs, as it reaches the tasks it submitted one by one.
TEST(GraphRunOrderTest, ACancelOfATaskReachesTheGraphRunItSubmitted) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  gr_gate_open = false;
  gr_gate_started = false;
  gr_saw_cancel = false;
  const uint64_t runs = Embedded()->graph_runs_started();
  raycc::ObjectRef<int64_t> parent = raycc::Task(GrSubmitsAGatedBatch).Remote(int64_t{5});
  ASSERT_TRUE(raycc_test::Eventually([] { return gr_gate_started.load(); }));
  EXPECT_EQ(Embedded()->graph_runs_started(), runs + 1) << "a graph run, not task by task";
  EXPECT_TRUE(raycc::Cancel(parent));
  EXPECT_TRUE(raycc_test::Eventually([] { return gr_saw_cancel.load(); })) << "the running node was not told";
  EXPECT_THROW(parent.Get(), raycc::TaskCancelledError);
  EXPECT_TRUE(raycc_test::Eventually([] {
    std::lock_guard<std::mutex> lock(gr_threw_mu);
    return !gr_threw.empty();
  })) << "the parent's Get of the node waiting for the gate did not fail";
  {
    std::lock_guard<std::mutex> lock(gr_threw_mu);
    EXPECT_THAT(gr_threw, HasSubstr("was cancelled"));
  }
  gr_gate_open = true;
  raycc::Shutdown();
}

// Busy for `us` microseconds of wall time, then returns `x` plus whether the
// flag was up.
std::atomic<bool> gr_flag{false}, gr_busy_started{false};
int64_t GrBusy(int64_t x, int64_t us) {
  gr_busy_started = true;
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < until) {
  }
  return x + (gr_flag ? 1 : 0);
}
void GrRaiseFlag() { gr_flag = true; }
RAYCC_REMOTE(GrBusy, GrRaiseFlag);

TEST(GraphRunOrderTest, ALongRunLetsOtherTasksIn) {
  // One CPU: a chain of 100 nodes of 300 us each holds the only runner for
  // 30 ms. A task submitted after the run started gets the CPU when the
  // runner's slice (1 ms) is over, so the last node sees its flag.
  raycc::Init(raycc::Config{.num_cpus = 1});
  gr_flag = false;
  gr_busy_started = false;
  CallOptions options;
  std::vector<BatchedTask> tasks;
  for (int i = 0; i < 100; ++i)
    tasks.push_back(
        {Fn("GrBusy"), {i == 0 ? Value(0) : Earlier(i - 1), Value(300)}, &options, -1, i + 1 < 100});
  std::vector<raycc::ObjectId> ids = Submit(std::move(tasks));
  // (Once it runs, the runner holds the CPU: the task cannot run inline.)
  EXPECT_TRUE(raycc_test::Eventually([] { return gr_busy_started.load(); })) << "the run never started";
  // Posted, and waited for without entering the runtime: only the runner
  // can find it there.
  raycc::ObjectRef<void> other = raycc::Task(GrRaiseFlag).Remote();
  EXPECT_TRUE(raycc_test::Eventually([] { return gr_flag.load(); })) << "the other task never ran";
  EXPECT_GE(*raycc::ObjectRef<int64_t>(ids.back()).Get(), 1);
  raycc::Shutdown();
}

TEST(GraphRunOrderTest, ANodeWithoutAWholeCpuIsInfeasible) {
  // The task-by-task path's answer, not a run whose runners never start.
  raycc::Init(raycc::Config{.nodes = {{"gpu-only", {{"GPU", 1}}}}});
  CallOptions options;
  EXPECT_THROW(Submit({{Fn("GrAdd"), {Value(1), Value(2)}, &options, -1, true},
                       {Fn("GrAdd"), {Earlier(0), Value(3)}, &options, -1, false}}),
               raycc::InfeasibleError);
  // And so is a task submitted on its own, which asks for one CPU too.
  std::string what = Thrown<raycc::InfeasibleError>([] { raycc::Task(GrAdd).Remote(int64_t{1}, int64_t{2}); },
                                                    "InfeasibleError");
  EXPECT_THAT(what, HasSubstr("task GrAdd"));
  EXPECT_THAT(what, HasSubstr("CPU"));
  raycc::Shutdown();
}

// A ref inside an argument's value keeps its object alive until the node
// that holds it is done, in a graph run as for a task: the node, held back
// by a gate until the caller has dropped its own ref, still reads it.
TEST(GraphRunOrderTest, ARefInsideAValueIsHeldUntilTheNodeIsDone) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  gr_gate_open = false;
  gr_gate_started = false;
  const size_t live = Live();
  std::optional<raycc::ObjectRef<int64_t>> held = raycc::Put(int64_t{40});
  TaskArgument holding{false, {}, raycc::Serialize(std::vector<raycc::ObjectRef<int64_t>>{*held})};
  holding.contained = {held->ID()};
  CallOptions options;
  const uint64_t runs = Embedded()->graph_runs_started();
  std::vector<raycc::ObjectId> ids =
      Submit({{Fn("GrGate"), {Value(2)}, &options, -1, true},
              {Fn("GrSumInside"), {Earlier(0), holding}, &options, -1, false}});
  EXPECT_EQ(Embedded()->graph_runs_started(), runs + 1) << "one graph run, not task by task";
  ASSERT_TRUE(raycc_test::Eventually([] { return gr_gate_started.load(); }));
  held.reset();  // only the node's argument holds it now
  gr_gate_open = true;
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(ids[1]).Get(60000), 42);
  // Once the node is done, the object goes (and so did the result, with
  // the ref read above).
  EXPECT_TRUE(raycc_test::Eventually([&] { return Live() == live; }))
      << Live() << " live, " << live << " before";
  // A ref inside a value to an object that does not exist is refused
  // before anything runs, as for a task.
  TaskArgument dangling = holding;
  dangling.contained = {*raycc::ObjectId::ForReturn(raycc::TaskId::Of(raycc::JobId::FromInt(99)), 1)};
  const size_t before = Live();
  std::string refused = Thrown<raycc::RayccError>(
      [&] {
        Submit({{Fn("GrAdd"), {Value(1), Value(2)}, &options, -1, true},
                {Fn("GrSumInside"), {Earlier(0), dangling}, &options, -1, false}});
      },
      "RayccError");
  EXPECT_THAT(refused, HasSubstr("task GrSumInside: argument object"));
  EXPECT_THAT(refused, HasSubstr("does not exist"));
  EXPECT_EQ(Live(), before);
  raycc::Shutdown();
}

// Spread keeps the fast path: a spread lane's runners go round robin over
// the nodes, so two spread tasks that run at once run on both nodes, where
// the default policy packs them onto the first (it has room for both).
// (The default first: runners of a run may still hold a CPU for a moment
// after its results are out, which the default policy would count.)
TEST(GraphRunOrderTest, ABatchOfSpreadTasksIsAGraphRunAcrossTheNodes) {
  raycc::Init(raycc::Config{.nodes = {{"a", {{"CPU", 4}}}, {"b", {{"CPU", 4}}}}});
  CallOptions spread, packed;
  spread.spread = true;
  for (const CallOptions* options : {&packed, &spread}) {
    gr_barrier_in = 0;
    const uint64_t runs = Embedded()->graph_runs_started();
    std::vector<raycc::ObjectId> ids = Submit({{Fn("GrBarrierNode"), {Value(1)}, options, -1, false},
                                               {Fn("GrBarrierNode"), {Value(2)}, options, -1, false}});
    std::set<std::string> nodes = {*raycc::ObjectRef<std::string>(ids[0]).Get(60000),
                                   *raycc::ObjectRef<std::string>(ids[1]).Get(60000)};
    EXPECT_EQ(Embedded()->graph_runs_started(), runs + 1) << "one graph run, not task by task";
    if (options == &spread) {
      EXPECT_EQ(nodes, (std::set<std::string>{"a", "b"})) << "spread";
    } else {
      EXPECT_EQ(nodes, (std::set<std::string>{"a"})) << "the default packs (so the spread case can tell)";
    }
  }
  raycc::Shutdown();
}

// GPU tasks keep the fast path: a runner of a GPU lane holds its devices
// while it runs the lane's nodes, so two nodes running at once hold one
// device each, and the devices come back.
TEST(GraphRunOrderTest, ABatchOfGpuTasksIsAGraphRunAndEachNodeHoldsItsDevice) {
  raycc::Init(raycc::Config{.num_cpus = 4, .resources = {{"GPU", 2}}});
  gr_barrier_in = 0;
  CallOptions options;
  const uint64_t runs = Embedded()->graph_runs_started();
  std::vector<raycc::ObjectId> ids = raycc::internal::CurrentRuntime().SubmitTasks(
      {{Fn("GrGpus"), {Value(1)}, &options, 0, false}, {Fn("GrGpus"), {Value(2)}, &options, 0, false}},
      {{{"CPU", 1}, {"GPU", 1}}});
  std::vector<int64_t> a = *raycc::ObjectRef<std::vector<int64_t>>(ids[0]).Get(60000);
  std::vector<int64_t> b = *raycc::ObjectRef<std::vector<int64_t>>(ids[1]).Get(60000);
  EXPECT_EQ(Embedded()->graph_runs_started(), runs + 1) << "one graph run, not task by task";
  ASSERT_EQ(a.size(), 1u) << "the nodes never ran at once, or held no device";
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(std::set<int64_t>({a[0], b[0]}), (std::set<int64_t>{0, 1}));
  // Both devices are free again: a task that takes both runs.
  EXPECT_EQ(
      raycc::Task(GrNode).SetResources({{"CPU", 1}, {"GPU", 2}}).Remote(std::string()).Get(60000)->size(),
      std::string("embedded").size());
  raycc::Shutdown();
}

// Placement keeps the fast path: nodes pinned to a node or asking for
// more than a CPU run as one graph run, each where its options say (a chain
// crosses the lanes), and the resources come back.
TEST(GraphRunOrderTest, ABatchWithPlacementIsAGraphRunAndEachTaskRunsWhereItMust) {
  raycc::Init(raycc::Config{.nodes = {{"a", {{"CPU", 2}}}, {"b", {{"CPU", 3}, {"disk", 2}}}}});
  // A group whose one bundle only b can hold.
  raycc::PlacementGroup group = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}, {"disk", 1}}}});
  ASSERT_TRUE(group.Wait(30000));
  CallOptions on_a, on_b, in_group, anywhere;
  on_a.node_name = "a";
  on_a.node_soft = false;
  on_b.node_name = "b";
  on_b.node_soft = false;
  in_group.placement_group = group.GetID();
  in_group.bundle_index = 0;
  const std::vector<std::vector<std::pair<std::string, double>>> demands = {{{"CPU", 2}},
                                                                            {{"CPU", 1}, {"disk", 1}}};
  auto text = [](const std::string& s) { return TaskArgument{false, {}, raycc::Serialize(s)}; };
  std::vector<BatchedTask> tasks;
  const CallOptions* where[] = {&on_a, &on_b, &on_b, &on_b, &on_a, &anywhere};
  const int demand[] = {-1, -1, 0, 1, 0, -1};  // (two CPUs on a and b; a CPU and the disk, only b has)
  for (int i = 0; i < 6; ++i) {
    // Each one independent, then each after the one before it: a chain
    // through every lane.
    tasks.push_back({Fn("GrNode"), {text("")}, where[i], demand[i], false});
  }
  for (int i = 0; i < 6; ++i) {
    tasks.push_back({Fn("GrNode"), {i == 0 ? text("") : Earlier(6 + i - 1)}, where[i], demand[i], i < 5});
  }
  uint64_t runs = Embedded()->graph_runs_started();
  std::vector<raycc::ObjectId> ids = raycc::internal::CurrentRuntime().SubmitTasks(std::move(tasks), demands);
  EXPECT_EQ(Embedded()->graph_runs_started(), runs + 1) << "one graph run, not task by task";
  const char* expected[] = {"a", "b", "b", "b", "a"};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(*raycc::ObjectRef<std::string>(ids[i]).Get(), expected[i]) << i;
  EXPECT_THAT(*raycc::ObjectRef<std::string>(ids[5]).Get(), ::testing::AnyOf("a", "b"));
  std::string path = *raycc::ObjectRef<std::string>(ids[11]).Get();
  EXPECT_THAT(path, ::testing::StartsWith("a:b:b:b:a:")) << path;
  // A task in a placement group is in a lane of its own, run in its bundle.
  runs = Embedded()->graph_runs_started();
  ids = raycc::internal::CurrentRuntime().SubmitTasks({{Fn("GrNode"), {text("")}, &on_a, -1, false},
                                                       {Fn("GrNode"), {text("")}, &in_group, 1, false},
                                                       {Fn("GrNode"), {Earlier(1)}, &on_a, -1, false}},
                                                      demands);
  EXPECT_EQ(*raycc::ObjectRef<std::string>(ids[1]).Get(), "b") << "in the bundle, which only b holds";
  EXPECT_EQ(*raycc::ObjectRef<std::string>(ids[2]).Get(), "b:a");
  EXPECT_EQ(Embedded()->graph_runs_started(), runs + 1) << "a graph run";
  // Infeasible placement is refused as the task-by-task path refuses it,
  // before anything runs.
  CallOptions nowhere;
  nowhere.node_name = "c";
  nowhere.node_soft = false;
  std::string refused = Thrown<raycc::InfeasibleError>(
      [&] {
        raycc::internal::CurrentRuntime().SubmitTasks(
            {{Fn("GrNode"), {text("")}, &on_a, -1, true}, {Fn("GrNode"), {text("")}, &nowhere, -1, true}},
            {});
      },
      "InfeasibleError");
  EXPECT_THAT(refused, HasSubstr("task GrNode: must run on node 'c', which does not exist"));
  raycc::RemovePlacementGroup(group.GetID());
  // Every runner gave its demand back: both nodes' CPUs are free again (a
  // group of both nodes' CPUs can be reserved).
  raycc::PlacementGroup whole = raycc::CreatePlacementGroup(
      {.bundles = {{{"CPU", 2}}, {{"CPU", 2}}}, .strategy = raycc::PlacementStrategy::kStrictSpread});
  EXPECT_TRUE(whole.Wait(30000));
  raycc::Shutdown();
}

// A run whose lane is in a group not reserved yet when it starts gets the
// runners the group's bundle holds once it is reserved (before, one: there
// was no room to count when the run started): two nodes that must run at
// the same time both finish.
TEST(GraphRunOrderTest, ALaneInAGroupReservedLaterGetsItsRunners) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  gr_gate_open = false;
  gr_gate_started = false;
  gr_barrier_in = 0;
  // Both CPUs are held until the gate opens: the group waits.
  raycc::ObjectRef<int64_t> holder = raycc::Task(GrGate).SetResources({{"CPU", 2}}).Remote(int64_t{4});
  ASSERT_TRUE(raycc_test::Eventually([] { return gr_gate_started.load(); }));
  raycc::PlacementGroup group = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 2}}}});
  EXPECT_FALSE(group.Wait(0));
  CallOptions in_group;
  in_group.placement_group = group.GetID();
  in_group.bundle_index = 0;
  const uint64_t runs = Embedded()->graph_runs_started();
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrBarrier"), {Value(1)}, &in_group, -1, false},
                                             {Fn("GrBarrier"), {Value(2)}, &in_group, -1, false}});
  EXPECT_EQ(Embedded()->graph_runs_started(), runs + 1);
  gr_gate_open = true;  // the CPUs come back: the group is reserved
  EXPECT_EQ(*holder.Get(), 4);
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(ids[0]).Get(), 1) << "both ran at once";
  EXPECT_EQ(*raycc::ObjectRef<int64_t>(ids[1]).Get(), 2);
  raycc::RemovePlacementGroup(group.GetID());
  raycc::Shutdown();
}

// A run's work in a placement group that is not reserved yet waits for it;
// when the group is removed instead, that work fails as the group's queued
// tasks do (and what reads it, with the same cause), the rest of the run
// goes on, and its waiting runners leave nothing held.
TEST(GraphRunOrderTest, WorkInARemovedGroupFailsAndTheRestOfTheRunGoesOn) {
  raycc::Init(raycc::Config{.num_cpus = 2, .resources = {{"slot", 1}}});
  gr_gate_open = false;
  gr_gate_started = false;
  // The slot is held until the gate opens: a group that needs it waits.
  raycc::ObjectRef<int64_t> holder = raycc::Task(GrGate).SetResources({{"slot", 1}}).Remote(int64_t{9});
  ASSERT_TRUE(raycc_test::Eventually([] { return gr_gate_started.load(); }));
  raycc::PlacementGroup group = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}, {"slot", 1}}}});
  EXPECT_FALSE(group.Wait(0)) << "the slot is taken: the group waits";
  CallOptions in_group, anywhere;
  in_group.placement_group = group.GetID();
  in_group.bundle_index = 0;
  const uint64_t runs = Embedded()->graph_runs_started();
  std::vector<raycc::ObjectId> ids = Submit({{Fn("GrAdd"), {Value(1), Value(2)}, &in_group, -1, false},
                                             {Fn("GrAdd"), {Earlier(0), Value(1)}, &anywhere, -1, false},
                                             {Fn("GrAdd"), {Value(5), Value(5)}, &anywhere, -1, false}});
  EXPECT_EQ(Embedded()->graph_runs_started(), runs + 1) << "one graph run";
  std::vector<raycc::ObjectRef<int64_t>> refs;
  for (const raycc::ObjectId& id : ids) refs.emplace_back(id);
  EXPECT_EQ(*refs[2].Get(), 10) << "the run's other work goes on";
  // Runs in a group that is reserved come and go; those that ended are
  // forgotten (the list of runs to fail on a removal stays short).
  {
    raycc::PlacementGroup ready = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}}});
    ASSERT_TRUE(ready.Wait(30000));
    CallOptions in_ready;
    in_ready.placement_group = ready.GetID();
    in_ready.bundle_index = 0;
    for (int i = 0; i < 200; ++i) {
      std::vector<raycc::ObjectId> run =
          Submit({{Fn("GrAdd"), {Value(i), Value(1)}, &in_ready, -1, true},
                  {Fn("GrAdd"), {Earlier(0), Value(1)}, &in_ready, -1, false}});
      ASSERT_EQ(*raycc::ObjectRef<int64_t>(run[1]).Get(), i + 2);
    }
    EXPECT_LE(Embedded()->group_runs_held(), 40u) << "ended runs are pruned";
    raycc::RemovePlacementGroup(ready.GetID());
  }
  raycc::RemovePlacementGroup(group.GetID());
  for (int i : {0, 1}) {
    // (Bounded: before, the work waited for the removed group forever.)
    std::string why = Thrown<raycc::TaskCancelledError>([&] { refs[i].Get(30000); }, "TaskCancelledError");
    EXPECT_THAT(why, HasSubstr("task GrAdd did not run: its placement group was removed")) << i;
  }
  gr_gate_open = true;
  EXPECT_EQ(*holder.Get(), 9);
  // Nothing is held: both CPUs and the slot can be reserved again.
  raycc::PlacementGroup whole = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 2}, {"slot", 1}}}});
  EXPECT_TRUE(whole.Wait(30000));
  raycc::Shutdown();
}

}  // namespace
