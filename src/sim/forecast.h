// Demand forecast for capacity planning (`gpuaas forecast`): from a job history (a trace: the
// platform's export or an import), weekly GPU-hour demand per class, a fitted trend and
// seasonality, the first week the projection exceeds what the fleet can serve, and the date by
// which to order more GPUs given the suppliers' lead time.
//
// Model, per class (the job's first acceptable class; untyped jobs count as "any"):
//   demand of week w = sum of gpus x duration_s / 3600 of the jobs submitted in week w (week 0
//   starts at the trace's second 0);
//   trend: least-squares line through the weekly demand;
//   seasonality: with a season of P weeks (P = 52 with at least 104 weeks of history, else 4
//   with at least 8, else none), the mean residual of each week-of-season is added back;
//   projection of week w = (a + b w + s[w mod P]) x growth, never below 0.
// Capacity of a class = its GPUs in the cluster x 168 h x max_utilization (default 0.8: a fleet
// run fuller than that queues badly); "any" is compared with the whole fleet. The exceed week
// is the first projected week (after the history) above capacity; order_by = its start minus
// the lead time. Deterministic; pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "sim/cluster_spec.h"
#include "sim/trace.h"

namespace gpuaas::sim {

struct ClassForecast {
  std::string gpu_class;
  std::vector<double> history;     // GPU-hours per week
  std::vector<double> projection;  // the next `horizon_weeks`
  double trend_per_week = 0;       // GPU-hours per week per week
  int season_weeks = 0;
  double capacity = 0;     // GPU-hours per week
  int exceed_week = -1;    // week index from the trace's start; -1 = not within the horizon
  int64_t order_by_s = 0;  // trace seconds (may be negative or before the history's end)
};

struct ForecastOptions {
  int horizon_weeks = 52;
  double max_utilization = 0.8;
  int64_t lead_time_s = 0;
  // Extra demand expected beyond the fitted trend (1.3 = +30%), applied to the projection:
  // (0, 100].
  double growth = 1.0;
  // When > 0, the history runs at least to this trace second (weeks without jobs count as 0):
  // the server passes "now", so that quiet recent weeks pull the trend down.
  int64_t history_end_s = 0;
};

Result<std::vector<ClassForecast>> Forecast(JobSource& source, const ClusterSpec& cluster,
                                            const ForecastOptions& options);

// {"weeks_of_history", "classes": [{"class", "history", "projection", "trend_per_week",
// "season_weeks", "capacity_per_week", "exceed_week", "exceed_date", "order_by"}]}; dates are
// RFC 3339 from `origin` (the trace's second 0). And a table for people.
std::string ForecastJson(const std::vector<ClassForecast>& f, Millis origin);
std::string ForecastTable(const std::vector<ClassForecast>& f, Millis origin);

}  // namespace gpuaas::sim
