#include "sched/fair_share_standing.h"

#include <cmath>
#include <map>

#include "sched/queue_order.h"

namespace gpuaas::sched {

std::vector<FairShareStanding> FairShareStandings(const Policy& policy, const Snapshot& snapshot,
                                                  const std::vector<EntityId>& entities) {
  // The queued jobs per entity, as the queue order tallies them.
  std::map<EntityId, FairShareOrder::Tally> by_entity;
  for (const JobView& j : snapshot.queued) {
    FairShareOrder::Tally& t = by_entity[j.entity];
    t.entity = j.entity;
    ++t.jobs;
    t.submitted_sum_ms += j.submitted_at;
  }
  std::vector<FairShareOrder::Tally> tallies;
  tallies.reserve(by_entity.size());
  for (const auto& [e, t] : by_entity) tallies.push_back(t);
  const auto& shares = snapshot.entity_shares;
  const auto& usage = snapshot.decayed_usage;
  const FairShareOrder::UsageTotals queued_totals = FairShareOrder::Totals(shares, usage, tallies);

  std::vector<FairShareStanding> out;
  out.reserve(entities.size());
  for (EntityId e : entities) {
    FairShareStanding s;
    s.entity = e;
    FairShareOrder::UsageTotals totals = queued_totals;
    if (auto t = by_entity.find(e); t != by_entity.end()) {
      s.queued_jobs = t->second.jobs;
    } else if (!shares.contains(e) && !usage.contains(e)) {
      totals.shares += 1.0;  // as if it had a job queued
    }
    if (auto it = shares.find(e); it != shares.end()) s.shares = it->second;
    if (auto it = usage.find(e); it != usage.end()) s.usage_gpu_hours = std::max(0.0, it->second);
    s.share_part = totals.shares > 0 ? std::max(0.0, s.shares) / totals.shares : 0.0;
    s.usage_part = totals.usage > 0 ? s.usage_gpu_hours / totals.usage : 0.0;
    s.factor = FairShareOrder::UsageFactor(totals, shares, usage, e);
    if (auto w = snapshot.entity_wait_ratio.find(e); w != snapshot.entity_wait_ratio.end()) {
      s.wait_ratio = w->second;
    }
    s.late = FairShareOrder::Late(policy, s.wait_ratio);
    if (!s.late && policy.fair_share_usage_delay_s > 0) {
      s.delay_s = policy.fair_share_usage_delay_s * FairShareOrder::DelaySteps(s.factor) /
                  FairShareOrder::kDelaySteps;
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace gpuaas::sched
