#include "raylet/node_manager.h"

#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "object_store/shared_object_store.h"
#include "raycc/runtime/common/status.h"
#include "rpc/content_hash.h"
#include "scheduling/pick_node.h"
#include "scheduling/policy_options.h"

namespace raycc::raylet {
namespace {

constexpr char kCodePrefix[] = "sha256:";

bool IsContentHash(absl::string_view hash) {
  return hash.size() == 64 && std::all_of(hash.begin(), hash.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

NodeManager::NodeManager(NodeManagerOptions options, gcs::GcsClientInterface& gcs, WorkerPoolInterface& pool)
    : options_(std::move(options)), gcs_(gcs), pool_(pool) {
  // (The view's names are node ids: unique, and never empty.)
  (void)view_.AddNode(options_.node_id.Hex(), options_.total, options_.labels);
  pool_.SetExitCallback(
      [this](const WorkerId& worker, const std::string& cause) { OnWorkerExit(worker, cause); });
}

NodeManager::~NodeManager() {
  Shutdown();
  if (driver_watch_.joinable()) driver_watch_.join();
  for (auto& [id, driver] : drivers_) ::close(driver.pidfd);
}

absl::Status NodeManager::RegisterDriver(const WorkerId& id, int pid, const JobId& job,
                                         const std::string& code) {
  if (pid <= 0) return absl::InvalidArgumentError("RegisterWorker: a driver needs its pid");
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("RegisterWorker: driver pid ", pid,
                                                      " is not a process on this raylet's machine (",
                                                      std::strerror(errno), ")"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || drivers_.contains(id)) {
    ::close(pidfd);
    return stopping_ ? absl::UnavailableError("RegisterWorker: the raylet is stopping")
                     : absl::AlreadyExistsError(
                           absl::StrCat("RegisterWorker: driver ", id.Hex(), " registered already"));
  }
  drivers_[id] = Driver{job, pid, pidfd};
  absl::string_view hash = code;
  if (absl::ConsumePrefix(&hash, kCodePrefix) && IsContentHash(hash)) {
    prestarts_.emplace_back(job, std::string(hash));  // (started by the watch thread: fetching code is slow)
  }
  if (!driver_watch_.joinable()) driver_watch_ = std::thread([this] { WatchDrivers(); });
  cv_.notify_all();
  return absl::OkStatus();
}

void NodeManager::WatchDrivers() {
  // Looks at the drivers' pidfds; every 200 ms it takes in new ones and
  // sees a Shutdown.
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<WorkerId> ids;
    std::vector<std::pair<JobId, std::string>> prestarts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      prestarts.swap(prestarts_);
      for (const auto& [id, driver] : drivers_) {
        fds.push_back(pollfd{driver.pidfd, POLLIN, 0});
        ids.push_back(id);
      }
    }
    // A new driver's job gets workers started ahead of its first lease.
    for (const auto& [job, program] : prestarts) Prestart(job, program);
    if (::poll(fds.data(), fds.size(), prestarts.empty() ? 200 : 0) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Driver driver;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = drivers_.find(ids[i]);
        if (it == drivers_.end()) continue;
        driver = it->second;
        drivers_.erase(it);
      }
      ::close(driver.pidfd);
      // Its leases go with it (the workers holding them end), and its job
      // is over: the GCS removes its groups and actors, raylets end its
      // idle workers. (A driver that finished cleanly said so already.)
      OnWorkerExit(ids[i], absl::StrCat("the driver (pid ", driver.pid, ") exited"));
      (void)gcs_.MarkJobFinished(driver.job);
      OnJobsFinished({driver.job});
    }
  }
}

absl::StatusOr<std::string> NodeManager::EnsureCode(const std::string& code) {
  std::string path = absl::StrCat(options_.session_dir, "/code/", code);
  std::lock_guard<std::mutex> lock(code_mu_);
  if (::access(path.c_str(), X_OK) == 0) return path;
  absl::StatusOr<std::optional<std::string>> bytes = gcs_.KvGet("code", code);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("the job's code ", kCodePrefix, code,
                     " was never uploaded to the cluster (the driver uploads it at Init)"));
  }
  if (rpc::Sha256Hex(**bytes) != code) {
    return absl::DataLossError(
        absl::StrCat("the code stored as ", kCodePrefix, code, " does not have that hash"));
  }
  ::mkdir(absl::StrCat(options_.session_dir, "/code").c_str(), 0755);
  std::string partial = absl::StrCat(path, ".partial.", ::getpid());
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write((*bytes)->data(), static_cast<std::streamsize>((*bytes)->size()));
    if (!out) return absl::InternalError(absl::StrCat("cannot write '", partial, "'"));
  }
  if (::chmod(partial.c_str(), 0755) != 0 || ::rename(partial.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(partial.c_str());
    return absl::InternalError(absl::StrCat("cannot install '", path, "': ", std::strerror(err)));
  }
  return path;
}

