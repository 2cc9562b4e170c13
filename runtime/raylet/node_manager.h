#pragma once

/// \file
/// The raylet's core: this node's resources, the queue of lease requests
/// and its workers (Ray's NodeManager + LocalTaskManager + WorkerPool
/// bookkeeping). A lease is granted when its resources fit what is
/// available: to an idle worker of the same job and code, else to a worker
/// started for it. Requests that fit no node fail with the cause; requests
/// that fit another node but never this one are spilled back to it.
/// Resources are never over-committed: a worker blocked in Get gives its
/// lease's resources back and takes them again, waiting its turn, before
/// it goes on. Thread-safe; the blocking calls wait on conditions.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gcs/bundle_reserver_interface.h"
#include "gcs/gcs_client_interface.h"
#include "raycc/proto/raylet_service.pb.h"
#include "raycc/runtime/common/id.h"
#include "raycc/runtime/common/resource_set.h"
#include "raylet/worker_pool_interface.h"
#include "scheduling/cluster_resources.h"
#include "scheduling/label_selector.h"

namespace raycc::object_store {
class SharedObjectStore;
}  // namespace raycc::object_store

namespace raycc::raylet {

struct NodeManagerOptions {
  NodeId node_id;
  std::string node_name;
  /// Where this raylet and its workers are reached.
  std::string host;
  int port = 0;
  ResourceSet total;
  /// This node's labels (label selectors match them).
  std::map<std::string, std::string> labels;
  /// The session folder: code/ caches executables, logs/ holds worker logs.
  std::string session_dir;
  /// Given to workers: the GCS and the cluster token.
  std::string gcs_address;
  std::string token;
  /// Starts of a worker for one request before the request fails.
  int max_start_attempts = 3;
  /// Idle workers kept per job (more are ended when returned).
  int max_idle_workers_per_job = 4;
  /// How long a lease spilled to a peer stays subtracted from the peer's
  /// reported free resources (two of the peer's report intervals: by then
  /// its report includes the lease).
  std::chrono::milliseconds spill_hold{2000};
  /// How often a waiting lease request or unblock looks at its caller's
  /// cancellation (it is woken at once for everything else).
  std::chrono::milliseconds cancel_poll{100};
  /// The node's shared-memory object store (the raylet owns it; its workers
  /// and drivers map it by name), or null for none.
  object_store::SharedObjectStore* object_store = nullptr;
};

class NodeManager {
 public:
  NodeManager(NodeManagerOptions options, gcs::GcsClientInterface& gcs, WorkerPoolInterface& pool);
  ~NodeManager();

  /// Blocks until the lease is granted (the reply's worker_address), spilled
  /// back (retry_at_raylet), found infeasible (infeasible_reason) or
  /// cancelled (`cancelled()` turned true, or Shutdown: canceled set). A
  /// failure to provide a worker is an error status naming the cause.
  absl::StatusOr<proto::RequestWorkerLeaseReply> RequestLease(const proto::RequestWorkerLeaseRequest& request,
                                                              const std::function<bool()>& cancelled);
  absl::Status ReturnWorker(const WorkerId& worker, bool disconnect);
  absl::Status RegisterWorker(const WorkerId& worker, int port, int pid, const JobId& job);
  /// A driver on this machine: when its process ends, however it ends, the
  /// workers it leased are ended (their resources come back) and its job is
  /// marked finished at the GCS (its placement groups and actors go, its
  /// idle workers end).
  /// `code` ("sha256:<hex>", may be empty): the driver's program; workers
  /// for its job are started ahead of its first lease (as many as the node
  /// has whole CPUs, up to max_idle_workers_per_job), idle until leased.
  absl::Status RegisterDriver(const WorkerId& driver, int pid, const JobId& job,
                              const std::string& code = "");
  /// See the file comment; unblocking waits until the resources are back.
  absl::Status NotifyBlocked(const WorkerId& worker, bool blocked, const std::function<bool()>& cancelled);

  /// Placement-group bundles, two-phase (driven by the GCS). Prepare holds
  /// the bundles' resources, all or none: false when they do not fit what
  /// is free now (or one is held already). Commit makes each prepared
  /// bundle the group's renamed resources on this node (GroupResources).
  /// Cancel gives back prepared or committed bundles; when a group's last
  /// committed bundle here goes, the workers leased in the group are ended
  /// and the requests queued for it fail, as in Ray.
  bool PrepareBundles(const PlacementGroupId& group, const std::vector<std::pair<int, ResourceSet>>& bundles);
  void CommitBundles(const PlacementGroupId& group, const std::vector<int>& indices);
  void CancelBundles(const PlacementGroupId& group, const std::vector<int>& indices);

