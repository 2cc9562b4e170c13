#include "runtime_test_util.h"

#include <string>

#include "raycc/api.h"

namespace raycc_test {

int Plus(int a, int b) { return a + b; }
int64_t Square(int64_t x) { return x * x; }
int Fail(int x) { throw std::invalid_argument("bad input " + std::to_string(x)); }
void Nothing() {}
int64_t SumAll(std::vector<int64_t> v) {
  int64_t s = 0;
  for (int64_t x : v) s += x;
  return s;
}

std::atomic<int> flaky_calls{0};
int Flaky(int fail_times) {
  if (flaky_calls++ < fail_times) throw std::runtime_error("flaky");
  return 7;
}

HeldTasks held_tasks;
int Held(int x) {
  ++held_tasks.started;
  bool released = held_tasks.release.WaitFor();
  ++held_tasks.finished;
  return released ? x : -1;
}

RAYCC_REMOTE(Plus, Square, Fail, Nothing, SumAll, Flaky, Held, Counter::Create, Counter::CreateFailing,
             &Counter::Add, &Counter::History);

size_t Live() { return raycc::internal::CurrentRuntime().LiveObjects(); }

void RuntimeApiTest::SetUp() {
  raycc::Config config;
  config.num_cpus = GetParam();
  config.resources = {{"GPU", 0}, {"custom", 2}};
  raycc::Init(config);
}

void RuntimeApiTest::TearDown() {
  held_tasks.release.Set();
  raycc::Shutdown();
}

INSTANTIATE_TEST_SUITE_P(ThreadCounts, RuntimeApiTest, ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "cpus";
                         });

}  // namespace raycc_test