absl::StatusOr<proto::RequestWorkerLeaseReply> NodeManager::RequestLease(
    const proto::RequestWorkerLeaseRequest& message, const std::function<bool()>& cancelled) {
  const proto::TaskSpec& task = message.task();
  Request request;
  absl::StatusOr<ResourceSet> resources = ResourceSet::FromProto(task.required_resources());
  if (!resources.ok()) return Annotate(resources.status(), "RequestWorkerLease");
  request.resources = *std::move(resources);
  request.demand = scheduling::ResourceRequest::Of(scheduling::ToUnits(request.resources));
  absl::StatusOr<JobId> job = JobId::FromBinary(task.job_id());
  if (!job.ok()) return Annotate(job.status(), "RequestWorkerLease");
  request.job = *job;
  absl::string_view library = task.function().library();
  if (!absl::ConsumePrefix(&library, kCodePrefix) || !IsContentHash(library)) {
    return absl::InvalidArgumentError(absl::StrCat("RequestWorkerLease: the task's code must be named '",
                                                   kCodePrefix, "<64 hex digits>', got '",
                                                   task.function().library(), "'"));
  }
  request.program = std::string(library);
  request.code = request.program;
  std::vector<std::string> library_hashes;
  for (const std::string& name : task.function().task_libraries()) {
    absl::string_view hash = name;
    if (!absl::ConsumePrefix(&hash, kCodePrefix) || !IsContentHash(hash)) {
      return absl::InvalidArgumentError(absl::StrCat("RequestWorkerLease: a task library must be named '",
                                                     kCodePrefix, "<64 hex digits>', got '", name, "'"));
    }
    library_hashes.emplace_back(hash);
    absl::StrAppend(&request.code, "+", hash);
  }
  if (absl::StatusOr<WorkerId> holder = WorkerId::FromBinary(task.owner_address().worker_id()); holder.ok()) {
    request.holder = *holder;
  }

  proto::RequestWorkerLeaseReply reply;
  if (task.scheduling_strategy().has_placement_group()) {
    absl::StatusOr<PlacementGroupId> group =
        PlacementGroupId::FromBinary(task.scheduling_strategy().placement_group().placement_group_id());
    if (!group.ok()) return Annotate(group.status(), "RequestWorkerLease: placement group");
    request.group = *group;
    if (RouteToBundle(message, request.resources, cancelled, &reply)) return reply;
  }
  scheduling::LabelSelector selector;
  if (!task.label_selector().empty()) {
    absl::StatusOr<scheduling::LabelSelector> parsed = scheduling::ParseLabelSelector(
        std::map<std::string, std::string>(task.label_selector().begin(), task.label_selector().end()));
    if (!parsed.ok()) return Annotate(parsed.status(), "RequestWorkerLease: label selector");
    selector = *std::move(parsed);
  }
  for (bool refreshed = false;; refreshed = true) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!view_.CanEverRun(request.demand, kHere) || !scheduling::MatchesLabels(options_.labels, selector)) {
      proto::Address spill;
      std::string reason = InfeasibleReasonLocked(request.resources, request.demand, selector, &spill);
      if (spill.port() == 0 && !refreshed) {
        // The node list may be older than a node that just joined: ask the
        // GCS once before calling the request infeasible.
        lock.unlock();
        RefreshClusterView();
        continue;
      }
      if (!message.spilled() && spill.port() != 0) {
        *reply.mutable_retry_at_raylet() = spill;
      } else {
        reply.set_infeasible_reason(reason);
      }
      return reply;
    }
    break;
  }
  RAYCC_ASSIGN_OR_RETURN(request.executable, EnsureCode(request.program));
  for (const std::string& hash : library_hashes) {
    RAYCC_ASSIGN_OR_RETURN(std::string path, EnsureCode(hash));
    request.libraries.push_back(std::move(path));
  }

  // Placed and queued in one critical section, so that requests arriving
  // together each see what the ones before them took.
  std::unique_lock<std::mutex> lock(mu_);
  for (bool refreshed = false; !message.spilled() && !stopping_; refreshed = true) {
    std::string infeasible;
    const int node = PlaceLocked(task.scheduling_strategy(), request.demand, selector, &infeasible);
    if (node < 0 && !refreshed) {
      // Its node may have joined since the last heartbeat: look once more.
      lock.unlock();
      RefreshClusterView();
      lock.lock();
      continue;
    }
    if (node < 0) {
      reply.set_infeasible_reason(infeasible);
      return reply;
    }
    if (node != kHere) {
      *reply.mutable_retry_at_raylet() = peers_[node - 1].address;
      return reply;
    }
    // Queued here: if this node is full and the view of the others is
    // older than kViewMaxAge, look again once (a node may have joined or
    // freed up since the last heartbeat). Not for spread: its turn came to
    // this node, and it waits here for room rather than skip a turn.
    if (refreshed || task.scheduling_strategy().has_spread() || FitsHereLocked(request.demand.units) ||
        std::chrono::steady_clock::now() - view_time_ < kViewMaxAge) {
      break;
    }
    lock.unlock();
    RefreshClusterView();
    lock.lock();
  }
  if (stopping_) {
    reply.set_canceled(true);
    return reply;
  }
  queue_.push_back(&request);
  DispatchLocked();
  while (request.state != Request::State::kGranted && request.state != Request::State::kFailed &&
         !stopping_) {
    cv_.wait_for(lock, options_.cancel_poll);
    if (request.state == Request::State::kGranted || request.state == Request::State::kFailed) break;
    if (cancelled()) break;
  }
  queue_.remove(&request);
  if (request.state == Request::State::kGranted) {
    const Worker& worker = workers_.at(request.worker);
    proto::Address* address = reply.mutable_worker_address();
    address->set_node_id(options_.node_id.Binary());
    address->set_host(options_.host);
    address->set_port(worker.port);
    address->set_worker_id(worker.id.Binary());
    request.resources.ToProto(reply.mutable_granted_resources());
    for (int gpu : worker.gpus) reply.add_gpu_devices(gpu);
    return reply;
  }
  // Not granted: give back what it held.
  if (request.state == Request::State::kStarting) {
    ReleaseRequestLocked(request);
    auto it = workers_.find(request.worker);
    if (it != workers_.end()) it->second.starting_for = nullptr;  // becomes idle when it registers
    DispatchLocked();
  }
  if (request.state == Request::State::kFailed) return absl::UnavailableError(request.error);
  reply.set_canceled(true);
  return reply;
}

