// Test-only builders of Snapshots for the scheduler's unit tests (header-only, included by
// *_test.cc files only). Not thread-safe; a value.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sched/snapshot.h"

namespace gpuaas::sched::testing {

constexpr Millis kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

inline NodeView MakeNode(NodeId id, const std::string& gpu_class, int count) {
  NodeView n{id, "n" + std::to_string(id), true, {}, {}};
  for (int i = 0; i < count; ++i) n.devices.push_back({i, gpu_class, true, 0});
  return n;
}

inline JobView MakeJob(JobId id, int gpus, std::vector<std::string> types = {}, EntityId entity = 1,
                       Millis submitted_at = kNow, int64_t walltime_s = 3600) {
  return {id, entity, gpus, std::move(types), 0, submitted_at, walltime_s};
}

// Marks devices used by a running job and lists it in snapshot.running.
inline void AddRunning(Snapshot& s, JobId id, EntityId entity, size_t node_pos,
                       std::vector<int> devices, Millis started_at, int64_t walltime_s) {
  NodeView& node = s.nodes[node_pos];
  std::string cls;
  for (DeviceView& d : node.devices) {
    for (int i : devices) {
      if (d.index == i) {
        d.used_by = id;
        cls = d.gpu_class;
      }
    }
  }
  s.running.push_back({id, entity, node.id, cls, std::move(devices), started_at, walltime_s, 0});
}

}  // namespace gpuaas::sched::testing
