#include "model/job.h"

namespace gpuaas {

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kQueued:
      return "queued";
    case JobState::kStarting:
      return "starting";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
    case JobState::kPreempted:
      return "preempted";
    case JobState::kTimedOut:
      return "timed_out";
    case JobState::kLost:
      return "lost";
  }
  return "lost";
}

std::optional<JobState> ParseJobState(const std::string& s) {
  for (JobState st : {JobState::kQueued, JobState::kStarting, JobState::kRunning,
                      JobState::kSucceeded, JobState::kFailed, JobState::kCancelled,
                      JobState::kPreempted, JobState::kTimedOut, JobState::kLost}) {
    if (s == JobStateName(st)) return st;
  }
  return std::nullopt;
}

bool IsFinal(JobState s) {
  return s != JobState::kQueued && s != JobState::kStarting && s != JobState::kRunning;
}

bool CanTransition(JobState from, JobState to) {
  if (IsFinal(from) || from == to) return false;
  switch (from) {
    case JobState::kQueued:
      return to == JobState::kStarting || to == JobState::kCancelled;
    case JobState::kStarting:
      return true;  // includes a requeue (e.g. the start failed on the node)
    case JobState::kRunning:
      return IsFinal(to) || to == JobState::kQueued;
    default:
      return false;
  }
}

const char* JobKindName(JobKind k) {
  switch (k) {
    case JobKind::kJob:
      return "job";
    case JobKind::kNotebook:
      return "notebook";
    case JobKind::kService:
      return "service";
    case JobKind::kAllocation:
      return "allocation";
  }
  return "job";
}

std::optional<JobKind> ParseJobKind(const std::string& s) {
  if (s == "job") return JobKind::kJob;
  if (s == "notebook") return JobKind::kNotebook;
  if (s == "service") return JobKind::kService;
  if (s == "allocation") return JobKind::kAllocation;
  return std::nullopt;
}

}  // namespace gpuaas
