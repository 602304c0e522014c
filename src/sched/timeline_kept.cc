// Timeline kept across passes: running jobs' holds added and taken back as they start and end
// (the simulator), and the comparison with a time line built from the snapshot.
#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sched/timeline.h"  // the class these methods belong to

namespace gpuaas::sched {

void Timeline::AddRunning(size_t node_pos, const std::vector<int>& device_indices, EntityId entity,
                          const std::string& gpu_class, Millis end) {
  Occupy(node_pos, device_indices, entity, gpu_class, kPast, end);
}

void Timeline::RemoveRunning(size_t node_pos, const std::vector<int>& device_indices,
                             EntityId entity, const std::string& gpu_class, Millis end) {
  for (int index : device_indices) {
    const int d = DevicePos(node_pos, index);
    if (d < 0) continue;
    const size_t flat = dev_base_[node_pos] + static_cast<size_t>(d);
    HoldSpan& h = holds_[flat];
    Hold* begin = arena_.data() + h.offset;
    Hold* last = begin + h.size;
    Hold* at = std::find_if(begin, last, [&](const Hold& x) {
      return x.from == kPast && x.until == end && x.count == 1;
    });
    if (at == last) continue;
    const bool was_clean = Clean(node_pos, static_cast<size_t>(d));
    std::copy(at + 1, last, at);
    --h.size;
    const int c = device_class_[flat];
    HoldsChanged(node_pos, c);
    if (!was_clean && Clean(node_pos, static_cast<size_t>(d))) {
      ++clean_count_[At(node_pos, c)];
      Rebucket(node_pos, c);
    }
    // Tainted = a healthy device of the class free now but held later: looked at again.
    bool tainted = false;
    const std::vector<DeviceView>& devices = snapshot_->nodes[node_pos].devices;
    for (size_t k = 0; k < devices.size() && !tainted; ++k) {
      if (device_class_[dev_base_[node_pos] + k] != c || !devices[k].healthy) continue;
      bool free_now = true, later = false;
      for (const Hold& x : DeviceHolds(node_pos, k)) {
        if (x.from <= now_ && x.until > now_) free_now = false;
        if (x.from > now_) later = true;
      }
      tainted = free_now && later;
    }
    if (tainted) {
      tainted_[c].insert(node_pos);
    } else {
      tainted_[c].erase(node_pos);
    }
  }
  if (!track_quota_ || device_indices.empty()) return;
  auto cls = quota_class_.find(gpu_class);
  if (cls == quota_class_.end()) return;
  auto q = quota_.find({entity, cls->second});
  if (q == quota_.end()) return;
  const int count = static_cast<int>(device_indices.size());
  auto& holds = q->second.holds;
  auto it = std::find_if(holds.begin(), holds.end(), [&](const Hold& x) {
    return x.from == kPast && x.until == end && x.count == count;
  });
  if (it == holds.end()) return;
  holds.erase(it);
  q->second.steps_stale = true;
  if (end > now_) q->second.now -= count;
  if (int c = ClassIndex(gpu_class); c >= 0) ++class_version_[c];
}

bool Timeline::SameState(const Timeline& a, const Timeline& b, std::string* difference) {
  auto differ = [&](const std::string& what) {
    if (difference) *difference = what;
    return false;
  };
  if (a.now_ != b.now_) return differ("now");
  if (a.class_names_ != b.class_names_ || a.dev_base_ != b.dev_base_) return differ("layout");
  if (a.holds_.size() != b.holds_.size()) return differ("devices");
  for (size_t f = 0; f < a.holds_.size(); ++f) {
    const HoldSpan& ha = a.holds_[f];
    const HoldSpan& hb = b.holds_[f];
    std::vector<std::tuple<Millis, Millis, int>> x, y;
    for (uint32_t i = 0; i < ha.size; ++i) {
      const Hold& h = a.arena_[ha.offset + i];
      x.emplace_back(h.from, h.until, h.count);
    }
    for (uint32_t i = 0; i < hb.size; ++i) {
      const Hold& h = b.arena_[hb.offset + i];
      y.emplace_back(h.from, h.until, h.count);
    }
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    if (x != y) return differ("holds of device " + std::to_string(f));
  }
  if (a.clean_count_ != b.clean_count_) return differ("clean counts");
  if (a.bucket_of_ != b.bucket_of_ || a.bucket_bits_ != b.bucket_bits_ ||
      a.schedulable_clean_ != b.schedulable_clean_) {
    return differ("buckets");
  }
  if (a.tainted_ != b.tainted_) return differ("tainted nodes");
  if (a.track_quota_ != b.track_quota_) return differ("quota tracking");
  // Quota holds by (entity, class name): the class numbers depend on the order they were met.
  auto quota = [](const Timeline& t) {
    std::map<std::pair<EntityId, std::string>, std::vector<std::tuple<Millis, Millis, int>>> out;
    for (const auto& [name, number] : t.quota_class_) {
      for (const auto& [key, state] : t.quota_) {
        if (key.second != number || state.holds.empty()) continue;
        auto& v = out[{key.first, name}];
        for (const Hold& h : state.holds) v.emplace_back(h.from, h.until, h.count);
        std::sort(v.begin(), v.end());
      }
    }
    return out;
  };
  if (quota(a) != quota(b)) return differ("quota holds");
  return true;
}

}  // namespace gpuaas::sched
