#pragma once

/// \file
/// Starting a gRPC server and reaching one: the settings every raycc port
/// and channel share (message size, no port sharing, keepalive).

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace grpc {
class Channel;
class Server;
class Service;
}  // namespace grpc

namespace raycc::rpc {

/// The largest message a raycc port accepts or sends (task arguments and
/// results inline, uploaded code).
inline constexpr int kMaxMessageBytes = 1 << 30;

/// Serves `services` on host:port (port 0: any free port) without port
/// sharing, so a second daemon on a port in use fails here, with the port
/// named. `bound_port` receives the port chosen.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(const std::string& host, int port,
                                                          const std::vector<grpc::Service*>& services,
                                                          int* bound_port);

/// A channel to "host:port" (insecure transport; requests carry the cluster
/// token).
std::shared_ptr<grpc::Channel> Connect(const std::string& address);

/// "host:port" -> host and port; InvalidArgument naming the text otherwise.
absl::Status SplitAddress(const std::string& address, std::string* host, int* port);

}  // namespace raycc::rpc
