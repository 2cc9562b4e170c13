#include "raycc/runtime/gpu/gpu_devices.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raycc {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(GpuDevicesTest, DiscoveryNeverFailsAndExplainsAnEmptyResult) {
  GpuDiscovery d = DiscoverGpus();
#ifdef RAYCC_HAVE_CUDA
  EXPECT_TRUE(d.cuda_built);
#else
  EXPECT_FALSE(d.cuda_built);
  EXPECT_EQ(d.reason, "raycc was built without CUDA");
#endif
  if (d.devices.empty()) {
    EXPECT_FALSE(d.reason.empty());
    EXPECT_THAT(FormatGpuDiscovery(d), StartsWith("no GPU ("));
  } else {
    EXPECT_TRUE(d.reason.empty());
  }
}

TEST(GpuDevicesTest, SelfTestOnMissingDeviceIsAClearError) {
  absl::Status s = RunGpuSelfTest(1000);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("GPU 1000 self-test failed"));
}

TEST(GpuDevicesTest, EveryDeviceRunsTheSelfTestKernel) {
  GpuDiscovery d = DiscoverGpus();
  if (d.devices.empty()) GTEST_SKIP() << "no GPU: " << d.reason;
  for (const GpuDevice& dev : d.devices) {
    EXPECT_FALSE(dev.name.empty());
    EXPECT_GT(dev.total_memory_bytes, 0u);
    EXPECT_GE(dev.compute_capability_major, 8);  // the architectures this build targets
    absl::Status s = RunGpuSelfTest(dev.index);
    EXPECT_TRUE(s.ok()) << s;
  }
}

// Regression: a failed call (invalid device) left a stale CUDA "last error"
// that the next self-test's launch check reported as its own failure.
TEST(GpuDevicesTest, AFailedSelfTestDoesNotPoisonTheNext) {
  GpuDiscovery d = DiscoverGpus();
  if (d.devices.empty()) GTEST_SKIP() << "no GPU: " << d.reason;
  ASSERT_FALSE(RunGpuSelfTest(static_cast<int>(d.devices.size())).ok());
  absl::Status s = RunGpuSelfTest(0);
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace raycc
