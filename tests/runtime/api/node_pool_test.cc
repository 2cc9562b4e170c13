#include "embedded/node_pool.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "gtest/gtest.h"

namespace raycc::internal {
namespace {

TEST(NodePoolTest, ReusesFreedBlocksLastInFirstOut) {
  NodePool pool(64, /*max_free=*/8);
  void* a = pool.Take();
  void* b = pool.Take();
  EXPECT_NE(a, b);
  pool.Give(a);
  pool.Give(b);
  EXPECT_EQ(pool.free_count(), 2u);
  EXPECT_EQ(pool.Take(), b);
  EXPECT_EQ(pool.Take(), a);
  EXPECT_EQ(pool.free_count(), 0u);
  pool.Give(a);
  pool.Give(b);
}

TEST(NodePoolTest, KeepsAtMostItsCap) {
  NodePool pool(32, /*max_free=*/3);
  std::vector<void*> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(pool.Take());
  for (void* p : blocks) pool.Give(p);  // the rest go back to the heap
  EXPECT_EQ(pool.free_count(), 3u);
}

using Node = std::pair<const int, std::string>;
using PooledMap =
    absl::node_hash_map<int, std::string, absl::Hash<int>, std::equal_to<int>, NodePoolAllocator<Node, Node>>;

TEST(NodePoolTest, AMapOnThePoolKeepsItsValuesAndReusesNodes) {
  NodePool pool(sizeof(Node), /*max_free=*/1 << 10);
  {
    PooledMap map{PooledMap::allocator_type(&pool)};
    for (int i = 0; i < 1000; ++i)
      map[i] = std::string(40, static_cast<char>('a' + i % 26));  // (heap strings)
    for (int i = 0; i < 1000; i += 2) map.erase(i);
    EXPECT_EQ(pool.free_count(), 500u);  // the erased nodes, and nothing else
    const std::string* kept = &map.at(1);
    for (int i = 1000; i < 1500; ++i) map[i] = "x";
    EXPECT_EQ(pool.free_count(), 0u);  // reused before the heap
    EXPECT_EQ(&map.at(1), kept);       // nodes stay put while the map grows
    ASSERT_EQ(map.size(), 1000u);
    for (int i = 1; i < 1000; i += 2) EXPECT_EQ(map.at(i), std::string(40, static_cast<char>('a' + i % 26)));
  }
  EXPECT_EQ(pool.free_count(), 1000u);  // the map's end gave every node back
}

}  // namespace
}  // namespace raycc::internal
