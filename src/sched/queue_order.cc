#include "sched/queue_order.h"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

namespace gpuaas::sched {

void ArrivalOrder::Sort(std::vector<const JobView*>& queue) const {
  std::sort(queue.begin(), queue.end(), [](const JobView* a, const JobView* b) {
    return std::tie(a->submitted_at, a->id) < std::tie(b->submitted_at, b->id);
  });
}

void PriorityOrder::Sort(std::vector<const JobView*>& queue) const {
  std::sort(queue.begin(), queue.end(), [](const JobView* a, const JobView* b) {
    return std::tie(b->priority, a->submitted_at, a->id) <
           std::tie(a->priority, b->submitted_at, b->id);
  });
}

namespace {

// gpus x oracle run time in GPU-seconds; unknown (0) or invalid = the largest value.
int64_t OracleWork(const JobView& j) {
  if (j.oracle_runtime_s <= 0 || j.gpus <= 0) return std::numeric_limits<int64_t>::max();
  if (j.oracle_runtime_s > std::numeric_limits<int64_t>::max() / j.gpus) {
    return std::numeric_limits<int64_t>::max() - 1;
  }
  return j.oracle_runtime_s * j.gpus;
}

}  // namespace

void SjfOracleOrder::Sort(std::vector<const JobView*>& queue) const {
  std::vector<std::pair<int64_t, const JobView*>> keyed;
  keyed.reserve(queue.size());
  for (const JobView* j : queue) keyed.push_back({OracleWork(*j), j});
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second->submitted_at, a.second->id) <
           std::tie(b.first, b.second->submitted_at, b.second->id);
  });
  for (size_t i = 0; i < keyed.size(); ++i) queue[i] = keyed[i].second;
}

Result<std::unique_ptr<QueueOrder>> MakeQueueOrder(std::string_view name) {
  if (name == "fifo") return std::unique_ptr<QueueOrder>(std::make_unique<ArrivalOrder>());
  if (name == "priority") return std::unique_ptr<QueueOrder>(std::make_unique<PriorityOrder>());
  if (name == "sjf-oracle") {
    return std::unique_ptr<QueueOrder>(std::make_unique<SjfOracleOrder>());
  }
  return InvalidArgument("unknown queue order \"" + std::string(name) + "\"");
}

}  // namespace gpuaas::sched