namespace {

std::string LabelsToString(const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return "no labels";
  std::vector<std::string> parts;
  for (const auto& [key, value] : labels) parts.push_back(absl::StrCat(key, "=", value));
  return absl::StrCat("labels ", absl::StrJoin(parts, ","));
}

}  // namespace

std::string NodeManager::InfeasibleReasonLocked(const ResourceSet& resources,
                                                const scheduling::ResourceRequest& demand,
                                                const scheduling::LabelSelector& selector,
                                                proto::Address* spill_to) const {
  std::vector<std::string> nodes;
  for (int i = 0; i < view_.size(); ++i) {
    const scheduling::NodeResources& node = view_.node(i);
    if (i != kHere && spill_to->port() == 0 && view_.CanEverRun(demand, i) &&
        scheduling::MatchesLabels(node.labels, selector)) {
      *spill_to = peers_[i - 1].address;
    }
    std::string line = absl::StrCat("'", i == kHere ? options_.node_name : peers_[i - 1].name, "' has ",
                                    view_.totals()[i].ToString());
    if (!selector.empty()) absl::StrAppend(&line, " and ", LabelsToString(node.labels));
    nodes.push_back(std::move(line));
  }
  if (selector.empty()) {
    return absl::StrCat("the task needs ", resources.ToString(), " and no node has that much (",
                        absl::StrJoin(nodes, "; "), ")");
  }
  return absl::StrCat("the task needs ", resources.ToString(), " on a node with ",
                      scheduling::LabelSelectorToString(selector), ", and no node has both (",
                      absl::StrJoin(nodes, "; "), ")");
}

void NodeManager::DispatchLocked() {
  for (Unblock* unblock : unblocks_) {
    if (unblock->done) continue;
    auto it = workers_.find(unblock->worker);
    if (it == workers_.end()) {
      unblock->done = true;
      continue;
    }
    const scheduling::Units lent = scheduling::CpuPart(it->second.held.units);
    if (!FitsHereLocked(lent)) {
      // In order: the first waits, so do the rest, and no new lease goes
      // ahead of them. Those made done above are told.
      cv_.notify_all();
      return;
    }
    view_.Acquire(lent, kHere);
    it->second.blocked = false;
    unblock->done = true;
  }
  for (Request* request : queue_) {
    if (request->state != Request::State::kQueued || !view_.CanRun(request->demand, kHere)) continue;
    view_.Acquire(request->demand.units, kHere);
    // (Its devices now, with its units: a request dispatched meanwhile
    // must not count on them.)
    request->gpus = view_.TakeGpus(request->demand, kHere);
    Worker* idle = nullptr;
    for (auto& [id, worker] : workers_) {
      if (worker.state == WorkerState::kIdle && worker.job == request->job && worker.code == request->code) {
        idle = &worker;
        break;
      }
    }
    if (idle != nullptr) {
      GrantLocked(*request, *idle);
    } else {
      StartWorkerLocked(*request);
    }
  }
  cv_.notify_all();
}

void NodeManager::GrantLocked(Request& request, Worker& worker) {
  worker.state = WorkerState::kLeased;
  worker.group = request.group;
  worker.held = request.demand;
  worker.gpus = std::move(request.gpus);
  request.gpus.clear();
  worker.blocked = false;
  worker.starting_for = nullptr;
  worker.holder = request.holder;
  request.worker = worker.id;
  request.state = Request::State::kGranted;
}

