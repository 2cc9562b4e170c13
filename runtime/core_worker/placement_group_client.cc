#include "core_worker/placement_group_client.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gcs/placement_group_manager.h"
#include "raycc/runtime/common/status.h"

namespace raycc::core_worker {
namespace {

// The most ops one call carries.
constexpr size_t kMaxOps = 4096;

}  // namespace

PlacementGroupClient::PlacementGroupClient(gcs::GcsClientInterface& gcs,
                                           std::chrono::milliseconds view_max_age)
    : gcs_(gcs), view_max_age_(view_max_age), sender_([this] { Send(); }) {}

PlacementGroupClient::~PlacementGroupClient() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;  // (the sender sends what is queued before it stops)
  }
  cv_.notify_all();
  sender_.join();
}

void PlacementGroupClient::LookAtNodesLocked(bool refresh) {
  const Clock::time_point now = Clock::now();
  if (!refresh && view_time_ != Clock::time_point{} && now - view_time_ < view_max_age_) return;
  view_time_ = now;
  totals_.clear();
  by_name_.clear();
  for (const proto::NodeInfo& node : gcs_.GetAllNodes()) {
    if (node.state() != proto::NodeInfo::ALIVE) continue;
    absl::StatusOr<NodeId> id = NodeId::FromBinary(node.node_id());
    absl::StatusOr<ResourceSet> total = ResourceSet::FromProto(node.total_resources());
    if (!id.ok() || !total.ok()) continue;
    totals_.emplace_back(*id, *std::move(total));
    if (!node.node_name().empty()) by_name_[node.node_name()] = *id;
  }
}

absl::Status PlacementGroupClient::Create(const PlacementGroupId& id, const std::string& name,
                                          scheduling::BundleStrategy strategy,
                                          const std::vector<ResourceSet>& bundles,
                                          const std::vector<std::string>& bundle_nodes) {
  const std::string what = gcs::DescribePlacementGroup(name);
  {
    // As the GCS will check it, on the nodes alive as of a second ago; a
    // group that fits none is looked at again on the nodes alive now
    // (one may have joined) before it is refused.
    std::lock_guard<std::mutex> lock(view_mu_);
    absl::Status feasible;
    for (bool refreshed : {false, true}) {
      LookAtNodesLocked(refreshed);
      std::vector<NodeId> pinned;
      feasible = absl::OkStatus();
      for (size_t i = 0; i < bundle_nodes.size() && feasible.ok(); ++i) {
        auto node = by_name_.find(bundle_nodes[i]);
        if (node == by_name_.end()) {
          feasible =
              InfeasibleError(absl::StrCat(what, ": bundle ", i, " is pinned to node '", bundle_nodes[i],
                                           "', which is not a live node of this cluster"));
        } else {
          pinned.push_back(node->second);
        }
      }
      if (feasible.ok()) feasible = gcs::CheckGroupFeasible(bundles, strategy, totals_, what, pinned);
      if (feasible.ok() || !IsInfeasible(feasible)) break;
    }
    if (IsInfeasible(feasible) && totals_.empty()) {
      return absl::UnavailableError(
          absl::StrCat(what,
                       ": the cluster's control service lists no live node (it is out of reach, or no raylet "
                       "has joined yet)"));
    }
    if (!feasible.ok()) return feasible;
  }
  proto::PlacementGroupOp op;
  *op.mutable_create() = gcs::PlacementGroupSpecOf(id, name, strategy, bundles, bundle_nodes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t sequence = queued_.load(std::memory_order_relaxed) + 1;
    queue_.emplace_back(sequence, std::move(op));
    creations_[id] = sequence;
    queued_.store(sequence, std::memory_order_release);
  }
  cv_.notify_all();
  return absl::OkStatus();
}

void PlacementGroupClient::Remove(const PlacementGroupId& id) {
  proto::PlacementGroupOp op;
  op.set_remove(id.Binary());
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t sequence = queued_.load(std::memory_order_relaxed) + 1;
    queue_.emplace_back(sequence, std::move(op));
    creations_.erase(id);
    answers_.erase(id);
    removals_[id] = sequence;
    queued_.store(sequence, std::memory_order_release);
  }
  cv_.notify_all();
}

std::optional<PlacementGroupClient::Answer> PlacementGroupClient::AnswerFor(
    const PlacementGroupId& id, std::optional<Clock::time_point> deadline, bool* timed_out) {
  if (timed_out != nullptr) *timed_out = false;
  std::unique_lock<std::mutex> lock(mu_);
  auto created = creations_.find(id);
  if (created == creations_.end()) return std::nullopt;
  const uint64_t sequence = created->second;
  auto answered = [&] { return answered_.load(std::memory_order_relaxed) >= sequence; };
  if (deadline) {
    if (!cv_.wait_until(lock, *deadline, answered)) {
      if (timed_out != nullptr) *timed_out = true;
      return std::nullopt;
    }
  } else {
    cv_.wait(lock, answered);
  }
  auto answer = answers_.find(id);
  if (answer == answers_.end()) return std::nullopt;  // (removed here meanwhile)
  return answer->second;
}

bool PlacementGroupClient::Removing(const PlacementGroupId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return removals_.contains(id);
}

void PlacementGroupClient::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t upto = queued_.load(std::memory_order_relaxed);
  cv_.wait(lock, [&] { return answered_.load(std::memory_order_relaxed) >= upto; });
}

void PlacementGroupClient::Send() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // (stopping, and all sent)
    proto::ApplyPlacementGroupOpsRequest request;
    const size_t n = std::min(queue_.size(), kMaxOps);
    const uint64_t last = queue_[n - 1].first;
    for (size_t i = 0; i < n; ++i) *request.add_ops() = std::move(queue_[i].second);
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    absl::StatusOr<proto::ApplyPlacementGroupOpsReply> reply = gcs_.ApplyPlacementGroupOps(request);
    calls_.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    for (int i = 0; i < request.ops_size(); ++i) {
      const proto::PlacementGroupOp& op = request.ops(i);
      absl::Status status =
          reply.ok() ? absl::Status(static_cast<absl::StatusCode>(reply->results(i).code()),
                                    reply->results(i).message())
                     : absl::UnavailableError(absl::StrCat("the cluster's control service did not answer: ",
                                                           reply.status().message()));
      if (op.has_create()) {
        const PlacementGroupId id = *PlacementGroupId::FromBinary(op.create().placement_group_id());
        if (creations_.contains(id)) {
          answers_[id] = Answer{status, reply.ok() ? reply->results(i).state() : proto::PG_PENDING};
        }
      } else {
        const PlacementGroupId id = *PlacementGroupId::FromBinary(op.remove());
        if (auto removal = removals_.find(id); removal != removals_.end() && removal->second <= last) {
          removals_.erase(removal);
        }
        if (!status.ok() && !absl::IsNotFound(status)) {
          std::fprintf(stderr, "raycc: removing placement group %s failed: %s\n", id.Hex().c_str(),
                       std::string(status.message()).c_str());
        }
      }
    }
    answered_.store(last, std::memory_order_release);
    cv_.notify_all();
  }
}

}  // namespace raycc::core_worker
