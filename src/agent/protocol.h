// The agent side of the heartbeat protocol (docs/api.md, "Agent protocol"): the JSON body an
// agent sends to POST /api/v1/agent/heartbeat and the parser of the server's answer (the set of
// workloads this node must run). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/workload.h"
#include "base/status.h"
#include "model/node.h"
#include "telemetry/network_rates.h"
#include "telemetry/sample.h"

namespace gpuaas {

struct LogChunk {
  JobId job = 0;
  AllocationId allocation = 0;
  int64_t offset = 0;  // of data's first byte in the workload's log
  std::string data;    // raw bytes (base64 on the wire)
};

struct HeartbeatReport {
  std::string node;
  bool simulated = false;
  std::map<std::string, std::string> labels;
  std::vector<GpuDevice> gpus;
  std::vector<WorkloadStatus> workloads;
  std::vector<LogChunk> logs;
  // GPU telemetry not yet acknowledged, oldest first (bounded by the agent per report).
  std::vector<GpuSample> samples;
  // The node's network byte counters (agent/net_counters.h); absent on simulated nodes.
  std::optional<NetReading> net;
};

struct DesiredWorkload {
  WorkloadSpec spec;
  // The server already saw it running: an agent that does not know it must not start it again
  // (it was lost), only adopt it.
  bool adopt_only = false;
};

struct HeartbeatAnswer {
  int64_t node_id = 0;
  // Answer order: (epoch, version) grows with every answer of a server run; an agent never
  // applies an answer older than one it already applied (a long poll and a report may cross).
  int64_t epoch = 0;
  int64_t version = 0;
  int64_t heartbeat_interval_ms = 1000;
  std::vector<DesiredWorkload> workloads;
  // Workloads to stop, by allocation, with the grace of that stop in ms (a cancel: the
  // configured stop grace; a preemption: the scheduler's preemption grace). A workload absent
  // from both lists is stopped with its spec's grace_ms (what servers without this list mean).
  std::map<int64_t, int64_t> stopping;
};

// Running workloads carry exit_code 0, signal 0 and finished_at 0.
std::string HeartbeatReportToJson(const HeartbeatReport& report);
// InvalidArgument for malformed JSON or wrong types. Missing optional fields take defaults
// (env {}, gpu_ids [], walltime_s 0, grace_ms 10000); an empty command becomes
// ["sleep", "infinity"] (an allocation that holds its GPUs).
Result<HeartbeatAnswer> ParseHeartbeatAnswer(const std::string& body);

}  // namespace gpuaas
