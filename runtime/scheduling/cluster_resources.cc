#include "scheduling/cluster_resources.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace raycc::scheduling {

ResourceSet ToSet(const Units& units) {
  ResourceSet set;
  for (const auto& [name, q] : units) set.Set(name, FixedPoint::FromUnits(q)).IgnoreError();
  return set;
}

Units ToUnits(const ResourceSet& set) {
  Units units;
  for (const auto& [name, q] : set.SortedEntries()) units[name] = q.units();
  return units;
}

Units CpuPart(const Units& units) {
  Units cpu;
  for (const auto& [name, q] : units)
    if (name == "CPU" || absl::StartsWith(name, "CPU_group")) cpu[name] = q;
  return cpu;
}

bool Fits(const Units& demand, const Units& available) {
  for (const auto& [name, q] : demand) {
    auto it = available.find(name);
    if ((it == available.end() ? 0 : it->second) < q) return false;
  }
  return true;
}

ResourceRequest ResourceRequest::Of(Units units) {
  ResourceRequest request;
  for (const auto& [name, q] : units)
    if (name == "GPU" || absl::StartsWith(name, "GPU_group_")) request.gpu = std::max(request.gpu, q);
  request.units = std::move(units);
  return request;
}

absl::StatusOr<int> ClusterResources::AddNode(std::string name, const ResourceSet& total,
                                              std::map<std::string, std::string> labels) {
  if (name.empty()) return absl::InvalidArgumentError("every node needs a name");
  if (Find(name) >= 0) return absl::InvalidArgumentError(absl::StrCat("two nodes are named '", name, "'"));
  NodeResources node;
  node.name = std::move(name);
  node.labels = std::move(labels);
  node.total = ToUnits(total);
  node.available = node.total;
  auto gpus = node.total.find("GPU");
  if (gpus != node.total.end()) node.gpu_free.assign(gpus->second / FixedPoint::kScale, FixedPoint::kScale);
  nodes_.push_back(std::move(node));
  totals_.push_back(total);
  return size() - 1;
}

int ClusterResources::Find(const std::string& name) const {
  for (int i = 0; i < size(); ++i)
    if (nodes_[i].name == name) return i;
  return -1;
}

namespace {

// Whole devices a GPU demand above one device takes.
int64_t WholeDevices(int64_t g) { return (g + FixedPoint::kScale - 1) / FixedPoint::kScale; }

}  // namespace

bool ClusterResources::CanRun(const ResourceRequest& request, int node) const {
  if (!Fits(request.units, nodes_[node].available)) return false;
  int64_t g = request.gpu;
  if (g == 0) return true;
  const std::vector<int64_t>& free = nodes_[node].gpu_free;
  if (g <= FixedPoint::kScale)
    return std::any_of(free.begin(), free.end(), [&](int64_t f) { return f >= g; });
  return std::count(free.begin(), free.end(), FixedPoint::kScale) >= WholeDevices(g);
}

bool ClusterResources::CanEverRun(const ResourceRequest& request, int node) const {
  return Fits(request.units, nodes_[node].total);
}

double ClusterResources::Utilization(const ResourceRequest& request, int node) const {
  const NodeResources& n = nodes_[node];
  double u = 0;
  for (const auto& [name, q] : request.units) {
    auto t = n.total.find(name);
    if (t == n.total.end() || t->second == 0) continue;
    auto a = n.available.find(name);
    int64_t free = a == n.available.end() ? 0 : a->second;
    u = std::max(u, 1.0 - static_cast<double>(free) / static_cast<double>(t->second));
  }
  return u;
}

void ClusterResources::DropNodesFrom(int first) {
  if (first >= size()) return;
  nodes_.resize(first);
  totals_.resize(first);
}

void ClusterResources::AddCapacity(const Units& units, int node) {
  NodeResources& n = nodes_[node];
  for (const auto& [name, q] : units) {
    const int64_t total = n.total[name] += q;
    n.available[name] += q;
    (void)totals_[node].Set(
        name, FixedPoint::FromUnits(total));  // (only what changed: a node may hold many groups)
  }
}

void ClusterResources::RemoveCapacity(const Units& units, int node) {
  NodeResources& n = nodes_[node];
  for (const auto& [name, q] : units) {
    int64_t& total = n.total[name];
    total = std::max<int64_t>(total - q, 0);
    int64_t& free = n.available[name];
    free = std::clamp<int64_t>(free - q, 0, total);
    (void)totals_[node].Set(name, FixedPoint::FromUnits(total));  // (0: removed)
    if (total == 0) {
      n.total.erase(name);
      n.available.erase(name);
    }
  }
}

void ClusterResources::Acquire(const Units& units, int node) {
  Units& available = nodes_[node].available;
  for (const auto& [name, q] : units) available[name] -= q;
}

void ClusterResources::Release(const Units& units, int node) {
  Units& available = nodes_[node].available;
  for (const auto& [name, q] : units) available[name] += q;
}

std::vector<int> ClusterResources::TakeGpus(const ResourceRequest& request, int node) {
  int64_t g = request.gpu;
  std::vector<int64_t>& free = nodes_[node].gpu_free;
  std::vector<int> ids;
  if (g == 0 || free.empty()) return ids;
  if (g <= FixedPoint::kScale) {
    // A fraction packs onto the most used device that still has room.
    int best = -1;
    for (int i = 0; i < static_cast<int>(free.size()); ++i)
      if (free[i] >= g && (best < 0 || free[i] < free[best])) best = i;
    if (best < 0) return ids;  // (CanRun said no)
    free[best] -= g;
    ids.push_back(best);
    return ids;
  }
  int64_t whole = WholeDevices(g);
  for (int i = 0; i < static_cast<int>(free.size()) && static_cast<int64_t>(ids.size()) < whole; ++i) {
    if (free[i] == FixedPoint::kScale) {
      free[i] = 0;
      ids.push_back(i);
    }
  }
  return ids;
}

void ClusterResources::ReleaseGpus(const ResourceRequest& request, int node, const std::vector<int>& ids) {
  int64_t g = request.gpu;
  for (int id : ids) nodes_[node].gpu_free[id] += g <= FixedPoint::kScale ? g : FixedPoint::kScale;
}

void ClusterResources::CommitBundle(const Units& bundle, int index, const std::string& suffix, int node) {
  Units& on = nodes_[node].available;
  for (const auto& [name, q] : bundle) {
    on[name] -= q;
    on[name + "_group" + suffix] += q;
    on[absl::StrCat(name, "_group_", index, suffix)] += q;
  }
}

void ClusterResources::ReturnBundle(const Units& bundle, int node) { Release(bundle, node); }

void ClusterResources::DropGroupResources(const std::string& suffix) {
  for (NodeResources& node : nodes_) {
    for (auto a = node.available.begin(); a != node.available.end();) {
      auto current = a++;
      if (absl::EndsWith(current->first, suffix)) node.available.erase(current);
    }
  }
}

}  // namespace raycc::scheduling
