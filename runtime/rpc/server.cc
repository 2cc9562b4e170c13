#include "rpc/server.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"

namespace raycc::rpc {

absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(const std::string& host, int port,
                                                          const std::vector<grpc::Service*>& services,
                                                          int* bound_port) {
  grpc::ServerBuilder builder;
  std::string endpoint =
      absl::StrCat(host.find(':') != std::string::npos ? "[" + host + "]" : host, ":", port);
  builder.AddListeningPort(endpoint, grpc::InsecureServerCredentials(), bound_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *bound_port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", endpoint,
                                               port != 0 ? " (is another process using that port?)" : ""));
  }
  return server;
}

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // Quick reconnects: a restarted daemon is found again within a second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

absl::Status SplitAddress(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  int value = 0;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(address.substr(colon + 1), &value) ||
      value <= 0 || value > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("expected HOST:PORT, got '", address, "'"));
  }
  *host = address.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  *port = value;
  return absl::OkStatus();
}

}  // namespace raycc::rpc
