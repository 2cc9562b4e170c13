// Nested fan-out with the runtime API: a task that submits tasks and waits
// for them. A parallel merge sort: each task splits its range, sorts the
// halves as two child tasks, and merges. The parent's Get() lends its CPU to
// the children (and runs one of them itself), so any depth works on any
// number of CPUs.
//
//   nested_fanout [--n 200000] [--leaf 5000] [--raycc-num-cpus=N]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "raycc/api.h"

std::vector<int64_t> Sort(std::vector<int64_t> v, int64_t leaf) {
  if (static_cast<int64_t>(v.size()) <= leaf) {
    std::sort(v.begin(), v.end());
    return v;
  }
  auto mid = v.begin() + v.size() / 2;
  auto left = raycc::Task(Sort).Remote(std::vector<int64_t>(v.begin(), mid), leaf);
  auto right = raycc::Task(Sort).Remote(std::vector<int64_t>(mid, v.end()), leaf);
  std::vector<int64_t> a = *raycc::Get(left), b = *raycc::Get(right), out(v.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), out.begin());
  return out;
}
RAYCC_REMOTE(Sort);

int main(int argc, char** argv) {
  int64_t n = 200000, leaf = 5000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--n"))
      n = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--leaf"))
      leaf = std::atoll(argv[++i]);
  }
  if (n < 0 || leaf < 1) {
    std::fprintf(stderr, "nested_fanout: --n must be >= 0 and --leaf >= 1\n");
    return 2;
  }
  raycc::Init(argc, argv);
  std::vector<int64_t> data(n);
  std::mt19937_64 rng(7);
  for (auto& x : data) x = static_cast<int64_t>(rng() % 1000000);
  auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> sorted = *raycc::Task(Sort).Remote(data, leaf).Get();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::sort(data.begin(), data.end());
  bool ok = sorted == data;
  std::printf("sorted %lld numbers with leaves of %lld in %.1f ms: %s\n", static_cast<long long>(n),
              static_cast<long long>(leaf), ms, ok ? "correct" : "WRONG");
  raycc::Shutdown();
  return ok ? 0 : 1;
}
