// Init gets its runtime from a factory: the embedded one by default, the
// cluster one for an address (Config.address, RAYCC_ADDRESS,
// --raycc-address=), which this build does not have yet: a clear error.

#include "raycc/runtime/api/runtime_factory.h"

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"

namespace {

using ::testing::HasSubstr;

int Twice(int x) { return 2 * x; }
RAYCC_REMOTE(Twice);

TEST(RuntimeFactoryTest, TheEmbeddedRuntimeIsRegistered) {
  EXPECT_NE(raycc::internal::FindRuntimeFactory("embedded"), nullptr);
  raycc::Init(raycc::Config{.num_cpus = 1});
  EXPECT_TRUE(raycc::IsInitialized());
  EXPECT_EQ(*raycc::Task(Twice).Remote(21).Get(), 42);
  raycc::Shutdown();
}

void ExpectNoCluster(const std::function<void()>& init, const std::string& address) {
  try {
    init();
    raycc::Shutdown();
    FAIL() << "Init joined '" << address << "' without a cluster runtime";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot join the cluster at '" + address + "'"));
    EXPECT_THAT(e.what(), HasSubstr("no cluster runtime"));
  }
  EXPECT_FALSE(raycc::IsInitialized());
}

TEST(RuntimeFactoryTest, AnAddressWithoutAClusterRuntimeIsAClearError) {
  if (raycc::internal::FindRuntimeFactory("cluster") != nullptr)
    GTEST_SKIP() << "a cluster runtime is linked";
  ExpectNoCluster([] { raycc::Init(raycc::Config{.address = "127.0.0.1:6379"}); }, "127.0.0.1:6379");
  char arg0[] = "prog", arg1[] = "--raycc-address=10.0.0.1:1";
  char* argv[] = {arg0, arg1};
  ExpectNoCluster([&] { raycc::Init(2, argv); }, "10.0.0.1:1");
  ASSERT_EQ(setenv("RAYCC_ADDRESS", "localhost:7", 1), 0);
  ExpectNoCluster([] { raycc::Init(); }, "localhost:7");
  ASSERT_EQ(setenv("RAYCC_ADDRESS", "", 1), 0);  // empty: embedded
  raycc::Init(raycc::Config{.num_cpus = 1});
  EXPECT_EQ(*raycc::Task(Twice).Remote(2).Get(), 4);
  raycc::Shutdown();
  unsetenv("RAYCC_ADDRESS");
}

}  // namespace
