// Reference counting: an object is freed when its last reference goes (and
// not before the tasks using it are done), from any thread, through refs
// inside values, and a reference outliving its runtime is harmless.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

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

  // Dropped before the task that makes it is done: freed once it is.
  held_tasks.Reset();
  raycc::Task(Held).Remote(50);
  held_tasks.release.Set();
  EXPECT_TRUE(Eventually([] { return held_tasks.finished == 1; })) << "the held task never finished";
  EXPECT_TRUE(Eventually([&] { return Live() == base; })) << Live() << " objects live, " << base << " before";

  // An argument dropped by its owner lives until the task using it is done
  // (both CPUs are held, so the task cannot have run when it is dropped).
  raycc::ObjectRef<int64_t> sum;
  held_tasks.Reset();
  {
    std::vector<raycc::ObjectRef<int>> holders;
    for (int i = 0; i < 2; ++i) holders.push_back(raycc::Task(Held).Remote(i));
    EXPECT_TRUE(Eventually([] { return held_tasks.started == 2; })) << "the holders never started";
    auto big = raycc::Put(std::vector<int64_t>(10, 2));
    sum = raycc::Task(SumAll).Remote(big);
  }
  Live();  // (the dropped references are applied now, before the task runs)
  held_tasks.release.Set();
  EXPECT_EQ(*sum.Get(), 20);
  sum = raycc::ObjectRef<int64_t>();
  EXPECT_TRUE(Eventually([] { return held_tasks.finished == 2; })) << "the holders never finished";
  EXPECT_TRUE(Eventually([&] { return Live() == base; })) << Live() << " objects live, " << base << " before";

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
  EXPECT_TRUE(Eventually([&] { return Live() == base; })) << Live() << " objects live, " << base << " before";
  raycc::Shutdown();
}

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
    // calls (queued behind a held task on the only CPU) still find them.
    held_tasks.Reset();
    auto holder = raycc::Task(Held).Remote(0);
    EXPECT_TRUE(Eventually([] { return held_tasks.started == 1; })) << "the holder never started";
    raycc::ObjectRef<int> sum;
    {
      std::vector<raycc::ObjectRef<int>> mine = {raycc::Put(1), raycc::Put(2), raycc::Put(3)};
      sum = raycc::Task(SumOfRefs).Remote(mine);
    }
    Live();  // the dropped references are applied now, before the call runs
    // In a user struct (MSGPACK_DEFINE), by value.
    raycc::ObjectRef<int> answer;
    {
      Envelope e{"four", raycc::Put(38)};
      answer = raycc::Task(OpenEnvelope).Remote(e);
    }
    Live();
    held_tasks.release.Set();
    EXPECT_EQ(*sum.Get(), 6);
    EXPECT_EQ(*answer.Get(), 42);
    // Put of a value holding a ref: the inner object lives while it does.
    raycc::ObjectRef<std::vector<raycc::ObjectRef<int>>> boxed;
    {
      auto inner = raycc::Put(7);
      boxed = raycc::Put(std::vector<raycc::ObjectRef<int>>{inner});
    }
    EXPECT_EQ(*(*boxed.Get())[0].Get(), 7);
    EXPECT_EQ(*raycc::Task(SumOfRefs).Remote(boxed).Get(), 7);
    EXPECT_EQ(*holder.Get(), 0);
  }
  // Every outer object went, and the inner ones with them.
  EXPECT_TRUE(Eventually([&] { return Live() == base; })) << Live() << " objects live, " << base << " before";
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

}  // namespace
}  // namespace raycc_test
