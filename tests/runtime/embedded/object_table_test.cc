// The embedded runtime's object table: when an object is freed (and when it
// is not), reference events posted before their object exists, pins that
// fail whole, and what a freed object held being destroyed only at Flush.

#include "embedded/object_table.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace raycc::internal::embedded {
namespace {

ObjectId Id(uint32_t n) { return *ObjectId::ForPut(TaskId::ForDriver(JobId::FromInt(1)), n); }

// A value whose destruction is seen.
std::shared_ptr<const void> Watched(bool* destroyed) {
  return std::shared_ptr<const void>(new int(7), [destroyed](const void* p) {
    *destroyed = true;
    delete static_cast<const int*>(p);
  });
}

// An object as a Put makes it: ready, holding `value`, its creator's one
// reference counted.
Object& Put(ObjectTable& table, const ObjectId& id, std::shared_ptr<const void> value = nullptr) {
  Object& o = table[id];
  o.ready = true;
  o.value = std::move(value);
  ObjectTable::CountCallerRef(o);
  return o;
}

TaskArgument ByRef(const ObjectId& id) {
  TaskArgument arg;
  arg.by_ref = true;
  arg.ref = id;
  return arg;
}

TaskArgument Containing(const ObjectId& id) {
  TaskArgument arg;
  arg.contained.push_back(id);
  return arg;
}

class ObjectTableTest : public ::testing::Test {
 protected:
  void TearDown() override { garbage.Flush(); }
  std::vector<ObjectId> made_by_bring_in_;
  int bring_ins_ = 0;
  ObjectTable table_{[this] {
    ++bring_ins_;
    for (const ObjectId& id : made_by_bring_in_) Put(table_, id);
    made_by_bring_in_.clear();
  }};
};

TEST_F(ObjectTableTest, TheLastReferenceFreesAReadyObjectAndItsValueGoesAtFlush) {
  bool destroyed = false;
  Put(table_, Id(1), Watched(&destroyed));
  table_.PostRef(Id(1), +1);  // a second handle
  table_.PostRef(Id(1), -1);
  EXPECT_TRUE(table_.RefEventsPending());
  table_.DrainRefEvents();
  EXPECT_FALSE(table_.RefEventsPending());
  EXPECT_TRUE(table_.contains(Id(1)));  // the creator's reference is left
  table_.PostRef(Id(1), -1);
  table_.DrainRefEvents();
  EXPECT_FALSE(table_.contains(Id(1)));
  EXPECT_EQ(table_.size(), 0u);
  // Destroyed outside the owner's lock: when the thread flushes its garbage.
  EXPECT_FALSE(destroyed);
  ASSERT_EQ(garbage.objects.size(), 1u);
  garbage.Flush();
  EXPECT_TRUE(destroyed);
}

TEST_F(ObjectTableTest, AnObjectStaysWhileItIsPendingPinnedWaitedForOrNeverReferenced) {
  // Never referenced (a batch result nobody named yet): stays.
  Object& batch_result = table_[Id(1)];
  batch_result.ready = true;
  table_.MaybeFree(Id(1), &batch_result);
  EXPECT_TRUE(table_.contains(Id(1)));

  // No reference left, but not ready (its task is pending): stays until it is.
  Object& pending = table_[Id(2)];
  ObjectTable::CountCallerRef(pending);
  table_.PostRef(Id(2), -1);
  table_.DrainRefEvents();
  EXPECT_TRUE(table_.contains(Id(2)));
  table_[Id(2)].ready = true;
  table_.MaybeFree(Id(2));
  EXPECT_FALSE(table_.contains(Id(2)));

  // Pinned by a task that takes it: stays until the task unpins it.
  Put(table_, Id(3));
  ASSERT_EQ(table_.PinArgs({ByRef(Id(3))}), std::nullopt);
  table_.PostRef(Id(3), -1);
  table_.DrainRefEvents();
  EXPECT_TRUE(table_.contains(Id(3)));
  table_.UnpinArgs({ByRef(Id(3))});
  EXPECT_FALSE(table_.contains(Id(3)));

  // A task still waits for it (a dependent): not unused.
  Object& waited = Put(table_, Id(4));
  waited.dependents.push_back(nullptr);
  waited.refs = 0;
  EXPECT_FALSE(ObjectTable::Unused(waited));
  waited.dependents.clear();
  EXPECT_TRUE(ObjectTable::Unused(waited));
}

TEST_F(ObjectTableTest, AnEventPostedBeforeItsObjectExistsIsAppliedAfterBringIn) {
  // A driver posts a task (not brought in yet) and drops the ObjectRef to
  // its result at once: the drop must not be lost, nor applied to nothing.
  table_.PostRef(Id(5), -1);
  made_by_bring_in_.push_back(Id(5));
  table_.DrainRefEvents();
  EXPECT_EQ(bring_ins_, 1);
  EXPECT_FALSE(table_.contains(Id(5)));  // made with one reference, then dropped
  // An event for an id nobody makes is ignored.
  table_.PostRef(Id(6), -1);
  table_.DrainRefEvents();
  EXPECT_EQ(bring_ins_, 2);
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(ObjectTableTest, APinWithAMissingObjectPinsNothingAndNamesIt) {
  Put(table_, Id(1));
  Put(table_, Id(2));
  // The missing one taken by reference.
  EXPECT_EQ(table_.PinArgs({ByRef(Id(1)), Containing(Id(2)), ByRef(Id(9))}), Id(9));
  // The missing one inside a value.
  EXPECT_EQ(table_.PinArgs({ByRef(Id(1)), Containing(Id(8)), Containing(Id(2))}), Id(8));
  EXPECT_EQ(table_.PinContained({Containing(Id(2)), Containing(Id(7))}), Id(7));
  EXPECT_EQ(table_[Id(1)].uses, 0);
  EXPECT_EQ(table_[Id(2)].uses, 0);
  // A good one pins each object once per mention, and unpinning gives back
  // exactly that.
  std::vector<TaskArgument> args = {ByRef(Id(1)), Containing(Id(2)), ByRef(Id(2))};
  ASSERT_EQ(table_.PinArgs(args), std::nullopt);
  EXPECT_EQ(table_[Id(1)].uses, 1);
  EXPECT_EQ(table_[Id(2)].uses, 2);
  table_.UnpinArgs(args);
  EXPECT_EQ(table_[Id(1)].uses, 0);
  EXPECT_EQ(table_[Id(2)].uses, 0);
}

TEST_F(ObjectTableTest, UnpinningAValueCountsTheReferencesPostedMeanwhileFirst) {
  // A call's argument value mentions Id(1); the caller's handle was dropped
  // while the call ran (posted, not applied). Unpinning applies the drop
  // first, so the object goes now, not at some later drain.
  Put(table_, Id(1));
  TaskArgument arg = Containing(Id(1));
  ASSERT_EQ(table_.PinContained({arg}), std::nullopt);
  table_.PostRef(Id(1), -1);
  table_.UnpinContained(arg);
  EXPECT_FALSE(table_.contains(Id(1)));
  // Unpinning what is gone already is harmless.
  table_.UnpinArgs({ByRef(Id(1)), arg});
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(ObjectTableTest, BurstsOfPutsAndDropsLeaveNothingBehind) {
  // Each round frees all it made, and parks each value once for Flush.
  for (int round = 0; round < 3; ++round) {
    for (uint32_t i = 1; i <= 1000; ++i) Put(table_, Id(i));
    for (uint32_t i = 1; i <= 1000; ++i) table_.PostRef(Id(i), -1);
    table_.DrainRefEvents();
    EXPECT_EQ(table_.size(), 0u);
    EXPECT_EQ(garbage.objects.size(), 1000u);
    garbage.Flush();
  }
}

}  // namespace
}  // namespace raycc::internal::embedded
