// Policy: which scheduling plugins run and their knobs. A plain value; thread-safe to copy.
// Named policies (the simulator's baselines and the production default) come from PolicyByName.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gpuaas::sched {

struct Policy {
  // Queue order plugin (sched/queue_order.h): "fair-share" (priority class, priority, then the
  // entity's decayed usage per share, then arrival), "priority" (class, priority, arrival),
  // "fifo" (arrival: submitted_at, then id) or "sjf-oracle" (JobView::oracle_runtime_s;
  // simulator only).
  std::string queue_order = "fair-share";
  // EASY backfill on walltimes: the first job waiting for GPUs (not for quota) gets a
  // reservation at the earliest time it fits given running jobs' walltimes; a later job starts
  // now only if it does not delay it (it ends before, or uses other devices and quota).
  bool backfill = true;
  // How many waiting jobs get a reservation under backfill (EASY = 1; more = more conservative).
  int reservations = 1;
  // Without backfill: true = the first job waiting for GPUs blocks every job behind it (strict
  // first-in first-out); false = a job that does not fit is passed over.
  bool strict_order = false;
  // Walltime of a job that states none.
  int64_t default_walltime_s = 86400;
  // Limits: start estimates are computed for at most this many waiting jobs (the rest: 0), and
  // at most this many jobs are looked at per pass (the rest wait with their position only).
  int max_estimates = 1000;
  int max_jobs_per_pass = 10000;
  // false = waiting jobs get no reason in words (Waiting::reason stays empty): the simulator,
  // which reads only placements, turns it off; the decisions are the same either way.
  bool explain_waiting = true;

