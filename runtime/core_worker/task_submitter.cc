#include "core_worker/task_submitter.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "raycc/runtime/common/resource_set.h"
#include "rpc/auth.h"
#include "rpc/server.h"

namespace raycc::core_worker {
namespace {

// A raylet spills a request at most once (a spilled request is granted or
// failed there), so two hops suffice; more is a bug somewhere, not a reason
// to loop.
constexpr int kMaxSpillbacks = 4;

ObjectError MakeError(ObjectError::Kind kind, const proto::TaskSpec& task, std::string message) {
  ObjectError error;
  error.kind = kind;
  error.function = task.function().name();
  error.message = std::move(message);
  return error;
}

}  // namespace

TaskSubmitter::TaskSubmitter(std::string raylet_address, std::string token, OnDone on_done)
    : raylet_address_(std::move(raylet_address)), token_(std::move(token)), on_done_(std::move(on_done)) {}

TaskSubmitter::~TaskSubmitter() { Shutdown(); }

std::string TaskSubmitter::ShapeKey(const proto::TaskSpec& task) {
  // ResourceSet's text is canonical (sorted); a proto map's bytes are not.
  absl::StatusOr<ResourceSet> resources = ResourceSet::FromProto(task.required_resources());
  std::string key = absl::StrCat(task.job_id(), "|", task.function().library(), "|",
                                 resources.ok() ? resources->ToString() : "?", "|",
                                 task.scheduling_strategy().SerializeAsString());
  if (!task.label_selector().empty()) {
    // (Sorted: a proto map's order is not canonical.)
    std::map<std::string, std::string> selector(task.label_selector().begin(), task.label_selector().end());
    for (const auto& [label, value] : selector) absl::StrAppend(&key, "|", label, "=", value);
  }
  return key;
}

void TaskSubmitter::Submit(proto::TaskSpec task) {
  std::string key = ShapeKey(task);
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  Shape& shape = shapes_[key];
  shape.queue.push_back(std::move(task));
  work_cv_.notify_all();
  if (shape.leases >= kMaxLeasesPerShape || shape.leases >= static_cast<int>(shape.queue.size())) return;
  ++shape.leases;
  // Join the lease threads that ended, then start one more.
  for (auto it = threads_.begin(); it != threads_.end();) {
    if ((*it)->finished.load()) {
      (*it)->thread.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
  auto thread = std::make_unique<LeaseThread>();
  LeaseThread* self = thread.get();
  thread->thread = std::thread([this, key, self] {
    RunLeases(key);
    self->finished.store(true);
  });
  threads_.push_back(std::move(thread));
}

bool TaskSubmitter::Cancel(const std::string& task_id) {
  proto::TaskSpec cancelled;
  {
    std::lock_guard<std::mutex> lock(mu_);
    bool found = false;
    for (auto& [key, shape] : shapes_) {
      for (auto it = shape.queue.begin(); it != shape.queue.end(); ++it) {
        if (it->task_id() == task_id) {
          cancelled = std::move(*it);
          shape.queue.erase(it);
          found = true;
          break;
        }
      }
      if (found) break;
    }
    if (!found) return false;
  }
  ObjectError error =
      MakeError(ObjectError::Kind::kCancelled, cancelled,
                absl::StrCat("task ", cancelled.function().name(), " was cancelled before it ran"));
  on_done_(cancelled, nullptr, &error);
  return true;
}

void TaskSubmitter::Shutdown() {
  std::list<std::unique_ptr<LeaseThread>> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    work_cv_.notify_all();
    for (auto& [key, shape] : shapes_) shape.queue.clear();
    for (grpc::ClientContext* context : in_flight_) context->TryCancel();
    threads.swap(threads_);
  }
  for (auto& thread : threads) thread->thread.join();
}

void TaskSubmitter::ReleaseIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  ++release_generation_;
  work_cv_.notify_all();
  idle_cv_.wait(lock, [&] { return idle_leases_ == 0 || stopping_; });
}

void TaskSubmitter::BeginReacquire() {
  std::lock_guard<std::mutex> lock(mu_);
  ++reacquiring_;
  ++release_generation_;  // (the idle ones go now)
  work_cv_.notify_all();
}

void TaskSubmitter::EndReacquire() {
  std::lock_guard<std::mutex> lock(mu_);
  --reacquiring_;
}

std::shared_ptr<grpc::Channel> TaskSubmitter::ChannelTo(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<grpc::Channel>& channel = channels_[address];
  if (channel == nullptr) channel = rpc::Connect(address);
  return channel;
}

bool TaskSubmitter::Track(grpc::ClientContext* context) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  in_flight_.insert(context);
  return true;
}

