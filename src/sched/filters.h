// Filter plugins, in the order the framework runs them (see Stage): each answers "from when can
// this job run on this node with this class". Stateless; thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "sched/plugins.h"

namespace gpuaas::sched {

// The node's labels include the job's node_selector.
class LabelFilter final : public Filter {
 public:
  Stage stage() const override { return Stage::kLabels; }
  Millis Earliest(const Ask&, size_t, const Timeline&, Millis) const override;
};

// Every selector entry is a label of the node with that value.
bool MatchesLabels(const JobView& job, const NodeView& node);
// The node lets the job in: its labels match the job's node_selector, and the job asks for at
// least the node's min_job_gpus. (Inline: called per node in the searches, and most jobs have
// no selector.) The stage of a node that does not is kLabels.
inline bool MatchesSelector(const JobView& job, const NodeView& node) {
  return job.gpus >= node.min_job_gpus && (job.node_selector.empty() || MatchesLabels(job, node));
}

// The node label that sets NodeView::min_job_gpus, and its value: unset = 0; else an integer in
// [1, 1024] (an error says so).
inline constexpr const char* kMinGpusLabel = "gpuaas.io/min-gpus";
Result<int> MinJobGpusOf(const std::map<std::string, std::string>& labels);
// The same, 0 when the value is not valid (for labels checked already).
inline int MinJobGpus(const std::map<std::string, std::string>& labels) {
  Result<int> min = MinJobGpusOf(labels);
  return min.ok() ? *min : 0;
}

// The node has at least ask.job->gpus devices of the class, whatever their state: otherwise
// the job can never run there.
class ClassSizeFilter final : public Filter {
 public:
  Stage stage() const override { return Stage::kTooBig; }
  Millis Earliest(const Ask&, size_t, const Timeline&, Millis) const override;
};

// The node accepts new work (ready; not cordoned, draining or down).
class SchedulableFilter final : public Filter {
 public:
  Stage stage() const override { return Stage::kUnschedulable; }
  Millis Earliest(const Ask&, size_t, const Timeline&, Millis) const override;
};

// Enough healthy devices of the class (used or not).
class HealthFilter final : public Filter {
 public:
  Stage stage() const override { return Stage::kUnhealthy; }
  Millis Earliest(const Ask&, size_t, const Timeline&, Millis) const override;
};

// The entity's GPUs of the class held over the job's run, plus the job's, stay within its limit
// (running jobs, this pass's placements and reservations all count). No limit = unlimited.
class QuotaFilter final : public Filter {
 public:
  Stage stage() const override { return Stage::kQuota; }
  Millis Earliest(const Ask&, size_t, const Timeline&, Millis) const override;

 private:
  Millis QuotaEarliest(const Ask& ask, const Timeline& tl, Millis not_before, int limit) const;
};

// Enough healthy devices of the class free over [start, start + walltime) on this one node.
class FreeDevicesFilter final : public Filter {
 public:
  Stage stage() const override { return Stage::kBusy; }
  Millis Earliest(const Ask&, size_t, const Timeline&, Millis) const override;
};

// The chain: labels, class size, schedulable, health, quota, free devices.
std::vector<std::unique_ptr<Filter>> DefaultFilters();

}  // namespace gpuaas::sched