WorkerLaunch NodeManager::LaunchLocked(const Worker& worker, const std::string& program,
                                       const std::string& executable,
                                       const std::vector<std::string>& libraries) const {
  WorkerLaunch launch;
  launch.worker = worker.id;
  launch.job = worker.job;
  launch.executable = executable;
  launch.log_path = absl::StrCat(options_.session_dir, "/logs/worker-", worker.id.Hex(), ".log");
  launch.env = {
      "RAYCC_WORKER=1",
      absl::StrCat("RAYCC_ADDRESS=", options_.gcs_address),
      absl::StrCat("RAYCC_RAYLET_ADDRESS=", options_.host, ":", options_.port),
      absl::StrCat("RAYCC_WORKER_ID=", worker.id.Hex()),
      absl::StrCat("RAYCC_JOB_ID=", worker.job.Hex()),
      absl::StrCat("RAYCC_NODE_ID=", options_.node_id.Hex()),
      absl::StrCat("RAYCC_NODE_NAME=", options_.node_name),
      absl::StrCat("RAYCC_AUTH_TOKEN=", options_.token),
      // The worker's own code, so that the tasks it submits run the same.
      absl::StrCat("RAYCC_CODE_HASH=", program),
      absl::StrCat("RAYCC_TASK_LIBRARIES=", absl::StrJoin(libraries, ":")),
      absl::StrCat("RAYCC_OBJECT_STORE=", ObjectStoreName()),
  };
  return launch;
}

void NodeManager::Prestart(const JobId& job, const std::string& program) {
  absl::StatusOr<std::string> executable = EnsureCode(program);
  if (!executable.ok()) return;  // (its first lease says why)
  std::lock_guard<std::mutex> lock(mu_);
  // As many as the node has whole CPUs, up to the idle workers a job keeps.
  const int count = std::min<int>(options_.max_idle_workers_per_job,
                                  static_cast<int>(view_.totals()[kHere].Get("CPU").ToDouble()));
  for (int i = 0; i < count && !stopping_ && !finished_jobs_.contains(job); ++i) {
    Worker worker;
    worker.id = WorkerId::FromRandom();
    worker.job = job;
    worker.code = program;  // (no task libraries: a job's own program)
    absl::StatusOr<int> pid = pool_.Start(LaunchLocked(worker, program, *executable, {}));
    if (!pid.ok()) return;
    worker.pid = *pid;
    workers_.emplace(worker.id, std::move(worker));  // idle once it registers
  }
}

void NodeManager::StartWorkerLocked(Request& request) {
  request.state = Request::State::kStarting;
  for (;;) {
    ++request.attempts;
    Worker worker;
    worker.id = WorkerId::FromRandom();
    worker.job = request.job;
    worker.code = request.code;
    worker.starting_for = &request;
    absl::StatusOr<int> pid =
        pool_.Start(LaunchLocked(worker, request.program, request.executable, request.libraries));
    if (pid.ok()) {
      worker.pid = *pid;
      request.worker = worker.id;
      workers_.emplace(worker.id, std::move(worker));
      return;
    }
    if (request.attempts >= options_.max_start_attempts) {
      request.state = Request::State::kFailed;
      request.error = std::string(pid.status().message());
      ReleaseRequestLocked(request);
      return;
    }
  }
}

absl::Status NodeManager::RegisterWorker(const WorkerId& id, int port, int pid, const JobId& job) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(id);
  if (it == workers_.end()) {
    return absl::NotFoundError(
        absl::StrCat("RegisterWorker: worker ", id.Hex(), " was not started by this raylet"));
  }
  Worker& worker = it->second;
  if (worker.state == WorkerState::kDying ||
      (worker.state == WorkerState::kStarting && worker.starting_for == nullptr &&
       finished_jobs_.contains(worker.job))) {
    // (Its job ended while it started: it exits on this refusal.)
    return absl::FailedPreconditionError(
        absl::StrCat("RegisterWorker: worker ", id.Hex(), "'s job ", worker.job.Hex(), " has finished"));
  }
  if (worker.state != WorkerState::kStarting) {
    return absl::FailedPreconditionError(
        absl::StrCat("RegisterWorker: worker ", id.Hex(), " registered already"));
  }
  if (worker.job != job || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterWorker: worker ", id.Hex(), ": wrong job or port"));
  }
  if (worker.pid > 0 && pid != worker.pid) {
    // (a worker is exec'd straight from the fork: its own pid is the one
    // this raylet started; anyone else naming its id is refused)
    return absl::PermissionDeniedError(
        absl::StrCat("RegisterWorker: worker ", id.Hex(), " was started as pid ", worker.pid, ", not ", pid));
  }
  worker.port = port;
  if (worker.starting_for != nullptr) {
    GrantLocked(*worker.starting_for, worker);
  } else {
    worker.state = WorkerState::kIdle;
    DispatchLocked();
  }
  cv_.notify_all();
  return absl::OkStatus();
}

absl::Status NodeManager::ReturnWorker(const WorkerId& id, bool disconnect) {
  bool kill = disconnect;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = workers_.find(id);
    if (it == workers_.end()) return absl::OkStatus();  // (it died already: nothing to return)
    Worker& worker = it->second;
    if (worker.state != WorkerState::kLeased) {
      return absl::FailedPreconditionError(absl::StrCat("ReturnWorker: worker ", id.Hex(), " is not leased"));
    }
    ReleaseLeaseLocked(worker);
    worker.group = PlacementGroupId();
    worker.state = WorkerState::kIdle;
    int idle_of_job = 0;
    for (const auto& [other_id, other] : workers_) {
      if (other.state == WorkerState::kIdle && other.job == worker.job) ++idle_of_job;
    }
    if (idle_of_job > options_.max_idle_workers_per_job || finished_jobs_.contains(worker.job)) kill = true;
    // (Before dispatching: a worker being ended must not be leased again.)
    if (kill) worker.state = WorkerState::kDying;
    DispatchLocked();
  }
  if (kill) pool_.Kill(id);
  return absl::OkStatus();
}

