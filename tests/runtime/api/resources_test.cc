// Resources: what a task demands is checked and counted, and placement
// groups reserve bundles, run their tasks, and fail what is queued in them
// when they are removed.

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

using ::testing::HasSubstr;

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

TEST_P(RuntimeApiTest, PlacementGroupsAreListedWithWhatTheyHoldAndTheirState) {
  raycc::PlacementGroup pg =
      raycc::CreatePlacementGroup({.bundles = {{{"custom", 1}}, {{"CPU", 0.5}, {"custom", 1}}},
                                   .strategy = raycc::PlacementStrategy::kSpread,
                                   .name = "listed"});
  ASSERT_TRUE(pg.Wait(10));
  auto find = [&] {
    for (const raycc::PlacementGroupInfo& info : raycc::ListPlacementGroups())
      if (info.id == pg.GetID()) return info;
    return raycc::PlacementGroupInfo{};
  };
  raycc::PlacementGroupInfo info = find();
  ASSERT_EQ(info.id, pg.GetID());
  EXPECT_EQ(info.name, "listed");
  EXPECT_EQ(info.strategy, raycc::internal::PlacementGroupStrategy::kSpread);
  EXPECT_EQ(info.state, raycc::PlacementGroupInfo::State::kCreated);
  ASSERT_EQ(info.bundles.size(), 2u);
  EXPECT_THAT(info.bundles[1], ::testing::UnorderedElementsAre(std::pair<std::string, double>("CPU", 0.5),
                                                               std::pair<std::string, double>("custom", 1)));
  raycc::RemovePlacementGroup(pg.GetID());
  EXPECT_EQ(find().state, raycc::PlacementGroupInfo::State::kRemoved);
}

TEST_P(RuntimeApiTest, PlacementGroupMisuseAndInfeasibility) {
  raycc::PlacementGroup pg = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}}});
  EXPECT_THROW(raycc::Task(Plus).SetPlacementGroup(pg, 1), raycc::RayccError);  // index out of range
  try {
    raycc::Task(Plus).SetResources({{"CPU", 1}, {"custom", 1}}).SetPlacementGroup(pg, 0).Remote(1, 1);
    FAIL() << "expected InfeasibleError";
  } catch (const raycc::InfeasibleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("more than bundle 0 of its placement group holds"));
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
  // Work still queued in a removed group fails instead of waiting forever;
  // the one task that had started (it holds the bundle's CPU) finishes.
  held_tasks.Reset();
  std::vector<raycc::ObjectRef<int>> busy;
  for (int i = 0; i < 3; ++i) busy.push_back(raycc::Task(Held).SetPlacementGroup(pg, 0).Remote(100));
  ASSERT_TRUE(Eventually([] { return held_tasks.started == 1; })) << "no task of the group started";
  raycc::RemovePlacementGroup(pg.GetID());
  held_tasks.release.Set();
  int failed = 0;
  for (const auto& b : busy) {
    try {
      EXPECT_EQ(*raycc::Get(b), 100);
    } catch (const raycc::TaskCancelledError& e) {
      EXPECT_THAT(e.what(), HasSubstr("its placement group was removed"));
      ++failed;
    }
  }
  EXPECT_EQ(failed, 2);  // all but the one that had started
  EXPECT_EQ(held_tasks.started.load(), 1);
  // Queued work in a group where one task waits for another: both fail with
  // the group's removal, once each, and nothing is left behind.
  size_t base = raycc::internal::CurrentRuntime().LiveObjects();
  {
    raycc::PlacementGroup doomed = raycc::CreatePlacementGroup({.bundles = {{{"custom", 1}}}});
    ASSERT_TRUE(doomed.Wait(10));
    held_tasks.Reset();
    auto holder = raycc::Task(Held).SetResources({{"custom", 1}}).SetPlacementGroup(doomed, 0).Remote(7);
    ASSERT_TRUE(Eventually([] { return held_tasks.started == 1; })) << "the holder never started";
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
    held_tasks.release.Set();
    EXPECT_EQ(*holder.Get(), 7);
  }
  EXPECT_EQ(raycc::internal::CurrentRuntime().LiveObjects(), base);
  EXPECT_THROW(raycc::Task(Plus).SetPlacementGroup(pg, 0).Remote(1, 1), raycc::RayccError);
}

}  // namespace
}  // namespace raycc_test
