// Policy: which scheduling plugins run and their knobs. A plain value; thread-safe to copy.
// Named policies (the simulator's baselines and the production default) come from PolicyByName.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gpuaas::sched {

struct Policy {
  // Queue order plugin: "priority" (priority descending, then arrival), "fifo" (arrival:
  // submitted_at, then id) or "sjf-oracle" (JobView::oracle_runtime_s; simulator only).
  std::string queue_order = "priority";
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
};

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
