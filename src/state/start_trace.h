// StartTrace: where the time goes between a job's submission and its "running" (issue 3, "a job
// that fits on free GPUs starts within 50 ms of its submission"; docs/benchmarks.md).
//
// The Platform stamps each step of a job's way to its first start with a monotonic time:
//   submitted -> (submit durable, the 201)
//             -> placed (start of the pass that placed it) -> placement durable
//             -> dispatched (the first agent answer that lists it leaves the server)
//             -> reported (the agent's report says it runs) -> running durable.
// A "durable" step is stamped when the commit of the batch that carries it is done (the caller
// gives the batch's sequence number and calls Committed() as batches commit, in order). When a
// job's running state is durable its step durations go into Prometheus histograms
// (gpuaas_job_start_seconds{stage=...}) and a debug log line. A job that ends before it runs is
// forgotten. At most max_jobs jobs are traced at once (beyond: not traced); memory is bounded.
//
// Thread-safety: none; the Platform's executor thread only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "model/ids.h"

namespace gpuaas {

class StartTrace {
 public:
  using Micros = int64_t;
  // The steady clock in microseconds (not the Platform's Clock: this measures real time).
  static Micros Now();

  explicit StartTrace(size_t max_jobs = 10'000) : max_jobs_(max_jobs) {}

  // The job was accepted; `seq` is the commit that makes it durable.
  void Submitted(JobId job, int64_t seq);
  // A pass that started at `pass_start` placed the job; `seq` is the placement's commit.
  void Placed(JobId job, Micros pass_start, int64_t seq);
  // An answer listing the (durable) placement is about to go to the agent (the first counts).
  void Dispatched(JobId job);
  // The agent reported the job running; `seq` is the commit of that state.
  void Reported(JobId job, int64_t seq);
  // Every commit up to `seq` is durable: stamps the waiting steps; finishes running jobs.
  void Committed(int64_t seq);
  // The job ended (or was resubmitted) before it ran: not traced any more.
  void Forget(JobId job);

  // Histograms gpuaas_job_start_seconds{stage=...} in Prometheus text format.
  std::string MetricsText() const;
  size_t traced() const { return jobs_.size(); }
  int64_t finished() const { return histograms_[kTotal].count; }

  // Stages (durations between steps), the histograms' label values.
  enum Stage {
    kSubmitCommit,   // submitted -> submit durable (the 201)
    kQueue,          // submitted -> the placing pass starts
    kPlace,          // pass start -> placement durable (plan and commit)
    kDispatch,       // placement durable -> answer to the agent leaves
    kAgent,          // answer leaves -> "running" report arrives (process started)
    kRunningCommit,  // report arrives -> running durable
    kTotal,          // submitted -> running durable
    kStageCount
  };
  static const char* StageName(Stage s);
  // Count and sum (seconds) of a stage's histogram.
  int64_t Count(Stage s) const { return histograms_[s].count; }
  double SumSeconds(Stage s) const { return histograms_[s].sum_us / 1e6; }

 private:
  enum Step {
    kSubmitted,
    kSubmitDurable,
    kPlaced,
    kPlacementDurable,
    kDispatched,
    kReported,
    kRunningDurable,
    kStepCount
  };
  struct Job {
    std::array<Micros, kStepCount> at{};  // 0 = not yet
  };
  struct Pending {
    int64_t seq;
    JobId job;
    Step step;  // stamped when seq is durable
  };
  static constexpr size_t kBuckets = 13;
  struct Histogram {
    std::array<int64_t, kBuckets> le{};  // cumulative counts are computed when printing
    int64_t count = 0;
    int64_t sum_us = 0;
    void Observe(Micros us);
  };
  void Finish(JobId id, const Job& j);

  size_t max_jobs_;
  std::unordered_map<JobId, Job> jobs_;
  std::deque<Pending> pending_;  // by seq (marks are made with the next sequence number)
  std::array<Histogram, kStageCount> histograms_;
};

}  // namespace gpuaas