  /// Why `worker` exited, waiting up to `wait` for its exit to be seen;
  /// nullopt when it has not exited (or is unknown here). The last 1,024
  /// exits are remembered.
  std::optional<std::pair<std::string, int>> WorkerExit(const WorkerId& worker,
                                                        std::chrono::milliseconds wait);
  const std::string& node_name() const { return options_.node_name; }

  /// From the worker pool: a worker ended (and the workers it leased end).
  void OnWorkerExit(const WorkerId& worker, const std::string& cause);
  /// From the GCS (heartbeat replies): these jobs are done; their idle
  /// workers end, and later returns of their workers end them too.
  void OnJobsFinished(const std::vector<JobId>& jobs);
  /// The raylet's port, once its server is bound (before any lease).
  void SetPort(int port);
  void SetNodeName(std::string name);
  /// The cluster's nodes, for spillback (refreshed by the heartbeat).
  void SetClusterNodes(std::vector<proto::NodeInfo> nodes);

  ResourceSet available() const;
  /// Workers waiting to take their CPU back after a blocking Get.
  size_t unblocks_waiting() const;
  /// What is free now, stamped with a version that orders this node's
  /// reports (heartbeats and bundle replies).
  void Report(proto::NodeResourcesReport* report) const;
  void FillStats(proto::GetNodeStatsReply* reply) const;
  /// The name workers and drivers map the node's object store by ("" for none).
  std::string ObjectStoreName() const;
  object_store::SharedObjectStore* object_store() const { return options_.object_store; }
  /// Fails queued requests (canceled) and ends every worker.
  void Shutdown();

 private:
  /// kDying: being ended (by its pid); never leased again.
  enum class WorkerState { kStarting, kIdle, kLeased, kDying };
  struct Request;
  struct Worker {
    WorkerId id;
    JobId job;
    std::string code;  // Request::code of the request it was started for
    WorkerState state = WorkerState::kStarting;
    int pid = 0;
    int port = 0;
    scheduling::ResourceRequest held;  // the lease's resources (while leased)
    std::vector<int> gpus;             // the GPU devices it holds for them
    bool blocked = false;              // leased, its CPUs (CpuPart) given back while it waits
    Request* starting_for = nullptr;
    /// While leased: the worker of this node that holds the lease (nil for a
    /// driver or another node's worker). When it exits, this one goes too.
    WorkerId holder;
    /// While leased in a placement group: that group (nil: none).
    PlacementGroupId group;
  };
  struct Request {
    ResourceSet resources;
    scheduling::ResourceRequest demand;  // `resources` in the scheduling model
    JobId job;
    std::string code;                    // what a worker must run: the program's hash, then its libraries'
    std::string program;                 // the program's content hash
    std::string executable;              // its path here
    std::vector<std::string> libraries;  // the task libraries' paths here
    WorkerId holder;                     // the task's owner (TaskSpec.owner_address.worker_id)
    PlacementGroupId group;              // the group whose bundle it runs in (nil: none)
    enum class State { kQueued, kStarting, kGranted, kFailed } state = State::kQueued;
    WorkerId worker;
    int attempts = 0;
    std::string error;
    std::vector<int> gpus;  // the GPU devices taken with its resources (from dispatch on)
  };
  struct Unblock {
    WorkerId worker;
    bool done = false;
  };

