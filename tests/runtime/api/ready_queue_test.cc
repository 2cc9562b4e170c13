#include "embedded/ready_queue.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace raycc::internal {
namespace {

struct Item {
  int64_t priority;
  uint64_t sequence;
};

std::shared_ptr<Item> Make(int64_t priority, uint64_t sequence) {
  return std::make_shared<Item>(Item{priority, sequence});
}

// Pops everything: (priority, sequence) in the order the queue gives.
std::vector<std::pair<int64_t, uint64_t>> Drain(ReadyQueue<Item>& q) {
  std::vector<std::pair<int64_t, uint64_t>> out;
  while (!q.empty()) {
    std::shared_ptr<Item> item = q.PopFront();
    out.emplace_back(item->priority, item->sequence);
  }
  return out;
}

TEST(ReadyQueueTest, HigherPriorityFirstThenSubmissionOrder) {
  ReadyQueue<Item> q;
  q.Push(Make(0, 1));
  q.Push(Make(5, 2));
  q.Push(Make(0, 3));
  q.Push(Make(-1, 4));
  q.Push(Make(5, 5));
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(Drain(q), (std::vector<std::pair<int64_t, uint64_t>>{{5, 2}, {5, 5}, {0, 1}, {0, 3}, {-1, 4}}));
}

TEST(ReadyQueueTest, AnItemPutBackGoesWhereItsSequenceSays) {
  ReadyQueue<Item> q;
  std::vector<std::shared_ptr<Item>> items;
  for (uint64_t s = 0; s < 10; ++s) items.push_back(Make(0, s));
  for (uint64_t s = 2; s < 10; s += 2) q.Push(items[s]);  // 2 4 6 8
  q.Push(items[0]);                                       // before all
  q.Push(items[5]);                                       // in the middle
  q.Push(items[9]);                                       // after all
  EXPECT_EQ(Drain(q), (std::vector<std::pair<int64_t, uint64_t>>{
                          {0, 0}, {0, 2}, {0, 4}, {0, 5}, {0, 6}, {0, 8}, {0, 9}}));
}

TEST(ReadyQueueTest, RemoveFromAnywhereAndPutBackInTheSamePlace) {
  ReadyQueue<Item> q;
  std::vector<std::shared_ptr<Item>> items;
  for (uint64_t s = 0; s < 6; ++s) {
    items.push_back(Make(0, s));
    q.Push(items[s]);
  }
  EXPECT_TRUE(q.Contains(*items[3]));
  EXPECT_TRUE(q.Remove(*items[3]));  // the middle: an empty place is left
  EXPECT_FALSE(q.Contains(*items[3]));
  EXPECT_FALSE(q.Remove(*items[3]));
  EXPECT_TRUE(q.Remove(*items[0]));  // the front
  EXPECT_TRUE(q.Remove(*items[5]));  // the back
  EXPECT_EQ(q.size(), 3u);
  EXPECT_FALSE(q.Remove(*Make(0, 1)));  // the same key, another item
  EXPECT_FALSE(q.Remove(*Make(7, 1)));  // a priority with no queue
  q.Push(items[3]);                     // (a retry keeps its sequence)
  EXPECT_EQ(Drain(q), (std::vector<std::pair<int64_t, uint64_t>>{{0, 1}, {0, 2}, {0, 3}, {0, 4}}));
}

TEST(ReadyQueueTest, TakeFirstSkipsWhatItRefuses) {
  ReadyQueue<Item> q;
  for (uint64_t s = 0; s < 5; ++s) q.Push(Make(s == 4 ? 1 : 0, s));
  // The first item with an odd sequence, in order: 1 (4 comes first, but is even).
  std::shared_ptr<Item> odd = q.TakeFirst([](const Item& i) { return i.sequence % 2 == 1; });
  ASSERT_NE(odd, nullptr);
  EXPECT_EQ(odd->sequence, 1u);
  EXPECT_EQ(q.TakeFirst([](const Item& i) { return i.sequence > 100; }), nullptr);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.Front()->sequence, 4u);
  EXPECT_EQ(Drain(q), (std::vector<std::pair<int64_t, uint64_t>>{{1, 4}, {0, 0}, {0, 2}, {0, 3}}));
}

}  // namespace
}  // namespace raycc::internal