absl::Status NodeManager::NotifyBlocked(const WorkerId& id, bool blocked,
                                        const std::function<bool()>& cancelled) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = workers_.find(id);
  if (it == workers_.end() || it->second.state != WorkerState::kLeased) {
    return absl::FailedPreconditionError(
        absl::StrCat("NotifyWorkerBlocked: worker ", id.Hex(), " holds no lease"));
  }
  if (blocked) {
    if (!it->second.blocked) {
      it->second.blocked = true;
      view_.Release(scheduling::CpuPart(it->second.held.units), kHere);
      DispatchLocked();
    }
    return absl::OkStatus();
  }
  if (!it->second.blocked) return absl::OkStatus();
  Unblock unblock{id};
  unblocks_.push_back(&unblock);
  DispatchLocked();
  while (!unblock.done && !stopping_ && !cancelled()) cv_.wait_for(lock, options_.cancel_poll);
  unblocks_.remove(&unblock);
  if (!unblock.done) return absl::CancelledError("NotifyWorkerBlocked: cancelled");
  return absl::OkStatus();
}

void NodeManager::OnWorkerExit(const WorkerId& id, const std::string& cause) {
  std::vector<WorkerId> orphans;
  {
    std::lock_guard<std::mutex> lock(mu_);
    OnWorkerExitLocked(id, cause);
    // The leases it held go with it (lease-holder liveness, on this node):
    // their workers run tasks whose owner is gone; they end too.
    for (auto& [other_id, other] : workers_) {
      if (other.state != WorkerState::kLeased || other.holder != id) continue;
      ReleaseLeaseLocked(other);
      other.state = WorkerState::kDying;
      orphans.push_back(other_id);
    }
    if (!orphans.empty()) DispatchLocked();
  }
  for (const WorkerId& orphan : orphans) pool_.Kill(orphan);
  // What it held in the store (a killed reader's views, a write it never
  // sealed) is given back now that it is gone.
  if (options_.object_store != nullptr) options_.object_store->ReleaseDeadProcesses();
}

std::optional<std::pair<std::string, int>> NodeManager::WorkerExit(const WorkerId& worker,
                                                                   std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, wait, [&] { return stopping_ || exits_.contains(worker); });
  auto it = exits_.find(worker);
  if (it == exits_.end()) return std::nullopt;
  return it->second;
}

void NodeManager::OnWorkerExitLocked(const WorkerId& id, const std::string& cause) {
  auto it = workers_.find(id);
  if (it == workers_.end()) return;
  Worker worker = std::move(it->second);
  workers_.erase(it);
  exits_[id] = {cause, worker.pid};
  exit_order_.push_back(id);
  if (exit_order_.size() > 1024) {
    exits_.erase(exit_order_.front());
    exit_order_.pop_front();
  }
  cv_.notify_all();
  if (worker.state == WorkerState::kLeased) ReleaseLeaseLocked(worker);
  // (A worker ended while leased in a removed group gave its resources
  // back then; its devices come back now that it is gone.)
  if (!worker.gpus.empty()) view_.ReleaseGpus(worker.held, kHere, worker.gpus);
  if (worker.state == WorkerState::kStarting && worker.starting_for != nullptr && !stopping_) {
    Request& request = *worker.starting_for;
    if (request.attempts >= options_.max_start_attempts) {
      request.state = Request::State::kFailed;
      request.error = absl::StrCat("the worker process for job ", worker.job.Hex(), " ", cause,
                                   " before it registered (", request.attempts, " attempts; see ",
                                   options_.session_dir, "/logs/worker-", worker.id.Hex(), ".log)");
      ReleaseRequestLocked(request);
    } else {
      StartWorkerLocked(request);
    }
  }
  DispatchLocked();
}

void NodeManager::ReleaseRequestLocked(Request& request) {
  view_.Release(request.demand.units, kHere);
  if (!request.gpus.empty()) view_.ReleaseGpus(request.demand, kHere, request.gpus);
  request.gpus.clear();
}

void NodeManager::ReleaseLeaseLocked(Worker& worker) {
  scheduling::Units units = worker.held.units;
  if (worker.blocked) {
    for (const auto& [name, q] : scheduling::CpuPart(units)) units.erase(name);
  }
  view_.Release(units, kHere);
  if (!worker.gpus.empty()) view_.ReleaseGpus(worker.held, kHere, worker.gpus);
  worker.held = {};
  worker.gpus.clear();
  worker.blocked = false;
}

