// The simulator: replays a job trace through the production scheduler (sched::Schedule) under a
// virtual clock and measures the outcome (sim/metrics.h).
//
// Events are arrivals (trace rows, read lazily in submit order) and completions (a job ends after
// duration_s scaled by its speed on the class it got, or is killed at its walltime, stretched on
// a slower class as the platform does). At each event time the completions are applied, then the
// arrivals, then one scheduling pass on the cluster's Snapshot, which is kept up to date in
// place rather than rebuilt. A pass sees only the queued jobs that can start now, block or
// reserve (exactly the same decisions, at a fraction of the cost); it is skipped only when it
// provably cannot place anything (fewer free GPUs than the smallest queued job asks). Fair share
// gets decayed usage per entity, kept incrementally. Jobs get no priority class or guarantee, so no
// plan preempts (one that does is an error). A gang (Placement::slices) holds one RunningView per
// node. Every pass's plan is checked with sched::CheckInvariants unless `check_invariants` is off;
// a violation stops the replay with an Internal error naming the time and the policy.
//
// What the policy sees: the request, its walltime (the platform default when absent), its
// priority, submit time and speed hints (the trace's speeds); only "sjf-oracle" also gets the true
// run time (JobView::oracle_runtime_s). A job with no gpu_types is offered every cluster class in
// spec order (so its walltime is stretched on a slower class like any other fallback). Jobs that
// can never run on the cluster (no acceptable class has enough GPUs in the whole cluster) are not
// queued; they count as submitted, not finished.
//
// Deterministic: the same trace, cluster and options give the same result. Memory: the live
// jobs (queued and running) plus a few bytes per finished job. Not thread-safe; one call per
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "model/gpu_class.h"
#include "sim/cluster_spec.h"
#include "sim/metrics.h"
#include "sim/trace.h"

namespace gpuaas::sim {

// The virtual clock's origin (trace second 0): 2026-01-01T00:00:00Z.
constexpr Millis kSimEpoch = 1767225600000;

struct SimProgress {
  int64_t events = 0;
  int64_t arrived = 0;
  int64_t finished = 0;
  int64_t passes = 0;
  size_t queued = 0;
  size_t running = 0;
  int64_t now_s = 0;  // trace seconds
};

// The cluster between two event times (for plots): by class index (ClusterClasses order).
struct SimSample {
  int64_t now_s = 0;             // trace seconds; holds until the next sample
  std::vector<int> queued_jobs;  // queued jobs by their first acceptable class
  std::vector<int> busy_gpus;    // allocated GPUs
};

struct SimOptions {
  std::string policy = "default";  // a sched::PolicyByName name, or "sjf-oracle"
  bool check_invariants = true;
  // Also run every pass on the whole queue and fail if it places differently from the pass on
  // the window (the jobs that can start, block or reserve; see simulator.cc). For tests: slow.
  bool verify_window = false;
  int64_t default_walltime_s = 0;  // walltime of jobs stating none; 0 = the policy's default
  // Knob overrides on the named policy (what-if on the scheduler's settings), applied in order:
  // queue_order=fifo|priority|fair-share|sjf-oracle|sjf-request (the sjf order on the request,
  // gpus x walltime, without aging; the default policy's small_first_rate does it with aging),
  // backfill=true|false, reservations=N, strict_order=true|false, fair_share_half_life_s=N,
  // fair_share_usage_delay_s=N, fair_share_wait_horizon_s=N, fair_share_wait_rank_half_life_s=N,
  // small_first_delay_factor=F, small_first_rate=R, small_first_cap_s=N, fair_share_wait_floor_s=N,
  // fair_share_wait_ratio=R, faster_class_wait_ratio=R, faster_class_patience_extra_s=N
  // (sched::Policy). Unknown keys or values are errors.
  std::vector<std::pair<std::string, std::string>> policy_overrides;
  // Fair-share weight per entity name (absent = 1), e.g. the entities' quotas or purchased
  // capacity; see EntitySharesFromDemand.
  std::map<std::string, double> entity_shares;
  // Called every `progress_every` events (0 = never) from the replaying thread.
  int64_t progress_every = 0;
  std::function<void(const SimProgress&)> on_progress;
  // Called once per event time, after its pass (unset = never). For reports.
  std::function<void(const SimSample&)> on_sample;
  // Called for each finished job; `entity_names` of the result name its entity index.
  std::function<void(const JobOutcome&)> on_finish;
};

struct SimResult {
  PolicyMetrics metrics;
  int64_t unplaceable = 0;    // never queued: the cluster has too few GPUs of its classes
  int64_t never_started = 0;  // still queued when the trace ran out of events (incl. unplaceable)
  int64_t passes = 0;         // scheduling passes run
  int64_t events = 0;         // distinct event times
  std::vector<std::string> entity_names;  // by entity index (order of first arrival)
};

// Shares proportional to each entity's offered GPU-time (gpus x duration_s summed over the
// trace; reads the whole source), normalised to a mean of 1: a stand-in for quotas sized to
// demand, as a trace's entities (Philly's virtual clusters) had. Errors: the source's.
Result<std::map<std::string, double>> EntitySharesFromDemand(JobSource& source);

// The policy names the simulator accepts, in the order they are documented.
std::vector<std::string> SimPolicyNames();

// Replays `source` on `cluster`. `catalogue` gives class speeds (default run-time ratios) and
// hourly rates (cost). Errors: a bad trace row (file:line), an unknown policy, an invariant
// violation.
Result<SimResult> Simulate(JobSource& source, const ClusterSpec& cluster,
                           const std::vector<GpuClass>& catalogue, const SimOptions& options);

}  // namespace gpuaas::sim
