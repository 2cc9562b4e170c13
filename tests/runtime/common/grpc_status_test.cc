#include "raycc/runtime/common/grpc_status.h"

#include "gtest/gtest.h"

namespace raycc {
namespace {

TEST(GrpcStatusTest, EveryCanonicalCodeRoundTrips) {
  for (int code = 0; code <= static_cast<int>(absl::StatusCode::kUnauthenticated); ++code) {
    absl::Status s(static_cast<absl::StatusCode>(code), code == 0 ? "" : "msg");
    grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), code);
    EXPECT_EQ(FromGrpcStatus(g), s);
  }
}

TEST(GrpcStatusTest, UnknownCodeBecomesUnknownWithTheNumber) {
  grpc::Status g(static_cast<grpc::StatusCode>(99), "odd");
  absl::Status s = FromGrpcStatus(g);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(s.message(), "gRPC status code 99: odd");
}

}  // namespace
}  // namespace raycc
