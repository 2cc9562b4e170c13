#include "raycc/runtime/common/id.h"

#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raycc {
namespace {

using ::testing::HasSubstr;

TEST(IdTest, SizesMatchTheWireContract) {
  EXPECT_EQ(JobId::kSize, 4u);
  EXPECT_EQ(NodeId::kSize, 16u);
  EXPECT_EQ(WorkerId::kSize, 16u);
  EXPECT_EQ(ActorId::kSize, 16u);
  EXPECT_EQ(PlacementGroupId::kSize, 16u);
  EXPECT_EQ(TaskId::kSize, 20u);
  EXPECT_EQ(ObjectId::kSize, 24u);
}

TEST(IdTest, DefaultIsNilAndRandomIsNot) {
  EXPECT_TRUE(NodeId().IsNil());
  EXPECT_TRUE(NodeId::Nil().IsNil());
  EXPECT_EQ(NodeId().Hex(), std::string(32, '0'));
  EXPECT_FALSE(NodeId::FromRandom().IsNil());
}

TEST(IdTest, RandomIdsAreDistinct) {
  absl::flat_hash_set<WorkerId> seen;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(seen.insert(WorkerId::FromRandom()).second);
}

TEST(IdTest, TaskIdsAreDistinctAcrossThreadsAndKeepTheirJob) {
  // Task IDs come from a per-thread stream (a random thread word and a
  // scrambled counter): distinct within and across threads, and their first
  // word (what hash tables use) varies from one to the next.
  JobId job = JobId::FromInt(7);
  std::vector<std::vector<TaskId>> made(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) made[t].push_back(TaskId::Of(job));
    });
  for (auto& th : threads) th.join();
  absl::flat_hash_set<TaskId> seen;
  absl::flat_hash_set<std::string> first_words;
  for (const auto& ids : made) {
    for (const TaskId& id : ids) {
      ASSERT_TRUE(seen.insert(id).second);
      EXPECT_EQ(id.Job(), job);
      first_words.insert(id.Binary().substr(0, 8));
    }
  }
  EXPECT_EQ(first_words.size(), seen.size());
}

TEST(IdTest, BinaryAndHexRoundTrip) {
  NodeId id = NodeId::FromRandom();
  EXPECT_EQ(id.Binary().size(), 16u);
  EXPECT_EQ(*NodeId::FromBinary(id.Binary()), id);
  EXPECT_EQ(id.Hex().size(), 32u);
  EXPECT_EQ(*NodeId::FromHex(id.Hex()), id);
}

TEST(IdTest, HexIsLowerCaseAndParsesEitherCase) {
  auto id = *JobId::FromHex("DEADbeef");
  EXPECT_EQ(id.Hex(), "deadbeef");
  EXPECT_EQ(id.ToInt(), 0xdeadbeefu);
  std::ostringstream os;
  os << id;
  EXPECT_EQ(os.str(), "deadbeef");
}

TEST(IdTest, WrongBinaryLengthIsAClearError) {
  auto bad = ObjectId::FromBinary("short");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("ObjectID must be 24 bytes, got 5"));
  EXPECT_FALSE(TaskId::FromBinary("").ok());
}

TEST(IdTest, BadHexIsAClearError) {
  auto wrong_length = JobId::FromHex("abc");
  ASSERT_FALSE(wrong_length.ok());
  EXPECT_THAT(wrong_length.status().message(), HasSubstr("JobID in hex must be 8 characters, got 3"));
  auto bad_char = JobId::FromHex("0000z000");
  ASSERT_FALSE(bad_char.ok());
  EXPECT_THAT(bad_char.status().message(), HasSubstr("non-hex character at offset 4: 'z'"));
}

TEST(IdTest, JobIdIsBigEndianCounter) {
  JobId job = JobId::FromInt(0x01020304);
  EXPECT_EQ(job.Hex(), "01020304");
  EXPECT_EQ(job.ToInt(), 0x01020304u);
}

TEST(IdTest, ActorPlacementGroupAndTaskIdsEmbedTheirJob) {
  JobId job = JobId::FromInt(7);
  ActorId actor = ActorId::Of(job);
  PlacementGroupId pg = PlacementGroupId::Of(job);
  TaskId task = TaskId::Of(job);
  EXPECT_EQ(actor.Job(), job);
  EXPECT_EQ(pg.Job(), job);
  EXPECT_EQ(task.Job(), job);
  EXPECT_NE(ActorId::Of(job), actor);
  EXPECT_TRUE(actor.Hex().ends_with(job.Hex()));
}

TEST(IdTest, DriverTaskIdIsDeterministicAndNotNil) {
  JobId job = JobId::FromInt(1);
  EXPECT_EQ(TaskId::ForDriver(job), TaskId::ForDriver(job));
  EXPECT_NE(TaskId::ForDriver(job), TaskId::ForDriver(JobId::FromInt(2)));
  EXPECT_FALSE(TaskId::ForDriver(JobId()).IsNil());
  EXPECT_EQ(TaskId::ForDriver(job).Job(), job);
}

TEST(IdTest, ObjectIdsDeriveFromTheirTask) {
  TaskId task = TaskId::Of(JobId::FromInt(3));
  ObjectId ret = *ObjectId::ForReturn(task, 2);
  EXPECT_EQ(ret.Task(), task);
  EXPECT_EQ(ret.Index(), 2u);
  EXPECT_FALSE(ret.IsPut());
  ObjectId put = *ObjectId::ForPut(task, 2);
  EXPECT_EQ(put.Task(), task);
  EXPECT_EQ(put.Index(), 2u);
  EXPECT_TRUE(put.IsPut());
  EXPECT_NE(put, ret);
  // Deterministic: an owner can name a task's returns before it runs.
  EXPECT_EQ(*ObjectId::ForReturn(task, 2), ret);
}

TEST(IdTest, ObjectIndexOutOfRangeIsAnError) {
  TaskId task = TaskId::Of(JobId::FromInt(3));
  EXPECT_FALSE(ObjectId::ForReturn(task, 0).ok());
  EXPECT_FALSE(ObjectId::ForPut(task, ObjectId::kPutBit).ok());
  EXPECT_TRUE(ObjectId::ForPut(task, ObjectId::kMaxIndex).ok());
  EXPECT_THAT(ObjectId::ForReturn(task, 0).status().message(), HasSubstr("return index must be in [1,"));
}

TEST(IdTest, HashingAgreesWithEquality) {
  ObjectId a = *ObjectId::ForReturn(TaskId::Of(JobId::FromInt(1)), 1);
  ObjectId b = *ObjectId::FromBinary(a.Binary());
  EXPECT_EQ(std::hash<ObjectId>{}(a), std::hash<ObjectId>{}(b));
  EXPECT_EQ(absl::Hash<ObjectId>{}(a), absl::Hash<ObjectId>{}(b));
  std::unordered_set<ObjectId> set{a};
  EXPECT_TRUE(set.contains(b));
  // Sibling objects of one task must not collide.
  absl::flat_hash_set<size_t> hashes;
  TaskId task = TaskId::Of(JobId::FromInt(1));
  for (uint32_t i = 1; i <= 1000; ++i) hashes.insert(std::hash<ObjectId>{}(*ObjectId::ForReturn(task, i)));
  EXPECT_EQ(hashes.size(), 1000u);
}

TEST(IdTest, OrderingIsByBytes) {
  EXPECT_LT(*JobId::FromHex("00000001"), *JobId::FromHex("00000002"));
  EXPECT_LT(*JobId::FromHex("000000ff"), *JobId::FromHex("00000100"));
}

}  // namespace
}  // namespace raycc
