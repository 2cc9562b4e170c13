// Init gets its runtime from a factory: the embedded one by default, the
// cluster one for an address (Config.address, RAYCC_ADDRESS,
// --raycc-address=); an address with no cluster there is a clear error,
// at once (the cluster itself is tested in tests/runtime/cluster).

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
    FAIL() << "Init joined '" << address << "', where no cluster runs";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot join the cluster at " + address));
  }
  EXPECT_FALSE(raycc::IsInitialized());
}

TEST(RuntimeFactoryTest, AnAddressWhereNoClusterRunsIsAClearError) {
  ASSERT_NE(raycc::internal::FindRuntimeFactory("cluster"), nullptr);
  ASSERT_EQ(setenv("RAYCC_AUTH_TOKEN", "some-token", 1), 0);
  // (Port 1 on loopback: nothing listens, so the refusal is immediate.)
  ExpectNoCluster([] { raycc::Init(raycc::Config{.address = "127.0.0.1:1"}); }, "127.0.0.1:1");
  char arg0[] = "prog", arg1[] = "--raycc-address=127.0.0.1:2";
  char* argv[] = {arg0, arg1};
  ExpectNoCluster([&] { raycc::Init(2, argv); }, "127.0.0.1:2");
  ASSERT_EQ(setenv("RAYCC_ADDRESS", "127.0.0.1:3", 1), 0);
  ExpectNoCluster([] { raycc::Init(); }, "127.0.0.1:3");
  ASSERT_EQ(setenv("RAYCC_ADDRESS", "", 1), 0);  // empty: embedded
  raycc::Init(raycc::Config{.num_cpus = 1});
  EXPECT_EQ(*raycc::Task(Twice).Remote(2).Get(), 4);
  raycc::Shutdown();
  unsetenv("RAYCC_ADDRESS");
  unsetenv("RAYCC_AUTH_TOKEN");
}

}  // namespace
