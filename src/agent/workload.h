// WorkloadSpec and WorkloadStatus: what the server asks a node to run (one allocation) and what
// the node reports about it (docs/api.md, "Agent protocol"). Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "model/ids.h"
#include "telemetry/network_rates.h"

namespace gpuaas {

struct WorkloadSpec {
  JobId job = 0;
  AllocationId allocation = 0;       // the key of a workload on a node
  std::vector<std::string> command;  // argv; command[0] is resolved through PATH
  std::map<std::string, std::string> env;
  std::vector<int> gpu_ids;
  int64_t walltime_s = 0;  // 0 = no limit
  int64_t grace_ms = 10'000;
  // Process runtime limits (cgroup.h): 0 = none. Memory in bytes, CPU in thousandths of a core.
  int64_t memory_bytes = 0;
  int64_t cpu_millis = 0;
  // Container runtime (podman_runtime.h): the image ("" = the process runtime), the entity's
  // workspace on this node ("" = none) and its mode ("rw" or "ro"). secret_names: the env
  // entries that are secrets; spec.json keeps their names, never their values.
  std::string image;
  std::string workspace;
  std::string workspace_mode = "rw";
  std::vector<std::string> secret_names;
};

enum class WorkloadState { kRunning, kExited, kFailedToStart };
const char* WorkloadStateName(WorkloadState s);  // "running", "exited", "failed_to_start"

struct WorkloadStatus {
  JobId job = 0;
  AllocationId allocation = 0;
  WorkloadState state = WorkloadState::kRunning;
  int exit_code = 0;       // when exited normally
  int signal = 0;          // when killed by a signal (exit_code is then 128 + signal)
  bool timed_out = false;  // killed at its walltime
  bool stopped = false;    // stopped because it was no longer desired
  Millis started_at = 0;
  Millis finished_at = 0;  // 0 while running
  std::string message;     // why it failed to start / was lost
  // failed_to_start because the agent stopped before the job started (it never ran, and may be
  // run again), not because of the job's spec or the node.
  bool interrupted = false;
  // A running container's network counters (agent/container_network.h), read for the report;
  // unset for the process runtime and once final.
  std::optional<NetReading> net = std::nullopt;
  bool final() const { return state != WorkloadState::kRunning; }
};

// spec.json of a workload directory: the spec plus its start time.
std::string SpecToJson(const WorkloadSpec& spec, Millis started_at);
Status SpecFromJson(const std::string& json, WorkloadSpec* spec, Millis* started_at);

}  // namespace gpuaas
