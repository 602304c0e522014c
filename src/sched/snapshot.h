// The scheduler's input (Snapshot) and output (Plan): plain values that the state builds from
// its model and applies after re-checking, and that the simulator builds from a trace.
// Thread-safety: plain values. Preconditions: node ids and job ids are positive and unique.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/money.h"
#include "base/time.h"
#include "model/ids.h"

namespace gpuaas::sched {

struct DeviceView {
  int index = 0;
  std::string gpu_class;
  bool healthy = true;
  JobId used_by = 0;  // 0 = free
};

struct NodeView {
  NodeId id = 0;
  std::string name;
  bool schedulable = true;  // ready, not cordoned/draining/down
  std::vector<DeviceView> devices;
  std::map<std::string, std::string> labels;
};

struct JobView {
  JobId id = 0;
  EntityId entity = 0;
  int gpus = 1;
  std::vector<std::string> gpu_types;  // acceptable classes, preferred first; empty = any
  int priority = 0;                    // higher runs first under the "priority" queue order
  Millis submitted_at = 0;
  int64_t walltime_s = 0;  // on the job's first class; 0 = the policy's default
  // Fields below were added after v1; all have defaults, so positional initialisers of the
  // fields above keep working.
  // The true run time on the job's first class (simulator only; 0 = unknown). Used ONLY by the
  // "sjf-oracle" queue order, never by production policies.
  int64_t oracle_runtime_s = 0;
};

// A job that holds devices: running, or "starting" (started_at 0 = not started yet, taken as now).
struct RunningView {
  JobId id = 0;
  EntityId entity = 0;
  NodeId node = 0;
  std::string gpu_class;
  std::vector<int> devices;
  Millis started_at = 0;
  int64_t walltime_s = 0;  // the limit on the class it got (already stretched); 0 = default
  int priority = 0;
};

struct ClassInfo {
  std::string name;
  double speed = 1.0;  // throughput relative to the fastest class
  MicroEur hourly_rate = 0;
};

struct Snapshot {
  std::vector<NodeView> nodes;       // id order
  std::vector<JobView> queued;       // any order; the queue-order plugin sorts
  std::vector<RunningView> running;  // includes "starting" jobs
  std::map<EntityId, std::map<std::string, int>> quota_limit;  // absent = unlimited
  std::vector<ClassInfo> classes;                              // "any class" tries them in order
  std::map<EntityId, std::string> entity_names;  // for reasons in words; absent = "entity N"
};

struct Placement {
  JobId job = 0;
  NodeId node = 0;
  std::string gpu_class;
  std::vector<int> devices;  // ascending
};

struct Waiting {
  JobId job = 0;
  int queue_position = 0;      // 1-based among the jobs still queued, in queue order
  Millis estimated_start = 0;  // 0 = unknown
  std::string reason;          // in words, e.g. "over quota: acme uses 8 of its 8 h200"
};

struct Plan {
  std::vector<Placement> placements;  // in queue order
  std::vector<Waiting> waiting;       // every queued job not placed, in queue order
};

}  // namespace gpuaas::sched