  // Priority classes (JobView/RunningView::priority_class -> level). The queue orders by level
  // first; a job of a higher level may preempt jobs of strictly lower levels.
  std::map<std::string, int> priority_classes = {
      {"production", 100}, {"standard", 50}, {"best-effort", 0}};
  std::string default_priority_class = "standard";  // for jobs that name none (or an unknown one)
  // Jobs of this class never get a reservation and never block anyone (strict order); they are
  // the first victims of preemption.
  std::string best_effort_class = "best-effort";
  // A queued job that cannot fit may preempt running preemptible jobs of strictly lower
  // priority classes (never GPUs within their entity's guarantee). Only with the "priority" and
  // "fair-share" orders (which put higher classes first). The baselines turn it off.
  bool preempt_lower_priority = true;
  // An entity below its guarantee (Snapshot::quota_guarantee) whose job cannot fit reclaims
  // GPUs that other entities borrow beyond their own guarantee. The baselines turn it off.
  bool reclaim = true;
  // What the state gives a preempted job between SIGTERM and the stop; the scheduler projects
  // stopping jobs to end by then and promises guarantees within it.
  int64_t preemption_grace_s = 300;
  // Small requests first, with aging: within a tier of the "priority" and "fair-share" orders
  // (priority class, priority, and under fair share the entity's rank), jobs are ordered by
  // gpus x walltime (the request, in GPU-seconds; the default walltime when unset) plus this
  // many GPU-seconds per second of submission time. So the smallest request goes first, and
  // every second a job has waited is worth `small_first_rate` GPU-seconds against newer jobs:
  // additive aging, as Slurm's age factor, which keeps the order independent of the clock and
  // starves nobody (a newer job's key only grows). 0 = arrival order within a tier; negative
  // (the default): the platform's GPUs / small_first_delay_factor (SmallFirstRate()).
  double small_first_rate = -1;
  // With the rate from the platform's size: a job counts as submitted later by this many times
  // its request divided by the platform's GPUs (the time the whole platform would take to run
  // it): on 640 GPUs a 1-GPU 1-hour request by 30 min and an 8-GPU 1-day one by 4 days. So the
  // order weighs a request by its part of the platform, the same on 16 GPUs as on 640 (the rate
  // 2 of a 640-GPU platform; docs/adr/0016). 0 = arrival order within a tier.
  double small_first_delay_factor = 320;
  // The most a request's size may count, in seconds of waiting: no job is passed by jobs
  // submitted more than this after it. 0 = no cap.
  int64_t small_first_cap_s = 0;
  // Fair share: the half-life of past usage (the state passes it to DecayedUsage()).
  int64_t fair_share_half_life_s = 7 * 86400;
  // Fair share as a delay, under the "fair-share" order: an entity's jobs are placed as if
  // submitted up to this much later, by its fair-share factor 1 - 2^(-U/S) (Slurm's classic
  // formula: U its part of all entities' decayed usage, S its part of the shares), in 16 steps;
  // an entity that used exactly its share is delayed by half of it, one that used nothing not at
  // all. So usage weighs as waiting time against the other factors (request size, age) instead
  // of ranking entities whole (docs/adr/0013). 0 = that strict order: the entity with the least
  // usage per share first, whatever its jobs' sizes.
  int64_t fair_share_usage_delay_s = 4 * 3600;
  // Fair share's floor on waiting: an entity whose queued jobs were submitted on average at
  // least this long before the queue's average goes ahead of the entities that are not so far
  // behind (among themselves, by usage per share as usual). 0 = off.
  int64_t fair_share_wait_floor_s = 0;
  // A job that could start now on a slower class but finishes sooner, by the estimate, on a
  // faster class it gets no reservation on (nothing holds that class for it, and the estimate
  // ignores the jobs ahead, so it is a lower bound) waits for it only while its whole wait, up
  // to the estimated start there, stays under this many times what the slower class would add
  // to its run time; otherwise it starts now on the slower class (rent or buy: 1 = as long as
  // the slowdown, 0 = never waits). The default, 1 %, waits only for a faster class due very
  // soon compared with the slowdown (docs/adr/0008). Negative = no bound (as long as the
  // estimate says it finishes sooner; the baselines' behaviour).
  double faster_class_wait_ratio = 0.01;
  // Patience for long jobs: a flexible job whose run the slower class would lengthen by at least
  // this much (by its walltime) waits for the faster class as long as that lengthening (the
  // bound above with ratio 1, ski rental), so a 20-day training run does not take 50 days on the
  // L40S to save a week of waiting. 0 = off. The default, 30 days, is on since the late
  // entities are ranked by their history (docs/adr/0028; docs/benchmarks.md, "Patience for long
  // jobs" and "The late ranked by their history"); applies where faster_class_wait_ratio >= 0.
  int64_t faster_class_patience_extra_s = 30 * 86400;
  // Fairness of waits, under the "fair-share" order: an entity whose average wait
  // (Snapshot::entity_wait_ratio: its jobs started recently, weighted by age with the fair-share
  // half-life, and its queued jobs so far) is at least this many times the platform's average
  // goes ahead of the others, the most behind first (below); so no entity's jobs keep waiting much
  // longer than everyone's, whatever its past usage (docs/adr/0010). 0 = off. The default,
  // 1.3 (1.2 before the rank by history and the patience of docs/adr/0028; 1.25 before
  // fair_share_wait_horizon_s, 1.5 before fair_share_usage_delay_s), keeps Philly's worst entity
  // near 3x the average wait and its JCT under 0.8x the baseline's (docs/adr/0029).
  double fair_share_wait_ratio = 1.3;
  // The wait ratio looks this far ahead: each queued job counts as if it waited this much longer
  // (the averages as they will be then if it has not started), so an entity whose recent work is
  // mostly queued, a burst of a small team, is seen to fall behind before it has (docs/adr/0014).
  // 0 = the waits so far only.
  int64_t fair_share_wait_horizon_s = 24 * 3600;
  // Among the entities late on waits, the most behind first by their average wait over their
  // history with this half-life (Snapshot::entity_wait_rank; the same look-ahead), not by the
  // recent average that makes them late: 0 (the default) = the whole history the platform keeps,
  // so an entity whose few jobs all waited goes before one whose long history of short waits
  // outweighs a bad week (docs/adr/0028). fair_share_half_life_s's value ranks them by the
  // ratio that makes them late (the rule before).
  int64_t fair_share_wait_rank_half_life_s = 0;
};

// The level of a priority class name (empty or unknown = the default class's level; 0 if that
// is unknown too).
int PriorityLevel(const Policy& policy, const std::string& priority_class);
bool IsBestEffort(const Policy& policy, const std::string& priority_class);

// "fifo" (strict order, no backfill), "backfill" (arrival order + EASY backfill),
// "ordered-fallback" (arrival order, a job that does not fit is passed over, no reservation),
// "sjf-oracle" (simulator baseline: smallest gpus x true run time first, a job that does not
// fit is passed over, no reservation), "default" (the production policy: priority order + EASY
// backfill).
Result<Policy> PolicyByName(std::string_view name);
std::vector<std::string> PolicyNames();

// Checks the knobs (known plugin names, positive limits).
Status ValidatePolicy(const Policy& policy);

}  // namespace gpuaas::sched
