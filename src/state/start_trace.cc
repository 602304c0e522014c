#include "state/start_trace.h"

#include <chrono>
#include <cstdio>

#include "base/log.h"

namespace gpuaas {
namespace {

// Upper bounds (seconds) of the histogram buckets; +Inf is the count.
constexpr double kBucketSeconds[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
                                     0.2,   0.5,   1,     5,    30,   300};

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", s);
  return buf;
}

}  // namespace

StartTrace::Micros StartTrace::Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char* StartTrace::StageName(Stage s) {
  switch (s) {
    case kSubmitCommit:
      return "submit_commit";
    case kQueue:
      return "queue";
    case kPlace:
      return "place";
    case kDispatch:
      return "dispatch";
    case kAgent:
      return "agent";
    case kRunningCommit:
      return "running_commit";
    case kTotal:
      return "total";
    case kStageCount:
      break;
  }
  return "?";
}

void StartTrace::Histogram::Observe(Micros us) {
  if (us < 0) us = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (static_cast<double>(us) <= kBucketSeconds[i] * 1e6) {
      ++le[i];
      break;
    }
  }
  ++count;
  sum_us += us;
}

void StartTrace::Submitted(JobId job, int64_t seq) {
  if (jobs_.size() >= max_jobs_ && !jobs_.count(job)) return;
  Job& j = jobs_[job];
  j.at = {};
  j.at[kSubmitted] = Now();
  pending_.push_back({seq, job, kSubmitDurable});
}

void StartTrace::Placed(JobId job, Micros pass_start, int64_t seq) {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.at[kPlaced] != 0) return;
  it->second.at[kPlaced] = pass_start;
  pending_.push_back({seq, job, kPlacementDurable});
}

void StartTrace::Dispatched(JobId job) {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.at[kDispatched] != 0) return;
  it->second.at[kDispatched] = Now();
}

void StartTrace::Reported(JobId job, int64_t seq) {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.at[kReported] != 0) return;
  it->second.at[kReported] = Now();
  pending_.push_back({seq, job, kRunningDurable});
}

void StartTrace::Committed(int64_t seq) {
  const Micros now = Now();
  while (!pending_.empty() && pending_.front().seq <= seq) {
    const Pending p = pending_.front();
    pending_.pop_front();
    auto it = jobs_.find(p.job);
    if (it == jobs_.end()) continue;  // forgotten
    it->second.at[p.step] = now;
    if (p.step == kRunningDurable) {
      Finish(p.job, it->second);
      jobs_.erase(it);
    }
  }
}

void StartTrace::Forget(JobId job) { jobs_.erase(job); }

void StartTrace::Finish(JobId id, const Job& j) {
  const auto& t = j.at;
  // A stage is observed only when both of its steps were seen (e.g. a job placed after a
  // restart has no submission step).
  auto observe = [&](Stage s, Step from, Step to) {
    if (t[from] != 0 && t[to] != 0) histograms_[s].Observe(t[to] - t[from]);
  };
  observe(kSubmitCommit, kSubmitted, kSubmitDurable);
  observe(kQueue, kSubmitted, kPlaced);
  observe(kPlace, kPlaced, kPlacementDurable);
  observe(kDispatch, kPlacementDurable, kDispatched);
  observe(kAgent, kDispatched, kReported);
  observe(kRunningCommit, kReported, kRunningDurable);
  observe(kTotal, kSubmitted, kRunningDurable);
  auto ms = [&](Step from, Step to) {
    return t[from] != 0 && t[to] != 0 ? static_cast<double>(t[to] - t[from]) / 1000 : -1.0;
  };
  GLOG_DEBUG(
      "job {} running {:.1f} ms after its submission: submit_commit {:.1f}, queue {:.1f}, place "
      "{:.1f}, dispatch {:.1f}, agent {:.1f}, running_commit {:.1f} (ms; -1 = not seen)",
      id, ms(kSubmitted, kRunningDurable), ms(kSubmitted, kSubmitDurable), ms(kSubmitted, kPlaced),
      ms(kPlaced, kPlacementDurable), ms(kPlacementDurable, kDispatched),
      ms(kDispatched, kReported), ms(kReported, kRunningDurable));
}

std::string StartTrace::MetricsText() const {
  std::string out =
      "# HELP gpuaas_job_start_seconds Submission to running of jobs, by stage: submit_commit "
      "(the 201), queue (to the placing pass), place (pass and placement commit), dispatch (to "
      "the agent's answer), agent (process start and report), running_commit, total.\n"
      "# TYPE gpuaas_job_start_seconds histogram\n";
  for (int s = 0; s < kStageCount; ++s) {
    const Histogram& h = histograms_[s];
    const std::string label = std::string("stage=\"") + StageName(static_cast<Stage>(s)) + "\"";
    int64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      cumulative += h.le[i];
      char le[32];
      std::snprintf(le, sizeof le, "%g", kBucketSeconds[i]);
      out += "gpuaas_job_start_seconds_bucket{" + label + ",le=\"" + le + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "gpuaas_job_start_seconds_bucket{" + label + ",le=\"+Inf\"} " + std::to_string(h.count) +
           "\n";
    out += "gpuaas_job_start_seconds_sum{" + label + "} " +
           Seconds(static_cast<double>(h.sum_us) / 1e6) + "\n";
    out += "gpuaas_job_start_seconds_count{" + label + "} " + std::to_string(h.count) + "\n";
  }
  return out;
}

}  // namespace gpuaas