void TaskSubmitter::Untrack(grpc::ClientContext* context) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(context);
}

TaskSubmitter::LeaseOutcome TaskSubmitter::RequestLease(const proto::TaskSpec& sample, Lease* lease,
                                                        std::string* why) {
  std::string raylet = raylet_address_;
  proto::RequestWorkerLeaseRequest request;
  *request.mutable_task() = sample;
  for (int hop = 0; hop <= kMaxSpillbacks; ++hop) {
    grpc::ClientContext context;
    rpc::AddToken(&context, token_);
    if (!Track(&context)) return LeaseOutcome::kStopped;
    proto::RequestWorkerLeaseReply reply;
    grpc::Status status =
        proto::RayletService::NewStub(ChannelTo(raylet))->RequestWorkerLease(&context, request, &reply);
    Untrack(&context);
    if (!status.ok()) {
      if (status.error_code() == grpc::StatusCode::CANCELLED) return LeaseOutcome::kStopped;
      *why = absl::StrCat("the raylet at ", raylet, " could not lease a worker: ", status.error_message());
      return LeaseOutcome::kFailed;
    }
    if (reply.canceled()) {
      *why = absl::StrCat("the raylet at ", raylet, " cancelled the lease request (it is stopping)");
      return LeaseOutcome::kFailed;
    }
    if (!reply.infeasible_reason().empty()) {
      *why = reply.infeasible_reason();
      return LeaseOutcome::kInfeasible;
    }
    if (reply.has_retry_at_raylet()) {
      raylet = absl::StrCat(reply.retry_at_raylet().host(), ":", reply.retry_at_raylet().port());
      request.set_spilled(true);
      continue;
    }
    if (!reply.has_worker_address()) {
      *why = absl::StrCat("the raylet at ", raylet, " answered a lease request with no worker");
      return LeaseOutcome::kFailed;
    }
    lease->raylet = raylet;
    lease->worker = absl::StrCat(reply.worker_address().host(), ":", reply.worker_address().port());
    lease->worker_id = reply.worker_address().worker_id();
    lease->node_id = reply.worker_address().node_id();
    lease->gpu_ids.assign(reply.gpu_devices().begin(), reply.gpu_devices().end());
    leases_granted_.fetch_add(1);
    return LeaseOutcome::kGranted;
  }
  *why = absl::StrCat("the lease request was spilled back more than ", kMaxSpillbacks, " times");
  return LeaseOutcome::kFailed;
}

void TaskSubmitter::ReturnWorker(const Lease& lease, bool disconnect) {
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  proto::ReturnWorkerRequest request;
  request.set_worker_id(lease.worker_id);
  request.set_disconnect(disconnect);
  proto::ReturnWorkerReply reply;
  // A raylet that is gone took its workers with it: nothing to give back.
  (void)proto::RayletService::NewStub(ChannelTo(lease.raylet))->ReturnWorker(&context, request, &reply);
}

