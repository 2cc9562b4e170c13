// Batches (RuntimeInterface::SubmitTasks, as compiled plans submit them):
// wired and checked whole before anything runs, released results freed as
// soon as their users are done, and short tasks claimed several at a time
// that still block, retry and cancel as they do one at a time.

#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

using ::testing::HasSubstr;

int PlusOneByChild(int x) { return *raycc::Task(Plus).Remote(x, 1).Get(); }
std::mutex failed_mu;
std::set<int> failed_once;
int FailsOnce(int key) {
  std::lock_guard<std::mutex> lock(failed_mu);
  if (failed_once.insert(key).second) throw std::runtime_error("first try");
  return key;
}
RAYCC_REMOTE(PlusOneByChild, FailsOnce);

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

}  // namespace
}  // namespace raycc_test