void NodeManager::OnJobsFinished(const std::vector<JobId>& jobs) {
  std::vector<WorkerId> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const JobId& job : jobs) {
      if (!finished_jobs_.emplace(job, true).second) continue;
      for (auto& [id, worker] : workers_) {
        // Idle ones, and ones still starting for nobody (prestarted): a
        // worker that registers after its job ended would idle forever.
        const bool unclaimed = worker.state == WorkerState::kStarting && worker.starting_for == nullptr;
        if (worker.job == job && (worker.state == WorkerState::kIdle || unclaimed)) {
          worker.state = WorkerState::kDying;
          idle.push_back(id);
        }
      }
    }
  }
  for (const WorkerId& id : idle) pool_.Kill(id);
}

void NodeManager::SetPort(int port) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.port = port;
}

void NodeManager::SetNodeName(std::string name) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.node_name = std::move(name);
}

void NodeManager::RefreshClusterView() {
  std::vector<proto::NodeInfo> nodes = gcs_.GetAllNodes();
  if (!nodes.empty()) SetClusterNodes(std::move(nodes));
}

void NodeManager::SetClusterNodes(std::vector<proto::NodeInfo> nodes) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  view_time_ = now;
  peers_.clear();
  view_.DropNodesFrom(kHere + 1);
  for (const proto::NodeInfo& node : nodes) {
    if (node.state() != proto::NodeInfo::ALIVE || node.node_id() == options_.node_id.Binary()) continue;
    absl::StatusOr<ResourceSet> total = ResourceSet::FromProto(node.total_resources());
    absl::StatusOr<ResourceSet> free = ResourceSet::FromProto(node.available_resources());
    absl::StatusOr<NodeId> id = NodeId::FromBinary(node.node_id());
    if (!total.ok() || !free.ok() || !id.ok()) continue;
    absl::StatusOr<int> index = view_.AddNode(
        id->Hex(), *total, std::map<std::string, std::string>(node.labels().begin(), node.labels().end()));
    if (!index.ok()) continue;  // (listed twice)
    view_.SetAvailable(*index, scheduling::ToUnits(*free));
    peers_.push_back({node.node_id(), node.node_name(), node.raylet_address()});
  }
  // A report may predate the leases spilled to its node: keep them counted
  // until the node has surely reported since (options_.spill_hold).
  std::erase_if(spill_holds_, [&](const SpillHold& hold) { return hold.until <= now; });
  for (const SpillHold& hold : spill_holds_) {
    if (const int peer = NodeIndexLocked(hold.node_id); peer > kHere) view_.Acquire(hold.units, peer);
  }
}

int NodeManager::NodeIndexLocked(const std::string& node_id) const {
  if (node_id == options_.node_id.Binary()) return kHere;
  for (size_t i = 0; i < peers_.size(); ++i)
    if (peers_[i].node_id == node_id) return static_cast<int>(i) + 1;
  return -1;
}

int NodeManager::PlaceLocked(const proto::SchedulingStrategy& strategy,
                             const scheduling::ResourceRequest& demand,
                             const scheduling::LabelSelector& labels, std::string* infeasible) {
  if (strategy.has_placement_group()) return kHere;  // (routed to its bundle's node already)
  scheduling::PolicyOptions options;
  options.labels = &labels;
  options.spread = strategy.has_spread();
  options.spread_by_total = true;  // (the peers' room is only as fresh as their last report)
  if (strategy.has_node_affinity()) {
    const proto::NodeAffinitySchedulingStrategy& affinity = strategy.node_affinity();
    const int node = NodeIndexLocked(affinity.node_id());
    if (node >= 0 && view_.CanEverRun(demand, node) && scheduling::Eligible(view_, node, options)) {
      options.affinity = node;
      options.affinity_soft = affinity.soft();
    } else if (!affinity.soft()) {
      absl::StatusOr<NodeId> id = NodeId::FromBinary(affinity.node_id());
      *infeasible = absl::StrCat("the task must run on node ", id.ok() ? id->Hex() : "?",
                                 ", which is dead, unknown, or too small for ",
                                 scheduling::ToSet(demand.units).ToString());
      return -1;
    }
  }
  int node = scheduling::PickNode(view_, demand, options, &spread_cursor_);
  if (node < 0) {
    // No node it may use has room now: it waits on its hard affinity's
    // node, else here.
    return options.affinity >= 0 && !options.affinity_soft ? options.affinity : kHere;
  }
  if (node != kHere) {
    view_.Acquire(demand.units, node);
    spill_holds_.push_back(
        {peers_[node - 1].node_id, demand.units, std::chrono::steady_clock::now() + options_.spill_hold});
  }
  return node;
}

bool NodeManager::HoldsBundleLocked(const PlacementGroupId& group, int index) const {
  if (index >= 0) {
    auto it = bundles_.find({group, index});
    return it != bundles_.end() && it->second.committed;
  }
  for (const auto& [key, bundle] : bundles_) {
    if (key.first == group && bundle.committed) return true;
  }
  return false;
}

