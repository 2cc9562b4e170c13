#pragma once

/// \file
/// RayletService on the wire, over a NodeManager; the cluster token is
/// checked on every call. Requests that wait (a lease, an unblock) give up
/// when their caller goes away.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "raycc/proto/raylet_service.grpc.pb.h"
#include "raylet/node_manager.h"
#include "raylet/object_puller.h"
#include "rpc/auth.h"

namespace raycc::raylet {

class RayletServiceImpl final : public proto::RayletService::Service {
 public:
  /// `on_shutdown` runs when a client asks the raylet to stop.
  RayletServiceImpl(NodeManager& node, std::string token, std::function<void()> on_shutdown);

  uint64_t unauthenticated_requests() const { return auth_.refused(); }

  grpc::Status RequestWorkerLease(grpc::ServerContext* context,
                                  const proto::RequestWorkerLeaseRequest* request,
                                  proto::RequestWorkerLeaseReply* reply) override;
  grpc::Status ReturnWorker(grpc::ServerContext* context, const proto::ReturnWorkerRequest* request,
                            proto::ReturnWorkerReply* reply) override;
  grpc::Status RegisterWorker(grpc::ServerContext* context, const proto::RegisterWorkerRequest* request,
                              proto::RegisterWorkerReply* reply) override;
  grpc::Status NotifyWorkerBlocked(grpc::ServerContext* context,
                                   const proto::NotifyWorkerBlockedRequest* request,
                                   proto::NotifyWorkerBlockedReply* reply) override;
  grpc::Status GetWorkerExit(grpc::ServerContext* context, const proto::GetWorkerExitRequest* request,
                             proto::GetWorkerExitReply* reply) override;
  grpc::Status PrepareBundleResources(grpc::ServerContext* context,
                                      const proto::PrepareBundleResourcesRequest* request,
                                      proto::PrepareBundleResourcesReply* reply) override;
  grpc::Status CommitBundleResources(grpc::ServerContext* context,
                                     const proto::CommitBundleResourcesRequest* request,
                                     proto::CommitBundleResourcesReply* reply) override;
  grpc::Status PrepareBundlesBatch(grpc::ServerContext* context, const proto::BundlesBatchRequest* request,
                                   proto::BundlesBatchReply* reply) override;
  grpc::Status CommitBundlesBatch(grpc::ServerContext* context, const proto::BundlesBatchRequest* request,
                                  proto::BundlesBatchReply* reply) override;
  grpc::Status CancelBundlesBatch(grpc::ServerContext* context, const proto::BundlesBatchRequest* request,
                                  proto::BundlesBatchReply* reply) override;
  grpc::Status CancelResourceReserve(grpc::ServerContext* context,
                                     const proto::CancelResourceReserveRequest* request,
                                     proto::CancelResourceReserveReply* reply) override;
  grpc::Status GetNodeStats(grpc::ServerContext* context, const proto::GetNodeStatsRequest* request,
                            proto::GetNodeStatsReply* reply) override;
  grpc::Status ShutdownRaylet(grpc::ServerContext* context, const proto::ShutdownRayletRequest* request,
                              proto::ShutdownRayletReply* reply) override;
  /// Streams an object of this node's store, in chunks, to a raylet pulling it.
  grpc::Status PullObject(grpc::ServerContext* context, const proto::PullObjectRequest* request,
                          grpc::ServerWriter<proto::ObjectChunk>* writer) override;
  /// Frees objects of this node's store (their owner let them go).
  grpc::Status FreeObjects(grpc::ServerContext* context, const proto::FreeObjectsRequest* request,
                           proto::FreeObjectsReply* reply) override;
  /// Pulls an object from another node's store into this node's.
  grpc::Status FetchObject(grpc::ServerContext* context, const proto::FetchObjectRequest* request,
                           proto::FetchObjectReply* reply) override;

 private:
  NodeManager& node_;
  rpc::TokenCheck auth_;
  std::function<void()> on_shutdown_;
  std::unique_ptr<ObjectPuller> puller_;  // (null: the node has no store)
  /// How long PullObject waits for a copy this node is still receiving.
  static constexpr std::chrono::seconds kCopyWait{5};
  std::atomic<uint64_t> objects_served_{0}, bytes_served_{0};  // (PullObject)
};

}  // namespace raycc::raylet
