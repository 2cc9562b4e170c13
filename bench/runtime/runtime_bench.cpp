// bench/runtime_bench: the runtime API on the embedded runtime, next to a
// baseline measured in the same run: a minimal thread pool (one mutex-guarded
// queue, std::packaged_task futures), the floor any task runtime pays.
//
// Each row is the median, min and max of --reps runs (default 5) after a
// warm-up that is reported on its own line when it is far off (the first
// repetition is where cold-start cliffs show); the compiled graph row takes
// 11 runs of each, in turns. Not run by ctest.
//   build/bench/runtime_bench [--tasks N] [--queued N] [--big-mib N] [--reps N] [--graph butterfly.rcx]
//
// --address HOST:PORT (or auto): the same task and actor rows against a
// cluster (workers are processes; the bench's own executable is uploaded
// and run as them), beside a plain gRPC unary round trip to the same GCS in
// the same run, and the time to join and run a first task.
//   build/bin/raycc start --head --num-cpus 2 && build/bench/runtime_bench --address auto
//
// --graph: an artifact of bench/trace_scale/trace_program.cc, e.g.
//   raycc compile bench/trace_scale/trace_program.cc --graph butterfly --param tasks=10000 --param width=100
//   -o butterfly.rcx
// runs that compiled graph against the same graph submitted task by task,
// and Graph::Run of it against Execute in turn.
// --pipeline: the actor pipeline of the same file, e.g.
//   raycc compile bench/trace_scale/trace_program.cc --graph pipeline --param stages=4 --param items=16 -o
//   pipeline.rcx
// runs it many times (Graph::Run, actors made once) against the same calls
// submitted dynamically on actors made once.
// --map: the `step` graph of trace_program.cc (a map of N shards and their
// sum), e.g. `raycc compile bench/trace_scale/trace_program.cc --graph step
// --param shards=100000 -o step.rcx`, against the same tasks submitted
// dynamically.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "gcs/gcs_rpc_client.h"
#include "raycc/api.h"
#include "rpc/auth.h"
#include "rpc/session.h"

namespace {

int Noop(int x) { return x; }
int64_t Square(int64_t x) { return x * x; }
int64_t FanOut(int64_t n) {
  std::vector<raycc::ObjectRef<int>> refs;
  for (int64_t i = 0; i < n; ++i) refs.push_back(raycc::Task(Noop).Remote(static_cast<int>(i)));
  int64_t sum = 0;
  for (const auto& v : raycc::Get(refs)) sum += *v;
  return sum;
}
class Acc {
 public:
  static Acc* Create() { return new Acc(); }
  int Add(int x) { return total_ += x; }

 private:
  int total_ = 0;
};
// The butterfly graph of bench/trace_scale/trace_program.cc, with the same
// names, so a compiled artifact of it runs these very functions.
int64_t Seed(int64_t i) { return i; }
int64_t Mix(int64_t a, int64_t b, int64_t salt) { return a * 31 + b + salt; }

int64_t Length(const std::string& s) { return static_cast<int64_t>(s.size()); }
// (Its argument is read where it lies: on another node, once pulled there.)
int64_t BytesLength(raycc::SharedBytes b) { return static_cast<int64_t>(b.size()); }
// The actor pipeline of trace_program.cc, with the same names.
class Stage {
 public:
  static Stage* Create(int64_t salt) { return new Stage{salt}; }
  int64_t Step(int64_t x) { return x * 31 + salt; }
  int64_t salt = 0;
};
// The map step of trace_program.cc, with the same names.
int64_t Part(int64_t shard, int64_t salt) { return shard * 31 + salt; }
int64_t Total(std::vector<int64_t> parts) {
  int64_t sum = 0;
  for (int64_t p : parts) sum += p;
  return sum;
}
RAYCC_REMOTE(Noop, Square, FanOut, Acc::Create, &Acc::Add, Seed, Mix, Length, BytesLength, Stage::Create,
             &Stage::Step, Part, Total);

/// The butterfly graph submitted dynamically; returns its outputs.
std::vector<raycc::ObjectRef<int64_t>> DynamicButterfly(int64_t tasks, int64_t width) {
  std::vector<raycc::ObjectRef<int64_t>> layer;
  for (int64_t i = 0; i < width; ++i) layer.push_back(raycc::Task(Seed).Remote(i));
  for (int64_t made = width; made < tasks;) {
    std::vector<raycc::ObjectRef<int64_t>> next;
    for (int64_t i = 0; i < width && made < tasks; ++i, ++made) {
      next.push_back(
          raycc::Task(Mix).SetResources({{"CPU", 1}}).Remote(layer[i], layer[(i + width / 2) % width], made));
    }
    while (static_cast<int64_t>(next.size()) < width) next.push_back(layer[next.size()]);
    layer = std::move(next);
  }
  return layer;
}

/// Peak resident memory of this process so far, in bytes.
double PeakRssBytes() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  double kb = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb * 1024;
}

