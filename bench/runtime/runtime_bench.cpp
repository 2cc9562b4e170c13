// bench/runtime_bench: the runtime API on the embedded runtime, next to a
// baseline measured in the same run: a minimal thread pool (one mutex-guarded
// queue, std::packaged_task futures), the floor any task runtime pays.
//
// Each row is the median of 3 runs after a warm-up (the compiled graph row:
// of 11 runs of each, taken in turns). Not run by ctest.
//   build/bench/runtime_bench [--tasks N] [--queued N] [--big-mib N] [--graph butterfly.rcx]
//
// --graph: an artifact of bench/trace_scale/trace_program.cc, e.g.
//   raycc compile bench/trace_scale/trace_program.cc --param tasks=10000 --param width=100 -o butterfly.rcx
// runs that compiled graph against the same graph submitted task by task.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "raycc/api.h"

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

RAYCC_REMOTE(Noop, Square, FanOut, Acc::Create, &Acc::Add, Seed, Mix);

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

double Median(std::function<double()> run) {
  run();  // warm-up
  std::vector<double> v = {run(), run(), run()};
  std::sort(v.begin(), v.end());
  return v[1];
}

void Row(const char* what, const char* unit, double raycc, double baseline) {
  if (baseline > 0) {
    std::printf("%-34s %14.1f %14.1f  %s\n", what, raycc, baseline, unit);
  } else {
    std::printf("%-34s %14.1f %14s  %s\n", what, raycc, "-", unit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000, queued = 1000000, big_mib = 1024;
  std::string graph_path;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--tasks") && i + 1 < argc) {
      n = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--queued") && i + 1 < argc) {
      queued = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--big-mib") && i + 1 < argc) {
      big_mib = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--graph") && i + 1 < argc) {
      graph_path = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: runtime_bench [--tasks N] [--queued N] [--big-mib N] [--graph butterfly.rcx]\n");
      return 2;
    }
  }
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  raycc::Config config;
  config.num_cpus = cpus;
  raycc::Init(config);
  ThreadPool pool(cpus);
  std::printf("%d CPUs, %d tasks per run, median of 3\n", cpus, n);
  std::printf("%-34s %14s %14s\n", "workload", "raycc", "thread pool");

  double async_raycc = Median([&] {
    return n / Seconds([&] {
             std::vector<raycc::ObjectRef<int>> refs;
             refs.reserve(n);
             for (int i = 0; i < n; ++i) refs.push_back(raycc::Task(Noop).Remote(i));
             for (const auto& r : refs) raycc::Get(r);
           });
  });
  double async_pool = Median([&] {
    return n / Seconds([&] {
             std::vector<std::future<int>> fs;
             fs.reserve(n);
             for (int i = 0; i < n; ++i) fs.push_back(pool.Submit([i] { return Noop(i); }));
             for (auto& f : fs) f.get();
           });
  });
  Row("no-op tasks, async", "tasks/s", async_raycc, async_pool);

  int m = std::max(1000, n / 20);
  double sync_raycc = Median([&] {
    return 1e6 * Seconds([&] {
             for (int i = 0; i < m; ++i) raycc::Get(raycc::Task(Noop).Remote(i));
           }) /
           m;
  });
  double sync_pool = Median([&] {
    return 1e6 * Seconds([&] {
             for (int i = 0; i < m; ++i) pool.Submit([i] { return Noop(i); }).get();
           }) /
           m;
  });
  Row("no-op task, sync round trip", "us", sync_raycc, sync_pool);

  auto actor = raycc::Actor(Acc::Create).Remote();
  double actor_async = Median([&] {
    return n / Seconds([&] {
             std::vector<raycc::ObjectRef<int>> refs;
             refs.reserve(n);
             for (int i = 0; i < n; ++i) refs.push_back(actor.Task(&Acc::Add).Remote(1));
             raycc::Get(refs.back());
           });
  });
  Row("actor calls, async", "calls/s", actor_async, 0);
  double actor_sync = Median([&] {
    return 1e6 * Seconds([&] {
             for (int i = 0; i < m; ++i) raycc::Get(actor.Task(&Acc::Add).Remote(1));
           }) /
           m;
  });
  Row("actor call, sync round trip", "us", actor_sync, 0);

  double putget = Median([&] {
    return n / Seconds([&] {
             for (int i = 0; i < n; ++i) raycc::Get(raycc::Put(i));
           });
  });
  Row("put + get of an int", "ops/s", putget, 0);

  {
    std::vector<char> big(static_cast<size_t>(big_mib) << 20, 'x');
    // Timed: put and get. Freeing the object of the run before (which the
    // runtime does at its next operation) is done first, untimed.
    auto settle = [] { raycc::internal::CurrentRuntime().LiveObjects(); };
    double put_big = Median([&] {
      settle();
      raycc::ObjectRef<std::vector<char>> ref;
      double s = Seconds([&] {
        ref = raycc::Put(big);
        raycc::Get(ref);
      });
      return big.size() / s / 1e9;
    });
    // Moved in, handed out: no copy at all (the buffer is made untimed).
    double moved = Median([&] {
      std::vector<char> buffer(big.size(), 'y');
      settle();
      raycc::ObjectRef<std::vector<char>> ref;
      double s = Seconds([&] {
        ref = raycc::Put(std::move(buffer));
        raycc::Get(ref);
      });
      return big.size() / s / 1e9;
    });
    double copy = Median([&] {
      std::vector<char> to(big.size());
      double s = Seconds([&] { std::memcpy(to.data(), big.data(), big.size()); });
      return big.size() / s / 1e9;
    });
    char what[64];
    std::snprintf(what, sizeof what, "put(copy) + get of %d MiB", big_mib);
    Row(what, "GB/s (baseline: memcpy)", put_big, copy);
    std::snprintf(what, sizeof what, "put(move) + get of %d MiB", big_mib);
    Row(what, "GB/s (baseline: memcpy)", moved, copy);
  }

  double nested = Median([&] {
    const int64_t parents = 20, leaves = std::max<int64_t>(10, n / 200);
    return parents * leaves / Seconds([&] {
             std::vector<raycc::ObjectRef<int64_t>> refs;
             for (int64_t p = 0; p < parents; ++p) refs.push_back(raycc::Task(FanOut).Remote(leaves));
             for (const auto& r : refs) raycc::Get(r);
           });
  });
  Row("nested fan-out (20 parents)", "leaf tasks/s", nested, 0);

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
    run_compiled();  // warm-up
    run_dynamic();
    std::vector<double> c, d;
    for (int i = 0; i < 11; ++i) {
      c.push_back(run_compiled());
      d.push_back(run_dynamic());
    }
    std::sort(c.begin(), c.end());
    std::sort(d.begin(), d.end());
    double compiled = c[c.size() / 2], dynamic = d[d.size() / 2];
    char what[64];
    std::snprintf(what, sizeof what, "graph of %lld tasks: compiled", static_cast<long long>(tasks));
    Row(what, "ms (baseline: dynamic)", 1e3 * compiled, 1e3 * dynamic);
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
    Row(what, "s (baseline: submit only)", total, submit);
    Row("  memory per queued task", "bytes (peak RSS growth)", per_task, 0);
    raycc::Shutdown();
  }
  return 0;
}
