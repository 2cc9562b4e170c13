// Cancellation: a task that has not started never runs (nor do its
// dependents); a running task and its children are told, and their CPUs
// serve new work once they return.

#include <atomic>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

using ::testing::HasSubstr;

std::atomic<int> saw_cancel{0};
Event patient_started;
// Checks for cancellation until it comes (kPatience at most): -1 once
// cancelled, else `value`.
int Patient(int value) {
  patient_started.Set();
  if (!Eventually([] { return raycc::IsCancelled(); })) return value;
  ++saw_cancel;
  return -1;
}
// Starts a patient child and waits for it.
int PatientParent(int value) { return *raycc::Task(Patient).Remote(value).Get(); }
// Ignores everything until released, then reports whether it was cancelled.
Event stubborn_started, release_stubborn;
int Stubborn() {
  stubborn_started.Set();
  release_stubborn.WaitFor();
  if (raycc::IsCancelled()) ++saw_cancel;
  return 1;
}
RAYCC_REMOTE(Patient, PatientParent, Stubborn);

TEST_P(RuntimeApiTest, CancelStopsTasksThatHaveNotStarted) {
  // Occupy every CPU (until released), then queue one more: it cannot have
  // started.
  held_tasks.Reset();
  std::vector<raycc::ObjectRef<int>> busy;
  for (int i = 0; i < GetParam(); ++i) busy.push_back(raycc::Task(Held).Remote(200));
  ASSERT_TRUE(Eventually([&] { return held_tasks.started == GetParam(); })) << "not every CPU got busy";
  auto queued = raycc::Task(Plus).Remote(1, 2);
  auto waiting = raycc::Task(Plus).Remote(queued, 1);  // also waits for its argument
  EXPECT_TRUE(raycc::Cancel(waiting));
  EXPECT_TRUE(raycc::Cancel(queued));
  EXPECT_FALSE(raycc::Cancel(queued));  // once
  EXPECT_THROW(raycc::Get(queued), raycc::TaskCancelledError);
  EXPECT_THROW(raycc::Get(waiting), raycc::TaskCancelledError);
  held_tasks.release.Set();
  for (const auto& b : busy) EXPECT_EQ(*raycc::Get(b), 200);
  // A finished task cannot be cancelled; its value stays.
  EXPECT_FALSE(raycc::Cancel(busy[0]));
  EXPECT_EQ(*raycc::Get(busy[0]), 200);
  // Dependents of a cancelled task fail too.
  auto late = raycc::Task(Plus).Remote(queued, 5);
  EXPECT_THROW(raycc::Get(late), raycc::TaskCancelledError);
}

TEST_P(RuntimeApiTest, CancelTellsARunningTaskAndItsChildren) {
  saw_cancel = 0;
  release_stubborn.Reset();
  stubborn_started.Reset();
  patient_started.Reset();
  EXPECT_FALSE(raycc::IsCancelled());  // (outside any task)
  auto running = raycc::Task(Stubborn).Remote();
  auto dependent = raycc::Task(Plus).Remote(running, 1);
  ASSERT_TRUE(stubborn_started.WaitFor()) << "the task never started";  // it runs now
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
  release_stubborn.Set();
  // Recursive: the parent's child (which it waits for) is cancelled too.
  auto parent = raycc::Task(PatientParent).Remote(1);
  ASSERT_TRUE(patient_started.WaitFor()) << "the child never started";  // the child runs
  EXPECT_TRUE(raycc::Cancel(parent));
  EXPECT_THROW(raycc::Get(parent), raycc::TaskCancelledError);
  // Both running tasks saw it and returned; their CPUs serve new work.
  EXPECT_TRUE(Eventually([] { return saw_cancel >= 2; })) << "a running task was never told";
  EXPECT_EQ(saw_cancel.load(), 2);
  std::vector<raycc::ObjectRef<int>> after;
  for (int i = 0; i < GetParam(); ++i) after.push_back(raycc::Task(Plus).Remote(i, 1));
  for (int i = 0; i < GetParam(); ++i) EXPECT_EQ(*after[i].Get(), i + 1);
}

}  // namespace
}  // namespace raycc_test
