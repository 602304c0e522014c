#include "sched/timeline.h"

#include <algorithm>
#include <bit>
#include <iterator>
#include <limits>

#include "sched/class_name.h"

namespace gpuaas::sched {
namespace {

bool Overlaps(const Hold& h, Millis start, Millis end) { return h.from < end && start < h.until; }

}  // namespace

Timeline::Timeline(const Snapshot& snapshot, const Policy& policy, Millis now)
    : snapshot_(&snapshot),
      now_(now),
      track_quota_(!snapshot.quota_limit.empty() || !snapshot.quota_guarantee.empty() ||
                   policy.reclaim || policy.preempt_lower_priority) {
  // The class index (before any hold: Occupy keeps it up to date), and flat device numbers.
  const size_t nodes = snapshot.nodes.size();
  dev_base_.resize(nodes + 1, 0);
  for (size_t n = 0; n < nodes; ++n) {
    dev_base_[n + 1] = dev_base_[n] + snapshot.nodes[n].devices.size();
  }
  device_class_.reserve(dev_base_[nodes]);
  identity_.assign(nodes, 1);
  for (size_t n = 0; n < nodes; ++n) {
    largest_min_job_gpus_ = std::max(largest_min_job_gpus_, snapshot.nodes[n].min_job_gpus);
    for (const DeviceView& d : snapshot.nodes[n].devices) {
      if (d.index != static_cast<int>(device_class_.size() - dev_base_[n])) identity_[n] = 0;
      // (Devices of a node are mostly of one class: the previous device's first.)
      int c =
          !device_class_.empty() && SameClassName(class_names_[device_class_.back()], d.gpu_class)
              ? device_class_.back()
              : ClassIndex(d.gpu_class);
      if (c < 0) {
        c = static_cast<int>(class_names_.size());
        class_names_.push_back(d.gpu_class);
      }
      device_class_.push_back(c);
    }
  }
  classes_ = class_names_.size();
  sizes_.assign(classes_, {});
  totals_.assign(classes_, {});
  gang_fails_.assign(classes_, {~uint64_t{0}, 0});
  class_version_.assign(classes_, 0);
  clean_count_.assign(nodes * classes_, 0);
  count_.assign(nodes * classes_, 0);
  healthy_.assign(nodes * classes_, 0);
  bucket_of_.assign(nodes * classes_, -1);
  tainted_.assign(classes_, {});
  largest_.assign(classes_, 0);
  schedulable_clean_.assign(classes_, 0);
  for (size_t n = 0; n < nodes; ++n) {
    const NodeView& node = snapshot.nodes[n];
    for (size_t d = 0; d < node.devices.size(); ++d) {
      const size_t i = At(n, device_class_[dev_base_[n] + d]);
      ++count_[i];
      if (node.devices[d].healthy) ++healthy_[i];
    }
    for (size_t c = 0; c < classes_; ++c) {
      const int count = count_[At(n, static_cast<int>(c))];
      const int healthy = healthy_[At(n, static_cast<int>(c))];
      largest_[c] = std::max(largest_[c], count);
      totals_[c].any += count;
      if (node.schedulable) {
        totals_[c].schedulable += count;
        totals_[c].healthy += healthy;
      }
      sizes_[c].any = std::max(sizes_[c].any, count);
      if (node.schedulable) {
        sizes_[c].schedulable = std::max(sizes_[c].schedulable, count);
        sizes_[c].healthy = std::max(sizes_[c].healthy, healthy);
      }
    }
  }
  for (int l : largest_) bound_stride_ = std::max(bound_stride_, l + 1);
  bound_cache_.assign(nodes * classes_ * bound_stride_, kUnknownBound);
  exact_cache_.assign(nodes * classes_, -1);
  free_at_.assign(nodes * classes_ * bound_stride_, 0);
  free_count_.assign(nodes * classes_, -1);
  free_exact_.assign(nodes * classes_, 0);
  bucket_words_ = (nodes + 63) / 64;
  bucket_bits_.assign(classes_ * bound_stride_ * bucket_words_, 0);
  bucket_size_.assign(classes_ * bound_stride_, 0);

  // Running jobs' holds, gathered per device first so that the arena is laid out once.
  std::vector<std::pair<NodeId, size_t>> node_pos;  // sorted by id
  node_pos.reserve(nodes);
  for (size_t n = 0; n < nodes; ++n) node_pos.push_back({snapshot.nodes[n].id, n});
  if (!std::is_sorted(node_pos.begin(), node_pos.end())) {
    std::sort(node_pos.begin(), node_pos.end());
  }
  std::vector<JobId> running_ids;  // sorted when needed (below)
  running_ids.reserve(snapshot.running.size());
  struct Pending {
    size_t device;
    Hold hold;
  };
  std::vector<Pending> pending;
  for (const RunningView& r : snapshot.running) {
    int64_t walltime = r.walltime_s > 0 ? r.walltime_s : policy.default_walltime_s;
    Millis start = r.started_at > 0 ? r.started_at : now;
    Millis end = std::max(AddSeconds(start, walltime), now + 1);
    // A job being preempted is gone by the end of its grace period.
    if (r.stopping)
      end = std::min(end, std::max(AddSeconds(now, policy.preemption_grace_s), now + 1));
    running_ids.push_back(r.id);
    auto it =
        std::lower_bound(node_pos.begin(), node_pos.end(), std::pair<NodeId, size_t>{r.node, 0});
    if (it != node_pos.end() && it->first == r.node) {
      for (int index : r.devices) {
        int d = DevicePos(it->second, index);
        if (d >= 0) pending.push_back({dev_base_[it->second] + d, {kPast, end, 1}});
      }
    }
    // The quota counts every GPU the job holds, on a known node or not.
    OccupyQuota(r.entity, r.gpu_class, static_cast<int>(r.devices.size()), kPast, end);
  }
  // Devices marked used by a job the snapshot does not list as running: end unknown (first).
  // (A device held by a running job's view is that job's: no search needed.)
  std::vector<char> held(dev_base_[nodes], 0);
  for (const Pending& p : pending) held[p.device] = 1;
  std::vector<Pending> unknown;
  bool ids_sorted = false;
  auto is_running = [&](JobId id) {
    if (!ids_sorted) std::sort(running_ids.begin(), running_ids.end());
    ids_sorted = true;
    return std::binary_search(running_ids.begin(), running_ids.end(), id);
  };
  for (size_t n = 0; n < nodes; ++n) {
    for (size_t d = 0; d < snapshot.nodes[n].devices.size(); ++d) {
      const DeviceView& dev = snapshot.nodes[n].devices[d];
      if (dev.used_by != 0 && !held[dev_base_[n] + d] && !is_running(dev.used_by)) {
        unknown.push_back({dev_base_[n] + d, {kPast, kNever, 1}});
      }
    }
  }
  holds_.assign(dev_base_[nodes], {});
  for (const Pending& p : unknown) ++holds_[p.device].cap;
  for (const Pending& p : pending) ++holds_[p.device].cap;
  uint32_t offset = 0;
  for (HoldSpan& h : holds_) {
    h.offset = offset;
    h.cap += 1;  // room for one placement or reservation without a move
    offset += h.cap;
  }
  arena_.resize(offset);
  // All start in the past: the order among them does not matter to "sorted by from".
  for (const Pending& p : unknown)
    arena_[holds_[p.device].offset + holds_[p.device].size++] = p.hold;
  for (const Pending& p : pending)
    arena_[holds_[p.device].offset + holds_[p.device].size++] = p.hold;

  // Every hold so far ends after now (a running job at now + 1 at the earliest): a device is
  // clean (see Clean) when it is healthy and not held.
  for (size_t n = 0; n < nodes; ++n) {
    const std::vector<DeviceView>& devices = snapshot.nodes[n].devices;
    for (size_t d = 0; d < devices.size(); ++d) {
      const size_t flat = dev_base_[n] + d;
      if (devices[d].healthy && holds_[flat].size == 0) ++clean_count_[At(n, device_class_[flat])];
    }
    for (size_t c = 0; c < classes_; ++c) Rebucket(n, static_cast<int>(c));
  }
}

bool Timeline::DeviceFree(size_t node_pos, size_t dev_pos, Millis start, Millis end) const {
  for (const Hold& h : DeviceHolds(node_pos, dev_pos)) {
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

const Timeline::QuotaState* Timeline::FindQuota(EntityId entity,
                                                const std::string& gpu_class) const {
  auto cls = quota_class_.find(gpu_class);
  if (cls == quota_class_.end()) return nullptr;
  auto it = quota_.find({entity, cls->second});
  return it == quota_.end() ? nullptr : &it->second;
}

const std::vector<Hold>& Timeline::QuotaHolds(EntityId entity, const std::string& gpu_class) const {
  static const std::vector<Hold> kNone;
  const QuotaState* q = FindQuota(entity, gpu_class);
  return q ? q->holds : kNone;
}

// A hold of `count` GPUs over [from, until) added to a step function as QuotaSteps builds it (a
// step at each instant a hold starts or ends, with what is held from then on): the same steps
// as a rebuild, without sorting every hold's events again. A hold ending before it starts
// (not made by a pass) marks the steps stale instead.
void Timeline::AddToSteps(std::vector<std::pair<Millis, int>>& steps, Millis from, Millis until,
                          int count, bool* stale) {
  if (until < from) {
    *stale = true;
    return;
  }
  auto step_at = [&](Millis t) {
    auto it =
        std::lower_bound(steps.begin(), steps.end(), t,
                         [](const std::pair<Millis, int>& s, Millis x) { return s.first < x; });
    if (it == steps.end() || it->first != t) {
      it = steps.insert(it, {t, it == steps.begin() ? 0 : std::prev(it)->second});
    }
    return static_cast<size_t>(it - steps.begin());
  };
  const size_t first = step_at(from);
  const size_t last = until == kNever ? steps.size() : step_at(until);
  for (size_t i = first; i < last; ++i) steps[i].second += count;
}

const std::vector<std::pair<Millis, int>>& Timeline::QuotaSteps(
    EntityId entity, const std::string& gpu_class) const {
  static const std::vector<std::pair<Millis, int>> kNone;
  const QuotaState* q = FindQuota(entity, gpu_class);
  if (q == nullptr) return kNone;
  if (q->steps_stale) {
    std::vector<std::pair<Millis, int>> events;
    events.reserve(2 * q->holds.size());
    for (const Hold& h : q->holds) {
      events.push_back({h.from, h.count});
      if (h.until != kNever) events.push_back({h.until, -h.count});
    }
    std::sort(events.begin(), events.end());
    q->steps.clear();
    int held = 0;
    for (const auto& [t, delta] : events) {
      held += delta;
      if (!q->steps.empty() && q->steps.back().first == t) {
        q->steps.back().second = held;
      } else {
        q->steps.push_back({t, held});
      }
    }
    q->steps_stale = false;
  }
  return q->steps;
}

std::optional<int> Timeline::QuotaNowIfFalling(EntityId entity,
                                               const std::string& gpu_class) const {
  const QuotaState* q = FindQuota(entity, gpu_class);
  if (q == nullptr) return 0;
  if (q->future != 0) return std::nullopt;
  return q->now;
}

int Timeline::QuotaPeak(EntityId entity, const std::string& gpu_class, Millis start,
                        Millis end) const {
  if (start == now_) {  // the common question, in O(1) when no hold starts later
    if (std::optional<int> held = QuotaNowIfFalling(entity, gpu_class)) return *held;
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

void Timeline::InsertHold(size_t flat_device, const Hold& hold) {
  HoldSpan& h = holds_[flat_device];
  if (h.size == h.cap) {  // move the device's holds to the end of the arena, with room
    const uint32_t cap = std::max<uint32_t>(4, h.cap * 2);
    const uint32_t offset = static_cast<uint32_t>(arena_.size());
    arena_.resize(arena_.size() + cap);
    std::copy(arena_.begin() + h.offset, arena_.begin() + h.offset + h.size,
              arena_.begin() + offset);
    h.offset = offset;
    h.cap = cap;
  }
  // Kept sorted by start, so that "first free instant" is one pass (Placer::FreeBound).
  Hold* begin = arena_.data() + h.offset;
  Hold* end = begin + h.size;
  Hold* at = std::upper_bound(begin, end, hold,
                              [](const Hold& a, const Hold& b) { return a.from < b.from; });
  std::copy_backward(at, end, end + 1);
  *at = hold;
  ++h.size;
}

void Timeline::Occupy(size_t node_pos, const std::vector<int>& device_indices, EntityId entity,
                      const std::string& gpu_class, Millis start, Millis end) {
  for (int index : device_indices) {
    int d = DevicePos(node_pos, index);
    if (d < 0) continue;
    bool was_clean = Clean(node_pos, d);
    const int c = device_class_[dev_base_[node_pos] + d];
    HoldsChanged(node_pos, c);
    InsertHold(dev_base_[node_pos] + d, {start, end, 1});
    if (!was_clean || end <= now_) continue;
    --clean_count_[At(node_pos, c)];
    if (start > now_) tainted_[c].insert(node_pos);  // free now, held later
    Rebucket(node_pos, c);
  }
  OccupyQuota(entity, gpu_class, static_cast<int>(device_indices.size()), start, end);
}

void Timeline::HoldsChanged(size_t node_pos, int class_index) {
  ++class_version_[class_index];
  for (auto it = node_orders_.lower_bound({class_index, 0});
       it != node_orders_.end() && it->first.first == class_index; ++it) {
    NodeOrder& o = it->second;
    if (!o.built || o.bound[node_pos] < 0) continue;  // (out of the order, or already dirty)
    o.order.erase({o.bound[node_pos], node_pos});
    o.bound[node_pos] = kDirtyBound;
    o.dirty.push_back(node_pos);
  }
  auto cache = bound_cache_.begin() + static_cast<std::ptrdiff_t>(At(node_pos, 0) * bound_stride_);
  std::fill(cache, cache + static_cast<std::ptrdiff_t>(classes_ * bound_stride_), kUnknownBound);
  auto exact = exact_cache_.begin() + static_cast<std::ptrdiff_t>(At(node_pos, 0));
  std::fill(exact, exact + static_cast<std::ptrdiff_t>(classes_), -1);
  auto free = free_count_.begin() + static_cast<std::ptrdiff_t>(At(node_pos, 0));
  std::fill(free, free + static_cast<std::ptrdiff_t>(classes_), -1);
}

Timeline::FreeFromNow Timeline::FreeTimesFromNow(size_t node_pos, int class_index) const {
  const size_t at = At(node_pos, class_index);
  Millis* out = free_at_.data() + at * static_cast<size_t>(bound_stride_);
  if (free_count_[at] < 0) {
    int count = 0;
    bool exact = true;
    const std::vector<DeviceView>& devices = snapshot_->nodes[node_pos].devices;
    for (size_t d = 0; d < devices.size(); ++d) {
      if (!devices[d].healthy || device_class_[dev_base_[node_pos] + d] != class_index) continue;
      bool later = false;
      const Millis t = FreeFrom(DeviceHolds(node_pos, d), now_, &later);
      if (later) exact = false;
      out[count++] = t == now_ ? kPast : t;  // (free now stays so whatever now becomes)
    }
    std::sort(out, out + count);
    free_count_[at] = count;
    free_exact_[at] = exact ? 1 : 0;
  }
  return {out, free_count_[at], free_exact_[at] != 0};
}

Millis Timeline::FreeFrom(std::span<const Hold> holds, Millis t, bool* later) {
  size_t chained = 0;
  for (const Hold& h : holds) {  // sorted by start: one pass
    if (h.from > t) break;
    if (t < h.until) t = h.until;
    ++chained;
  }
  *later = chained < holds.size();
  return t;
}

void Timeline::KnowFreeTimes() const {
  for (size_t n = 0; n + 1 < dev_base_.size(); ++n) {
    for (size_t c = 0; c < classes_; ++c) {
      if (count_[At(n, static_cast<int>(c))] > 0) FreeTimesFromNow(n, static_cast<int>(c));
    }
  }
}

bool Timeline::Clean(size_t node_pos, size_t dev_pos) const {
  if (!snapshot_->nodes[node_pos].devices[dev_pos].healthy) return false;
  for (const Hold& h : DeviceHolds(node_pos, dev_pos)) {
    if (h.until > now_) return false;
  }
  return true;
}

std::vector<int> Timeline::CleanDevices(size_t node_pos, int class_index, int count) const {
  std::vector<int> out;
  const std::vector<DeviceView>& devices = snapshot_->nodes[node_pos].devices;
  out.reserve(devices.size());
  if (identity_[node_pos]) {  // listed by index: the first ones found are the lowest
    for (size_t d = 0; d < devices.size() && static_cast<int>(out.size()) < count; ++d) {
      if (device_class_[dev_base_[node_pos] + d] == class_index && Clean(node_pos, d)) {
        out.push_back(devices[d].index);
      }
    }
    return out;
  }
  for (size_t d = 0; d < devices.size(); ++d) {
    if (device_class_[dev_base_[node_pos] + d] == class_index && Clean(node_pos, d)) {
      out.push_back(devices[d].index);
    }
  }
  std::sort(out.begin(), out.end());
  if (out.size() > static_cast<size_t>(std::max(count, 0))) out.resize(static_cast<size_t>(count));
  return out;
}

void Timeline::SetBucketBit(int class_index, int count, size_t node_pos, bool on) {
  const size_t bucket =
      static_cast<size_t>(class_index) * bound_stride_ + static_cast<size_t>(count);
  uint64_t& word = bucket_bits_[bucket * bucket_words_ + node_pos / 64];
  const uint64_t bit = uint64_t{1} << (node_pos % 64);
  if (((word & bit) != 0) == on) return;
  word ^= bit;
  if (on) {
    ++bucket_size_[bucket];
  } else {
    --bucket_size_[bucket];
  }
}

void Timeline::Rebucket(size_t node_pos, int c) {
  int& in = bucket_of_[At(node_pos, c)];
  if (in >= 0) {
    SetBucketBit(c, in, node_pos, false);
    schedulable_clean_[c] -= in;
  }
  in = -1;
  if (!snapshot_->nodes[node_pos].schedulable) return;
  in = clean_count_[At(node_pos, c)];
  SetBucketBit(c, in, node_pos, true);
  schedulable_clean_[c] += in;
}

bool Timeline::AnyFreeNow() const {
  for (size_t c = 0; c < classes_; ++c) {
    if (schedulable_clean_[c] > 0 || !tainted_[c].empty()) return true;
  }
  return false;
}

int Timeline::FirstInBucket(int class_index, int count) const {
  if (count < 0 || count >= bound_stride_) return -1;
  const size_t bucket =
      static_cast<size_t>(class_index) * bound_stride_ + static_cast<size_t>(count);
  if (bucket_size_[bucket] == 0) return -1;  // (a full cluster's usual answer, without a scan)
  const uint64_t* words = bucket_bits_.data() + bucket * bucket_words_;
  for (size_t w = 0; w < bucket_words_; ++w) {
    if (words[w] != 0) return static_cast<int>(w * 64 + std::countr_zero(words[w]));
  }
  return -1;
}

bool Timeline::GangFailsNow(int class_index, int gpus) const {
  const auto& [version, fewest] = gang_fails_[class_index];
  return version == class_version_[class_index] && gpus >= fewest;
}

void Timeline::RememberGangFailsNow(int class_index, int gpus) const {
  auto& [version, fewest] = gang_fails_[class_index];
  if (version != class_version_[class_index] || gpus < fewest) {
    version = class_version_[class_index];
    fewest = gpus;
  }
}

Millis Timeline::CachedBound(size_t node_pos, int class_index, int gpus) const {
  if (gpus < 0 || gpus >= bound_stride_) return kUnknownBound;
  return bound_cache_[At(node_pos, class_index) * bound_stride_ + gpus];
}

void Timeline::CacheBound(size_t node_pos, int class_index, int gpus, Millis bound) const {
  if (gpus < 0 || gpus >= bound_stride_) return;
  bound_cache_[At(node_pos, class_index) * bound_stride_ + gpus] = bound;
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
  // A cluster has a handful of classes: a scan beats a tree of strings.
  for (size_t c = 0; c < class_names_.size(); ++c) {
    if (SameClassName(class_names_[c], gpu_class)) return static_cast<int>(c);
  }
  return -1;
}

void Timeline::OccupyQuota(EntityId entity, const std::string& gpu_class, int count, Millis start,
                           Millis end) {
  if (count <= 0 || !track_quota_) return;
  if (int c = ClassIndex(gpu_class); c >= 0) ++class_version_[c];
  auto [cls, added] = quota_class_.try_emplace(gpu_class, static_cast<int>(quota_class_.size()));
  QuotaState& q = quota_[{entity, cls->second}];
  q.holds.push_back({start, end, count});
  if (!q.steps_stale) AddToSteps(q.steps, start, end, count, &q.steps_stale);
  if (start > now_) {
    ++q.future;
  } else if (end > now_) {
    q.now += count;
  }
}

int Timeline::DevicePosByScan(size_t node_pos, int index) const {
  if (node_pos >= snapshot_->nodes.size()) return -1;
  const std::vector<DeviceView>& devs = snapshot_->nodes[node_pos].devices;
  for (size_t d = 0; d < devs.size(); ++d) {
    if (devs[d].index == index) return static_cast<int>(d);
  }
  return -1;
}

}  // namespace gpuaas::sched
