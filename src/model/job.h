// Job (workload): what a user asked for and where it is in its life. The state machine of the
// contract lives in CanTransition(): the one place that says which moves are legal.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "model/ids.h"

namespace gpuaas {

enum class JobState {
  kQueued,
  kStarting,
  kRunning,
  kSucceeded,
  kFailed,
  kCancelled,
  kPreempted,
  kTimedOut,
  kLost
};
const char* JobStateName(JobState s);
std::optional<JobState> ParseJobState(const std::string& s);
bool IsFinal(JobState s);
// Legal moves: queued->starting|cancelled; starting->running|succeeded|failed|cancelled|
// timed_out|lost|preempted|queued (requeue); running->any final; a final state never moves.
bool CanTransition(JobState from, JobState to);

enum class JobKind { kJob, kNotebook, kService, kAllocation };
const char* JobKindName(JobKind k);
std::optional<JobKind> ParseJobKind(const std::string& s);

struct Job {
  JobId id = 0;
  std::string name;
  JobKind kind = JobKind::kJob;
  EntityId entity = 0;
  UserId user = 0;
  int gpus = 1;
  std::vector<std::string> gpu_types;  // acceptable classes, in order of preference; empty = any
  int64_t walltime_s = 0;              // 0 = the platform default
  std::vector<std::string> command;
  std::string environment;  // environment catalogue name, e.g. "pytorch" ("" = host)
  // The entity workspace in the job: "rw" (default), "ro" or "none"; and the names of the
  // entity secrets put in its environment (values never leave the secret store but to the node).
  std::string workspace_mode = "rw";
  std::vector<std::string> secrets;
  // Host resources, enforced on the node by cgroups (docs/agent.md): CPU cores and memory in
  // GiB. Set at submit (given, or the per-GPU defaults of the config); 0 only in rows written
  // before they existed (then no limit).
  int cpus = 0;
  int memory_gb = 0;
  int priority = 0;
  // Billing (added by the billing issue): a free project label shown on invoice lines, and the
  // priority class ("" = the default class) that selects the price (best-effort is discounted).
  std::string project;
  std::string priority_class;
  // Scheduling options: resubmit automatically when preempted; may run on a fallback class;
  // only nodes with these labels; the job this one was resubmitted from (0 = none).
  bool requeue_on_preempt = false;
  bool allow_fallback = true;
  std::map<std::string, std::string> node_selector;
  JobId resubmitted_from = 0;

  JobState state = JobState::kQueued;
  Millis submitted_at = 0;
  Millis started_at = 0;   // 0 = not yet
  Millis finished_at = 0;  // 0 = not yet
  std::optional<int> exit_code;
  std::string reason;  // why it waits, or why it ended, in words
  bool cancel_requested = false;

  // Placement, set when it leaves the queue.
  std::string gpu_type;  // class given
  NodeId node = 0;
  std::vector<int> gpu_ids;  // device indices on `node`
  AllocationId allocation = 0;

  bool operator==(const Job&) const = default;
};

}  // namespace gpuaas
