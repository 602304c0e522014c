// QueueOrder plugins: "fifo" sorts by arrival (submitted_at, then id); "priority" by priority
// class level (Policy::priority_classes, higher first), then priority (higher first), then
// arrival; "fair-share" like "priority" but, within a level and priority, the entities far
// behind on waits first, then the others, each entity's jobs delayed by its usage
// (Policy::fair_share_usage_delay_s; 0: the entity with the lowest decayed usage per share first,
// Snapshot::decayed_usage / entity_shares), then the small-first key and arrival;
// "sjf-oracle" by gpus x true run time (simulator baseline).
// Plugins copy what they need from the policy and snapshot. Stateless after construction;
// thread-safe.
#pragma once

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "sched/plugins.h"
#include "sched/policy.h"

namespace gpuaas::sched {

class ArrivalOrder final : public QueueOrder {
 public:
  using QueueOrder::Sort;
  void Sort(std::vector<QueueEntry>& queue) const override;
};

class PriorityOrder final : public QueueOrder {
 public:
  explicit PriorityOrder(Policy policy = {}) : policy_(std::move(policy)) {}
  using QueueOrder::Sort;
  void Sort(std::vector<QueueEntry>& queue) const override;

 private:
  Policy policy_;
};

class FairShareOrder final : public QueueOrder {
 public:
  FairShareOrder(Policy policy, std::map<EntityId, double> shares, std::map<EntityId, double> usage,
                 std::map<EntityId, double> wait_ratio = {},
                 std::map<EntityId, double> wait_rank = {})
      : policy_(std::move(policy)),
        shares_(std::move(shares)),
        usage_(std::move(usage)),
        wait_ratio_(std::move(wait_ratio)),
        wait_rank_(std::move(wait_rank)) {}
  using QueueOrder::Sort;
  void Sort(std::vector<QueueEntry>& queue) const override;
  // Keys for the new entries and for those a binary search among the sorted ones visits only.
  void SortTail(std::vector<QueueEntry>& queue, size_t sorted) const override;
  // decayed usage / share (share absent = 1; share <= 0 = infinite).
  double UsagePerShare(EntityId entity) const { return UsagePerShare(shares_, usage_, entity); }
  // The same, from the maps of a snapshot (Snapshot::entity_shares, decayed_usage).
  static double UsagePerShare(const std::map<EntityId, double>& shares,
                              const std::map<EntityId, double>& usage, EntityId entity);
  // An entity's queued jobs: how many, and the sum of their submission times.
  struct Tally {
    EntityId entity = 0;
    int64_t jobs = 0;
    int64_t submitted_sum_ms = 0;
  };
  // The steps of Policy::fair_share_usage_delay_s an entity's jobs may be delayed by.
  static constexpr uint32_t kDelaySteps = 16;
  // An entity's place: its jobs go after those of entities of a lower group and, within theirs,
  // as if submitted delay_steps / kDelaySteps of Policy::fair_share_usage_delay_s later.
  struct Ranked {
    EntityId entity = 0;
    uint32_t group = 0;
    uint32_t delay_steps = 0;
    bool operator==(const Ranked&) const = default;
  };
  // The totals Slurm's classic factor divides by: the usage of every entity of `usage` and the
  // shares of the entities of `shares`, `usage` and `tallies` (absent = 1).
  struct UsageTotals {
    double usage = 0;
    double shares = 0;
  };
  static UsageTotals Totals(const std::map<EntityId, double>& shares,
                            const std::map<EntityId, double>& usage,
                            const std::vector<Tally>& tallies);
  // Slurm's classic fair-share factor of `entity`, 1 - 2^(-U/S): U its part of `totals.usage`,
  // S its share's part of `totals.shares`. 1 for a share <= 0; 0 when nobody used anything.
  static double UsageFactor(const UsageTotals& totals, const std::map<EntityId, double>& shares,
                            const std::map<EntityId, double>& usage, EntityId entity);
  // The factor in steps of the usage delay: round(kDelaySteps x factor).
  static uint32_t DelaySteps(double factor) {
    return static_cast<uint32_t>(std::lround(factor * kDelaySteps));
  }
  // Late on waits: its wait ratio is at least the policy's fair_share_wait_ratio (> 0).
  static bool Late(const Policy& policy, double wait_ratio) {
    return policy.fair_share_wait_ratio > 0 && wait_ratio >= policy.fair_share_wait_ratio;
  }
  // The entities' order: first those whose average wait is at least the policy's
  // fair_share_wait_ratio times the platform's (`wait_ratio`, Snapshot::entity_wait_ratio), the
  // highest ratio of `wait_rank` (Snapshot::entity_wait_rank; absent: of `wait_ratio`) first,
  // each a group of its own; then those behind the queue's average
  // submission by the policy's wait floor; then the others. With a usage delay those two are a
  // group each, listed by (delay steps, id), the steps being Slurm's classic fair-share factor:
  // round(kDelaySteps x (1 - 2^(-U/S))), U the entity's part of all entities' usage (`usage`),
  // S its part of the shares of the entities of `shares`, `usage` and `tallies` (absent = 1;
  // a share <= 0 gives all the steps). Without, each entity is a group of its own, by (usage
  // per share, id). The simulator ranks with it too.
  static std::vector<Ranked> Rank(const Policy& policy, const std::map<EntityId, double>& shares,
                                  const std::map<EntityId, double>& usage,
                                  const std::vector<Tally>& tallies,
                                  const std::map<EntityId, double>& wait_ratio = {},
                                  const std::map<EntityId, double>& wait_rank = {});

 private:
  Policy policy_;
  std::map<EntityId, double> shares_, usage_, wait_ratio_, wait_rank_;
};

// Shortest job first with perfect knowledge (a simulator baseline, not a production policy):
// smallest gpus x oracle_runtime_s first; unknown run times (0) last; then arrival.
class SjfOracleOrder final : public QueueOrder {
 public:
  using QueueOrder::Sort;
  void Sort(std::vector<QueueEntry>& queue) const override;
};

// Policy::small_first_rate as the orders use it: the policy's when >= 0, otherwise the GPUs of
// the snapshot's nodes (all of them, whatever their state) / Policy::small_first_delay_factor;
// 0 (arrival order) with no snapshot, no GPU or a factor of 0.
double SmallFirstRate(const Policy& policy, const Snapshot* snapshot);

// The plugin for a Policy::queue_order name, configured from the policy and the snapshot
// (either may be null: defaults, no usage, and SmallFirstRate's rate).
Result<std::unique_ptr<QueueOrder>> MakeQueueOrder(std::string_view name,
                                                   const Policy* policy = nullptr,
                                                   const Snapshot* snapshot = nullptr);

}  // namespace gpuaas::sched
