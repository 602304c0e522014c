// Timeline: when each device and each entity's quota is held, now and in the projected future.
// The scheduler's one model of availability: running jobs hold their devices until
// started_at + walltime (an upper bound), placements of this pass hold theirs from now, and
// reservations hold them from a future time. Filters ask it "free over [start, end)?".
// Not thread-safe (a value owned by one scheduling pass). Precondition: built from a Snapshot
// whose nodes outlive it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sched/policy.h"
#include "sched/snapshot.h"
#include "sched/walltime.h"

namespace gpuaas::sched {

// [from, until) during which something is held; until = kNever: end unknown.
struct Hold {
  Millis from = 0;
  Millis until = kNever;
  int count = 1;  // GPUs (quota holds); 1 for a device
};

class Timeline {
 public:
  // Running jobs hold from the past until started_at + walltime_s (started_at 0 = now; an
  // overdue job is taken to end imminently, at now + 1 ms; a stopping one by the end of the
  // preemption grace period). A device marked used by a job that
  // is not in `running` is held with an unknown end.
  Timeline(const Snapshot& snapshot, const Policy& policy, Millis now);

  Millis now() const { return now_; }
  const Snapshot& snapshot() const { return *snapshot_; }

  // Device `dev_pos` (position in nodes[node_pos].devices) is not held anywhere in [start, end).
  bool DeviceFree(size_t node_pos, size_t dev_pos, Millis start, Millis end) const;
  const std::vector<Hold>& DeviceHolds(size_t node_pos, size_t dev_pos) const {
    return device_holds_[node_pos][dev_pos];
  }

  // The entity's limit for the class, if any.
  std::optional<int> QuotaLimit(EntityId entity, const std::string& gpu_class) const;
  // Most GPUs of the class the entity holds at any instant of [start, end).
  int QuotaPeak(EntityId entity, const std::string& gpu_class, Millis start, Millis end) const;
  const std::vector<Hold>& QuotaHolds(EntityId entity, const std::string& gpu_class) const;

  // Holds devices (indices on the node) and the entity's quota over [start, end).
  void Occupy(size_t node_pos, const std::vector<int>& device_indices, EntityId entity,
              const std::string& gpu_class, Millis start, Millis end);
  // Holds `count` GPUs of the entity's quota only.
  void OccupyQuota(EntityId entity, const std::string& gpu_class, int count, Millis start,
                   Millis end);

  // Position of device `index` on node `node_pos`, or -1.
  int DevicePos(size_t node_pos, int index) const;

 private:
  const Snapshot* snapshot_;
  Millis now_;
  std::vector<std::vector<std::vector<Hold>>> device_holds_;  // [node][device]
  std::map<std::pair<EntityId, std::string>, std::vector<Hold>> quota_holds_;
};

}  // namespace gpuaas::sched
