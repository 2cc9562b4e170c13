// Nested tasks: parents that block in Get do not starve the pool, and Get
// runs a ready task on the caller's thread.

#include <cstdint>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

// Fans out `n` Square tasks from inside a task and sums them; every parent
// blocks in Get, which must not starve the pool.
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
std::string ThreadOf() {
  std::ostringstream id;
  id << std::this_thread::get_id();
  return id.str();
}
std::string ParentAndChildThreads() { return ThreadOf() + " " + *raycc::Task(ThreadOf).Remote().Get(); }
RAYCC_REMOTE(SumOfSquares, Tree, ThreadOf, ParentAndChildThreads);

TEST_P(RuntimeApiTest, NestedFanOutDoesNotDeadlock) {
  // More blocked parents than CPUs: each gives its CPU back while waiting.
  std::vector<raycc::ObjectRef<int64_t>> parents;
  for (int i = 0; i < 8; ++i) parents.push_back(raycc::Task(SumOfSquares).Remote(int64_t{10}));
  for (const auto& v : raycc::Get(parents)) EXPECT_EQ(*v, 385);
  EXPECT_EQ(*raycc::Task(Tree).Remote(int64_t{6}).Get(), 64);
}

TEST(RuntimeInlineTest, GetRunsAReadyTaskOnTheCallersThread) {
  raycc::Init(raycc::Config{.num_cpus = 1});
  // A child the parent waits for runs on the parent's thread: the parent
  // lends it its CPU, and no other thread exists to take it.
  std::string both = *raycc::Task(ParentAndChildThreads).Remote().Get();
  std::string parent = both.substr(0, both.find(' '));
  EXPECT_EQ(both, parent + " " + parent);
  // Nothing else could run it either (the one CPU is taken): the driver's
  // Get runs a resource-free task itself instead of waiting forever.
  held_tasks.Reset();
  auto hold = raycc::Task(Held).Remote(300);
  EXPECT_TRUE(Eventually([] { return held_tasks.started == 1; })) << "the holder never started";
  EXPECT_EQ(*raycc::Task(ThreadOf).SetResources({}).Remote().Get(), ThreadOf());
  held_tasks.release.Set();
  EXPECT_EQ(*hold.Get(), 300);
  raycc::Shutdown();
}

}  // namespace
}  // namespace raycc_test