grpc::Status TaskSubmitter::Push(const std::string& worker, const proto::PushTaskRequest& request,
                                 proto::PushTaskReply* reply) {
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  if (!Track(&context)) return grpc::Status(grpc::StatusCode::CANCELLED, "the runtime is stopping");
  grpc::Status status =
      proto::CoreWorkerService::NewStub(ChannelTo(worker))->PushTask(&context, request, reply);
  Untrack(&context);
  return status;
}

grpc::Status TaskSubmitter::PushBatch(const std::string& worker, const proto::PushTasksRequest& request,
                                      proto::PushTasksReply* reply) {
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  if (!Track(&context)) return grpc::Status(grpc::StatusCode::CANCELLED, "the runtime is stopping");
  grpc::Status status =
      proto::CoreWorkerService::NewStub(ChannelTo(worker))->PushTasks(&context, request, reply);
  Untrack(&context);
  return status;
}

std::string TaskSubmitter::WorkerExitCause(const Lease& lease) {
  proto::GetWorkerExitRequest request;
  request.set_worker_id(lease.worker_id);
  request.set_wait_ms(1000);
  proto::GetWorkerExitReply reply;
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!Track(&context)) return "";
  grpc::Status status =
      proto::RayletService::NewStub(ChannelTo(lease.raylet))->GetWorkerExit(&context, request, &reply);
  Untrack(&context);
  if (!status.ok() || !reply.exited()) return "";
  return absl::StrCat("on node '", reply.node_name(), "', its process (pid ", reply.pid(), ") ",
                      reply.cause());
}

void TaskSubmitter::RetryOrFail(const std::string& key, proto::TaskSpec task, const std::string& worker,
                                const std::string& why) {
  const int max_retries = task.max_retries();
  if (max_retries < 0 || static_cast<int>(task.attempt_number()) < max_retries) {
    task.set_attempt_number(task.attempt_number() + 1);
    std::lock_guard<std::mutex> lock(mu_);
    shapes_[key].queue.push_front(std::move(task));
    return;
  }
  ObjectError error = MakeError(
      ObjectError::Kind::kWorkerDied, task,
      absl::StrCat("the worker running task ", task.function().name(), " (", worker, ") died: ", why, "; ",
                   task.attempt_number() + 1, " attempt(s), max_retries=", max_retries));
  on_done_(task, nullptr, &error);
}

void TaskSubmitter::FailShape(const std::string& key, const ObjectError& error) {
  std::deque<proto::TaskSpec> failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    failed.swap(shapes_[key].queue);
  }
  for (const proto::TaskSpec& task : failed) {
    ObjectError own = error;
    own.function = task.function().name();
    on_done_(task, nullptr, &own);
  }
}

