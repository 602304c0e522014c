// QueueOrder plugins: "fifo" sorts by arrival (submitted_at, then id); "priority" by priority
// (higher first), then arrival; "sjf-oracle" by gpus x true run time (simulator baseline).
// Stateless; thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "base/status.h"
#include "sched/plugins.h"

namespace gpuaas::sched {

class ArrivalOrder final : public QueueOrder {
 public:
  void Sort(std::vector<const JobView*>& queue) const override;
};

class PriorityOrder final : public QueueOrder {
 public:
  void Sort(std::vector<const JobView*>& queue) const override;
};

// Shortest job first with perfect knowledge (a simulator baseline, not a production policy):
// smallest gpus x oracle_runtime_s first; unknown run times (0) last; then arrival.
class SjfOracleOrder final : public QueueOrder {
 public:
  void Sort(std::vector<const JobView*>& queue) const override;
};

// The plugin for a Policy::queue_order name.
Result<std::unique_ptr<QueueOrder>> MakeQueueOrder(std::string_view name);

}  // namespace gpuaas::sched
