// ResourceSet fit checks and arithmetic, the scheduler's innermost loop,
// against a baseline: the naive std::map<std::string, double> a first
// implementation would use. Run: build/bench/bench_resource_set

#include <map>
#include <string>

#include "benchmark/benchmark.h"
#include "raycc/runtime/common/resource_set.h"

namespace {

using NaiveSet = std::map<std::string, double>;

const std::map<std::string, double> kNode = {
    {"CPU", 16}, {"GPU", 4}, {"memory", 64e9}, {"accelerator_type:H100", 1}, {"custom", 8}};
const std::map<std::string, double> kRequest = {{"CPU", 1}, {"GPU", 0.5}, {"memory", 1e9}};

bool NaiveFits(const NaiveSet& req, const NaiveSet& avail) {
  for (const auto& [k, v] : req) {
    auto it = avail.find(k);
    if (it == avail.end() || it->second < v) return false;
  }
  return true;
}

void BM_Baseline_MapFits(benchmark::State& state) {
  NaiveSet node = kNode, req = kRequest;
  for (auto _ : state) benchmark::DoNotOptimize(NaiveFits(req, node));
}
BENCHMARK(BM_Baseline_MapFits);

void BM_ResourceSet_IsSubsetOf(benchmark::State& state) {
  auto node = *raycc::ResourceSet::Create(kNode);
  auto req = *raycc::ResourceSet::Create(kRequest);
  for (auto _ : state) benchmark::DoNotOptimize(req.IsSubsetOf(node));
}
BENCHMARK(BM_ResourceSet_IsSubsetOf);

void BM_Baseline_MapAcquireRelease(benchmark::State& state) {
  NaiveSet node = kNode, req = kRequest;
  for (auto _ : state) {
    for (const auto& [k, v] : req) node[k] -= v;
    for (const auto& [k, v] : req) node[k] += v;
    benchmark::DoNotOptimize(node);
  }
}
BENCHMARK(BM_Baseline_MapAcquireRelease);

void BM_ResourceSet_AcquireRelease(benchmark::State& state) {
  auto node = *raycc::ResourceSet::Create(kNode);
  auto req = *raycc::ResourceSet::Create(kRequest);
  for (auto _ : state) {
    benchmark::DoNotOptimize(node.Subtract(req));
    node.Add(req);
  }
}
BENCHMARK(BM_ResourceSet_AcquireRelease);

}  // namespace

BENCHMARK_MAIN();
