// Fairness of waits (Policy::fair_share_wait_ratio): each entity's average wait against the
// platform's. Its input per entity is a tally of waits: jobs started recently, each weighted by
// its age with the fair-share half-life (2^(-(now - started) / half_life)), and the jobs still
// queued, each with its wait so far (weight 1). The ratio looks ahead: each queued job counts as
// if it waited Policy::fair_share_wait_horizon_s longer (the averages as they will be if it has
// not started by then), so an entity with much of its recent work in the queue is seen to fall
// behind before it has (docs/adr/0014). The state builds the tallies from its jobs, the simulator
// from its counters; both turn them into Snapshot::entity_wait_ratio with WaitRatios. Pure;
// thread-safe.
#pragma once

#include <cstdint>
#include <map>

#include "base/time.h"
#include "model/ids.h"

namespace gpuaas::sched {

struct WaitTally {
  double waited_s = 0;  // sum of weight x wait, in seconds
  double jobs = 0;      // sum of weights
  double queued = 0;    // of which jobs still queued
};

// 2^(-age / half_life) for an age in milliseconds (1 when the half-life is <= 0 or age <= 0).
double AgeWeight(Millis age_ms, int64_t half_life_s);

// Adds a job that waited from submitted_at to started_at, weighted by its age at `now`.
void AddStartedWait(WaitTally* tally, Millis submitted_at, Millis started_at, Millis now,
                    int64_t half_life_s);

// Adds a queued job: its wait up to now (never negative), weight 1.
void AddQueuedWait(WaitTally* tally, Millis submitted_at, Millis now);

// Each entity's average wait over the platform's (the sums over all entities), each queued job
// counted as waiting `horizon_s` more: (waited_s + queued x horizon_s) / jobs, for every entity
// with jobs > 0. Empty when nobody waited at all (no ratio has a meaning). Deterministic: the
// sums run in entity order.
std::map<EntityId, double> WaitRatios(const std::map<EntityId, WaitTally>& tallies,
                                      int64_t horizon_s = 0);

}  // namespace gpuaas::sched
