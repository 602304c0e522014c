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
  // The class index (before any hold: Occupy keeps it up to date).
  const size_t nodes = snapshot.nodes.size();
  device_class_.resize(nodes);
  for (size_t n = 0; n < nodes; ++n) {
    for (const DeviceView& d : snapshot.nodes[n].devices) {
      auto [it, added] = class_index_.emplace(d.gpu_class, static_cast<int>(class_index_.size()));
      device_class_[n].push_back(it->second);
    }
  }
  const size_t classes = class_index_.size();
  sizes_.assign(classes, {});
  class_version_.assign(classes, 0);
  clean_count_.assign(nodes, std::vector<int>(classes, 0));
  bucket_of_.assign(nodes, std::vector<int>(classes, -1));
  tainted_.assign(classes, {});
  std::vector<int> largest(classes, 0);
  for (size_t n = 0; n < nodes; ++n) {
    const NodeView& node = snapshot.nodes[n];
    std::vector<int> count(classes, 0), healthy(classes, 0);
    for (size_t d = 0; d < node.devices.size(); ++d) {
      int c = device_class_[n][d];
      ++count[c];
      if (node.devices[d].healthy) ++healthy[c];
    }
    for (size_t c = 0; c < classes; ++c) {
      largest[c] = std::max(largest[c], count[c]);
      sizes_[c].any = std::max(sizes_[c].any, count[c]);
      if (node.schedulable) {
        sizes_[c].schedulable = std::max(sizes_[c].schedulable, count[c]);
        sizes_[c].healthy = std::max(sizes_[c].healthy, healthy[c]);
      }
      clean_count_[n][c] = healthy[c];
    }
    count_.push_back(count);
    healthy_.push_back(healthy);
  }
  for (int l : largest) bound_stride_ = std::max(bound_stride_, l + 1);
  bound_cache_.assign(nodes, std::vector<Millis>(classes * bound_stride_, kUnknownBound));
  buckets_.resize(classes);
  for (size_t c = 0; c < classes; ++c) buckets_[c].resize(largest[c] + 1);
  for (size_t n = 0; n < nodes; ++n) {
    for (size_t c = 0; c < classes; ++c) Rebucket(n, static_cast<int>(c));
  }

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
        bool was_clean = Clean(n, d);
        device_holds_[n][d].insert(device_holds_[n][d].begin(), {kPast, kNever, 1});
        if (was_clean) {
          --clean_count_[n][device_class_[n][d]];
          Rebucket(n, device_class_[n][d]);
        }
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
  if (start == now_) {  // the common question, in O(1) when no hold starts later
    auto it = quota_now_.find({entity, gpu_class});
    if (it == quota_now_.end()) return 0;
    if (it->second.future == 0) return it->second.now;
  }
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
    if (d < 0) continue;
    bool was_clean = Clean(node_pos, d);
    ++class_version_[device_class_[node_pos][d]];
    std::fill(bound_cache_[node_pos].begin(), bound_cache_[node_pos].end(), kUnknownBound);
    std::vector<Hold>& holds = device_holds_[node_pos][d];
    // Kept sorted by start, so that "first free instant" is one pass (Placer::FreeBound).
    Hold h{start, end, 1};
    holds.insert(std::upper_bound(holds.begin(), holds.end(), h,
                                  [](const Hold& a, const Hold& b) { return a.from < b.from; }),
                 h);
    if (!was_clean || end <= now_) continue;
    int c = device_class_[node_pos][d];
    --clean_count_[node_pos][c];
    if (start > now_) tainted_[c].insert(node_pos);  // free now, held later
    Rebucket(node_pos, c);
  }
  OccupyQuota(entity, gpu_class, static_cast<int>(device_indices.size()), start, end);
}

bool Timeline::Clean(size_t node_pos, size_t dev_pos) const {
  if (!snapshot_->nodes[node_pos].devices[dev_pos].healthy) return false;
  for (const Hold& h : device_holds_[node_pos][dev_pos]) {
    if (h.until > now_) return false;
  }
  return true;
}

void Timeline::Rebucket(size_t node_pos, int c) {
  int& in = bucket_of_[node_pos][c];
  if (in >= 0) buckets_[c][in].erase(node_pos);
  in = -1;
  if (!snapshot_->nodes[node_pos].schedulable) return;
  in = clean_count_[node_pos][c];
  buckets_[c][in].insert(node_pos);
}

Millis Timeline::CachedBound(size_t node_pos, int class_index, int gpus) const {
  if (gpus < 0 || gpus >= bound_stride_) return kUnknownBound;
  return bound_cache_[node_pos][class_index * bound_stride_ + gpus];
}

void Timeline::CacheBound(size_t node_pos, int class_index, int gpus, Millis bound) const {
  if (gpus < 0 || gpus >= bound_stride_) return;
  bound_cache_[node_pos][class_index * bound_stride_ + gpus] = bound;
}

const Timeline::EarliestMemo* Timeline::FindEarliest(int class_index, int gpus, int64_t walltime_s,
                                                     EntityId entity) const {
  auto it = earliest_memo_.find({class_index, gpus, walltime_s, entity});
  if (it == earliest_memo_.end() || it->second.first != class_version_[class_index]) return nullptr;
  return &it->second.second;
}

void Timeline::RememberEarliest(int class_index, int gpus, int64_t walltime_s, EntityId entity,
                                EarliestMemo memo) const {
  earliest_memo_[{class_index, gpus, walltime_s, entity}] = {class_version_[class_index],
                                                             std::move(memo)};
}

int Timeline::ClassIndex(const std::string& gpu_class) const {
  auto it = class_index_.find(gpu_class);
  return it == class_index_.end() ? -1 : it->second;
}

const std::set<size_t>& Timeline::CleanBucket(int class_index, int count) const {
  return buckets_[class_index][count];
}

void Timeline::OccupyQuota(EntityId entity, const std::string& gpu_class, int count, Millis start,
                           Millis end) {
  if (count <= 0) return;
  if (int c = ClassIndex(gpu_class); c >= 0) ++class_version_[c];
  quota_holds_[{entity, gpu_class}].push_back({start, end, count});
  QuotaNow& q = quota_now_[{entity, gpu_class}];
  if (start > now_) {
    ++q.future;
  } else if (end > now_) {
    q.now += count;
  }
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
