// In one process a Put value is kept by reference: moved or shared in, the
// very same value comes out of Get, and tasks read it without a copy.

#include <memory>
#include <numeric>
#include <vector>

#include "gtest/gtest.h"
#include "raycc/api.h"

namespace {

double Sum(std::vector<double> v) { return std::accumulate(v.begin(), v.end(), 0.0); }
RAYCC_REMOTE(Sum);

class PutByReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override { raycc::Init(raycc::Config{.num_cpus = 1}); }
  void TearDown() override { raycc::Shutdown(); }
};

TEST_F(PutByReferenceTest, ASharedValueIsTheOneGetHandsOut) {
  auto big = std::make_shared<std::vector<double>>(1 << 20, 0.5);
  const double* data = big->data();
  raycc::ObjectRef<std::vector<double>> ref = raycc::Put(big);
  std::shared_ptr<std::vector<double>> got = raycc::Get(ref);
  EXPECT_EQ(got->data(), data);  // the same buffer: nothing was copied
  EXPECT_EQ(*raycc::Task(Sum).Remote(ref).Get(), 0.5 * (1 << 20));
}

TEST_F(PutByReferenceTest, AMovedValueKeepsItsBuffer) {
  std::vector<double> big(1 << 20, 2.0);
  const double* data = big.data();
  raycc::ObjectRef<std::vector<double>> ref = raycc::Put(std::move(big));
  EXPECT_EQ(raycc::Get(ref)->data(), data);
}

TEST_F(PutByReferenceTest, AnLvalueIsCopiedAndLeftAlone) {
  std::vector<double> mine(16, 1.0);
  raycc::ObjectRef<std::vector<double>> ref = raycc::Put(mine);
  mine[0] = 99;  // the object does not change with it
  EXPECT_EQ((*raycc::Get(ref))[0], 1.0);
  EXPECT_NE(raycc::Get(ref)->data(), mine.data());
}

TEST_F(PutByReferenceTest, ANullSharedPtrIsAnError) {
  EXPECT_THROW(raycc::Put(std::shared_ptr<const int>()), raycc::RayccError);
}

}  // namespace
