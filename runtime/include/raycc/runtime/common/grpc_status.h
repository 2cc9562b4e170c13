#pragma once

/// \file
/// Conversions between absl::Status and grpc::Status. Both use the canonical
/// status codes, so the code survives the wire unchanged.

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace raycc {

/// The gRPC status carrying `status`'s code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

/// The absl::Status carrying `status`'s code and message; a code outside the
/// canonical range becomes kUnknown with the original number in the message.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace raycc
