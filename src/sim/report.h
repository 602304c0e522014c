// `gpuaas simulate --report DIR`: one self-contained HTML page (inline SVG and CSS, no script,
// no external asset) that a manager can read: per policy, the headline figures, queue length
// and GPU utilisation over time per class, the wait-time distribution per entity and the cost
// per entity; and the policies side by side.
//
// ReportCollector records one replay through SimOptions::on_sample / on_finish with bounded
// memory: time series are averaged into at most `max_bins` equal bins (the bin width doubles,
// merging pairs, whenever the replay outgrows them), and each entity keeps its finished jobs'
// waits (8 bytes a job) for the distribution. Output is byte-identical for the same replay.
// Not thread-safe (one collector per replay).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/metrics.h"
#include "sim/simulator.h"

namespace gpuaas::sim {

struct WaitDistribution {
  std::string entity;
  int64_t jobs = 0;                                                     // finished
  double p5 = 0, p25 = 0, p50 = 0, p75 = 0, p95 = 0, max = 0, avg = 0;  // seconds
};

struct PolicyReport {
  PolicyMetrics metrics;
  std::vector<std::string> classes;
  std::vector<int> class_gpus;
  int64_t bin_s = 0;                        // width of a bin, seconds
  int64_t origin_s = 0;                     // trace second of bin 0
  std::vector<std::vector<double>> queued;  // [class][bin]: average queued jobs
  std::vector<std::vector<double>> busy;    // [class][bin]: average allocated GPUs
  std::vector<WaitDistribution> waits;      // name order
};

class ReportCollector {
 public:
  ReportCollector(std::vector<std::string> classes, std::vector<int> class_gpus,
                  int max_bins = 240);
  void Sample(const SimSample& sample);
  void Finished(const JobOutcome& outcome);
  // After the replay: closes the series at the makespan's end.
  PolicyReport Finish(PolicyMetrics metrics, const std::vector<std::string>& entity_names);

 private:
  void Accumulate(int64_t from_s, int64_t to_s);
  void Grow(int64_t until_s);

  std::vector<std::string> classes_;
  std::vector<int> class_gpus_;
  int max_bins_;
  int64_t bin_s_ = 60;
  bool started_ = false;
  int64_t origin_s_ = 0;
  int64_t last_s_ = 0;
  std::vector<int> last_queued_, last_busy_;
  std::vector<std::vector<double>> queued_sum_, busy_sum_;  // [class][bin]: value x seconds
  std::vector<std::vector<int64_t>> waits_ms_;              // by entity index
};

// The page. `title` names the trace and cluster.
std::string ReportHtml(const std::string& trace, const std::string& cluster,
                       const std::vector<PolicyReport>& reports);

// Writes DIR/index.html (creating DIR); errors name the path.
Status WriteReport(const std::string& dir, const std::string& html);

}  // namespace gpuaas::sim
