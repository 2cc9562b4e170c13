#pragma once

/// \file
/// Hands tasks whose arguments are all values to leased workers (Ray's
/// NormalTaskSubmitter). Tasks of one shape (job, code, resources, label selector,
/// scheduling strategy) share a queue; up to kMaxLeasesPerShape leases of a
/// shape are asked for at once, from the local raylet, following its
/// spillback to another node. A granted worker runs its shape's tasks one
/// after the other, pushed straight to it, until the queue is empty; then
/// it goes back to its raylet (which keeps it for reuse); short tasks go
/// in batches (one PushTasks call for many). A worker that
/// dies under a task retries the task on a new lease while it has retries
/// left (max_retries; -1: forever).

#include <grpcpp/support/status.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "core_worker/memory_store.h"
#include "raycc/proto/raylet_service.grpc.pb.h"
#include "raycc/proto/worker_service.grpc.pb.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace raycc::core_worker {

class TaskSubmitter {
 public:
  /// A task is done: it ran (`reply`, which may carry the task's own
  /// error), or it could not run (`error`: infeasible, worker died with no
  /// retries left, cancelled, a raylet's refusal). Exactly one is set.
  using OnDone = std::function<void(const proto::TaskSpec& task, const proto::PushTaskReply* reply,
                                    const ObjectError* error)>;

  static constexpr int kMaxLeasesPerShape = 16;
  /// Tasks (or one caller's actor calls) that take under kBatchBelowUs a
  /// round trip go to a worker up to kMaxBatch at a time: one round trip
  /// for many. Longer ones go one at a time, so that every lease gets some.
  static constexpr int kMaxBatch = 64;
  static constexpr double kBatchBelowUs = 2000;
  /// The round trip per task, as a moving average (0: none measured yet).
  static double Smoothed(double average, double sample) {
    return average == 0 ? sample : 0.8 * average + 0.2 * sample;
  }
  static bool Batches(double average_us) { return average_us > 0 && average_us < kBatchBelowUs; }
  /// How long a granted worker waits for another task of its shape before
  /// it goes back to its raylet (by default).
  static constexpr std::chrono::milliseconds kLeaseIdle{100};
  /// Sets that wait (before the first Submit): a test makes it an hour, so
  /// a lease that went back did so for a reason of its own.
  void SetLeaseIdle(std::chrono::milliseconds idle) { lease_idle_ = idle; }

  /// `raylet_address`: the local raylet ("host:port"); `token`: the
  /// cluster token every call carries.
  TaskSubmitter(std::string raylet_address, std::string token, OnDone on_done);
  ~TaskSubmitter();
  TaskSubmitter(const TaskSubmitter&) = delete;
  TaskSubmitter& operator=(const TaskSubmitter&) = delete;

  /// Called on each task just before it is pushed to a worker on node
  /// `node_id` (binary), whose raylet is `raylet` ("host:port"): the owner
  /// inlines there what that node cannot read in place, and notes what it
  /// will pull. Set before the first Submit.
  using Prepare =
      std::function<void(proto::TaskSpec* task, const std::string& node_id, const std::string& raylet)>;
  void SetPrepare(Prepare prepare) { prepare_ = std::move(prepare); }
  /// Queues `task` (every argument a value, or a reference Prepare resolves).
  void Submit(proto::TaskSpec task);
  /// Removes a queued task (not yet pushed): OnDone reports it cancelled.
  /// False if it was pushed already, or is unknown.
  bool Cancel(const std::string& task_id);
  /// Gives back every worker leased and idle now, and returns once they
  /// are back with their raylets (a worker process calls it when a task
  /// ends: the leases its task took are not kept past it).
  void ReleaseIdle();
  /// While a task of this process waits to take its CPU back after a
  /// blocking Get (between these two calls), a lease gives its worker back
  /// as soon as its queue is empty, idle ones at once: such a lease holds
  /// CPU that the waiting task needs, and the task cannot submit more work
  /// to it meanwhile. Without this, each unblock waited out the lease idle
  /// time.
  void BeginReacquire();
  void EndReacquire();
  /// Stops: queued tasks are dropped (not reported), waiting lease
  /// requests and running pushes are cancelled, the threads joined.
  void Shutdown();

