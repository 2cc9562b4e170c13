// The task submitter against a fake raylet and a fake worker (real gRPC on
// loopback): when its leases go back. The lease idle time is an hour here,
// so a lease that goes back within the test did so for a reason of its own:
// - a lease granted after its shape's queue ran dry (other leases took the
//   tasks) goes back at once;
// - while a task of the process waits to take its CPU back
//   (BeginReacquire), its idle leases go back at once, and so does a lease
//   that runs out of work meanwhile.

#include "core_worker/task_submitter.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "rpc/server.h"

namespace raycc::core_worker {
namespace {

using namespace std::chrono_literals;
constexpr auto kWait = 30s;

// Holds each lease request until the test grants it; records what comes
// back.
class FakeRaylet final : public proto::RayletService::Service {
 public:
  grpc::Status RequestWorkerLease(grpc::ServerContext* context, const proto::RequestWorkerLeaseRequest*,
                                  proto::RequestWorkerLeaseReply* reply) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !grants_.empty() || stopping_ || context->IsCancelled(); });
    --waiting_;
    if (grants_.empty()) return grpc::Status(grpc::StatusCode::CANCELLED, "stopping");
    const std::string worker = grants_.front();
    grants_.erase(grants_.begin());
    proto::Address* address = reply->mutable_worker_address();
    address->set_host("127.0.0.1");
    address->set_port(worker_port_);
    address->set_worker_id(worker);
    address->set_node_id("node");
    return grpc::Status::OK;
  }
  grpc::Status ReturnWorker(grpc::ServerContext*, const proto::ReturnWorkerRequest* request,
                            proto::ReturnWorkerReply*) override {
    std::lock_guard<std::mutex> lock(mu_);
    returned_.push_back(request->worker_id());
    cv_.notify_all();
    return grpc::Status::OK;
  }

  void SetWorkerPort(int port) { worker_port_ = port; }
  bool WaitRequests(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return waiting_ >= n; });
  }
  void Grant(const std::string& worker) {
    std::lock_guard<std::mutex> lock(mu_);
    grants_.push_back(worker);
    cv_.notify_all();
  }
  bool WaitReturned(const std::string& worker) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return Returned(worker); });
  }
  bool ReturnedNow(const std::string& worker) {
    std::lock_guard<std::mutex> lock(mu_);
    return Returned(worker);
  }
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }

 private:
  bool Returned(const std::string& worker) const {
    return std::find(returned_.begin(), returned_.end(), worker) != returned_.end();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool stopping_ = false;
  int worker_port_ = 0;
  std::vector<std::string> grants_;
  std::vector<std::string> returned_;
};

// Runs every task at once: its result is an empty return object.
class FakeWorker final : public proto::CoreWorkerService::Service {
 public:
  grpc::Status PushTask(grpc::ServerContext*, const proto::PushTaskRequest*,
                        proto::PushTaskReply* reply) override {
    reply->add_return_objects();
    return grpc::Status::OK;
  }
  grpc::Status PushTasks(grpc::ServerContext*, const proto::PushTasksRequest* request,
                         proto::PushTasksReply* reply) override {
    for (int i = 0; i < request->tasks_size(); ++i) reply->add_replies()->add_return_objects();
    return grpc::Status::OK;
  }
};

class TaskSubmitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int raylet_port = 0, worker_port = 0;
    auto raylet = rpc::StartServer("127.0.0.1", 0, {&raylet_}, &raylet_port);
    ASSERT_TRUE(raylet.ok()) << raylet.status();
    raylet_server_ = *std::move(raylet);
    auto worker = rpc::StartServer("127.0.0.1", 0, {&worker_}, &worker_port);
    ASSERT_TRUE(worker.ok()) << worker.status();
    worker_server_ = *std::move(worker);
    raylet_.SetWorkerPort(worker_port);
    submitter_ = std::make_unique<TaskSubmitter>(
        "127.0.0.1:" + std::to_string(raylet_port), "token",
        [this](const proto::TaskSpec&, const proto::PushTaskReply*, const ObjectError*) {
          std::lock_guard<std::mutex> lock(mu_);
          ++done_;
          cv_.notify_all();
        });
    submitter_->SetLeaseIdle(std::chrono::hours(1));
  }
  void TearDown() override {
    raylet_.Stop();
    if (submitter_) submitter_->Shutdown();
    if (worker_server_) worker_server_->Shutdown();
    if (raylet_server_) raylet_server_->Shutdown();
  }

  static proto::TaskSpec Task(int i) {
    proto::TaskSpec task;
    task.set_task_id("task-" + std::to_string(i));
    task.set_job_id("job");
    task.mutable_function()->set_name("F");
    task.mutable_function()->set_library("sha256:code");
    (*task.mutable_required_resources()->mutable_quantities())["CPU"] = 10000;
    return task;
  }
  bool WaitDone(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return done_ >= n; });
  }

  FakeRaylet raylet_;
  FakeWorker worker_;
  std::unique_ptr<grpc::Server> raylet_server_, worker_server_;
  std::unique_ptr<TaskSubmitter> submitter_;
  std::mutex mu_;
  std::condition_variable cv_;
  int done_ = 0;
};

TEST_F(TaskSubmitterTest, ALeaseGrantedAfterItsQueueRanDryGoesBackAtOnce) {
  // Two tasks of one shape: two lease requests.
  submitter_->Submit(Task(1));
  submitter_->Submit(Task(2));
  ASSERT_TRUE(raylet_.WaitRequests(2));
  // The first lease runs both; it then stays for the next task (an hour).
  raylet_.Grant("worker-a");
  ASSERT_TRUE(WaitDone(2));
  // The second comes when there is nothing left: it goes back at once.
  raylet_.Grant("worker-b");
  EXPECT_TRUE(raylet_.WaitReturned("worker-b")) << "a lease that ran nothing was kept";
  EXPECT_FALSE(raylet_.ReturnedNow("worker-a"));  // (it is idle, kept for reuse)

  // A task of this process waits to take its CPU back: the idle lease goes
  // back now, and ReleaseIdle returns once it is back.
  submitter_->BeginReacquire();
  EXPECT_TRUE(raylet_.WaitReturned("worker-a")) << "an idle lease was kept while a task waited for its CPU";
  // And a lease that runs out of work meanwhile goes back as it does.
  submitter_->Submit(Task(3));
  ASSERT_TRUE(raylet_.WaitRequests(1));
  raylet_.Grant("worker-c");
  ASSERT_TRUE(WaitDone(3));
  EXPECT_TRUE(raylet_.WaitReturned("worker-c")) << "a lease went idle while a task waited for its CPU";
  submitter_->EndReacquire();
  submitter_->ReleaseIdle();
}

}  // namespace
}  // namespace raycc::core_worker
