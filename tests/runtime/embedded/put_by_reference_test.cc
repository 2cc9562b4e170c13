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

namespace {

int64_t SharedSize(raycc::SharedBytes bytes) { return static_cast<int64_t>(bytes.size()); }
RAYCC_REMOTE(SharedSize);

TEST_F(PutByReferenceTest, SharedBytesTravelAsBinAndAreSharedInProcess) {
  raycc::SharedBytes bytes(std::string(300000, 'q'));
  const char* where = bytes.data();
  raycc::ObjectRef<raycc::SharedBytes> ref = raycc::Put(std::move(bytes));
  std::shared_ptr<raycc::SharedBytes> got = ref.Get();
  EXPECT_EQ(got->data(), where) << "in one process the value is shared, not copied";
  EXPECT_EQ(*raycc::Task(SharedSize).Remote(ref).Get(), 300000);
  // Its msgpack form is `bin`, and the payload is found in it.
  std::string packed = raycc::Serialize(raycc::SharedBytes(std::string("abc")));
  size_t offset = 0, size = 0;
  ASSERT_TRUE(raycc::internal::SharedBytesPayload(packed, &offset, &size));
  EXPECT_EQ(packed.substr(offset, size), "abc");
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0xc4) << "bin 8";
  EXPECT_EQ(raycc::Deserialize<raycc::SharedBytes>(packed).str(), "abc");
  // A string's msgpack form reads as SharedBytes too; other things do not.
  EXPECT_EQ(raycc::Deserialize<raycc::SharedBytes>(raycc::Serialize(std::string(70000, 'z'))).size(), 70000u);
  std::string big = raycc::Serialize(std::string(70000, 'z'));
  ASSERT_TRUE(raycc::internal::SharedBytesPayload(big, &offset, &size));
  EXPECT_EQ(offset, 5u);  // str 32
  EXPECT_EQ(size, 70000u);
  EXPECT_FALSE(raycc::internal::SharedBytesPayload(raycc::Serialize(42), &offset, &size));
  EXPECT_FALSE(raycc::internal::SharedBytesPayload(packed.substr(0, 3), &offset, &size)) << "truncated";
  EXPECT_THROW(raycc::Deserialize<raycc::SharedBytes>(raycc::Serialize(42)), raycc::RayccError);
}

}  // namespace
