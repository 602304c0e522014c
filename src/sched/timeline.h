// Timeline: when each device and each entity's quota is held, now and in the projected future.
// The scheduler's one model of availability: running jobs hold their devices until
// started_at + walltime (an upper bound), placements of this pass hold theirs from now, and
// reservations hold them from a future time. Filters ask it "free over [start, end)?".
// Not thread-safe (a value owned by one scheduling pass). Precondition: built from a Snapshot
// whose nodes outlive it.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
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
  // Where running jobs' holds start (they hold from the past).
  static constexpr Millis kPast = std::numeric_limits<Millis>::min();

  // Running jobs hold from the past until started_at + walltime_s (started_at 0 = now; an
  // overdue job is taken to end imminently, at now + 1 ms; a stopping one by the end of the
  // preemption grace period). A device marked used by a job that
  // is not in `running` is held with an unknown end.
  Timeline(const Snapshot& snapshot, const Policy& policy, Millis now);

  Millis now() const { return now_; }
  const Snapshot& snapshot() const { return *snapshot_; }

  // Device `dev_pos` (position in nodes[node_pos].devices) is not held anywhere in [start, end).
  bool DeviceFree(size_t node_pos, size_t dev_pos, Millis start, Millis end) const;
  // Sorted by `from`. Valid until the next Occupy.
  std::span<const Hold> DeviceHolds(size_t node_pos, size_t dev_pos) const {
    const HoldSpan& h = holds_[dev_base_[node_pos] + dev_pos];
    return {arena_.data() + h.offset, h.size};
  }

  // The entity's limit for the class, if any. (Quota holds are tracked only when the snapshot
  // has limits or guarantees or the policy may preempt: otherwise nothing reads them.)
  std::optional<int> QuotaLimit(EntityId entity, const std::string& gpu_class) const;
  // Most GPUs of the class the entity holds at any instant of [start, end).
  int QuotaPeak(EntityId entity, const std::string& gpu_class, Millis start, Millis end) const;
  // The GPUs of the class the entity holds now, when none of its holds starts later (then the
  // amount only falls from now on); nullopt otherwise.
  std::optional<int> QuotaNowIfFalling(EntityId entity, const std::string& gpu_class) const;
  const std::vector<Hold>& QuotaHolds(EntityId entity, const std::string& gpu_class) const;
  // The same holds as a step function: (instant, GPUs held from then on), ascending, one step per
  // instant at which the amount may change. Built on first use after a change of the holds.
  const std::vector<std::pair<Millis, int>>& QuotaSteps(EntityId entity,
                                                        const std::string& gpu_class) const;

  // Holds devices (indices on the node) and the entity's quota over [start, end).
  void Occupy(size_t node_pos, const std::vector<int>& device_indices, EntityId entity,
              const std::string& gpu_class, Millis start, Millis end);
  // Holds `count` GPUs of the entity's quota only.
  void OccupyQuota(EntityId entity, const std::string& gpu_class, int count, Millis start,
                   Millis end);

  // --- Kept across passes (the simulator): running jobs' holds added and removed as they start
  // and end, instead of a time line built from the snapshot for every pass. ---
  // A running job's hold on the node's devices (indices), as the constructor makes it: from the
  // past until `end`, and on the entity's quota.
  void AddRunning(size_t node_pos, const std::vector<int>& device_indices, EntityId entity,
                  const std::string& gpu_class, Millis end);
  // Takes back a hold that AddRunning made (the same arguments).
  void RemoveRunning(size_t node_pos, const std::vector<int>& device_indices, EntityId entity,
                     const std::string& gpu_class, Millis end);
  // Moves the time line to `now` (>= now()). Valid only when no hold ends in (now(), now] and
  // none starts after now() (a time line of running jobs only, none overdue).
  void AdvanceTo(Millis now) { now_ = now; }
  // Whether two time lines of the same snapshot hold the same devices and quota over the same
  // intervals, with the same index (clean counts, buckets, tainted nodes) and the same now.
  // Otherwise `difference` says where. For tests and the simulator's --verify-window.
  static bool SameState(const Timeline& a, const Timeline& b, std::string* difference);

  // Position of device `index` on node `node_pos`, or -1.
  int DevicePos(size_t node_pos, int index) const {
    if (node_pos < identity_.size() && identity_[node_pos]) {
      // Devices listed by index from 0: the position is the index.
      const size_t devices = dev_base_[node_pos + 1] - dev_base_[node_pos];
      return index >= 0 && static_cast<size_t>(index) < devices ? index : -1;
    }
    return DevicePosByScan(node_pos, index);
  }

  // Every node lets the job in as far as labels go (no node_selector, and no node keeps jobs of
  // its size off: NodeView::min_job_gpus): the index below answers for it without looking at
  // each node.
  bool Unfiltered(const JobView& job) const {
    return job.node_selector.empty() && job.gpus >= largest_min_job_gpus_;
  }

  // --- An index for the question "where can a job start now?" (kept up to date by Occupy). ---
  // A device is "clean" when healthy and no hold ends after now (free from now on, with no
  // reservation later). A node is "tainted" for a class when one of its healthy devices of the
  // class is free now but held later (a reservation): only those need the full filters.
  // Classes are numbered in the order first met in the snapshot's nodes.
  int ClassIndex(const std::string& gpu_class) const;  // -1 if no node has it
  // The lowest position of a schedulable node with exactly `count` clean devices of the class,
  // or -1 if there is none.
  int FirstInBucket(int class_index, int count) const;
  int MaxDevices(int class_index) const { return largest_[class_index]; }
  // Whether any job could start now: some class has a clean device on a schedulable node, or a
  // tainted node. False = every job waits (only more holds can come in the pass: it stays so).
  bool AnyFreeNow() const;
  const std::set<size_t>& Tainted(int class_index) const { return tainted_[class_index]; }
  // Over all nodes: the most devices of the class on one node; on one schedulable node; the
  // most healthy devices of the class on one schedulable node.
  struct ClassSizes {
    int any = 0, schedulable = 0, healthy = 0;
  };
  const ClassSizes& Sizes(int class_index) const { return sizes_[class_index]; }
  // Over all nodes: devices of the class; on schedulable nodes; healthy ones on those.
  const ClassSizes& Totals(int class_index) const { return totals_[class_index]; }
  // A memo of Placer's "no whole nodes for a gang of `gpus` now" on a class without tainted
  // nodes, valid while no hold of the class changes.
  bool GangFailsNow(int class_index, int gpus) const;
  void RememberGangFailsNow(int class_index, int gpus) const;
  // A cache of Placer::FreeBound from now, per node, class and GPU count; Occupy clears the
  // node's entries. kUnknownBound = not cached.
  static constexpr Millis kUnknownBound = -1;
  Millis CachedBound(size_t node_pos, int class_index, int gpus) const;
  void CacheBound(size_t node_pos, int class_index, int gpus, Millis bound) const;
  // From now, for each healthy device of the class on the node, the first instant from which it
  // is free (its holds chained from now), ascending, with kPast for a device free now; `exact`
  // when no device has a hold after that instant (each then stays free). Cached with the bounds.
  struct FreeFromNow {
    const Millis* at = nullptr;
    int count = 0;
    bool exact = true;
  };
  FreeFromNow FreeTimesFromNow(size_t node_pos, int class_index) const;
  // The first instant >= t at which a device with these holds (sorted by start) is free, its
  // holds chained from t; `later` is set when a hold starts after that instant.
  static Millis FreeFrom(std::span<const Hold> holds, Millis t, bool* later);
  // Computes FreeTimesFromNow for every node and class not known yet. They stay right across
  // AdvanceTo (a device free then is free now: kPast; AdvanceTo's precondition keeps the others'
  // instants), so a time line kept across passes computes only those of nodes whose holds
  // changed, and its copies start with them.
  void KnowFreeTimes() const;
  // Whether the bounds of the node and class are exact (see Placer::FreeBound): 1 yes, 0 no, -1
  // not known. Cleared with the bounds.
  int CachedExact(size_t node_pos, int class_index) const {
    return exact_cache_[At(node_pos, class_index)];
  }
  void CacheExact(size_t node_pos, int class_index, bool exact) const {
    exact_cache_[At(node_pos, class_index)] = exact ? 1 : 0;
  }
  // A memo of Placer's earliest-start searches from now on one class, by (class, GPUs, walltime,
  // the entity whose limit applies or 0): valid while no hold of the class changes (Occupy and
  // OccupyQuota bump the class's version). What a search found: how far it got (stage), and the
  // best option (start, node, devices, score).
  struct EarliestMemo {
    bool reached = false;  // some node was looked at (then `stage` is the furthest)
    int stage = 0;
    bool found = false;
    Millis start = 0;
    size_t node_pos = 0;
    std::vector<int> devices;
    int64_t score = 0;
  };
  const EarliestMemo* FindEarliest(int class_index, int gpus, int64_t walltime_s,
                                   EntityId entity) const;
  // For Placer's earliest-start searches from now without a node selector, per (class, GPUs):
  // the nodes that pass the static checks, ordered by (FreeBound from now, position), and the
  // furthest static stage of the others (-1: none). Built by the second search; a node whose
  // holds of the class change leaves `order` for `dirty`, and the next search puts it back with
  // its new bound.
  struct NodeOrder {
    int searches = 0;  // so far: the order is built by the second (one search is cheaper alone)
    bool built = false;
    int quick_stage = -1;
    std::set<std::pair<Millis, size_t>> order;
    std::vector<Millis> bound;  // [node]: its key in `order`, or kOutOfOrder / kDirtyBound
    std::vector<size_t> dirty;
  };
  static constexpr Millis kOutOfOrder = -2;
  static constexpr Millis kDirtyBound = -3;
  NodeOrder& NodeOrderOf(int class_index, int gpus) const {
    return node_orders_[{class_index, gpus}];
  }
  void RememberEarliest(int class_index, int gpus, int64_t walltime_s, EntityId entity,
                        EarliestMemo memo) const;
  // Devices of the class on the node (any state), and healthy ones.
  int CountOn(size_t node_pos, int class_index) const { return count_[At(node_pos, class_index)]; }
  int HealthyOn(size_t node_pos, int class_index) const {
    return healthy_[At(node_pos, class_index)];
  }
  // The class index of device `dev_pos` of nodes[node_pos].
  int DeviceClass(size_t node_pos, size_t dev_pos) const {
    return device_class_[dev_base_[node_pos] + dev_pos];
  }
  // Whether the node has a device of the class free now but held later (see above).
  bool IsTainted(size_t node_pos, int class_index) const {
    return tainted_[class_index].contains(node_pos);
  }
  // Healthy devices of the class on the node that are clean (free from now on, see above).
  int CleanOn(size_t node_pos, int class_index) const {
    return clean_count_[At(node_pos, class_index)];
  }
  // The lowest `count` indices of those devices, ascending.
  std::vector<int> CleanDevices(size_t node_pos, int class_index, int count) const;

 private:
  // Where a device's holds are in arena_ (sorted by `from`; room for `cap`).
  struct HoldSpan {
    uint32_t offset = 0;
    uint32_t size = 0;
    uint32_t cap = 0;
  };
  size_t At(size_t node_pos, int class_index) const {
    return node_pos * classes_ + static_cast<size_t>(class_index);
  }
  bool Clean(size_t node_pos, size_t dev_pos) const;
  // A device hold of the class on the node was added or removed: the memos of the class and the
  // node's cached bounds are stale.
  void HoldsChanged(size_t node_pos, int class_index);
  int DevicePosByScan(size_t node_pos, int index) const;
  void Rebucket(size_t node_pos, int class_index);
  void InsertHold(size_t flat_device, const Hold& hold);
  void SetBucketBit(int class_index, int count, size_t node_pos, bool on);

  const Snapshot* snapshot_;
  Millis now_;
  // Quota holds are kept only when something reads them: limits, guarantees or preemption
  // (otherwise QuotaPeak is 0 and QuotaHolds empty: the simulator's case).
  bool track_quota_ = true;
  size_t classes_ = 0;
  // Devices are numbered flat: node n's devices are dev_base_[n] .. dev_base_[n + 1] - 1.
  std::vector<size_t> dev_base_;
  std::vector<HoldSpan> holds_;  // [flat device]
  std::vector<Hold> arena_;      // every device's holds (a span grows by moving to the end)
  // Per (entity, class): its holds, the GPUs of holds covering now, and how many holds start
  // after now (with none of the latter, the peak from now on is `now`). Classes by a number
  // (quota_class_) so that lookups compare integers.
  struct QuotaState {
    std::vector<Hold> holds;
    int now = 0;
    int future = 0;
    mutable std::vector<std::pair<Millis, int>> steps;  // QuotaSteps, when !steps_stale
    mutable bool steps_stale = true;
  };
  const QuotaState* FindQuota(EntityId entity, const std::string& gpu_class) const;
  static void AddToSteps(std::vector<std::pair<Millis, int>>& steps, Millis from, Millis until,
                         int count, bool* stale);
  std::map<std::string, int> quota_class_;
  std::map<std::pair<EntityId, int>, QuotaState> quota_;
  std::vector<std::string> class_names_;  // by class index
  int largest_min_job_gpus_ = 0;          // over the nodes
  std::vector<int> device_class_;         // [flat device] class index
  std::vector<char> identity_;  // [node]: its devices are listed by index from 0 (DevicePos)
  std::vector<int> clean_count_, count_, healthy_;  // [node * classes + class]
  std::vector<int> bucket_of_;  // [node * classes + class]: the bucket it is in, or -1
  // Bucket membership as bit sets over node positions: [(class * stride + count) * words + w].
  std::vector<uint64_t> bucket_bits_;
  std::vector<uint32_t> bucket_size_;  // [class * stride + count]: nodes in the bucket
  size_t bucket_words_ = 0;
  std::vector<int> largest_;               // [class]: the most devices of the class on a node
  std::vector<int> schedulable_clean_;     // [class]: clean devices on schedulable nodes
  std::vector<std::set<size_t>> tainted_;  // [class]
  std::vector<ClassSizes> sizes_, totals_;
  mutable std::vector<std::pair<uint64_t, int>> gang_fails_;  // [class]: (version, fewest GPUs)
  mutable std::vector<Millis> bound_cache_;       // [(node * classes + class) * stride + gpus]
  mutable std::vector<signed char> exact_cache_;  // [node * classes + class]
  mutable std::vector<Millis> free_at_;           // [(node * classes + class) * stride + i]
  mutable std::vector<int> free_count_;           // [node * classes + class]: -1 = not known
  mutable std::vector<char> free_exact_;          // [node * classes + class]
  std::vector<uint64_t> class_version_;           // [class]: bumped by every hold
  mutable std::map<std::pair<int, int>, NodeOrder> node_orders_;  // [(class, gpus)]
  using MemoKey = std::tuple<int, int, int64_t, EntityId>;
  mutable std::map<MemoKey, std::pair<uint64_t, EarliestMemo>> earliest_memo_;
  int bound_stride_ = 1;
};

}  // namespace gpuaas::sched
