// The runtime's life cycle: use before Init is a clear error, Init from the
// command line, and the timeline (every attempt recorded; an unwritable
// path fails at Init).

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

using ::testing::HasSubstr;

TEST(RuntimeLifecycleTest, UseBeforeInitIsAClearError) {
  EXPECT_FALSE(raycc::IsInitialized());
  try {
    raycc::Task(Plus).Remote(1, 2);
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not initialized: call raycc::Init() first"));
  }
  EXPECT_THROW(raycc::Put(1), raycc::RayccError);
}

TEST(RuntimeLifecycleTest, InitFromCommandLine) {
  const char* argv[] = {"prog", "--raycc-num-cpus=3"};
  raycc::Init(2, const_cast<char**>(argv));
  EXPECT_TRUE(raycc::IsInitialized());
  EXPECT_EQ(*raycc::Task(Plus).Remote(2, 2).Get(), 4);
  raycc::Shutdown();
  EXPECT_FALSE(raycc::IsInitialized());
  const char* bad[] = {"prog", "--raycc-num-cpus=many"};
  EXPECT_THROW(raycc::Init(2, const_cast<char**>(bad)), raycc::RayccError);
  raycc::Config config;
  config.resources = {{"CPU", 4}};
  EXPECT_THROW(raycc::Init(config), raycc::RayccError);
  EXPECT_FALSE(raycc::IsInitialized());
}

TEST(RuntimeLifecycleTest, TimelineRecordsEveryAttempt) {
  std::string path = ::testing::TempDir() + "/raycc_timeline_test.json";
  std::remove(path.c_str());
  flaky_calls = 0;
  raycc::Init(raycc::Config{.num_cpus = 2, .timeline_path = path});
  EXPECT_EQ(*raycc::Task(Plus).SetName("plus one").Remote(1, 1).Get(), 2);
  EXPECT_EQ(*raycc::Task(Flaky).SetRetryExceptions(true).SetMaxRetries(2).Remote(1).Get(), 7);
  EXPECT_THROW(raycc::Task(Fail).Remote(3).Get(), raycc::TaskError);
  auto counter = raycc::Actor(Counter::Create).Remote(5);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 6);
  raycc::Shutdown();

  std::ifstream in(path);
  ASSERT_TRUE(in) << "no timeline at " << path;
  std::stringstream text;
  text << in.rdbuf();
  std::string t = text.str();
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = t.find(needle); at != std::string::npos; at = t.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(t.front(), '[');
  EXPECT_EQ(count("\"ph\": \"X\""), 6u);  // plus, flaky twice, fail, create, add
  EXPECT_EQ(count("\"name\": \"plus one\""), 1u);
  EXPECT_EQ(count("\"name\": \"Flaky\""), 2u);
  EXPECT_EQ(count("\"status\": \"retried\""), 1u);
  EXPECT_EQ(count("\"status\": \"failed\""), 1u);
  EXPECT_EQ(count("\"name\": \"Counter::Create\""), 1u);
  EXPECT_EQ(count("\"name\": \"Counter::Add\""), 1u);
  EXPECT_EQ(count("\"node_id\": -1"), 6u);  // all submitted at run time
  // Both workers are named, even one that ran nothing, and the actor's thread.
  EXPECT_EQ(count("{\"name\": \"worker 0\"}"), 1u);
  EXPECT_EQ(count("{\"name\": \"worker 1\"}"), 1u);
  EXPECT_EQ(count("{\"name\": \"actor Counter::Create "), 1u);
  // The lane of tasks Get ran on the caller's thread is named only if one did.
  bool ran_inline = count("\"pid\": 1, \"tid\": 0, \"args\": {\"node_id\"") > 0;
  EXPECT_EQ(count("{\"name\": \"caller of Get (tasks run inline)\"}"), ran_inline ? 1u : 0u);
  EXPECT_EQ(count("\"name\": \"thread_name\""), ran_inline ? 4u : 3u);
}

TEST(RuntimeLifecycleTest, AnUnwritableTimelineFailsAtInit) {
  try {
    raycc::Init(raycc::Config{.timeline_path = "/nonexistent-dir/run.json"});
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot write the timeline to '/nonexistent-dir/run.json'"));
  }
  EXPECT_FALSE(raycc::IsInitialized());
}

}  // namespace
}  // namespace raycc_test
