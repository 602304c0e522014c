#include "sched/queue_order.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

namespace gpuaas::sched {
namespace {

// gpus x oracle run time in GPU-seconds; unknown (0) or invalid = the largest value.
int64_t OracleWork(const JobView& j) {
  if (j.oracle_runtime_s <= 0 || j.gpus <= 0) return std::numeric_limits<int64_t>::max();
  if (j.oracle_runtime_s > std::numeric_limits<int64_t>::max() / j.gpus) {
    return std::numeric_limits<int64_t>::max() - 1;
  }
  return j.oracle_runtime_s * j.gpus;
}

// -1, 0 or 1 as a is before, tied with or after b.
int Compare(int64_t a, int64_t b) { return a < b ? -1 : (b < a ? 1 : 0); }

// Sorts by a precomputed key (computed once per job, not per comparison), then arrival and id
// (copied next to the key, so that comparisons do not chase the job pointers). Adaptive: a
// queue already in order (the simulator keeps it so between passes) costs one scan, and one
// with new jobs at the end a sort of those and a merge.
template <typename Key, typename KeyFn>
void SortByKey(std::vector<QueueEntry>& queue, KeyFn key_of) {
  struct Keyed {
    Key key;
    Millis submitted_at;
    QueueEntry entry;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(queue.size());
  for (const QueueEntry& e : queue) keyed.push_back({key_of(*e.job), e.job->submitted_at, e});
  auto less = [](const Keyed& a, const Keyed& b) {
    if (int c = Compare(a.key, b.key)) return c < 0;
    if (a.submitted_at != b.submitted_at) return a.submitted_at < b.submitted_at;
    return a.entry.id < b.entry.id;
  };
  auto sorted_end = std::is_sorted_until(keyed.begin(), keyed.end(), less);
  if (sorted_end == keyed.end()) return;  // already in order (queue untouched)
  if (sorted_end - keyed.begin() >= static_cast<std::ptrdiff_t>(keyed.size() / 2)) {
    std::sort(sorted_end, keyed.end(), less);
    std::inplace_merge(keyed.begin(), sorted_end, keyed.end(), less);
  } else {
    std::sort(keyed.begin(), keyed.end(), less);
  }
  for (size_t i = 0; i < keyed.size(); ++i) queue[i] = keyed[i].entry;
}

// The within-tier key of Policy::small_first_rate (0 when the rate is 0: arrival decides).
double SmallFirstKey(const Policy& policy, const JobView& j) {
  if (policy.small_first_rate <= 0) return 0;
  const int64_t walltime = j.walltime_s > 0 ? j.walltime_s : policy.default_walltime_s;
  return static_cast<double>(std::max(j.gpus, 0)) * static_cast<double>(walltime) +
         policy.small_first_rate * (static_cast<double>(j.submitted_at) / 1000.0);
}

// A record of the full sort of the "priority" and "fair-share" orders.
struct Narrow {
  uint64_t group;
  uint64_t small;
  uint32_t index;
};

// Sorts by (group, small), stable: least significant byte first, one counting pass per byte;
// a byte that is the same in every record (most of a group's, the key's exponent) needs none.
// Linear: a comparison sort of 100,000 records costs about three times as much here.
void RadixSort(std::vector<Narrow>& records) {
  const size_t n = records.size();
  if (n < 2) return;
  std::vector<uint32_t> counts(16 * 256, 0);  // [byte position][byte value]
  auto byte_of = [](const Narrow& r, int position) {
    const uint64_t word = position < 8 ? r.small : r.group;
    return static_cast<size_t>((word >> (8 * (position % 8))) & 0xff);
  };
  for (const Narrow& r : records) {
    for (int position = 0; position < 16; ++position) {
      ++counts[static_cast<size_t>(position) * 256 + byte_of(r, position)];
    }
  }
  std::vector<Narrow> scratch(n);
  for (int position = 0; position < 16; ++position) {
    uint32_t* count = counts.data() + static_cast<size_t>(position) * 256;
    if (count[byte_of(records.front(), position)] == n) continue;  // one value: nothing moves
    uint32_t offset = 0;
    for (size_t b = 0; b < 256; ++b) {
      const uint32_t c = count[b];
      count[b] = offset;
      offset += c;
    }
    for (const Narrow& r : records) scratch[count[byte_of(r, position)]++] = r;
    records.swap(scratch);
  }
}

// A double's bits as an integer of the same order (for finite values; -0 counts as 0), so that a
// sort compares integers.
uint64_t OrderedBits(double d) {
  if (d == 0) d = 0;
  uint64_t bits = std::bit_cast<uint64_t>(d);
  return (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
}

// The "priority" and "fair-share" orders: by group (the tier, then the entity's rank, numbered
// in order), then the small-first key, arrival and id; `group_of(job)` gives (tier, rank). Each
// job's key is two integers (the comparisons of a sort of 100,000 jobs are most of its cost).
// Adaptive as SortByKey.
template <typename GroupFn>
void SortByGroup(std::vector<QueueEntry>& queue, const Policy& policy, GroupFn group_of,
                 size_t level_count, size_t rank_count) {
  struct Keyed {
    uint64_t group;  // the tier and rank packed, or the tier until the group's position is known
    uint64_t small;  // OrderedBits of the small-first key
    Millis submitted_at;
    JobId id;
    uint32_t index;  // in the queue as given
    uint32_t rank;
  };
  // A tier is (level position << 32 | priority): with at most 2^16 levels and ranks, the tier and
  // the rank fit in one integer as they are; otherwise the groups are numbered in a second pass.
  const bool packed = level_count <= (size_t{1} << 16) && rank_count <= (size_t{1} << 16);
  std::vector<Keyed> keyed;
  keyed.reserve(queue.size());
  std::vector<uint64_t> tiers;
  uint64_t ranks = 1;
  for (size_t i = 0; i < queue.size(); ++i) {
    const JobView& j = *queue[i].job;
    const auto [tier, rank] = group_of(j);
    uint64_t group = (tier << 16) | rank;
    if (!packed) {
      group = tier;
      if (tiers.empty() || tiers.back() != tier) tiers.push_back(tier);
      ranks = std::max<uint64_t>(ranks, uint64_t{rank} + 1);
    }
    keyed.push_back({group, OrderedBits(SmallFirstKey(policy, j)), j.submitted_at, queue[i].id,
                     static_cast<uint32_t>(i), rank});
  }
  if (!packed) {
    std::sort(tiers.begin(), tiers.end());
    tiers.erase(std::unique(tiers.begin(), tiers.end()), tiers.end());
    uint64_t last_tier = 0, last_position = 0;
    for (Keyed& k : keyed) {
      if (k.group != last_tier || &k == keyed.data()) {
        last_tier = k.group;
        last_position = static_cast<uint64_t>(
            std::lower_bound(tiers.begin(), tiers.end(), k.group) - tiers.begin());
      }
      k.group = last_position * ranks + k.rank;
    }
  }
  auto less = [](const Keyed& a, const Keyed& b) {
    if (a.group != b.group) return a.group < b.group;
    if (a.small != b.small) return a.small < b.small;
    if (a.submitted_at != b.submitted_at) return a.submitted_at < b.submitted_at;
    return a.id < b.id;
  };
  auto sorted_end = std::is_sorted_until(keyed.begin(), keyed.end(), less);
  if (sorted_end == keyed.end()) return;  // already in order (queue untouched)
  if (sorted_end - keyed.begin() >= static_cast<std::ptrdiff_t>(keyed.size() / 2)) {
    std::sort(sorted_end, keyed.end(), less);
    std::inplace_merge(keyed.begin(), sorted_end, keyed.end(), less);
    const std::vector<QueueEntry> given = queue;
    for (size_t i = 0; i < keyed.size(); ++i) queue[i] = given[keyed[i].index];
    return;
  }
  // A full sort: a radix sort of narrow records by (group, key) (stable: positions in the given
  // order break ties for now), then the runs of equal (group, key), rare, by arrival and id.
  std::vector<Narrow> narrow;
  narrow.reserve(keyed.size());
  for (const Keyed& k : keyed) narrow.push_back({k.group, k.small, k.index});
  RadixSort(narrow);
  for (size_t i = 0; i < narrow.size();) {
    size_t j = i + 1;
    while (j < narrow.size() && narrow[j].group == narrow[i].group &&
           narrow[j].small == narrow[i].small) {
      ++j;
    }
    if (j - i > 1) {
      std::sort(
          narrow.begin() + static_cast<std::ptrdiff_t>(i),
          narrow.begin() + static_cast<std::ptrdiff_t>(j),
          [&](const Narrow& a, const Narrow& b) { return less(keyed[a.index], keyed[b.index]); });
    }
    i = j;
  }
  // The entries in their new order: reads all over the given copy, so each is asked for ahead.
  const std::vector<QueueEntry> given = queue;
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < narrow.size(); ++i) {
    if (i + kAhead < narrow.size()) __builtin_prefetch(&given[narrow[i + kAhead].index]);
    queue[i] = given[narrow[i].index];
  }
}

// A job's tier: its priority class level's distance below the policy's highest level (so the
// highest first) in the high bits, then its priority (highest first) in the low 32. Without a
// map lookup per job: the last named class is remembered (queues are mostly one or two classes).
class TierOf {
 public:
  explicit TierOf(const Policy& policy) : policy_(policy) {
    // Every level a class name can have is in [lowest, top_] (an unknown name has the
    // default's, and that is 0 when the default is unknown too).
    const int default_level = PriorityLevel(policy, "");
    int64_t lowest = default_level;
    top_ = default_level;
    for (const auto& [name, level] : policy.priority_classes) {
      lowest = std::min<int64_t>(lowest, level);
      top_ = std::max<int64_t>(top_, level);
    }
    level_count_ = static_cast<size_t>(top_ - lowest + 1);
    default_position_ = Position(default_level);
  }
  // Positions are below this.
  size_t level_count() const { return level_count_; }
  uint64_t operator()(const JobView& j) {
    uint64_t position = default_position_;
    if (!j.priority_class.empty()) {
      position = j.priority_class == last_name_ ? last_position_ : Named(j.priority_class);
    }
    const int64_t priority = std::numeric_limits<int32_t>::max() - int64_t{j.priority};
    return (position << 32) | static_cast<uint64_t>(priority);
  }

 private:
  // (Out of line: the per-job path above stays small enough to inline.)
  [[gnu::noinline]] uint64_t Named(const std::string& name) {
    last_name_ = name;
    last_position_ = Position(PriorityLevel(policy_, name));
    return last_position_;
  }
  uint64_t Position(int level) const { return static_cast<uint64_t>(top_ - level); }

  const Policy& policy_;
  int64_t top_ = 0;  // the highest level
  size_t level_count_ = 1;
  uint64_t default_position_ = 0;
  std::string last_name_;
  uint64_t last_position_ = 0;
};

// The distinct entities of a queue (sorted) and each one's position among them: by a table
// indexed by id when the ids span a small range (the usual case: ids from a database),
// otherwise by binary search.
class EntitySlots {
 public:
  explicit EntitySlots(const std::vector<QueueEntry>& queue) {
    if (queue.empty()) return;
    lo_ = hi_ = queue.front().entity;
    for (const QueueEntry& e : queue) {
      lo_ = std::min(lo_, e.entity);
      hi_ = std::max(hi_, e.entity);
    }
    const uint64_t range = static_cast<uint64_t>(hi_) - static_cast<uint64_t>(lo_);
    if (range < 4 * queue.size() + 65536) {
      table_.assign(range + 1, kAbsent);
      for (const QueueEntry& e : queue) table_[Offset(e.entity)] = 0;
      for (size_t at = 0; at < table_.size(); ++at) {
        if (table_[at] == kAbsent) continue;
        table_[at] = static_cast<uint32_t>(entities_.size());
        entities_.push_back(static_cast<EntityId>(static_cast<uint64_t>(lo_) + at));
      }
      return;
    }
    EntityId last = 0;
    for (const QueueEntry& e : queue) {
      if (e.entity != last || entities_.empty()) entities_.push_back(e.entity);
      last = e.entity;
    }
    std::sort(entities_.begin(), entities_.end());
    entities_.erase(std::unique(entities_.begin(), entities_.end()), entities_.end());
  }
  const std::vector<EntityId>& entities() const { return entities_; }
  // Precondition: `entity` is one of entities().
  size_t SlotOf(EntityId entity) const {
    if (!table_.empty()) return table_[Offset(entity)];
    return static_cast<size_t>(std::lower_bound(entities_.begin(), entities_.end(), entity) -
                               entities_.begin());
  }

 private:
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();
  size_t Offset(EntityId entity) const {
    return static_cast<size_t>(static_cast<uint64_t>(entity) - static_cast<uint64_t>(lo_));
  }
  EntityId lo_ = 0, hi_ = 0;
  std::vector<uint32_t> table_;  // [entity - lo_]: its slot, or kAbsent
  std::vector<EntityId> entities_;
};

}  // namespace

void ArrivalOrder::Sort(std::vector<QueueEntry>& queue) const {
  SortByKey<int64_t>(queue, [](const JobView&) { return int64_t{0}; });
}

void PriorityOrder::Sort(std::vector<QueueEntry>& queue) const {
  TierOf tier(policy_);
  SortByGroup(
      queue, policy_, [&](const JobView& j) { return std::pair<uint64_t, uint32_t>(tier(j), 0); },
      tier.level_count(), 1);
}

double FairShareOrder::UsagePerShare(EntityId entity) const {
  double share = 1.0;
  if (auto s = shares_.find(entity); s != shares_.end()) share = s->second;
  double usage = 0.0;
  if (auto u = usage_.find(entity); u != usage_.end()) usage = std::max(0.0, u->second);
  if (!(share > 0)) return std::numeric_limits<double>::infinity();
  return usage / share;
}

void FairShareOrder::Sort(std::vector<QueueEntry>& queue) const {
  // The entities once, ranked by (usage per share, id); a job's key is then three integers.
  // Ties in usage/share go to the lower entity id, so that the order is total and stable.
  const EntitySlots slots(queue);
  const std::vector<EntityId>& entities = slots.entities();
  std::vector<std::pair<double, EntityId>> ranked;
  ranked.reserve(entities.size());
  for (EntityId e : entities) ranked.push_back({UsagePerShare(e), e});
  std::sort(ranked.begin(), ranked.end());
  std::vector<uint32_t> rank_of(entities.size());  // by slot
  for (size_t r = 0; r < ranked.size(); ++r) {
    rank_of[slots.SlotOf(ranked[r].second)] = static_cast<uint32_t>(r);
  }
  auto rank = [&](EntityId entity) { return rank_of[slots.SlotOf(entity)]; };
  TierOf tier(policy_);
  SortByGroup(
      queue, policy_,
      [&](const JobView& j) { return std::pair<uint64_t, uint32_t>(tier(j), rank(j.entity)); },
      tier.level_count(), entities.size());
}

void SjfOracleOrder::Sort(std::vector<QueueEntry>& queue) const {
  SortByKey<int64_t>(queue, [](const JobView& j) { return OracleWork(j); });
}

Result<std::unique_ptr<QueueOrder>> MakeQueueOrder(std::string_view name, const Policy* policy,
                                                   const Snapshot* snapshot) {
  Policy p = policy ? *policy : Policy{};
  if (name == "fifo") return std::unique_ptr<QueueOrder>(std::make_unique<ArrivalOrder>());
  if (name == "priority") {
    return std::unique_ptr<QueueOrder>(std::make_unique<PriorityOrder>(std::move(p)));
  }
  if (name == "fair-share") {
    std::map<EntityId, double> shares, usage;
    if (snapshot) {
      shares = snapshot->entity_shares;
      usage = snapshot->decayed_usage;
    }
    return std::unique_ptr<QueueOrder>(
        std::make_unique<FairShareOrder>(std::move(p), std::move(shares), std::move(usage)));
  }
  if (name == "sjf-oracle") {
    return std::unique_ptr<QueueOrder>(std::make_unique<SjfOracleOrder>());
  }
  return InvalidArgument("unknown queue order \"" + std::string(name) + "\"");
}

}  // namespace gpuaas::sched
