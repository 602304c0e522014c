// Output of `gpuaas simulate`: the CONTRACT's JSON document and a table for humans.
// JSON: {"trace", "cluster", "results": [{"policy", "jobs", "finished", "avg_jct_s",
// "p50_jct_s", "p95_jct_s", "avg_wait_s", "p50_wait_s", "p95_wait_s", "p99_wait_s",
// "makespan_s", "gpu_utilization", "cost", "entities": {NAME: {"jobs", "avg_jct_s",
// "avg_wait_s", "p95_wait_s", "gpu_seconds", "cost"}}}]}; seconds with 3 decimals,
// utilization with 6, money as the API's {"amount", "currency", "micros"}. Byte-stable for the
// same input. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "sim/metrics.h"

namespace gpuaas::sim {

std::string ResultsJson(const std::string& trace, const std::string& cluster,
                        const std::vector<PolicyMetrics>& results);

// A summary table (one row per policy) followed by a per-entity table per policy.
std::string ResultsTable(const std::string& trace, const std::string& cluster,
                         const std::vector<PolicyMetrics>& results);

// `gpuaas simulate --jobs-csv`: one row per finished job and policy, for analysis elsewhere.
// Columns: policy,id,entity,gpus,gpu_class,submit_s,start_s,end_s,wait_s,run_s,timed_out;
// seconds from the trace's start with 3 decimals; text fields quoted when they hold a comma, a
// quote or a line break (a policy with --set settings does).
std::string JobsCsvHeader();
std::string JobCsvRow(const std::string& policy, const JobOutcome& job);

// JSON string literal (quotes and escapes).
std::string JsonString(const std::string& s);

// `v` with `decimals` digits after the point ("12.35"); the figures of tables and reports.
std::string Fixed(double v, int decimals);

}  // namespace gpuaas::sim
