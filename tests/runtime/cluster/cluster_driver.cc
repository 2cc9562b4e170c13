// A driver program as a user writes one: a plain main using the dynamic API,
// run against a real cluster (RAYCC_ADDRESS, RAYCC_AUTH_TOKEN) by
// cluster_runtime_test. The raylets run this same executable as their
// worker processes (uploaded by content hash); Init never returns there.
//
// Prints one "name value" line per check, computed from what the cluster
// returned; the test compares them with what they must be. Exits 1 on an
// unexpected exception.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "raycc/api.h"

namespace {

int Add(int a, int b) { return a + b; }
int Pid() { return static_cast<int>(::getpid()); }
int Square(int x) { return x * x; }
std::string NodeName() { return raycc::CurrentNodeName(); }

// A nested submission: a task that submits tasks and waits for them (its
// worker gives its CPU back while it waits).
int SumOfSquares(int n) {
  std::vector<raycc::ObjectRef<int>> refs;
  for (int i = 0; i < n; ++i) refs.push_back(raycc::Task(Square).Remote(i));
  int sum = 0;
  for (const auto& value : raycc::Get(refs)) sum += *value;
  return sum;
}

int Fails(int x) { throw std::invalid_argument("bad x: " + std::to_string(x)); }

// Blocks until the driver writes to the FIFO at `path`.
std::string ReadFifo(std::string path) {
  std::ifstream in(path);
  std::string word;
  in >> word;
  return word;
}

// Kills its own worker the first time (no marker file yet), then succeeds.
int DiesOnce(std::string marker) {
  struct stat st;
  if (::stat(marker.c_str(), &st) != 0) {
    std::ofstream(marker) << "x";
    ::raise(SIGKILL);
  }
  return 7;
}

int AlwaysDies() {
  ::raise(SIGKILL);
  return 0;
}

std::vector<double> Scale(std::vector<double> v, double f) {
  for (double& x : v) x *= f;
  return v;
}

class Counter {
 public:
  static Counter* Create(int start) { return new Counter(start); }
  int Add(int n) { return value_ += n; }

 private:
  explicit Counter(int start) : value_(start) {}
  int value_;
};

RAYCC_REMOTE(Counter::Create, &Counter::Add);
int SumOfSquaresOnBig(int n);
RAYCC_REMOTE(SumOfSquaresOnBig);
RAYCC_REMOTE(Add, Pid, Square, NodeName, SumOfSquares, Fails, ReadFifo, DiesOnce, AlwaysDies, Scale);

void Print(const std::string& name, const std::string& value) {
  std::cout << name << " " << value << std::endl;
}
void Print(const std::string& name, long value) { Print(name, std::to_string(value)); }

template <typename E, typename F>
std::string Caught(F&& f) {
  try {
    f();
    return "no-exception";
  } catch (const E& e) {
    return e.what();
  }
}

void Tasks() {
  Print("add", *raycc::Task(Add).Remote(1, 2).Get());
  Print("remote_pid_differs", *raycc::Task(Pid).Remote().Get() != ::getpid() ? 1 : 0);
  Print("node", *raycc::Task(NodeName).Remote().Get());
  // References as arguments, resolved by their owner (this driver).
  raycc::ObjectRef<int> left = raycc::Task(Add).Remote(1, 2);
  raycc::ObjectRef<int> right = raycc::Task(Add).Remote(3, 4);
  Print("chain", *raycc::Task(Add).Remote(left, right).Get());
  Print("put_arg", *raycc::Task(Add).Remote(raycc::Put(40), 2).Get());
  Print("nested", *raycc::Task(SumOfSquares).Remote(10).Get());
  std::vector<raycc::ObjectRef<int>> many;
  for (int i = 0; i < 50; ++i) many.push_back(raycc::Task(Add).Remote(i, i));
  int sum = 0;
  for (const auto& v : raycc::Get(many)) sum += *v;
  Print("many_sum", sum);
  std::vector<double> scaled = *raycc::Task(Scale).Remote(std::vector<double>{1.5, 2.5}, 2.0).Get();
  Print("scaled", std::to_string(scaled[0]) + "," + std::to_string(scaled[1]));

  // A task's exception, and a task that depends on the failed result.
  raycc::ObjectRef<int> failed = raycc::Task(Fails).Remote(5);
  try {
    failed.Get();
    Print("task_error", "none");
  } catch (const raycc::TaskError& e) {
    Print("task_error", e.function_name() + "|" + e.exception_type() + "|" + e.original_message());
    Print("task_error_where", e.where());
  }
  Print("dependent_error", Caught<raycc::TaskError>([&] {
                             raycc::Task(Add).Remote(failed, 1).Get();
                           }).find("bad x: 5") != std::string::npos
                               ? 1
                               : 0);
  Print("infeasible", Caught<raycc::InfeasibleError>([] {
          raycc::Task(Square).SetResources({{"CPU", 1}, {"GPU", 4}}).Remote(2).Get();
        }));

  // Timeouts and Wait on a task that cannot finish until we let it.
  std::string fifo = "/tmp/raycc-cluster-driver-" + std::to_string(::getpid()) + ".fifo";
  ::mkfifo(fifo.c_str(), 0600);
  raycc::ObjectRef<std::string> blocked = raycc::Task(ReadFifo).Remote(fifo);
  Print("timeout", Caught<raycc::GetTimeoutError>([&] { blocked.Get(50); }).find("not ready within 50 ms") !=
                           std::string::npos
                       ? 1
                       : 0);
  raycc::WaitResult<std::string> waited = raycc::Wait(std::vector{blocked}, 1, 0);
  Print("wait_unready", static_cast<long>(waited.unready.size()));
  std::ofstream(fifo) << "released";
  Print("fifo", *blocked.Get());
  ::unlink(fifo.c_str());

  Print("actors", Caught<raycc::RayccError>([] { raycc::Actor(Counter::Create).Remote(0); }));
}

// A task of a shape only another node can hold: its lease spills there;
// the tasks it submits lease from its own raylet.
int SumOfSquaresOnBig(int n) { return SumOfSquares(n); }

void Spill() {
  Print("local", *raycc::Task(NodeName).Remote().Get());
  Print("spilled", *raycc::Task(NodeName).SetResources({{"CPU", 1}, {"big", 1}}).Remote().Get());
  Print("nested_on_big",
        *raycc::Task(SumOfSquaresOnBig).SetResources({{"CPU", 1}, {"big", 1}}).Remote(10).Get());
}

void Retries(const std::string& marker) {
  Print("retried", *raycc::Task(DiesOnce).SetMaxRetries(1).Remote(marker).Get());
  Print("worker_died", Caught<raycc::WorkerDiedError>([] { raycc::Task(AlwaysDies).Remote().Get(); }));
}

}  // namespace

int main(int argc, char** argv) {
  // First: in a worker process this serves the raylet and never returns.
  raycc::Init();
  std::string scenario = argc > 1 ? argv[1] : "tasks";
  try {
    if (scenario == "tasks") {
      Tasks();
    } else if (scenario == "spill") {
      Spill();
    } else if (scenario == "retries" && argc > 2) {
      Retries(argv[2]);
    } else {
      std::cerr << "usage: cluster_driver tasks | spill | retries MARKER\n";
      return 2;
    }
    // What the driver owns goes when its references do.
    Print("live_objects", static_cast<long>(raycc::internal::CurrentRuntime().LiveObjects()));
  } catch (const std::exception& e) {
    std::cerr << "cluster_driver: unexpected " << e.what() << std::endl;
    raycc::Shutdown();
    return 1;
  }
  raycc::Shutdown();
  return 0;
}
