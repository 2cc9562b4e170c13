// Errors: a task's exception reaches Get as a TaskError with its cause and
// propagates to dependents; application errors are retried only when asked;
// misuse is a clear error.

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/api.h"
#include "runtime_test_util.h"

namespace raycc_test {
namespace {

using ::testing::HasSubstr;

int Unregistered(int x) { return x; }

TEST_P(RuntimeApiTest, ExceptionsReachGetAsTaskErrorAndPropagate) {
  auto bad = raycc::Task(Fail).Remote(3);
  try {
    raycc::Get(bad);
    FAIL() << "expected TaskError";
  } catch (const raycc::TaskError& e) {
    EXPECT_EQ(e.function_name(), "Fail");
    EXPECT_EQ(e.exception_type(), "std::invalid_argument");
    EXPECT_EQ(e.original_message(), "bad input 3");
    EXPECT_THAT(e.where(), HasSubstr("node embedded ("));
    EXPECT_THAT(e.what(), HasSubstr("task Fail raised std::invalid_argument: bad input 3"));
  }
  // A task depending on a failed one fails with the original cause.
  auto dependent = raycc::Task(Plus).Remote(bad, 1);
  try {
    raycc::Get(dependent);
    FAIL() << "expected TaskError";
  } catch (const raycc::TaskError& e) {
    EXPECT_EQ(e.function_name(), "Fail");
  }
}

TEST_P(RuntimeApiTest, RetryExceptionsRetriesApplicationErrors) {
  flaky_calls = 0;
  EXPECT_EQ(*raycc::Task(Flaky).SetMaxRetries(3).SetRetryExceptions(true).Remote(2).Get(), 7);
  EXPECT_EQ(flaky_calls.load(), 3);
  flaky_calls = 0;
  EXPECT_THROW(raycc::Task(Flaky).SetMaxRetries(1).SetRetryExceptions(true).Remote(5).Get(),
               raycc::TaskError);
  EXPECT_EQ(flaky_calls.load(), 2);
  flaky_calls = 0;
  // Without SetRetryExceptions, application errors are not retried.
  EXPECT_THROW(raycc::Task(Flaky).SetMaxRetries(3).Remote(1).Get(), raycc::TaskError);
  EXPECT_EQ(flaky_calls.load(), 1);
}

TEST_P(RuntimeApiTest, MisuseIsAClearError) {
  try {
    raycc::Task(Unregistered).Remote(1);
    FAIL() << "expected RayccError";
  } catch (const raycc::RayccError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not registered"));
  }
  EXPECT_THROW(raycc::Init(), raycc::RayccError);  // already initialized
}

}  // namespace
}  // namespace raycc_test