class ThreadPool {
 public:
  explicit ThreadPool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  std::future<int> Submit(std::function<int()> f) {
    std::packaged_task<int()> task(std::move(f));
    std::future<int> result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push(std::move(task));
    }
    cv_.notify_one();
    return result;
  }

 private:
  void Loop() {
    while (true) {
      std::packaged_task<int()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::queue<std::packaged_task<int()>> queue_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

double Seconds(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int reps = 5;

/// Median, min and max of repeated runs, and the first (warm-up) run.
struct Stat {
  double median = 0, min = 0, max = 0, first = 0;
};

Stat Summarize(std::vector<double> v, double first) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back(), first};
}

Stat Measure(const std::function<double()>& run) {
  double first = run();
  std::vector<double> v;
  for (int i = 0; i < reps; ++i) v.push_back(run());
  return Summarize(std::move(v), first);
}

/// `run` and its baseline `baseline` taken in turns (a warm-up of each,
/// then `reps` of each), so that both see the same spells of noise.
std::pair<Stat, Stat> MeasureInTurns(const std::function<double()>& run,
                                     const std::function<double()>& baseline) {
  double first = run(), first_baseline = baseline();
  std::vector<double> a, b;
  for (int i = 0; i < reps; ++i) {
    a.push_back(run());
    b.push_back(baseline());
  }
  return {Summarize(std::move(a), first), Summarize(std::move(b), first_baseline)};
}

std::string Cell(const Stat& s) {
  if (s.median == 0 && s.max == 0) return "-";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.1f [%.1f-%.1f]", s.median, s.min, s.max);
  return buf;
}

void Row(const char* what, const char* unit, const Stat& raycc, const Stat& baseline = {}) {
  std::printf("%-34s %30s %30s  %s\n", what, Cell(raycc).c_str(), Cell(baseline).c_str(), unit);
  // A first run outside [min/2, 2*max] is a cold-start cliff worth seeing.
  if (raycc.first > 0 && (raycc.first < raycc.min / 2 || raycc.first > 2 * raycc.max)) {
    std::printf("%-34s %30.1f %30s  %s\n", "  (its warm-up run)", raycc.first, "", unit);
  }
}

/// Raw loopback TCP throughput, the baseline of node-to-node transfer:
/// `bytes` sent over one connection in 1 MiB writes, read by another thread
/// into a 1 MiB buffer; GB/s, or 0 when a socket call fails.
double TcpLoopbackGbps(uint64_t bytes) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (listener >= 0) ::close(listener);
    return 0;
  }
  constexpr size_t kBlock = 1 << 20;
  uint64_t received = 0;
  std::thread reader([&] {
    int in = ::accept(listener, nullptr, nullptr);
    if (in < 0) return;
    std::vector<char> buffer(kBlock);
    for (ssize_t n; received < bytes && (n = ::read(in, buffer.data(), buffer.size())) > 0;) received += n;
    ::close(in);
  });
  int out = ::socket(AF_INET, SOCK_STREAM, 0);
  std::vector<char> block(kBlock, 't');
  double seconds = Seconds([&] {
    if (::connect(out, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    for (uint64_t sent = 0; sent < bytes;) {
      ssize_t n = ::write(out, block.data(), std::min<uint64_t>(kBlock, bytes - sent));
      if (n <= 0) break;
      sent += n;
    }
    ::shutdown(out, SHUT_WR);
    reader.join();
  });
  if (reader.joinable()) {
    ::shutdown(listener, SHUT_RDWR);
    reader.join();
  }
  ::close(out);
  ::close(listener);
  return received == bytes ? static_cast<double>(bytes) / 1e9 / seconds : 0;
}

/// The cluster rows: tasks and actor calls pushed to worker processes over
/// gRPC, against a unary gRPC round trip to the cluster's GCS.
int RunCluster(std::string address, int n, int big_mib) {
  double join_ms = 1e3 * Seconds([&] {
                     raycc::Init(raycc::Config{.address = address});
                     raycc::Get(raycc::Task(Noop).Remote(0));
                   });
  if (address == "auto") address = raycc::rpc::LatestSession()->address;
  absl::StatusOr<std::string> token = raycc::rpc::TokenFromEnvironment();
  if (!token.ok()) token = raycc::rpc::ReadTokenFile(raycc::rpc::LatestSession()->token_file);
  raycc::gcs::GcsRpcClient gcs(address, token.ok() ? *token : "");
  std::printf("cluster at %s, %d tasks per run, median [min-max] of %d runs after a warm-up\n",
              address.c_str(), n, reps);
  std::printf("%-34s %30s %30s\n", "workload", "raycc cluster", "baseline");
  Row("join (Init) + first task", "ms (first run only)", Stat{join_ms, join_ms, join_ms});

  Stat async_tasks = Measure([&] {
    return n / Seconds([&] {
             std::vector<raycc::ObjectRef<int>> refs;
             refs.reserve(n);
             for (int i = 0; i < n; ++i) refs.push_back(raycc::Task(Noop).Remote(i));
             raycc::Get(refs);
           });
  });
  int m = std::max(200, n / 5);
  Stat unary_rate = Measure([&] {
    return m / Seconds([&] {
             for (int i = 0; i < m; ++i) (void)gcs.KvGet("bench", "absent");
           });
  });
  Row("no-op tasks, async", "tasks/s (baseline: sync gRPC unary calls/s)", async_tasks, unary_rate);
  Stat sync_task = Measure([&] {
    return 1e6 * Seconds([&] {
             for (int i = 0; i < m; ++i) raycc::Get(raycc::Task(Noop).Remote(i));
           }) /
           m;
  });
  Stat unary = Measure([&] {
    return 1e6 * Seconds([&] {
             for (int i = 0; i < m; ++i) (void)gcs.KvGet("bench", "absent");
           }) /
           m;
  });
  Row("no-op task, sync round trip", "us (baseline: gRPC unary round trip)", sync_task, unary);

  auto actor = raycc::Actor(Acc::Create).Remote();
  raycc::Get(actor.Task(&Acc::Add).Remote(0));
  Stat actor_async = Measure([&] {
    return n / Seconds([&] {
             std::vector<raycc::ObjectRef<int>> refs;
             refs.reserve(n);
             for (int i = 0; i < n; ++i) refs.push_back(actor.Task(&Acc::Add).Remote(1));
             raycc::Get(refs.back());
           });
  });
  Row("actor calls, async", "calls/s", actor_async);
  Stat actor_sync = Measure([&] {
    return 1e6 * Seconds([&] {
             for (int i = 0; i < m; ++i) raycc::Get(actor.Task(&Acc::Add).Remote(1));
           }) /
           m;
  });
  Row("actor call, sync round trip", "us (baseline: gRPC unary round trip)", actor_sync, unary);
  Stat nested = Measure([&] {
    const int64_t parents = 4, leaves = std::max<int64_t>(10, n / 20);
    return parents * leaves / Seconds([&] {
             std::vector<raycc::ObjectRef<int64_t>> refs;
             for (int64_t p = 0; p < parents; ++p) refs.push_back(raycc::Task(FanOut).Remote(leaves));
             for (const auto& r : refs) raycc::Get(r);
           });
  });
  Row("nested fan-out (4 parents)", "leaf tasks/s", nested);
  Stat groups = Measure([&] {
    const int g = std::max(50, m / 4);
    return g / Seconds([&] {
             for (int i = 0; i < g; ++i) {
               raycc::PlacementGroup pg = raycc::CreatePlacementGroup({.bundles = {{{"CPU", 1}}}});
               if (!pg.Wait(30)) std::abort();
               raycc::RemovePlacementGroup(pg.GetID());
             }
           });
  });
  Row("placement group: create, ready, remove", "groups/s (one at a time)", groups);
  // As Ray's benchmark does it: many created, all waited for, all removed.
  Stat many_groups = Measure([&] {
    const int g = std::max(200, m);
    return g / Seconds([&] {
             std::vector<raycc::PlacementGroup> pgs;
             pgs.reserve(g);
             for (int i = 0; i < g; ++i)
               pgs.push_back(raycc::CreatePlacementGroup({.bundles = {{{"CPU", 0.001}}}}));
             for (auto& pg : pgs)
               if (!pg.Wait(30)) std::abort();
             for (auto& pg : pgs) raycc::RemovePlacementGroup(pg.GetID());
           });
  });
  Row("placement groups: create N, wait all, remove all", "groups/s", many_groups);

  // Many small objects (they stay in the owner's memory), as Dask's rows.
  const int small = 10000;
  std::vector<raycc::ObjectRef<std::string>> smalls;
  const std::string bytes64(64, 'x');
  Stat small_puts = Measure([&] {
    smalls.clear();
    smalls.reserve(small);
    return small / Seconds([&] {
             for (int i = 0; i < small; ++i) smalls.push_back(raycc::Put(bytes64));
           });
  });
  Row("10 k puts of 64 B, one at a time", "objects/s", small_puts);
  Stat small_gets = Measure([&] {
    return small / Seconds([&] {
             for (const auto& r : smalls)
               if (r.Get()->size() != 64) std::abort();
           });
  });
  Row("10 k gets of 64 B, one at a time", "objects/s", small_gets);
  Stat small_get_all = Measure([&] { return small / Seconds([&] { (void)raycc::Get(smalls); }); });
  Row("10 k gets of 64 B, in one call", "objects/s", small_get_all);
  smalls.clear();

  // The object plane: a big value into the node's store, read by a task on
  // the same node (in place) and on another node (pulled node to node).
  auto blob = std::make_shared<const std::string>(static_cast<size_t>(big_mib) << 20, 'b');
  const double gb = static_cast<double>(blob->size()) / 1e9;
  Stat copy = Measure([&] {
    return gb / Seconds([&] {
             std::unique_ptr<char[]> to(new char[blob->size()]);
             std::memcpy(to.get(), blob->data(), blob->size());
             static std::unique_ptr<char[]> keep;  // (freed untimed, next time round)
             keep = std::move(to);
           });
  });
  Stat put = Measure([&] {
    raycc::ObjectRef<std::string> ref;
    return gb / Seconds([&] { ref = raycc::Put(blob); });
  });
  char what[64];
  std::snprintf(what, sizeof what, "put of %d MiB (into the store)", big_mib);
  Row(what, "GB/s (baseline: copy to fresh memory)", put, copy);
  // Any other value (here a std::vector<double>): serialized straight into
  // the store, measured first (no buffer of its size on the way).
  auto vec = std::make_shared<const std::vector<double>>(blob->size() / sizeof(double), 0.25);
  Stat put_doubles = Measure([&] {
    raycc::ObjectRef<std::vector<double>> ref;
    return gb / Seconds([&] { ref = raycc::Put(vec); });
  });
  std::snprintf(what, sizeof what, "put of %d MiB vector<double>", big_mib);
  Row(what, "GB/s (baseline: copy to fresh memory)", put_doubles, copy);
  // SharedBytes: written straight into the store; Get on the node is a view.
  raycc::SharedBytes shared(std::string(blob->size(), 's'));
  Stat put_shared = Measure([&] {
    raycc::ObjectRef<raycc::SharedBytes> ref;
    return gb / Seconds([&] { ref = raycc::Put(shared); });
  });
  std::snprintf(what, sizeof what, "put of %d MiB SharedBytes", big_mib);
  Row(what, "GB/s (baseline: copy to fresh memory)", put_shared, copy);
  raycc::ObjectRef<raycc::SharedBytes> held = raycc::Put(shared);
  Stat get_shared = Measure([&] {
    return gb / Seconds([&] {
             if (held.Get()->size() != shared.size()) std::abort();
           });
  });
  std::snprintf(what, sizeof what, "get of %d MiB SharedBytes, same node", big_mib);
  Row(what, "GB/s (a view into the store: no copy)", get_shared, copy);
  // SharedArray<double>: its elements written straight into the store; Get
  // on the node points at them there.
  auto doubles = std::make_shared<const raycc::SharedArray<double>>(
      std::vector<double>(blob->size() / sizeof(double), 0.5));
  Stat put_array = Measure([&] {
    raycc::ObjectRef<raycc::SharedArray<double>> ref;
    return gb / Seconds([&] { ref = raycc::Put(doubles); });
  });
  std::snprintf(what, sizeof what, "put of %d MiB SharedArray<double>", big_mib);
  Row(what, "GB/s (baseline: copy to fresh memory)", put_array, copy);
  raycc::ObjectRef<raycc::SharedArray<double>> held_array = raycc::Put(doubles);
  Stat get_array = Measure([&] {
    return gb / Seconds([&] {
             if (held_array.Get()->size() != doubles->size()) std::abort();
           });
  });
  std::snprintf(what, sizeof what, "get of %d MiB SharedArray<double>, same node", big_mib);
  Row(what, "GB/s (a view into the store: no copy)", get_array, copy);
  absl::StatusOr<std::vector<raycc::proto::NodeInfo>> nodes = gcs.TryGetAllNodes();
  std::vector<std::string> names;
  for (const raycc::proto::NodeInfo& node : nodes.ok() ? *nodes : std::vector<raycc::proto::NodeInfo>{})
    if (node.state() == raycc::proto::NodeInfo::ALIVE) names.push_back(node.node_name());
  // (The driver's node is the first alive one, as Init picks it.)
  for (size_t k = 0; k < std::min<size_t>(names.size(), 2); ++k) {
    Stat read = Measure([&] {
      raycc::ObjectRef<std::string> ref = raycc::Put(blob);  // (fresh: the other node pulls it anew)
      return gb / Seconds([&] {
               if (*raycc::Task(Length).SetNodeAffinity(names[k]).Remote(ref).Get() !=
                   static_cast<int64_t>(blob->size()))
                 std::abort();
             });
    });
    std::snprintf(what, sizeof what,
                  k == 0 ? "task reads %d MiB, same node" : "task reads %d MiB, other node", big_mib);
    Row(what,
        k == 0 ? "GB/s (in place; the task deserializes a copy)" : "GB/s (pulled node to node, 5 MiB chunks)",
        read);
  }
  if (names.size() >= 2) {
    // The transfer alone: a SharedBytes argument is read where it lies, so
    // the task costs the pull (and a task round trip); beside raw TCP.
    Stat tcp = Measure([&] { return TcpLoopbackGbps(blob->size()); });
    raycc::SharedBytes shared(std::string(blob->size(), 'p'));
    Stat pull = Measure([&] {
      raycc::ObjectRef<raycc::SharedBytes> ref = raycc::Put(shared);  // (fresh: pulled anew)
      return gb / Seconds([&] {
               if (*raycc::Task(BytesLength).SetNodeAffinity(names[1]).Remote(ref).Get() !=
                   static_cast<int64_t>(blob->size()))
                 std::abort();
             });
    });
    std::snprintf(what, sizeof what, "%d MiB pulled to the other node", big_mib);
    Row(what, "GB/s (baseline: raw loopback TCP stream)", pull, tcp);
  }
  raycc::Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000, queued = 1000000, big_mib = 1024;
  std::string graph_path, pipeline_path, map_path, address;
  bool tasks_given = false, big_mib_given = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--tasks") && i + 1 < argc) {
      n = std::atoi(argv[++i]);
      tasks_given = true;
    } else if (!std::strcmp(argv[i], "--address") && i + 1 < argc) {
      address = argv[++i];
    } else if (!std::strcmp(argv[i], "--queued") && i + 1 < argc) {
      queued = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--big-mib") && i + 1 < argc) {
      big_mib = std::atoi(argv[++i]);
      big_mib_given = true;
    } else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--graph") && i + 1 < argc) {
      graph_path = argv[++i];
    } else if (!std::strcmp(argv[i], "--pipeline") && i + 1 < argc) {
      pipeline_path = argv[++i];
    } else if (!std::strcmp(argv[i], "--map") && i + 1 < argc) {
      map_path = argv[++i];
    } else {
      std::fprintf(
          stderr,
          "usage: runtime_bench [--tasks N] [--queued N] [--big-mib N] [--reps N] [--graph butterfly.rcx]\n"
          "                     [--pipeline pipeline.rcx] [--map step.rcx]\n"
          "       runtime_bench --address HOST:PORT|auto [--tasks N] [--reps N] [--big-mib N]\n");
      return 2;
    }
  }
  // A cluster's worker processes run this executable: Init serves there.
  if (std::getenv("RAYCC_WORKER") != nullptr) raycc::Init();
  if (!address.empty()) return RunCluster(address, tasks_given ? n : 5000, big_mib_given ? big_mib : 256);
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  raycc::Config config;
  config.num_cpus = cpus;
  raycc::Init(config);
  ThreadPool pool(cpus);
  std::printf("%d CPUs, %d tasks per run, median [min-max] of %d runs after a warm-up\n", cpus, n, reps);
  std::printf("%-34s %30s %30s\n", "workload", "raycc", "baseline");

  Stat async_raycc = Measure([&] {
    return n / Seconds([&] {
             std::vector<raycc::ObjectRef<int>> refs;
             refs.reserve(n);
             for (int i = 0; i < n; ++i) refs.push_back(raycc::Task(Noop).Remote(i));
             for (const auto& r : refs) raycc::Get(r);
           });
  });
  Stat async_pool = Measure([&] {
    return n / Seconds([&] {
             std::vector<std::future<int>> fs;
             fs.reserve(n);
             for (int i = 0; i < n; ++i) fs.push_back(pool.Submit([i] { return Noop(i); }));
             for (auto& f : fs) f.get();
           });
  });
  Row("no-op tasks, async", "tasks/s", async_raycc, async_pool);

  int m = std::max(1000, n / 20);
  Stat sync_raycc = Measure([&] {
    return 1e6 * Seconds([&] {
             for (int i = 0; i < m; ++i) raycc::Get(raycc::Task(Noop).Remote(i));
           }) /
           m;
  });
  Stat sync_pool = Measure([&] {
    return 1e6 * Seconds([&] {
             for (int i = 0; i < m; ++i) pool.Submit([i] { return Noop(i); }).get();
           }) /
           m;
  });
  Row("no-op task, sync round trip", "us", sync_raycc, sync_pool);

  auto actor = raycc::Actor(Acc::Create).Remote();
  Stat actor_async = Measure([&] {
    return n / Seconds([&] {
             std::vector<raycc::ObjectRef<int>> refs;
             refs.reserve(n);
             for (int i = 0; i < n; ++i) refs.push_back(actor.Task(&Acc::Add).Remote(1));
             raycc::Get(refs.back());
           });
  });
  Row("actor calls, async", "calls/s", actor_async);
  Stat actor_sync = Measure([&] {
    return 1e6 * Seconds([&] {
             for (int i = 0; i < m; ++i) raycc::Get(actor.Task(&Acc::Add).Remote(1));
           }) /
           m;
  });
  Row("actor call, sync round trip", "us", actor_sync);

  Stat putget = Measure([&] {
    return n / Seconds([&] {
             for (int i = 0; i < n; ++i) raycc::Get(raycc::Put(i));
           });
  });
  Row("put + get of an int", "ops/s", putget);

  {
    std::vector<char> big(static_cast<size_t>(big_mib) << 20, 'x');
    // Timed: put and get. Freeing the object of the run before (which the
    // runtime does at its next operation) is done first, untimed.
    auto settle = [] { raycc::internal::CurrentRuntime().LiveObjects(); };
    Stat put_big = Measure([&] {
      settle();
      raycc::ObjectRef<std::vector<char>> ref;
      double s = Seconds([&] {
        ref = raycc::Put(big);
        raycc::Get(ref);
      });
      return big.size() / s / 1e9;
    });
    // Moved in, handed out: no copy at all (the buffer is made untimed).
    Stat moved = Measure([&] {
      std::vector<char> buffer(big.size(), 'y');
      settle();
      raycc::ObjectRef<std::vector<char>> ref;
      double s = Seconds([&] {
        ref = raycc::Put(std::move(buffer));
        raycc::Get(ref);
      });
      return big.size() / s / 1e9;
    });
    // What a copy costs: into fresh memory (as Put of an lvalue must),
    // faulting its pages in, as a copy constructor does.
    Stat copy = Measure([&] {
      double s = Seconds([&] {
        std::unique_ptr<char[]> to(new char[big.size()]);
        std::memcpy(to.get(), big.data(), big.size());
        // (freed untimed below: the put rows free theirs untimed too)
        static std::unique_ptr<char[]> keep;
        keep = std::move(to);
      });
      return big.size() / s / 1e9;
    });
    char what[64];
    std::snprintf(what, sizeof what, "put(copy) + get of %d MiB", big_mib);
    Row(what, "GB/s (baseline: copy to fresh memory)", put_big, copy);
    std::snprintf(what, sizeof what, "put(move) + get of %d MiB", big_mib);
    Row(what, "GB/s (baseline: copy to fresh memory)", moved, copy);
    // A typed value (the reviewers' case: a 256 MiB std::vector<double>):
    // Put stores it by reference; the copy is the only cost.
    std::vector<double> doubles(std::min<size_t>(big.size(), size_t{256} << 20) / sizeof(double), 1.5);
    Stat put_doubles = Measure([&] {
      settle();
      raycc::ObjectRef<std::vector<double>> ref;
      double s = Seconds([&] {
        ref = raycc::Put(doubles);
        raycc::Get(ref);
      });
      return doubles.size() * sizeof(double) / s / 1e9;
    });
    std::snprintf(what, sizeof what, "put(copy) + get, vector<double> %zu MiB",
                  doubles.size() * sizeof(double) >> 20);
    Row(what, "GB/s (baseline: copy to fresh memory)", put_doubles, copy);
    auto shared_doubles = std::make_shared<const std::vector<double>>(doubles);
    Stat put_shared = Measure([&] {
      settle();
      raycc::ObjectRef<std::vector<double>> ref;
      double s = Seconds([&] {
        ref = raycc::Put(shared_doubles);
        raycc::Get(ref);
      });
      return doubles.size() * sizeof(double) / s / 1e9;
    });
    std::snprintf(what, sizeof what, "put(shared) + get, vector<double> %zu MiB",
                  doubles.size() * sizeof(double) >> 20);
    Row(what, "GB/s (baseline: copy to fresh memory)", put_shared, copy);
  }

  Stat nested = Measure([&] {
    const int64_t parents = 20, leaves = std::max<int64_t>(10, n / 200);
    return parents * leaves / Seconds([&] {
             std::vector<raycc::ObjectRef<int64_t>> refs;
             for (int64_t p = 0; p < parents; ++p) refs.push_back(raycc::Task(FanOut).Remote(leaves));
             for (const auto& r : refs) raycc::Get(r);
           });
  });
  Row("nested fan-out (20 parents)", "leaf tasks/s", nested);

  if (!graph_path.empty()) {
    raycc::Graph graph = raycc::LoadGraph(graph_path, "butterfly");
    int64_t tasks = static_cast<int64_t>(graph.size());
    // Runs of a few ms each: 11 of each, taken in turns, so that both see
    // the same spells of noise; medians.
    auto run_compiled = [&] {
      return Seconds([&] {
        raycc::GraphOutputs out = graph.Execute({});
        for (const auto& [name, id] : out.ids()) raycc::Get(raycc::ObjectRef<int64_t>(id));
      });
    };
    auto run_dynamic = [&] {
      return Seconds([&] {
        for (const auto& r : DynamicButterfly(tasks, 100)) raycc::Get(r);
      });
    };
    double first_c = 1e3 * run_compiled();  // warm-up
    double first_d = 1e3 * run_dynamic();
    std::vector<double> c, d;
    for (int i = 0; i < 11; ++i) {
      c.push_back(1e3 * run_compiled());
      d.push_back(1e3 * run_dynamic());
    }
    char what[64];
    std::snprintf(what, sizeof what, "graph of %lld tasks: compiled", static_cast<long long>(tasks));
    Row(what, "ms (baseline: dynamic)", Summarize(c, first_c), Summarize(d, first_d));
    // Executed many times: Graph::Run, 2 in flight, against Execute in turn.
    constexpr int kTimes = 20;
    auto per_node_us = [&](double seconds) { return 1e6 * seconds / (kTimes * static_cast<double>(tasks)); };
    auto run_many = [&] { return per_node_us(Seconds([&] { graph.Run({}, kTimes, 2); })); };
    auto execute_each = [&] {
      return per_node_us(Seconds([&] {
        for (int k = 0; k < kTimes; ++k) {
          raycc::GraphOutputs out = graph.Execute({});
          for (const auto& [name, id] : out.ids()) raycc::Get(raycc::ObjectRef<int64_t>(id));
        }
      }));
    };
    auto [r, e] = MeasureInTurns(run_many, execute_each);
    Row("  Run x20, 2 in flight", "us/node (baseline: Execute)", r, e);
  }
  if (!pipeline_path.empty()) {
    // Ray's compiled graphs' case: actors made once, the same calls many
    // times. Against the same calls submitted dynamically on actors made
    // once, every execution submitted before any is read (the most overlap
    // dynamic submission can have).
    raycc::Graph graph = raycc::LoadGraph(pipeline_path, "pipeline");
    constexpr int kTimes = 200;
    // Its shape: `items` outputs, and stages actors + stages * items calls.
    int64_t items = 0;
    raycc::GraphOutputs once = graph.Execute({});
    for (const auto& [name, id] : once.ids()) items += name.rfind("out", 0) == 0;
    once.Wait();
    int64_t stages = static_cast<int64_t>(graph.size()) / (items + 1);
    int64_t calls = stages * items;
    // Both make their actors before the clock starts, and end with every
    // execution settled.
    auto compiled = [&] {
      raycc::GraphRunner runner = graph.Prepare(4);
      runner.Execute({}).Wait();  // (the actors made)
      double seconds = Seconds([&] {
        std::vector<raycc::GraphOutputs> outs;
        for (int k = 0; k < kTimes; ++k) outs.push_back(runner.Execute({}));
        for (const raycc::GraphOutputs& out : outs) out.Wait();
      });
      runner.Close();
      return 1e6 * seconds / (kTimes * static_cast<double>(calls));
    };
    auto dynamic = [&] {
      std::vector<raycc::ActorHandle<Stage>> actors;
      for (int64_t st = 0; st < stages; ++st) actors.push_back(raycc::Actor(Stage::Create).Remote(st));
      return 1e6 * Seconds([&] {
               std::vector<raycc::ObjectRef<int64_t>> outs;
               for (int k = 0; k < kTimes; ++k) {
                 for (int64_t i = 0; i < items; ++i) {
                   raycc::ObjectRef<int64_t> x = actors[0].Task(&Stage::Step).Remote(i);
                   for (int64_t st = 1; st < stages; ++st) x = actors[st].Task(&Stage::Step).Remote(x);
                   outs.push_back(x);
                 }
               }
               for (const auto& o : outs) raycc::Get(o);
             }) /
             (kTimes * static_cast<double>(calls));
    };
    auto [c, d] = MeasureInTurns(compiled, dynamic);
    char what[64];
    std::snprintf(what, sizeof what, "actor pipeline %lldx%lld: Run x%d", static_cast<long long>(stages),
                  static_cast<long long>(items), kTimes);
    Row(what, "us/call (baseline: dynamic)", c, d);
  }
  if (!map_path.empty()) {
    // A data-parallel step: one map of N shards and their sum, compiled
    // (one MAP node: N shard tasks and a gather in one batch) against the
    // same N tasks and sum submitted dynamically (the sum takes the shards'
    // values, gathered by Get).
    raycc::Graph graph = raycc::LoadGraph(map_path, "step");
    raycc::GraphOutputs probe = graph.Execute({});
    const int64_t total = *raycc::ObjectRef<int64_t>(probe.ids().at("total")).Get();
    // (sum over i < N of 31 i + 7 = 31 N (N - 1) / 2 + 7 N: N from the total.)
    int64_t shards = 1;
    while (31 * shards * (shards - 1) / 2 + 7 * shards < total) ++shards;
    auto compiled = [&] {
      return 1e3 * Seconds([&] {
               raycc::GraphOutputs out = graph.Execute({});
               raycc::Get(raycc::ObjectRef<int64_t>(out.ids().at("total")));
             });
    };
    auto dynamic = [&] {
      return 1e3 * Seconds([&] {
               std::vector<raycc::ObjectRef<int64_t>> parts;
               parts.reserve(shards);
               for (int64_t s = 0; s < shards; ++s) parts.push_back(raycc::Task(Part).Remote(s, int64_t{7}));
               std::vector<int64_t> values;
               values.reserve(shards);
               for (const auto& v : raycc::Get(parts)) values.push_back(*v);
               raycc::Get(raycc::Task(Total).Remote(values));
             });
    };
    auto [c, d] = MeasureInTurns(compiled, dynamic);
    char what[64];
    std::snprintf(what, sizeof what, "map of %lld shards + sum: compiled", static_cast<long long>(shards));
    Row(what, "ms (baseline: dynamic)", c, d);
  }
  raycc::Shutdown();

  // Last (it grows the process): a million queued tasks, submitted before any
  // can run (one CPU, held), then run. Objects live until Shutdown.
  {
    raycc::Init(raycc::Config{.num_cpus = 1});
    auto hold = raycc::Task(Noop).Remote(0);  // warm the pool
    raycc::Get(hold);
    // Reset the peak to the current size (the big buffers above raised it).
    if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
      std::fputs("5", f);
      std::fclose(f);
    }
    double before = PeakRssBytes();
    std::vector<raycc::ObjectRef<int>> refs;
    refs.reserve(queued);
    double submit = 0;
    double total = Seconds([&] {
      submit = Seconds([&] {
        for (int i = 0; i < queued; ++i) refs.push_back(raycc::Task(Noop).Remote(i));
      });
      raycc::Get(refs.back());
      for (const auto& r : refs) raycc::Get(r);
    });
    double per_task = (PeakRssBytes() - before) / queued;
    char what[64];
    std::snprintf(what, sizeof what, "%d queued tasks: submit + run", queued);
    Row(what, "s (baseline: submit only)", Stat{total, total, total}, Stat{submit, submit, submit});
    Row("  memory per queued task", "bytes (peak RSS growth)", Stat{per_task, per_task, per_task});
    raycc::Shutdown();
  }
  return 0;
}
