// Capacity planning (`gpuaas plan`): the same history replayed on several fleets, side by side,
// and a search for the cheapest fleet whose 95th-percentile wait meets a target.
//
// Load growth: `scale` > 1 compresses the trace's arrival times by that factor (submit_s /
// scale, rounded down), so the same jobs arrive `scale` times as fast: demand per hour grows by
// that factor, job shapes stay as recorded. Fleet cost: nodes x the monthly cost of a node of
// its class (an input: hardware, power, hosting).
//
// The search (SearchCheapestFleet) keeps the node shapes of the starting fleet and changes node
// counts, in steps of max(1, 10% of the group) nodes, at most `max_runs` replays:
//   up:   while the target is missed, try one step more of each group and keep the one that
//         lowers the p95 wait most per euro (a tie: the cheaper);
//   down: then, while some one-step removal still meets the target, keep the removal that saves
//         the most.
// It is a greedy heuristic (each replay is a full simulation), not an exhaustive search; every
// fleet tried is reported. Pure apart from the replays it asks for; thread-safety as theirs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/money.h"
#include "base/status.h"
#include "sim/cluster_spec.h"
#include "sim/metrics.h"
#include "sim/trace.h"

namespace gpuaas::sim {

// Compresses arrival times by `scale` (> 0).
class ScaledLoadSource final : public JobSource {
 public:
  ScaledLoadSource(JobSource& inner, double scale) : inner_(inner), scale_(scale) {}
  Result<bool> Next(TraceJob* job) override;

 private:
  JobSource& inner_;
  double scale_;
};

struct FleetResult {
  ClusterSpec cluster;
  int gpus = 0;
  MicroEur monthly_cost = 0;  // 0 when no node cost was given
  PolicyMetrics metrics;
  bool meets_target = false;  // p95 wait <= target (always false without a target)
};

// `h200=30000,l40s=9000` (EUR per node per month) -> micro-euros by class.
Result<std::map<std::string, MicroEur>> ParseNodeCosts(std::string_view text);

MicroEur FleetMonthlyCost(const ClusterSpec& cluster,
                          const std::map<std::string, MicroEur>& node_cost);

// Replays the (scaled) history on one fleet.
using FleetRun = std::function<Result<PolicyMetrics>(const ClusterSpec&)>;

struct SearchOptions {
  int64_t target_p95_wait_s = 0;              // > 0
  std::map<std::string, MicroEur> node_cost;  // every class of the fleet must have one
  int max_runs = 30;
};

struct SearchResult {
  bool found = false;              // some fleet tried meets the target
  FleetResult best;                // the cheapest that meets it (or, if none, the last tried)
  std::vector<FleetResult> tried;  // in the order tried
  bool hit_run_limit = false;
};

Result<SearchResult> SearchCheapestFleet(const ClusterSpec& start, const SearchOptions& options,
                                         const FleetRun& run);

// Output: JSON
// {"trace","policy","scale_load","fleets":[FLEET...],"search":null|{"target_p95_wait_s",
// "found","best":FLEET,"tried":[FLEET...],"hit_run_limit"}} with FLEET = {"cluster","gpus",
// "monthly_cost","jobs","finished","avg_jct_s","avg_wait_s","p95_wait_s","gpu_utilization",
// "cost","meets_target"}; and a table for people.
std::string PlanJson(const std::string& trace, const std::string& policy, double scale,
                     const std::vector<FleetResult>& fleets, const SearchResult* search,
                     int64_t target_p95_wait_s);
std::string PlanTable(const std::string& trace, const std::string& policy, double scale,
                      const std::vector<FleetResult>& fleets, const SearchResult* search,
                      int64_t target_p95_wait_s);

}  // namespace gpuaas::sim