void TaskSubmitter::RunLeases(const std::string& key) {
  for (;;) {
    proto::TaskSpec sample;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Shape& shape = shapes_[key];
      if (stopping_ || shape.queue.empty()) {
        --shape.leases;
        return;
      }
      sample = shape.queue.front();
    }
    Lease lease;
    std::string why;
    switch (RequestLease(sample, &lease, &why)) {
      case LeaseOutcome::kGranted:
        break;
      case LeaseOutcome::kInfeasible:
        FailShape(key, MakeError(ObjectError::Kind::kInfeasible, sample, why));
        continue;
      case LeaseOutcome::kFailed:
        FailShape(key, MakeError(ObjectError::Kind::kSystem, sample, why));
        continue;
      case LeaseOutcome::kStopped:
        continue;  // (stopping: the loop's head returns)
    }
    bool worker_lost = false;
    bool idle = false;    // counted in idle_leases_
    bool pushed = false;  // this lease has run tasks
    const bool spread = sample.scheduling_strategy().has_spread();
    while (!worker_lost) {
      proto::PushTasksRequest batch;
      {
        // A lease outlives its queue by lease_idle_ (or until ReleaseIdle):
        // the next task of the shape (a caller submitting one at a time)
        // reuses the worker instead of asking the raylet again. Not for
        // spread tasks: each new one goes to the raylet's next node. Not
        // while a task here waits to take its CPU back (BeginReacquire).
        // Not for a lease granted after its queue ran dry (it asked while
        // others were busy, and they took the tasks): it goes back at once,
        // or each such grant would hold the node's CPU for lease_idle_.
        std::unique_lock<std::mutex> lock(mu_);
        Shape& shape = shapes_[key];
        if (shape.queue.empty() && !stopping_ && !spread) {
          // (Counted until it is back with its raylet: ReleaseIdle waits.)
          ++idle_leases_;
          idle = true;
          if (reacquiring_ == 0 && pushed) {
            const uint64_t generation = release_generation_;
            work_cv_.wait_for(lock, lease_idle_, [&] {
              return stopping_ || !shape.queue.empty() || release_generation_ != generation;
            });
            if (!stopping_ && !shape.queue.empty()) {
              --idle_leases_;
              idle = false;
            }
          }
        }
        if (stopping_ || shape.queue.empty()) break;
        // Short tasks: this lease's share of the queue at once.
        size_t take = 1;
        if (!spread && Batches(shape.task_us)) {
          const size_t share = (shape.queue.size() + shape.leases - 1) / std::max(1, shape.leases);
          take = std::clamp<size_t>(share, 1, kMaxBatch);
        }
        for (size_t i = 0; i < take && !shape.queue.empty(); ++i) {
          proto::PushTaskRequest* request = batch.add_tasks();
          *request->mutable_task() = std::move(shape.queue.front());
          request->set_intended_worker_id(lease.worker_id);
          for (int gpu : lease.gpu_ids) request->add_gpu_devices(gpu);
          shape.queue.pop_front();
        }
      }
      if (prepare_) {
        for (proto::PushTaskRequest& request : *batch.mutable_tasks())
          prepare_(request.mutable_task(), lease.node_id, lease.raylet);
      }
      const auto start = std::chrono::steady_clock::now();
      pushed = true;
      grpc::Status status;
      proto::PushTasksReply replies;
      if (batch.tasks_size() == 1) {
        status = Push(lease.worker, batch.tasks(0), replies.add_replies());
      } else {
        status = PushBatch(lease.worker, batch, &replies);
      }
      if (status.ok() && replies.replies_size() == batch.tasks_size()) {
        const double per_task =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
            batch.tasks_size();
        {
          std::lock_guard<std::mutex> lock(mu_);
          double& average = shapes_[key].task_us;
          average = Smoothed(average, per_task);
        }
        for (int i = 0; i < batch.tasks_size(); ++i)
          on_done_(batch.tasks(i).task(), &replies.replies(i), nullptr);
        // A spread lease runs one task: the next one goes back to the
        // raylet for the next node (even when it is already queued).
        if (spread) break;
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) break;
      }
      // The worker is gone (or refused the tasks): never reuse it; the tasks
      // that ran are done, the rest retry on a new lease while they have
      // retries left (queued first, in their order).
      worker_lost = true;
      workers_lost_.fetch_add(1);
      const int done = status.ok() ? std::min(replies.replies_size(), batch.tasks_size()) : 0;
      for (int i = 0; i < done; ++i) on_done_(batch.tasks(i).task(), &replies.replies(i), nullptr);
      std::string why = status.ok() ? "it answered for only some of its tasks" : status.error_message();
      // (Named by its raylet: the node, the pid and the signal or exit code.)
      if (std::string cause = WorkerExitCause(lease); !cause.empty()) why = cause;
      for (int i = batch.tasks_size() - 1; i >= done; --i) {
        RetryOrFail(key, std::move(*batch.mutable_tasks(i)->mutable_task()), lease.worker, why);
      }
    }
    ReturnWorker(lease, worker_lost);
    if (idle) {
      std::lock_guard<std::mutex> lock(mu_);
      --idle_leases_;
      idle_cv_.notify_all();
    }
  }
}

}  // namespace raycc::core_worker
