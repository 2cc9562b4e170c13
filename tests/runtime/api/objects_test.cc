// Objects: Get of one or many refs (order, first failure, timeouts), Wait,
// and values handed out without a copy, published to the caller's reference
// or read as bytes by a reader of another type.

#include <cstdint>
#include <memory>
#include <typeinfo>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

using ::testing::HasSubstr;

std::vector<int64_t> Ones(int64_t n) { return std::vector<int64_t>(n, 1); }
std::vector<double> Halves(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v) out.push_back(x / 2);
  return out;
}
RAYCC_REMOTE(Ones, Halves);

TEST_P(RuntimeApiTest, GetOfManyRefsKeepsOrderAndThrowsTheFirstFailure) {
  // More than one lock's worth (256): typed results, values Put as they
  // are, and objects held only as bytes (read through the fallback).
  std::vector<raycc::ObjectRef<int>> refs;
  for (int i = 0; i < 700; ++i) {
    if (i % 3 == 0) {
      refs.push_back(raycc::Task(Plus).Remote(i, 0));
    } else if (i % 3 == 1) {
      refs.push_back(raycc::Put(i));
    } else {
      refs.push_back(
          raycc::ObjectRef<int>::Adopt(raycc::internal::CurrentRuntime().Put(raycc::Serialize(i))));
    }
  }
  std::vector<std::shared_ptr<int>> values = raycc::Get(refs);
  ASSERT_EQ(values.size(), refs.size());
  for (int i = 0; i < 700; ++i) EXPECT_EQ(*values[i], i) << i;

  std::vector<raycc::ObjectRef<int>> failing = {raycc::Task(Plus).Remote(1, 1), raycc::Task(Fail).Remote(3),
                                                raycc::Task(Fail).Remote(4)};
  try {
    raycc::Get(failing);
    FAIL() << "a failed object must throw";
  } catch (const raycc::TaskError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad input 3"));
  }
  std::vector<raycc::ObjectRef<void>> voids = {raycc::Task(Nothing).Remote(), raycc::Task(Nothing).Remote()};
  EXPECT_EQ(raycc::Get(voids).size(), 2u);

  // A timeout bounds the call; what was ready stays readable.
  held_tasks.Reset();
  auto held = raycc::Task(Held).Remote(1);
  EXPECT_THROW(raycc::Get(std::vector<raycc::ObjectRef<int>>{refs[0], held}, /*timeout_ms=*/20),
               raycc::GetTimeoutError);
  held_tasks.release.Set();
  EXPECT_EQ(*raycc::Get(std::vector<raycc::ObjectRef<int>>{refs[3], held}).at(1), 1);
}

TEST_P(RuntimeApiTest, GetTimesOutAndWaitSplitsReadyFromUnready) {
  held_tasks.Reset();
  auto slow = raycc::Task(Held).Remote(300);  // (not done until released)
  EXPECT_THROW(raycc::Get(slow, /*timeout_ms=*/10), raycc::GetTimeoutError);
  auto fast = raycc::Put(1);
  raycc::WaitResult<int> w = raycc::Wait(std::vector<raycc::ObjectRef<int>>{slow, fast}, 1, 5000);
  ASSERT_EQ(w.ready.size(), 1u);
  EXPECT_EQ(w.ready[0], fast);
  ASSERT_EQ(w.unready.size(), 1u);
  EXPECT_EQ(w.unready[0], slow);
  held_tasks.release.Set();
  w = raycc::Wait(std::vector<raycc::ObjectRef<int>>{slow, fast}, 2, -1);
  EXPECT_EQ(w.ready.size(), 2u);
  EXPECT_THROW(raycc::Wait(std::vector<raycc::ObjectRef<int>>{fast}, 2, 0), raycc::RayccError);
}

TEST(RuntimeObjectsTest, PutValuesAreHandedOutWithoutACopy) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  std::vector<int64_t> big(1 << 20, 3);
  const int64_t* buffer = big.data();
  raycc::ObjectRef<std::vector<int64_t>> ref = raycc::Put(std::move(big));
  std::shared_ptr<std::vector<int64_t>> a = ref.Get(), b = raycc::Get(ref);
  EXPECT_EQ(a->data(), buffer);  // the very buffer that was moved in
  EXPECT_EQ(a.get(), b.get());
  // A task gets the bytes (made on demand), and so does a reader that asks
  // for another type.
  EXPECT_EQ(*raycc::Task(SumAll).Remote(ref).Get(), 3 * (1 << 20));
  raycc::ObjectRef<int> small = raycc::Put(7);
  EXPECT_EQ(*raycc::Get(raycc::ObjectRef<int64_t>(small.ID())), 7);
  raycc::Shutdown();
}

