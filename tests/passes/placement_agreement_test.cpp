// The compiler's placement-group checks (passes/lib/CheckPlacement.cpp,
// PlacementSupport.h) and the runtime's bundle placement
// (runtime/scheduling/bundle_placement.h) must agree on what fits: over
// thousands of generated clusters and groups, strict_pack and strict_spread
// are feasible for one exactly when they are for the other, and whatever the
// runtime can place (pack, spread) the compiler accepts.

#include <cstdio>
#include <random>
#include <vector>

#include "PlacementSupport.h"
#include "gtest/gtest.h"
#include "raycc/passes/ClusterDescription.h"
#include "scheduling/bundle_placement.h"

namespace {

using raycc::passes::ResourceUnits;
using raycc::scheduling::BundleStrategy;
using raycc::scheduling::Units;

struct Shape {
  std::vector<std::vector<std::pair<const char*, int64_t>>> bundles, nodes;
};

ResourceUnits ForCompiler(const std::vector<std::pair<const char*, int64_t>>& q) {
  ResourceUnits u;
  for (auto [name, units] : q)
    if (units > 0) u[name] = units;
  return u;
}
Units ForRuntime(const std::vector<std::pair<const char*, int64_t>>& q) {
  Units u;
  for (auto [name, units] : q)
    if (units > 0) u[name] = units;
  return u;
}

Shape Generate(std::mt19937& rng) {
  const int64_t quantities[] = {0, 5000, 10000, 20000, 30000};  // 0, 0.5, 1, 2, 3
  auto pick = [&] { return quantities[rng() % 5]; };
  Shape s;
  int nodes = 1 + rng() % 4, bundles = 1 + rng() % 4;
  for (int i = 0; i < nodes; ++i) s.nodes.push_back({{"CPU", pick() * 2}, {"GPU", pick()}});
  for (int i = 0; i < bundles; ++i) {
    int64_t cpu = pick(), gpu = rng() % 3 == 0 ? pick() : 0;
    if (cpu == 0 && gpu == 0) cpu = 10000;  // a bundle reserves something
    s.bundles.push_back({{"CPU", cpu}, {"GPU", gpu}});
  }
  return s;
}

// What CheckPlacement accepts for each strategy.
bool CompilerAccepts(const Shape& s, BundleStrategy strategy) {
  std::vector<ResourceUnits> bundles, totals;
  for (const auto& b : s.bundles) bundles.push_back(ForCompiler(b));
  for (const auto& n : s.nodes) totals.push_back(ForCompiler(n));
  auto fits_somewhere = [&](const ResourceUnits& demand) {
    for (const ResourceUnits& t : totals)
      if (raycc::passes::fits(demand, t)) return true;
    return false;
  };
  for (const ResourceUnits& b : bundles)
    if (!fits_somewhere(b)) return false;
  ResourceUnits sum;
  for (const ResourceUnits& b : bundles) raycc::passes::addUnits(sum, b);
  switch (strategy) {
    case BundleStrategy::kStrictPack:
      return fits_somewhere(sum);
    case BundleStrategy::kStrictSpread:
      return raycc::passes::matchDistinctNodes(bundles, totals).has_value();
    case BundleStrategy::kPack:
    case BundleStrategy::kSpread: {
      ResourceUnits all;
      for (const ResourceUnits& t : totals) raycc::passes::addUnits(all, t);
      return raycc::passes::fits(sum, all);
    }
  }
  return false;
}

bool RuntimePlaces(const Shape& s, BundleStrategy strategy) {
  std::vector<Units> bundles, nodes;
  for (const auto& b : s.bundles) bundles.push_back(ForRuntime(b));
  for (const auto& n : s.nodes) nodes.push_back(ForRuntime(n));
  return !raycc::scheduling::PlaceBundles(bundles, strategy, nodes).empty();
}

TEST(PlacementAgreementTest, CompilerAndRuntimeAgreeOnWhatFits) {
  std::mt19937 rng(20261204);
  int strict_feasible = 0, compiler_only = 0, cases = 4000;
  for (int c = 0; c < cases; ++c) {
    Shape s = Generate(rng);
    for (BundleStrategy strategy : {BundleStrategy::kStrictPack, BundleStrategy::kStrictSpread}) {
      bool compiler = CompilerAccepts(s, strategy), runtime = RuntimePlaces(s, strategy);
      EXPECT_EQ(compiler, runtime) << "case " << c << ", strategy " << static_cast<int>(strategy);
      strict_feasible += runtime;
    }
    for (BundleStrategy strategy : {BundleStrategy::kPack, BundleStrategy::kSpread}) {
      if (RuntimePlaces(s, strategy)) {
        EXPECT_TRUE(CompilerAccepts(s, strategy))
            << "case " << c << ": the runtime places a group the compiler rejects";
      } else if (CompilerAccepts(s, strategy)) {
        ++compiler_only;  // (the compiler checks totals, not a packing)
      }
    }
  }
  // Pack/spread groups the compiler accepts but the runtime cannot place on
  // the idle cluster (reported, not a failure: issue 17's list scheduler is
  // where the compiler learns to pack).
  RecordProperty("pack_spread_compiler_only", compiler_only);
  std::printf("pack/spread: %d of %d accepted by the compiler only\n", compiler_only, 2 * cases);
  // The generator makes both answers common (the test would be empty
  // otherwise).
  EXPECT_GT(strict_feasible, cases / 4);
  EXPECT_LT(strict_feasible, 2 * cases - cases / 4);
}

}  // namespace