  void OnWorkerExitLocked(const WorkerId& worker, const std::string& cause);
  /// Gives back what `worker`'s lease holds here (less the CPUs it lent
  /// while blocked, given back then) and its GPU devices; it holds nothing
  /// after.
  void ReleaseLeaseLocked(Worker& worker);
  /// Gives back what a request took at dispatch (its resources and GPU
  /// devices) when it is not granted after all.
  void ReleaseRequestLocked(Request& request);
  /// The thread that watches drivers' pids (pidfds).
  void WatchDrivers();
  struct Driver {
    JobId job;
    int pid = 0;
    int pidfd = -1;
  };
  absl::flat_hash_map<WorkerId, Driver> drivers_;  // (under mu_)
  /// Recent exits: cause and pid, by worker (bounded; oldest forgotten).
  absl::flat_hash_map<WorkerId, std::pair<std::string, int>> exits_;
  std::deque<WorkerId> exit_order_;
  std::vector<std::pair<JobId, std::string>> prestarts_;  // (job, program hash) to start workers for
  std::thread driver_watch_;
  /// Where a request that this node could hold goes (an index in view_;
  /// kHere: it queues here): the node scheduling::PickNode chooses by its
  /// strategy (node affinity, spread, else the hybrid policy) among the
  /// nodes matching `labels`; when none has room now, the node of a hard
  /// affinity, else here. A spill to a peer counts against the peer until
  /// it reports again. -1 with `*infeasible` set when its strategy names a
  /// node that cannot run it.
  int PlaceLocked(const proto::SchedulingStrategy& strategy, const scheduling::ResourceRequest& demand,
                  const scheduling::LabelSelector& labels, std::string* infeasible);
  /// The index in view_ of the node with id `node_id` (bytes), or -1.
  int NodeIndexLocked(const std::string& node_id) const;
  /// Asks the GCS for the node list (not under mu_).
  void RefreshClusterView();
  /// The executable for content hash `code`, fetched from the GCS once.
  absl::StatusOr<std::string> EnsureCode(const std::string& code);
  /// Grants what fits: unblocks first, then queued requests in order.
  void DispatchLocked();
  void StartWorkerLocked(Request& request);
  /// How a worker of `worker.job` running `program` is started.
  WorkerLaunch LaunchLocked(const Worker& worker, const std::string& program, const std::string& executable,
                            const std::vector<std::string>& libraries) const;
  /// Starts idle workers for a new driver's job (not under mu_).
  void Prestart(const JobId& job, const std::string& program);
  void GrantLocked(Request& request, Worker& worker);
  /// Where a request in placement group bundle(s) runs: here when this
  /// node holds its bundle (or, for any bundle, one that has room now);
  /// else the node that holds it, as the GCS says once the group is
  /// created (waiting while it is pending). Fills `reply` and returns true
  /// when the request goes elsewhere or cannot run; false to run it here.
  bool RouteToBundle(const proto::RequestWorkerLeaseRequest& message, const ResourceSet& resources,
                     const std::function<bool()>& cancelled, proto::RequestWorkerLeaseReply* reply);
  /// Whether this node holds a committed bundle `index` (-1: any) of `group`.
  bool HoldsBundleLocked(const PlacementGroupId& group, int index) const;
  /// Why no node can ever run the request, naming each node's capacity
  /// (and labels, when it has a selector); `*spill_to`: a node that can.
  std::string InfeasibleReasonLocked(const ResourceSet& resources, const scheduling::ResourceRequest& demand,
                                     const scheduling::LabelSelector& labels, proto::Address* spill_to) const;
  /// `units` fit in what this node has free now.
  bool FitsHereLocked(const scheduling::Units& units) const {
    return scheduling::Fits(units, view_.node(kHere).available);
  }

  NodeManagerOptions options_;  // (port: set once the server is bound)
  gcs::GcsClientInterface& gcs_;
  WorkerPoolInterface& pool_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::list<Request*> queue_;
  std::list<Unblock*> unblocks_;
  absl::flat_hash_map<WorkerId, Worker> workers_;
  absl::flat_hash_map<JobId, bool> finished_jobs_;
  /// The cluster as this raylet sees it, in the scheduling component's
  /// model (the one the embedded runtime's accounting and the policies
  /// share): node kHere is this node, its free resources this raylet's own
  /// accounting (its total grows and shrinks with committed bundles);
  /// nodes 1.. are the other live nodes, peers_[i - 1], with what they had
  /// free at their last report less the leases spilled to them since.
  scheduling::ClusterResources view_;
  static constexpr int kHere = 0;
  struct Peer {
    std::string node_id;  // (bytes)
    std::string name;     // (for messages)
    proto::Address address;
  };
  std::vector<Peer> peers_;
  struct SpillHold {
    std::string node_id;
    scheduling::Units units;
    std::chrono::steady_clock::time_point until;
  };
  std::vector<SpillHold> spill_holds_;
  struct Bundle {
    ResourceSet resources;  // as the user asked for it
    bool committed = false;
  };
  absl::flat_hash_map<std::pair<PlacementGroupId, int>, Bundle> bundles_;
  uint64_t bundle_next_ = 0;
  mutable uint64_t report_version_ = 0;              // (any-bundle requests rotate over the group's nodes)
  uint64_t spread_cursor_ = 0;                       // (the spread policy's)
  std::chrono::steady_clock::time_point view_time_;  // of the peers in view_
  static constexpr std::chrono::milliseconds kViewMaxAge{100};

  std::mutex code_mu_;  // (fetching code is slow: not under mu_)
};

}  // namespace raycc::raylet
