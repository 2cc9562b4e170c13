// Tasks on the embedded runtime, at several CPU counts: results come back,
// ObjectRefs are arguments, and many tasks all complete.

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

std::string Greet(std::string name) { return "hello " + name; }
std::vector<double> Scale(std::vector<double> v, double k) {
  for (double& x : v) x *= k;
  return v;
}
RAYCC_REMOTE(Greet, Scale);

TEST_P(RuntimeApiTest, TaskResultsComeBack) {
  raycc::ObjectRef<int> r = raycc::Task(Plus).Remote(1, 2);
  EXPECT_EQ(*raycc::Get(r), 3);
  EXPECT_EQ(*r.Get(), 3);
  EXPECT_EQ(*raycc::Task(Greet).Remote(std::string("ray")).Get(), "hello ray");
  auto scaled = raycc::Task(Scale).Remote(std::vector<double>{1, 2, 3}, 2.0);
  EXPECT_EQ(*scaled.Get(), (std::vector<double>{2, 4, 6}));
  raycc::Get(raycc::Task(Nothing).Remote());  // void tasks complete
}

TEST_P(RuntimeApiTest, ObjectRefsAreArgumentsAndChainsResolve) {
  auto a = raycc::Task(Plus).Remote(1, 2);
  auto b = raycc::Task(Plus).Remote(a, 10);
  auto c = raycc::Task(Plus).Remote(a, b);
  EXPECT_EQ(*raycc::Get(c), 16);
  auto put = raycc::Put(100);
  EXPECT_EQ(*raycc::Task(Plus).Remote(put, c).Get(), 116);
}

TEST_P(RuntimeApiTest, ManyTasksAllComplete) {
  std::vector<raycc::ObjectRef<int64_t>> refs;
  for (int64_t i = 0; i < 2000; ++i) refs.push_back(raycc::Task(Square).Remote(i));
  int64_t sum = 0;
  for (const auto& v : raycc::Get(refs)) sum += *v;
  int64_t expected = 0;
  for (int64_t i = 0; i < 2000; ++i) expected += i * i;
  EXPECT_EQ(sum, expected);
}

}  // namespace
}  // namespace raycc_test
