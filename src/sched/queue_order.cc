#include "sched/queue_order.h"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

namespace gpuaas::sched {
namespace {

// gpus x oracle run time in GPU-seconds; unknown (0) or invalid = the largest value.
int64_t OracleWork(const JobView& j) {
  if (j.oracle_runtime_s <= 0 || j.gpus <= 0) return std::numeric_limits<int64_t>::max();
  if (j.oracle_runtime_s > std::numeric_limits<int64_t>::max() / j.gpus) {
    return std::numeric_limits<int64_t>::max() - 1;
  }
  return j.oracle_runtime_s * j.gpus;
}

// Sorts by a precomputed key (computed once per job, not per comparison), then arrival and id.
template <typename Key, typename KeyFn>
void SortByKey(std::vector<const JobView*>& queue, KeyFn key_of) {
  std::vector<std::pair<Key, const JobView*>> keyed;
  keyed.reserve(queue.size());
  for (const JobView* j : queue) keyed.push_back({key_of(*j), j});
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return std::tie(a.second->submitted_at, a.second->id) <
           std::tie(b.second->submitted_at, b.second->id);
  });
  for (size_t i = 0; i < keyed.size(); ++i) queue[i] = keyed[i].second;
}

}  // namespace

void ArrivalOrder::Sort(std::vector<const JobView*>& queue) const {
  std::sort(queue.begin(), queue.end(), [](const JobView* a, const JobView* b) {
    return std::tie(a->submitted_at, a->id) < std::tie(b->submitted_at, b->id);
  });
}

void PriorityOrder::Sort(std::vector<const JobView*>& queue) const {
  // Negated so that ascending order puts the higher level and priority first.
  SortByKey<std::pair<int64_t, int64_t>>(queue, [this](const JobView& j) {
    return std::pair<int64_t, int64_t>(-PriorityLevel(policy_, j.priority_class),
                                       -static_cast<int64_t>(j.priority));
  });
}

double FairShareOrder::UsagePerShare(EntityId entity) const {
  double share = 1.0;
  if (auto s = shares_.find(entity); s != shares_.end()) share = s->second;
  double usage = 0.0;
  if (auto u = usage_.find(entity); u != usage_.end()) usage = std::max(0.0, u->second);
  if (!(share > 0)) return std::numeric_limits<double>::infinity();
  return usage / share;
}

void FairShareOrder::Sort(std::vector<const JobView*>& queue) const {
  std::map<EntityId, double> per_share;  // computed once per entity
  for (const JobView* j : queue) {
    if (!per_share.contains(j->entity)) per_share[j->entity] = UsagePerShare(j->entity);
  }
  // Ties in usage/share go to the lower entity id, so that the order is total and stable.
  SortByKey<std::tuple<int64_t, int64_t, double, EntityId>>(queue, [&](const JobView& j) {
    return std::tuple<int64_t, int64_t, double, EntityId>(-PriorityLevel(policy_, j.priority_class),
                                                          -static_cast<int64_t>(j.priority),
                                                          per_share[j.entity], j.entity);
  });
}

void SjfOracleOrder::Sort(std::vector<const JobView*>& queue) const {
  SortByKey<int64_t>(queue, [](const JobView& j) { return OracleWork(j); });
}

Result<std::unique_ptr<QueueOrder>> MakeQueueOrder(std::string_view name, const Policy* policy,
                                                   const Snapshot* snapshot) {
  Policy p = policy ? *policy : Policy{};
  if (name == "fifo") return std::unique_ptr<QueueOrder>(std::make_unique<ArrivalOrder>());
  if (name == "priority") {
    return std::unique_ptr<QueueOrder>(std::make_unique<PriorityOrder>(std::move(p)));
  }
  if (name == "fair-share") {
    std::map<EntityId, double> shares, usage;
    if (snapshot) {
      shares = snapshot->entity_shares;
      usage = snapshot->decayed_usage;
    }
    return std::unique_ptr<QueueOrder>(
        std::make_unique<FairShareOrder>(std::move(p), std::move(shares), std::move(usage)));
  }
  if (name == "sjf-oracle") {
    return std::unique_ptr<QueueOrder>(std::make_unique<SjfOracleOrder>());
  }
  return InvalidArgument("unknown queue order \"" + std::string(name) + "\"");
}

}  // namespace gpuaas::sched
