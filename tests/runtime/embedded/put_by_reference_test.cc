// In one process a Put value is kept by reference: moved or shared in, the
// very same value comes out of Get, and tasks read it without a copy.

#include <cstring>
#include <memory>
#include <new>
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

namespace {

double SharedSum(raycc::SharedArray<double> values) {
  return std::accumulate(values.begin(), values.end(), 0.0);
}
RAYCC_REMOTE(SharedSum);
raycc::SharedArray<float> Ramp(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.0f);
  return raycc::SharedArray<float>(std::move(v));
}
RAYCC_REMOTE(Ramp);

TEST_F(PutByReferenceTest, SharedArraysAreSharedInProcessAndTheirElementsLieAligned) {
  std::vector<double> values(1 << 16, 0.25);
  const double* where = values.data();
  raycc::ObjectRef<raycc::SharedArray<double>> ref =
      raycc::Put(raycc::SharedArray<double>(std::move(values)));
  std::shared_ptr<raycc::SharedArray<double>> got = ref.Get();
  EXPECT_EQ(got->data(), where) << "the vector was moved in, and Get shares it";
  EXPECT_EQ(*raycc::Task(SharedSum).Remote(ref).Get(), 0.25 * (1 << 16));
  std::shared_ptr<raycc::SharedArray<float>> ramp = raycc::Task(Ramp).Remote(int64_t{1000}).Get();
  ASSERT_EQ(ramp->size(), 1000u);
  EXPECT_EQ((*ramp)[999], 999.0f);

  // Its msgpack form is `bin`, the elements 8-byte aligned after the bin
  // header, whichever header its size takes (bin 8, 16 or 32, across the
  // edges), and read back where they lie.
  for (size_t n : {size_t{0}, size_t{1}, size_t{30}, size_t{31}, size_t{32}, size_t{8190}, size_t{8191},
                   size_t{8192}, size_t{100000}}) {
    std::vector<int64_t> ints(n);
    std::iota(ints.begin(), ints.end(), int64_t{-5});
    std::string packed = raycc::Serialize(raycc::SharedArray<int64_t>(ints));
    // (As an object in the store is: starting on a cache line.)
    auto aligned = std::shared_ptr<char[]>(new (std::align_val_t{64}) char[packed.size() + 64],
                                           [](char* p) { ::operator delete[](p, std::align_val_t{64}); });
    std::memcpy(aligned.get(), packed.data(), packed.size());
    size_t offset = 0, size = 0;
    ASSERT_TRUE(raycc::internal::SharedBytesPayload(packed, &offset, &size)) << n;
    raycc::SharedArray<int64_t> view;
    ASSERT_TRUE(raycc::SharedArray<int64_t>::FromBody(
        raycc::SharedBytes(aligned, aligned.get() + offset, size), &view))
        << n;
    EXPECT_EQ(view.vec(), ints) << n;
    if (n > 0) {
      EXPECT_GE(view.data(), reinterpret_cast<const int64_t*>(aligned.get())) << "a view, not a copy";
      EXPECT_LT(view.data(), reinterpret_cast<const int64_t*>(aligned.get() + packed.size()));
      EXPECT_EQ(reinterpret_cast<uintptr_t>(view.data()) % 8, 0u) << n;
    }
    EXPECT_EQ(raycc::Deserialize<raycc::SharedArray<int64_t>>(packed).vec(), ints) << n;
    // Put writes the head, then the elements, as they lie (the same bytes).
    EXPECT_EQ(raycc::SharedArray<int64_t>::Head(n) +
                  std::string(reinterpret_cast<const char*>(ints.data()), n * sizeof(int64_t)),
              packed)
        << n;
  }
  // Near a bin header's edge (250 bytes of elements: a pad of up to 8 would
  // cross to the next header size) the elements still start aligned.
  for (size_t n : {size_t{125}, size_t{32765}, size_t{32766}}) {
    std::string edge = raycc::Serialize(raycc::SharedArray<int16_t>(std::vector<int16_t>(n, 7)));
    size_t at = 0, bytes = 0;
    ASSERT_TRUE(raycc::internal::SharedBytesPayload(edge, &at, &bytes)) << n;
    const size_t pad = static_cast<unsigned char>(edge[at]);
    EXPECT_EQ((at + pad) % 8, 0u) << n;
    EXPECT_EQ(raycc::SharedArray<int16_t>::Head(n).size(), at + pad) << n;
    EXPECT_EQ(raycc::Deserialize<raycc::SharedArray<int16_t>>(edge).size(), n);
  }
  // Misaligned bytes are copied, not misread; other forms are refused.
  std::string packed = raycc::Serialize(raycc::SharedArray<double>({1.5, 2.5}));
  size_t offset = 0, size = 0;
  ASSERT_TRUE(raycc::internal::SharedBytesPayload(packed, &offset, &size));
  std::string shifted = " " + packed;
  raycc::SharedArray<double> copied;
  ASSERT_TRUE(raycc::SharedArray<double>::FromBody(
      raycc::SharedBytes(std::make_shared<std::string>(shifted), shifted.data() + 1 + offset, size),
      &copied));
  EXPECT_EQ(copied.vec(), (std::vector<double>{1.5, 2.5}));
  EXPECT_THROW(raycc::Deserialize<raycc::SharedArray<double>>(raycc::Serialize(std::string("abc"))),
               raycc::RayccError);
  EXPECT_THROW(raycc::Deserialize<raycc::SharedArray<double>>(raycc::Serialize(42)), raycc::RayccError);
  // A SharedArray inside another value travels and comes back (owned).
  std::vector<raycc::SharedArray<int32_t>> nested{raycc::SharedArray<int32_t>({1, 2, 3}),
                                                  raycc::SharedArray<int32_t>({})};
  auto back = raycc::Deserialize<std::vector<raycc::SharedArray<int32_t>>>(raycc::Serialize(nested));
  EXPECT_EQ(back, nested);
}

}  // namespace