bool NodeManager::RouteToBundle(const proto::RequestWorkerLeaseRequest& message, const ResourceSet& resources,
                                const std::function<bool()>& cancelled,
                                proto::RequestWorkerLeaseReply* reply) {
  const proto::PlacementGroupSchedulingStrategy& strategy =
      message.task().scheduling_strategy().placement_group();
  const PlacementGroupId group = *PlacementGroupId::FromBinary(strategy.placement_group_id());
  const int index = strategy.bundle_index();
  const std::string what = index >= 0 ? absl::StrCat("bundle ", index, " of placement group ", group.Hex())
                                      : absl::StrCat("placement group ", group.Hex());
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Here: its bundle is here (a spilled request always queues here).
    if (HoldsBundleLocked(group, index) &&
        (index >= 0 || message.spilled() || FitsHereLocked(scheduling::ToUnits(resources)))) {
      return false;
    }
    if (message.spilled() && !HoldsBundleLocked(group, index)) {
      reply->set_infeasible_reason(absl::StrCat("node '", options_.node_name, "' holds no ", what,
                                                " (the group was removed, or its node died)"));
      return true;
    }
  }
  // Elsewhere: where the GCS put the bundle(s), once the group is created.
  // (A pending group is waited for in the GCS, woken by its reservation, in
  // rounds of kPendingRound so that a cancelled lease is seen; a client
  // that cannot wait there looks again every kPendingPoll.)
  constexpr auto kPendingRound = std::chrono::milliseconds(1000);
  constexpr auto kPendingPoll = std::chrono::milliseconds(50);
  for (;;) {
    absl::StatusOr<proto::PlacementGroupInfo> info = gcs_.GetPlacementGroup(group);
    if (!info.ok() || info->state() == proto::PG_REMOVED) {
      reply->set_infeasible_reason(absl::StrCat(
          what, info.ok() ? " was removed" : absl::StrCat(" is unknown: ", info.status().message())));
      return true;
    }
    if (index >= info->spec().bundles_size()) {
      reply->set_infeasible_reason(
          absl::StrCat(what, " does not exist: the group has ", info->spec().bundles_size(), " bundles"));
      return true;
    }
    std::vector<std::string> nodes;  // (node ids, bytes; in bundle order, distinct)
    if (info->state() == proto::PG_CREATED || info->state() == proto::PG_RESCHEDULING) {
      for (const proto::Bundle& bundle : info->spec().bundles()) {
        // (RESCHEDULING: a bundle lost with its node has none yet.)
        if ((index >= 0 && bundle.index() != index) || bundle.node_id().empty()) continue;
        if (std::find(nodes.begin(), nodes.end(), bundle.node_id()) == nodes.end()) {
          nodes.push_back(bundle.node_id());
        }
      }
    }
    if (!nodes.empty()) {
      std::unique_lock<std::mutex> lock(mu_);
      std::erase(nodes, options_.node_id.Binary());
      if (nodes.empty()) return false;  // (every bundle it may use is here: it queues here)
      // Any bundle: a node whose last report shows room in the group, else
      // the next one in turn.
      std::string target = nodes[bundle_next_++ % nodes.size()];
      const scheduling::Units units = scheduling::ToUnits(resources);
      for (size_t i = 0; i < peers_.size() && nodes.size() > 1; ++i) {
        if (std::find(nodes.begin(), nodes.end(), peers_[i].node_id) != nodes.end() &&
            scheduling::Fits(units, view_.node(static_cast<int>(i) + 1).available)) {
          target = peers_[i].node_id;
          break;
        }
      }
      for (bool refreshed = false;; refreshed = true) {
        for (const Peer& peer : peers_) {
          if (peer.node_id == target) {
            *reply->mutable_retry_at_raylet() = peer.address;
            return true;
          }
        }
        if (refreshed) break;
        lock.unlock();
        RefreshClusterView();  // (a node that joined since the last heartbeat)
        lock.lock();
      }
      reply->set_infeasible_reason(absl::StrCat("the node holding ", what, " is not alive"));
      return true;
    }
    // Pending, or every bundle it may use is being reserved again after its
    // node died: the lease waits for the reservation, as long as its caller does.
    if (cancelled()) {
      reply->set_canceled(true);
      return true;
    }
    absl::StatusOr<bool> ready = gcs_.WaitPlacementGroupReady(group, kPendingRound.count());
    if (ready.ok() || absl::IsFailedPrecondition(ready.status())) {
      // (Created, removed or a round over: looked at again above.)
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        reply->set_canceled(true);
        return true;
      }
      continue;
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, kPendingPoll, [&] { return stopping_; })) {
        reply->set_canceled(true);
        return true;
      }
    }
  }
}

bool NodeManager::PrepareBundles(const PlacementGroupId& group,
                                 const std::vector<std::pair<int, ResourceSet>>& bundles) {
  std::lock_guard<std::mutex> lock(mu_);
  ResourceSet sum;
  std::vector<std::pair<int, ResourceSet>> fresh;
  for (const auto& [index, resources] : bundles) {
    // Held here already (prepared or committed): a GCS restarted between
    // reserving it and recording that asks again. The same bundle is still
    // held; another one under its key is refused.
    if (auto held = bundles_.find({group, index}); held != bundles_.end()) {
      if (!(held->second.resources == resources)) return false;
      continue;
    }
    sum.Add(resources);
    fresh.emplace_back(index, resources);
  }
  const scheduling::Units units = scheduling::ToUnits(sum);
  if (stopping_ || !FitsHereLocked(units)) return false;
  view_.Acquire(units, kHere);
  for (auto& [index, resources] : fresh) bundles_[{group, index}] = Bundle{std::move(resources), false};
  return true;
}

