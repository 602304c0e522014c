#include "sched/queue_order.h"

#include <algorithm>
#include <string>
#include <tuple>

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

Result<std::unique_ptr<QueueOrder>> MakeQueueOrder(std::string_view name) {
  if (name == "fifo") return std::unique_ptr<QueueOrder>(std::make_unique<ArrivalOrder>());
  if (name == "priority") return std::unique_ptr<QueueOrder>(std::make_unique<PriorityOrder>());
  return InvalidArgument("unknown queue order \"" + std::string(name) + "\"");
}

}  // namespace gpuaas::sched
