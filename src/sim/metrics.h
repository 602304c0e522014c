// Replay metrics: what the simulator reports per policy and per entity (CONTRACT "Simulator").
// JCT = finish - submit; wait = start - submit (finished jobs only); makespan = last finish -
// first submit; utilization = allocated GPU-seconds / (cluster GPUs x makespan). Percentiles are
// nearest-rank (the smallest value with at least p% of values at or below it). Cost is the
// billing price book's: GPU-time summed per (entity, class) and priced once (CostOf), as the
// usage report does. Memory: a few bytes per finished job (for the percentiles).
// Not thread-safe (one builder per replay).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/money.h"
#include "base/time.h"
#include "billing/price_book.h"

namespace gpuaas::sim {

// One finished job (completed or killed at its walltime).
struct JobOutcome {
  int entity = 0;     // index into the builder's entity names
  int gpu_class = 0;  // index into the builder's classes
  Millis submit = 0;
  Millis start = 0;
  Millis end = 0;
  int gpus = 1;
  bool timed_out = false;
  // For callers of SimOptions::on_finish (valid during the call only): the trace's job id and
  // the entity's and class's names.
  std::string_view id = {};
  std::string_view entity_name = {};
  std::string_view class_name = {};
};

struct EntityMetrics {
  std::string name;
  int64_t jobs = 0;  // submitted
  double avg_jct_s = 0;
  double avg_wait_s = 0;
  double p95_wait_s = 0;
  double gpu_seconds = 0;
  MicroEur cost = 0;
};

struct PolicyMetrics {
  std::string policy;
  int64_t jobs = 0;      // submitted
  int64_t finished = 0;  // completed or timed out
  int64_t timed_out = 0;
  double avg_jct_s = 0, p50_jct_s = 0, p95_jct_s = 0;
  double avg_wait_s = 0, p50_wait_s = 0, p95_wait_s = 0, p99_wait_s = 0;
  double makespan_s = 0;
  double gpu_utilization = 0;
  MicroEur cost = 0;
  std::vector<EntityMetrics> entities;  // name order
};

class MetricsBuilder {
 public:
  // `classes`: class names by index; `total_gpus`: the cluster's.
  MetricsBuilder(std::vector<std::string> classes, PriceBook prices, int total_gpus);

  // A job arrived (first submit sets the makespan's origin). `entity` >= 0.
  void AddSubmitted(int entity, Millis submit);
  void AddFinished(const JobOutcome& outcome);
  // `entity_names[i]` names entity index i.
  PolicyMetrics Finish(const std::string& policy, const std::vector<std::string>& entity_names);

 private:
  struct PerEntity {
    int64_t jobs = 0;
    int64_t finished = 0;
    int64_t jct_sum_ms = 0;
    int64_t wait_sum_ms = 0;
    std::vector<int64_t> waits_ms;
    std::vector<int64_t> gpu_ms_by_class;
  };
  PerEntity& Entity(int entity);

  std::vector<std::string> classes_;
  PriceBook prices_;
  int total_gpus_;
  std::vector<PerEntity> entities_;
  std::vector<int64_t> jcts_ms_;
  std::vector<int64_t> waits_ms_;
  int64_t timed_out_ = 0;
  bool any_submit_ = false;
  Millis first_submit_ = 0;
  Millis last_end_ = 0;
};

// Nearest-rank percentile (p in (0, 100]) of `values` in milliseconds, in seconds; 0 if empty.
// Reorders `values`.
double PercentileSeconds(std::vector<int64_t>& values, double p);

}  // namespace gpuaas::sim
