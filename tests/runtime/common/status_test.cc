#include "raycc/runtime/common/status.h"

#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace raycc {
namespace {

absl::Status FailIf(bool fail) { return fail ? absl::NotFoundError("missing") : absl::OkStatus(); }

absl::StatusOr<int> ValueOrError(bool fail) {
  if (fail) return absl::InvalidArgumentError("bad");
  return 41;
}

absl::Status UsesReturnIfError(bool fail, int* reached) {
  RAYCC_RETURN_IF_ERROR(FailIf(fail));
  ++*reached;
  return absl::OkStatus();
}

absl::StatusOr<int> UsesAssignOrReturn(bool fail) {
  RAYCC_ASSIGN_OR_RETURN(int v, ValueOrError(fail));
  int w = 0;
  RAYCC_ASSIGN_OR_RETURN(w, ValueOrError(false));  // assignment to an existing variable
  return v + w - 40;
}

TEST(StatusTest, ReturnIfErrorStopsOnError) {
  int reached = 0;
  EXPECT_EQ(UsesReturnIfError(true, &reached).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(UsesReturnIfError(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(StatusTest, AssignOrReturnPropagatesOrAssigns) {
  EXPECT_EQ(UsesAssignOrReturn(true).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*UsesAssignOrReturn(false), 42);
}

TEST(StatusTest, AnnotatePrefixesAndKeepsCodeAndPayload) {
  absl::Status s = absl::UnavailableError("connection refused");
  s.SetPayload("k", absl::Cord("v"));
  absl::Status a = Annotate(s, "raylet 10.0.0.1:5000");
  EXPECT_EQ(a.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(a.message(), "raylet 10.0.0.1:5000: connection refused");
  EXPECT_EQ(a.GetPayload("k"), absl::Cord("v"));
  EXPECT_TRUE(Annotate(absl::OkStatus(), "ctx").ok());
}

TEST(StatusTest, InfeasibleIsDistinctFromPlainExhaustion) {
  EXPECT_TRUE(IsInfeasible(InfeasibleError("no GPU")));
  EXPECT_TRUE(IsInfeasible(Annotate(InfeasibleError("no GPU"), "task f")));
  EXPECT_FALSE(IsInfeasible(absl::ResourceExhaustedError("busy")));
  EXPECT_FALSE(IsInfeasible(absl::OkStatus()));
}

}  // namespace
}  // namespace raycc
