#pragma once

// A cluster from a compact description, for the policies' table tests.

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "scheduling/cluster_resources.h"

namespace raycc::scheduling::testing {

struct NodeSpec {
  std::string name;
  std::map<std::string, double> total;
  std::map<std::string, std::string> labels = {};
};

inline ClusterResources MakeCluster(const std::vector<NodeSpec>& nodes) {
  ClusterResources cluster;
  for (const NodeSpec& n : nodes) {
    auto set = ResourceSet::Create(n.total);
    EXPECT_TRUE(set.ok()) << set.status();
    auto added = cluster.AddNode(n.name, *set, n.labels);
    EXPECT_TRUE(added.ok()) << added.status();
  }
  return cluster;
}

/// Units of whole quantities: {{"CPU", 2}} -> CPU: 20000.
inline Units U(const std::map<std::string, double>& m) {
  Units u;
  for (const auto& [name, q] : m) u[name] = static_cast<int64_t>(q * FixedPoint::kScale + 0.5);
  return u;
}

inline ResourceRequest R(const std::map<std::string, double>& m) { return ResourceRequest::Of(U(m)); }

}  // namespace raycc::scheduling::testing