TEST(RuntimeObjectsTest, TaskResultsAreHandedOutWithoutACopy) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  auto ones = raycc::Task(Ones).Remote(int64_t{1} << 20);
  std::shared_ptr<std::vector<int64_t>> a = ones.Get(), b = ones.Get();
  EXPECT_EQ(a.get(), b.get());  // one value, shared
  EXPECT_EQ(a->size(), size_t{1} << 20);
  // A task consumes it (its bytes are made outside the runtime lock), and
  // an actor method's result is a value too.
  EXPECT_EQ(*raycc::Task(SumAll).Remote(ones).Get(), int64_t{1} << 20);
  auto counter = raycc::Actor(Counter::Create).Remote(1);
  auto added = counter.Task(&Counter::Add).Remote(2);
  EXPECT_EQ(added.Get().get(), added.Get().get());
  EXPECT_EQ(*added.Get(), 3);
  // A reader asking for another type gets it through the bytes.
  EXPECT_EQ(*raycc::Get(raycc::ObjectRef<int64_t>(added.ID())), 3);
  raycc::Shutdown();
}

TEST(RuntimeObjectsTest, AFinishedTaskPublishesItsResultToTheCallersReference) {
  raycc::Init(raycc::Config{.num_cpus = 2});
  auto ones = raycc::Task(Ones).Remote(int64_t{1} << 10);
  std::shared_ptr<std::vector<int64_t>> got = ones.Get();
  // The submitter's reference holds the very value Get handed out, so a
  // later Get reads it there; only as the result's own type.
  std::shared_ptr<const void> published = ones.handle()->PublishedValue(typeid(std::vector<int64_t>));
  ASSERT_NE(published, nullptr);
  EXPECT_EQ(published.get(), got.get());
  EXPECT_EQ(ones.Get().get(), got.get());
  EXPECT_EQ(ones.handle()->PublishedValue(typeid(std::vector<double>)), nullptr);
  // A reference made from the ID is another handle: never published, read
  // through the runtime, the same value.
  raycc::ObjectRef<std::vector<int64_t>> by_id(ones.ID());
  EXPECT_EQ(by_id.handle()->PublishedValue(typeid(std::vector<int64_t>)), nullptr);
  EXPECT_EQ(by_id.Get().get(), got.get());
  // A failure publishes nothing; Get still throws it, alone or among many.
  auto failed = raycc::Task(Fail).Remote(5);
  EXPECT_THROW(failed.Get(), raycc::TaskError);
  EXPECT_EQ(failed.handle()->PublishedValue(typeid(int)), nullptr);
  auto fine = raycc::Task(Plus).Remote(2, 3);
  EXPECT_EQ(*fine.Get(), 5);
  try {
    raycc::Get(std::vector<raycc::ObjectRef<int>>{fine, failed});
    ADD_FAILURE() << "the failed object must throw";
  } catch (const raycc::TaskError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad input 5"));
  }
  // Retried until it succeeds: the final value is published.
  flaky_calls = 0;
  auto flaky = raycc::Task(Flaky).SetMaxRetries(3).SetRetryExceptions(true).Remote(2);
  EXPECT_EQ(*flaky.Get(), 7);
  EXPECT_NE(flaky.handle()->PublishedValue(typeid(int)), nullptr);
  // A reference dropped before its task finishes (it is held until after
  // the drop): nothing to publish to, and the result is still freed.
  size_t live = Live();
  held_tasks.Reset();
  { auto dropped = raycc::Task(Held).Remote(20); }
  held_tasks.release.Set();
  EXPECT_TRUE(Eventually([] { return held_tasks.finished == 1; })) << "the held task never finished";
  EXPECT_TRUE(Eventually([&] { return Live() == live; })) << Live() << " objects live, " << live << " before";
  raycc::Shutdown();
}

TEST(RuntimeObjectsTest, AResultOfAnotherTypeReachesItsConsumerAsBytes) {
  // Ones returns std::vector<int64_t>: SumAll takes that very type (the
  // value is passed as is); Halves takes std::vector<double> (the bytes are
  // made and converted).
  raycc::Init(raycc::Config{.num_cpus = 2});
  auto ones = raycc::Task(Ones).Remote(int64_t{4});
  EXPECT_EQ(*raycc::Task(SumAll).Remote(ones).Get(), 4);
  raycc::ObjectRef<std::vector<double>> as_doubles(ones.ID());  // (a reader of another type)
  EXPECT_EQ(*raycc::Task(Halves).Remote(as_doubles).Get(), std::vector<double>(4, 0.5));
  raycc::Shutdown();
}

}  // namespace
}  // namespace raycc_test