  // Leases held by their caller (an actor holds its worker until it dies).
  struct Lease {
    std::string raylet;  // the raylet that granted it ("host:port")
    std::string worker;  // the worker ("host:port")
    std::string worker_id;
    std::string node_id;
    std::vector<int> gpu_ids;  // the node's GPU devices it holds
  };
  enum class LeaseOutcome { kGranted, kInfeasible, kFailed, kStopped };
  /// Leases a worker for tasks shaped like `sample`, following spillback;
  /// blocks until granted, refused (`*why` says why) or Shutdown.
  LeaseOutcome RequestLease(const proto::TaskSpec& sample, Lease* lease, std::string* why);
  /// Gives the worker back (`disconnect`: it must not be reused; the raylet
  /// ends it, by its pid).
  void ReturnWorker(const Lease& lease, bool disconnect);
  /// Pushes one task to a worker; Shutdown cancels it.
  grpc::Status Push(const std::string& worker, const proto::PushTaskRequest& request,
                    proto::PushTaskReply* reply);
  /// Pushes several tasks in one call (run in order); Shutdown cancels it.
  grpc::Status PushBatch(const std::string& worker, const proto::PushTasksRequest& request,
                         proto::PushTasksReply* reply);

  /// Why the leased worker went away, as its raylet saw it (waiting up to a
  /// second for the raylet to notice): "on node 'a', the worker process
  /// (pid 12) was killed by signal 9 (Killed)"; empty when unknown.
  std::string WorkerExitCause(const Lease& lease);

  /// Leases granted and worker deaths seen so far (introspection, tests).
  uint64_t leases_granted() const { return leases_granted_.load(); }
  uint64_t workers_lost() const { return workers_lost_.load(); }

 private:
  struct Shape {
    std::deque<proto::TaskSpec> queue;
    int leases = 0;  // lease threads working for this shape
    /// Recent round trip per task pushed (microseconds, a moving average;
    /// 0 until measured): short tasks are pushed in batches.
    double task_us = 0;
  };
  /// A task that could not run on its worker: retried (queued first) while
  /// it has retries left, else reported dead with `why`.
  void RetryOrFail(const std::string& key, proto::TaskSpec task, const std::string& worker,
                   const std::string& why);
  struct LeaseThread {
    std::thread thread;
    std::atomic<bool> finished{false};
  };
  static std::string ShapeKey(const proto::TaskSpec& task);
  /// One lease thread: leases a worker for `key`, runs its tasks, repeats
  /// while the queue has tasks.
  void RunLeases(const std::string& key);
  /// Fails every queued task of `key` with `error`.
  void FailShape(const std::string& key, const ObjectError& error);
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address);
  /// Tracks a call in flight so that Shutdown can cancel it; false when
  /// stopping already.
  bool Track(grpc::ClientContext* context);
  void Untrack(grpc::ClientContext* context);

  const std::string raylet_address_;
  const std::string token_;
  const OnDone on_done_;
  Prepare prepare_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // a task was queued, ReleaseIdle, or stopping
  std::condition_variable idle_cv_;  // an idle lease was given back
  int idle_leases_ = 0;
  uint64_t release_generation_ = 0;
  int reacquiring_ = 0;  // tasks of this process waiting to take their CPU back
  std::chrono::milliseconds lease_idle_ = kLeaseIdle;
  bool stopping_ = false;
  absl::node_hash_map<std::string, Shape> shapes_;  // (stable: waits hold a Shape&)
  std::list<std::unique_ptr<LeaseThread>> threads_;
  absl::flat_hash_set<grpc::ClientContext*> in_flight_;
  absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>> channels_;

  std::atomic<uint64_t> leases_granted_{0};
  std::atomic<uint64_t> workers_lost_{0};
};

}  // namespace raycc::core_worker