void NodeManager::CommitBundles(const PlacementGroupId& group, const std::vector<int>& indices) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string suffix = gcs::GroupResourceSuffix(group);
  for (int index : indices) {
    auto it = bundles_.find({group, index});
    if (it == bundles_.end() || it->second.committed) continue;  // (idempotent)
    it->second.committed = true;
    view_.AddCapacity(scheduling::ToUnits(gcs::GroupResources(it->second.resources, index, suffix)), kHere);
  }
  DispatchLocked();
}

void NodeManager::CancelBundles(const PlacementGroupId& group, const std::vector<int>& indices) {
  std::vector<WorkerId> in_group;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string suffix = gcs::GroupResourceSuffix(group);
    bool returned_committed = false;
    for (int index : indices) {
      auto it = bundles_.find({group, index});
      if (it == bundles_.end()) continue;
      if (it->second.committed) {
        // Its renamed resources leave the node; work in it may hold some
        // (ended below), so what is free of them is cut, not subtracted.
        view_.RemoveCapacity(scheduling::ToUnits(gcs::GroupResources(it->second.resources, index, suffix)),
                             kHere);
        returned_committed = true;
      }
      view_.Release(scheduling::ToUnits(it->second.resources), kHere);
      bundles_.erase(it);
    }
    if (returned_committed && !HoldsBundleLocked(group, -1)) {
      // The group is gone from this node: what runs in it ends, and what
      // waits for it fails.
      for (auto& [id, worker] : workers_) {
        if (worker.state != WorkerState::kLeased || worker.group != group) continue;
        worker.held.units.clear();  // (the group's resources are gone; its devices wait for its exit)
        worker.state = WorkerState::kDying;
        in_group.push_back(id);
      }
      view_.DropGroupResources(suffix);
      for (Request* request : queue_) {
        if (request->group != group || request->state == Request::State::kGranted ||
            request->state == Request::State::kFailed) {
          continue;
        }
        if (request->state == Request::State::kStarting) {
          auto starting = workers_.find(request->worker);
          if (starting != workers_.end()) starting->second.starting_for = nullptr;
          // (Its group's units are gone with the group; its devices come back.)
          if (!request->gpus.empty()) view_.ReleaseGpus(request->demand, kHere, request->gpus);
          request->gpus.clear();
        }
        request->state = Request::State::kFailed;
        request->error = absl::StrCat("placement group ", group.Hex(), " was removed");
      }
    }
    DispatchLocked();
  }
  for (const WorkerId& id : in_group) pool_.Kill(id);
}

ResourceSet NodeManager::available() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scheduling::ToSet(view_.node(kHere).available);
}

size_t NodeManager::unblocks_waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(
      std::count_if(unblocks_.begin(), unblocks_.end(), [](const Unblock* u) { return !u->done; }));
}

void NodeManager::Report(proto::NodeResourcesReport* report) const {
  std::lock_guard<std::mutex> lock(mu_);
  scheduling::ToSet(view_.node(kHere).available).ToProto(report->mutable_available_resources());
  report->set_resources_version(++report_version_);
}

void NodeManager::FillStats(proto::GetNodeStatsReply* reply) const {
  std::lock_guard<std::mutex> lock(mu_);
  view_.totals()[kHere].ToProto(reply->mutable_total_resources());
  scheduling::ToSet(view_.node(kHere).available).ToProto(reply->mutable_available_resources());
  reply->set_num_workers(static_cast<uint32_t>(workers_.size()));
  reply->set_num_pending_leases(static_cast<uint32_t>(queue_.size()));
  reply->set_workers_started(pool_.started());
  reply->set_workers_exited(pool_.exited());
  if (options_.object_store != nullptr) {
    object_store::StoreStats store = options_.object_store->Stats();
    reply->set_object_store_capacity_bytes(store.capacity);
    reply->set_object_store_used_bytes(store.used);
    reply->set_object_store_objects(store.objects);
    reply->set_object_store_pinned(store.pinned);
    reply->set_object_store_reads(store.reads);
    reply->set_object_store_spilled_objects(store.spilled_objects);
    reply->set_object_store_spilled_bytes(store.spilled_bytes);
    reply->set_object_store_spills(store.spills);
    reply->set_object_store_restores(store.restores);
    reply->set_object_store_creates_refused(store.creates_refused);
    reply->set_object_store_dead_pins_released(store.dead_pins_released);
    reply->set_object_store_dead_writes_freed(store.dead_writes_freed);
  }
}

std::string NodeManager::ObjectStoreName() const {
  return options_.object_store != nullptr ? options_.object_store->name() : std::string();
}

void NodeManager::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  pool_.Shutdown();
}

}  // namespace raycc::raylet
