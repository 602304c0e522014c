#include "sched/timeline.h"

#include <algorithm>
#include <limits>

namespace gpuaas::sched {
namespace {

constexpr Millis kPast = std::numeric_limits<Millis>::min();

bool Overlaps(const Hold& h, Millis start, Millis end) { return h.from < end && start < h.until; }

}  // namespace

Timeline::Timeline(const Snapshot& snapshot, const Policy& policy, Millis now)
    : snapshot_(&snapshot), now_(now) {
  device_holds_.resize(snapshot.nodes.size());
  std::map<NodeId, size_t> node_pos;
  for (size_t n = 0; n < snapshot.nodes.size(); ++n) {
    device_holds_[n].resize(snapshot.nodes[n].devices.size());
    node_pos[snapshot.nodes[n].id] = n;
  }
  std::map<JobId, Millis> ends;
  for (const RunningView& r : snapshot.running) {
    int64_t walltime = r.walltime_s > 0 ? r.walltime_s : policy.default_walltime_s;
    Millis start = r.started_at > 0 ? r.started_at : now;
    Millis end = std::max(AddSeconds(start, walltime), now + 1);
    // A job being preempted is gone by the end of its grace period.
    if (r.stopping)
      end = std::min(end, std::max(AddSeconds(now, policy.preemption_grace_s), now + 1));
    ends[r.id] = end;
    auto it = node_pos.find(r.node);
    if (it != node_pos.end()) {
      Occupy(it->second, r.devices, r.entity, r.gpu_class, kPast, end);
    } else {  // node unknown: its quota still counts
      OccupyQuota(r.entity, r.gpu_class, static_cast<int>(r.devices.size()), kPast, end);
    }
  }
  // Devices marked used by a job the snapshot does not list as running: end unknown.
  for (size_t n = 0; n < snapshot.nodes.size(); ++n) {
    for (size_t d = 0; d < snapshot.nodes[n].devices.size(); ++d) {
      const DeviceView& dev = snapshot.nodes[n].devices[d];
      if (dev.used_by != 0 && !ends.contains(dev.used_by)) {
        device_holds_[n][d].push_back({kPast, kNever, 1});
      }
    }
  }
}

bool Timeline::DeviceFree(size_t node_pos, size_t dev_pos, Millis start, Millis end) const {
  for (const Hold& h : device_holds_[node_pos][dev_pos]) {
    if (Overlaps(h, start, end)) return false;
  }
  return true;
}

std::optional<int> Timeline::QuotaLimit(EntityId entity, const std::string& gpu_class) const {
  auto e = snapshot_->quota_limit.find(entity);
  if (e == snapshot_->quota_limit.end()) return std::nullopt;
  auto c = e->second.find(gpu_class);
  if (c == e->second.end()) return std::nullopt;
  return c->second;
}

const std::vector<Hold>& Timeline::QuotaHolds(EntityId entity, const std::string& gpu_class) const {
  static const std::vector<Hold> kNone;
  auto it = quota_holds_.find({entity, gpu_class});
  return it == quota_holds_.end() ? kNone : it->second;
}

int Timeline::QuotaPeak(EntityId entity, const std::string& gpu_class, Millis start,
                        Millis end) const {
  const std::vector<Hold>& holds = QuotaHolds(entity, gpu_class);
  // The held amount only rises at a hold's start, so the peak is at `start` or at one of those.
  std::vector<Millis> instants = {start};
  for (const Hold& h : holds) {
    if (h.from > start && h.from < end) instants.push_back(h.from);
  }
  int peak = 0;
  for (Millis t : instants) {
    int held = 0;
    for (const Hold& h : holds) {
      if (h.from <= t && t < h.until) held += h.count;
    }
    peak = std::max(peak, held);
  }
  return peak;
}

void Timeline::Occupy(size_t node_pos, const std::vector<int>& device_indices, EntityId entity,
                      const std::string& gpu_class, Millis start, Millis end) {
  for (int index : device_indices) {
    int d = DevicePos(node_pos, index);
    if (d >= 0) device_holds_[node_pos][d].push_back({start, end, 1});
  }
  OccupyQuota(entity, gpu_class, static_cast<int>(device_indices.size()), start, end);
}

void Timeline::OccupyQuota(EntityId entity, const std::string& gpu_class, int count, Millis start,
                           Millis end) {
  if (count > 0) quota_holds_[{entity, gpu_class}].push_back({start, end, count});
}

int Timeline::DevicePos(size_t node_pos, int index) const {
  if (node_pos >= snapshot_->nodes.size()) return -1;
  const std::vector<DeviceView>& devs = snapshot_->nodes[node_pos].devices;
  for (size_t d = 0; d < devs.size(); ++d) {
    if (devs[d].index == index) return static_cast<int>(d);
  }
  return -1;
}

}  // namespace gpuaas::sched
