#include "sched/queue_order.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
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

// The within-tier key of Policy::small_first_rate (0 when the rate is 0: arrival decides), the
// job counted as submitted `delay_s` later (Policy::fair_share_usage_delay_s).
double SmallFirstKey(const Policy& policy, const JobView& j, double delay_s = 0) {
  if (policy.small_first_rate <= 0) return 0;
  const int64_t walltime = j.walltime_s > 0 ? j.walltime_s : policy.default_walltime_s;
  double size = static_cast<double>(std::max(j.gpus, 0)) * static_cast<double>(walltime);
  if (policy.small_first_cap_s > 0) {
    size = std::min(size, policy.small_first_rate * static_cast<double>(policy.small_first_cap_s));
  }
  return size + policy.small_first_rate * (static_cast<double>(j.submitted_at) / 1000.0 + delay_s);
}

// With a usage delay: the small-first key, or with a rate of 0 the submission time plus the delay.
struct NoDelay {
  double operator()(const JobView&) const { return 0; }
};
double DelayedKey(const Policy& policy, const JobView& j, double delay_s) {
  if (policy.small_first_rate > 0) return SmallFirstKey(policy, j, delay_s);
  return static_cast<double>(j.submitted_at) / 1000.0 + delay_s;
}

// A record of the full sort of the "priority" and "fair-share" orders: the group and the
// small-first key in one integer when they fit (the usual case), otherwise in two.
struct Compact {
  uint64_t key;
  uint32_t index;
};
struct Narrow {
  uint64_t group;
  uint64_t small;
  uint32_t index;
};

// Sorts by key's low `bits` bits (the others are 0), stable: least significant digit first,
// with digits of at most 11 bits (the counts of every digit, 8 KiB each, fit in the L1 cache),
// one counting pass per digit; a digit that is the same in every record needs none.
void RadixSort(std::vector<Compact>& records, int bits) {
  const size_t n = records.size();
  if (n < 2 || bits == 0) return;
  const int passes = (bits + 10) / 11;
  const int width = (bits + passes - 1) / passes;
  const uint64_t mask = (uint64_t{1} << width) - 1;
  const size_t buckets = size_t{1} << width;
  std::vector<uint32_t> counts(static_cast<size_t>(passes) * buckets, 0);  // [digit][value]
  for (const Compact& r : records) {
    uint64_t key = r.key;
    for (int pass = 0; pass < passes; ++pass, key >>= width) {
      ++counts[static_cast<size_t>(pass) * buckets + (key & mask)];
    }
  }
  std::vector<Compact> scratch(n);
  for (int pass = 0; pass < passes; ++pass) {
    uint32_t* count = counts.data() + static_cast<size_t>(pass) * buckets;
    const int shift = pass * width;
    if (count[(records.front().key >> shift) & mask] == n) continue;  // one value: nothing moves
    uint32_t offset = 0;
    for (size_t b = 0; b < buckets; ++b) {
      const uint32_t c = count[b];
      count[b] = offset;
      offset += c;
    }
    for (const Compact& r : records) scratch[count[(r.key >> shift) & mask]++] = r;
    records.swap(scratch);
  }
}

// The same by (group, small), one byte at a time: least significant byte first; a byte that is
// the same in every record (most of a group's, the key's exponent) needs no pass.
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

// After a radix sort of `sorted` (stable: positions in the given order break ties so far):
// the runs of records with the same key, rare, by `less` (arrival and id), then the queue in
// that order.
template <typename Record, typename SameKey, typename Less>
void ReorderBy(std::vector<Record>& sorted, SameKey same_key, Less less,
               std::vector<QueueEntry>& queue) {
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i + 1;
    while (j < sorted.size() && same_key(sorted[j], sorted[i])) ++j;
    if (j - i > 1) {
      std::sort(sorted.begin() + static_cast<std::ptrdiff_t>(i),
                sorted.begin() + static_cast<std::ptrdiff_t>(j),
                [&](const Record& a, const Record& b) { return less(a.index, b.index); });
    }
    i = j;
  }
  // The entries in their new order: reads all over the given queue, so each is asked for ahead.
  std::vector<QueueEntry> ordered(queue.size());
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i + kAhead < sorted.size()) __builtin_prefetch(&queue[sorted[i + kAhead].index]);
    ordered[i] = queue[sorted[i].index];
  }
  queue.swap(ordered);
}

// A double's bits as an integer of the same order (for finite values; -0 counts as 0), so that a
// sort compares integers.
uint64_t OrderedBits(double d) {
  if (d == 0) d = 0;
  uint64_t bits = std::bit_cast<uint64_t>(d);
  return (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
}

// The distinct tiers of a queue in the order first seen, each given a slot (a scan: queues have
// a handful), and once all are seen, each slot's number in tier order. More than kFew tiers:
// no slot (kMany), and the caller numbers them another way.
class TierSlots {
 public:
  static constexpr uint32_t kMany = std::numeric_limits<uint32_t>::max();
  uint32_t SlotOf(uint64_t tier) {
    for (size_t i = 0; i < seen_.size(); ++i) {
      if (seen_[i] == tier) return static_cast<uint32_t>(i);
    }
    if (seen_.size() == kFew) return kMany;
    seen_.push_back(tier);
    return static_cast<uint32_t>(seen_.size() - 1);
  }
  size_t count() const { return seen_.size(); }
  // Each slot's position among the tiers in order.
  std::vector<uint64_t> Numbers() const {
    std::vector<uint64_t> sorted = seen_, numbers(seen_.size());
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < seen_.size(); ++i) {
      numbers[i] = static_cast<uint64_t>(std::lower_bound(sorted.begin(), sorted.end(), seen_[i]) -
                                         sorted.begin());
    }
    return numbers;
  }

 private:
  static constexpr size_t kFew = 64;
  std::vector<uint64_t> seen_;
};

// The "priority" and "fair-share" orders: by group (the tier, then the entity's rank), then the
// small-first key, arrival and id; `group_of(job)` gives (tier, rank). Groups are numbered in
// order (tier number x ranks + rank), so that a job's key is two integers (the comparisons of a
// sort of 100,000 jobs are most of its cost), and usually one: the group's number above the
// small-first key's offset from the queue's smallest. Adaptive as SortByKey.
// `delay_of(job)` (NoDelay: none): seconds the job counts as submitted later (DelayedKey).
template <typename GroupFn, typename DelayFn = NoDelay>
void SortByGroup(std::vector<QueueEntry>& queue, const Policy& policy, GroupFn group_of,
                 DelayFn delay_of = {}) {
  constexpr bool kDelayed = !std::is_same_v<DelayFn, NoDelay>;
  struct Keyed {
    uint64_t group;  // (see below), then the group's number
    uint64_t small;  // OrderedBits of the small-first key
    Millis submitted_at;
    JobId id;
    uint32_t index;  // in the queue as given
    uint32_t rank;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(queue.size());
  // Each job's group is first its tier's slot (high half) and its rank (low half): a queue of one
  // tier, the usual case, then has its ranks as its group numbers.
  TierSlots tiers;
  bool many_tiers = false;
  uint64_t last_tier = 0;
  uint32_t last_slot = 0;
  uint64_t ranks = 1;
  uint64_t lowest = std::numeric_limits<uint64_t>::max(), highest = 0;
  for (size_t i = 0; i < queue.size(); ++i) {
    const JobView& j = *queue[i].job;
    const auto [tier, rank] = group_of(j);
    if (tier != last_tier || i == 0) {
      last_tier = tier;
      last_slot = tiers.SlotOf(tier);
      if (last_slot == TierSlots::kMany) {
        many_tiers = true;
        last_slot = 0;
      }
    }
    ranks = std::max<uint64_t>(ranks, uint64_t{rank} + 1);
    const uint64_t small =
        OrderedBits(kDelayed ? DelayedKey(policy, j, delay_of(j)) : SmallFirstKey(policy, j));
    lowest = std::min(lowest, small);
    highest = std::max(highest, small);
    keyed.push_back({(uint64_t{last_slot} << 32) | rank, small, j.submitted_at, queue[i].id,
                     static_cast<uint32_t>(i), rank});
  }
  uint64_t tier_count = tiers.count();
  if (many_tiers) {  // (rare) the tiers again, all sorted, each numbered by binary search
    std::vector<uint64_t> all;
    all.reserve(queue.size());
    for (const QueueEntry& e : queue) all.push_back(group_of(*e.job).first);
    std::vector<uint64_t> sorted = all;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    tier_count = sorted.size();
    for (size_t i = 0; i < keyed.size(); ++i) {
      const uint64_t number = static_cast<uint64_t>(
          std::lower_bound(sorted.begin(), sorted.end(), all[i]) - sorted.begin());
      keyed[i].group = number * ranks + keyed[i].rank;
    }
  } else if (tier_count > 1) {
    const std::vector<uint64_t> numbers = tiers.Numbers();
    for (Keyed& k : keyed) k.group = numbers[k.group >> 32] * ranks + k.rank;
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
  // A full sort: a radix sort (stable), then the runs of equal (group, key), rare, by arrival
  // and id.
  auto less_by_index = [&](uint32_t a, uint32_t b) { return less(keyed[a], keyed[b]); };
  const int group_bits = std::bit_width(tier_count * ranks - 1);
  const int small_bits = std::bit_width(highest - lowest);
  if (group_bits + small_bits <= 64) {
    std::vector<Compact> compact;
    compact.reserve(keyed.size());
    for (const Keyed& k : keyed) {
      const uint64_t offset = k.small - lowest;
      compact.push_back({group_bits == 0 ? offset : (k.group << small_bits) | offset, k.index});
    }
    RadixSort(compact, group_bits + small_bits);
    ReorderBy(
        compact, [](const Compact& a, const Compact& b) { return a.key == b.key; }, less_by_index,
        queue);
    return;
  }
  std::vector<Narrow> narrow;
  narrow.reserve(keyed.size());
  for (const Keyed& k : keyed) narrow.push_back({k.group, k.small, k.index});
  RadixSort(narrow);
  ReorderBy(
      narrow,
      [](const Narrow& a, const Narrow& b) { return a.group == b.group && a.small == b.small; },
      less_by_index, queue);
}

// A job's tier: its priority class level's distance below the policy's highest level (so the
// highest first) in the high bits, then its priority (highest first) in the low 32. Without a
// map lookup per job: the last named class is remembered (queues are mostly one or two classes).
class TierOf {
 public:
  explicit TierOf(const Policy& policy) : policy_(policy) {
    // Every level a class name can have is at most top_ (an unknown name has the default's,
    // and that is 0 when the default is unknown too).
    const int default_level = PriorityLevel(policy, "");
    top_ = default_level;
    for (const auto& [name, level] : policy.priority_classes) {
      top_ = std::max<int64_t>(top_, level);
    }
    default_position_ = Position(default_level);
  }
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
  SortByGroup(queue, policy_,
              [&](const JobView& j) { return std::pair<uint64_t, uint32_t>(tier(j), 0); });
}

double FairShareOrder::UsagePerShare(const std::map<EntityId, double>& shares,
                                     const std::map<EntityId, double>& usages, EntityId entity) {
  double share = 1.0;
  if (auto s = shares.find(entity); s != shares.end()) share = s->second;
  double usage = 0.0;
  if (auto u = usages.find(entity); u != usages.end()) usage = std::max(0.0, u->second);
  if (!(share > 0)) return std::numeric_limits<double>::infinity();
  return usage / share;
}

namespace {

// What the fair-share order keys a queue's jobs by: each entity's group and usage delay, ranked
// once for the queue (`ranked`: FairShareOrder::Rank of the queue's entities), and the tier. A
// job's key is then three integers.
class FairShareGroups {
 public:
  // The queue's entities' tallies for FairShareOrder::Rank (`slots`: the queue's entities).
  static std::vector<FairShareOrder::Tally> Tallies(const Policy& policy, const EntitySlots& slots,
                                                    const std::vector<QueueEntry>& queue) {
    const std::vector<EntityId>& entities = slots.entities();
    std::vector<FairShareOrder::Tally> tallies(entities.size());
    for (size_t s = 0; s < entities.size(); ++s) tallies[s].entity = entities[s];
    if (policy.fair_share_wait_floor_s > 0) {
      for (const QueueEntry& e : queue) {
        FairShareOrder::Tally& t = tallies[slots.SlotOf(e.entity)];
        ++t.jobs;
        t.submitted_sum_ms += e.job->submitted_at;
      }
    }
    return tallies;
  }
  FairShareGroups(const Policy& policy, const EntitySlots& slots,
                  const std::vector<FairShareOrder::Ranked>& ranked)
      : slots_(slots),
        tier_(policy),
        group_of_(slots.entities().size()),
        delay_of_(slots.entities().size()) {
    for (const FairShareOrder::Ranked& r : ranked) {
      const size_t slot = slots.SlotOf(r.entity);
      group_of_[slot] = r.group;
      delay_of_[slot] = static_cast<double>(policy.fair_share_usage_delay_s) * r.delay_steps /
                        static_cast<double>(FairShareOrder::kDelaySteps);
    }
  }
  std::pair<uint64_t, uint32_t> Group(const JobView& j) {
    return {tier_(j), group_of_[slots_.SlotOf(j.entity)]};
  }
  double Delay(const JobView& j) const { return delay_of_[slots_.SlotOf(j.entity)]; }

 private:
  const EntitySlots& slots_;
  TierOf tier_;
  std::vector<uint32_t> group_of_;  // by slot
  std::vector<double> delay_of_;    // by slot, seconds
};

}  // namespace

void FairShareOrder::Sort(std::vector<QueueEntry>& queue) const {
  const EntitySlots slots(queue);
  FairShareGroups groups(
      policy_, slots,
      Rank(policy_, shares_, usage_, FairShareGroups::Tallies(policy_, slots, queue), wait_ratio_,
           wait_rank_));
  auto group = [&](const JobView& j) { return groups.Group(j); };
  if (policy_.fair_share_usage_delay_s > 0) {
    SortByGroup(queue, policy_, group, [&](const JobView& j) { return groups.Delay(j); });
  } else {
    SortByGroup(queue, policy_, group);
  }
}

void FairShareOrder::SortTail(std::vector<QueueEntry>& queue, size_t sorted) const {
  if (sorted >= queue.size()) return;
  // Few in order: a sort (adaptive) costs no more.
  if (sorted < queue.size() / 2) return Sort(queue);
  const EntitySlots slots(queue);
  FairShareGroups groups(
      policy_, slots,
      Rank(policy_, shares_, usage_, FairShareGroups::Tallies(policy_, slots, queue), wait_ratio_,
           wait_rank_));
  // SortByGroup's key, compared as a tuple: (tier, rank) orders as its group number does.
  struct Key {
    uint64_t tier;
    uint32_t rank;
    uint64_t small;
    Millis submitted_at;
    JobId id;
    auto operator<=>(const Key&) const = default;
  };
  const bool delayed = policy_.fair_share_usage_delay_s > 0;
  auto key_of = [&](const QueueEntry& e) {
    const JobView& j = *e.job;
    const auto [tier, rank] = groups.Group(j);
    const double small =
        delayed ? DelayedKey(policy_, j, groups.Delay(j)) : SmallFirstKey(policy_, j);
    return Key{tier, rank, OrderedBits(small), j.submitted_at, e.id};
  };
  std::vector<std::pair<Key, QueueEntry>> tail;
  tail.reserve(queue.size() - sorted);
  for (size_t i = sorted; i < queue.size(); ++i) tail.emplace_back(key_of(queue[i]), queue[i]);
  std::sort(tail.begin(), tail.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // Each new entry after the sorted ones of lower key (a binary search: keys are computed for the
  // entries it visits only); the tail is in order, so each search starts where the last ended.
  std::vector<QueueEntry> merged;
  merged.reserve(queue.size());
  auto from = queue.begin();
  const auto sorted_end = queue.begin() + static_cast<std::ptrdiff_t>(sorted);
  for (const auto& [key, entry] : tail) {
    const auto at = std::partition_point(
        from, sorted_end, [&, &key = key](const QueueEntry& e) { return key_of(e) < key; });
    merged.insert(merged.end(), from, at);
    merged.push_back(entry);
    from = at;
  }
  merged.insert(merged.end(), from, sorted_end);
  queue.swap(merged);
}

FairShareOrder::UsageTotals FairShareOrder::Totals(const std::map<EntityId, double>& shares,
                                                   const std::map<EntityId, double>& usage,
                                                   const std::vector<Tally>& tallies) {
  UsageTotals totals;
  for (const auto& [entity, u] : usage) totals.usage += std::max(0.0, u);
  for (const auto& [entity, s] : shares) totals.shares += std::max(0.0, s);
  for (const auto& [entity, u] : usage) {
    if (!shares.contains(entity)) totals.shares += 1.0;
  }
  for (const Tally& t : tallies) {
    if (!shares.contains(t.entity) && !usage.contains(t.entity)) totals.shares += 1.0;
  }
  return totals;
}

double FairShareOrder::UsageFactor(const UsageTotals& totals,
                                   const std::map<EntityId, double>& shares,
                                   const std::map<EntityId, double>& usage, EntityId entity) {
  double share = 1.0;
  if (auto s = shares.find(entity); s != shares.end()) share = s->second;
  if (!(share > 0)) return 1.0;
  double u = 0.0;
  if (auto it = usage.find(entity); it != usage.end()) u = std::max(0.0, it->second);
  if (!(totals.usage > 0) || !(totals.shares > 0)) return 0.0;
  return 1.0 - std::exp2(-(u / totals.usage) / (share / totals.shares));
}

std::vector<FairShareOrder::Ranked> FairShareOrder::Rank(
    const Policy& policy, const std::map<EntityId, double>& shares,
    const std::map<EntityId, double>& usage, const std::vector<Tally>& tallies,
    const std::map<EntityId, double>& wait_ratio, const std::map<EntityId, double>& wait_rank) {
  // Behind: mean_queue - mean_entity >= floor, in integers (no rounding, the same answer for
  // every caller): sum_q * n_e - sum_e * n_q >= floor_ms * n_q * n_e.
  __int128 queue_sum = 0, queue_jobs = 0;
  for (const Tally& t : tallies) {
    queue_sum += t.submitted_sum_ms;
    queue_jobs += t.jobs;
  }
  const __int128 floor_ms = static_cast<__int128>(policy.fair_share_wait_floor_s) * 1000;
  // (group: 0 = late on waits, 1 = behind the floor, 2 = the others; then minus the rank ratio
  // in the first group (the most behind first: ordering it by usage instead left the heaviest
  // users last there too, and Philly's worst entity at 4.4-8.7x instead of 3.4-4.1x), the delay
  // steps or the usage per share in the others)
  const bool delayed = policy.fair_share_usage_delay_s > 0;
  // Slurm's classic factor: the totals of usage and shares over every entity known.
  const UsageTotals totals = delayed ? Totals(shares, usage, tallies) : UsageTotals{};
  auto steps_of = [&](EntityId e) -> uint32_t {
    return DelaySteps(UsageFactor(totals, shares, usage, e));
  };
  std::vector<std::tuple<int, double, EntityId>> keyed;
  keyed.reserve(tallies.size());
  for (const Tally& t : tallies) {
    double ratio = 0;
    if (policy.fair_share_wait_ratio > 0) {
      if (auto w = wait_ratio.find(t.entity); w != wait_ratio.end()) ratio = w->second;
    }
    const bool late = Late(policy, ratio);
    const bool behind =
        floor_ms > 0 && t.jobs > 0 &&
        queue_sum * t.jobs - static_cast<__int128>(t.submitted_sum_ms) * queue_jobs >=
            floor_ms * queue_jobs * t.jobs;
    if (late) {
      double rank = ratio;
      if (auto r = wait_rank.find(t.entity); r != wait_rank.end()) rank = r->second;
      keyed.push_back({0, -rank, t.entity});
    } else if (delayed) {
      keyed.push_back({behind ? 1 : 2, static_cast<double>(steps_of(t.entity)), t.entity});
    } else {
      keyed.push_back({behind ? 1 : 2, UsagePerShare(shares, usage, t.entity), t.entity});
    }
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<Ranked> ranked;
  ranked.reserve(keyed.size());
  uint32_t group = 0;
  for (size_t i = 0; i < keyed.size(); ++i) {
    const auto& [kind, key, entity] = keyed[i];
    if (i > 0) {
      const int previous = std::get<0>(keyed[i - 1]);
      // A new group: a new entity, unless both are in the same delayed group (1 or 2).
      if (!delayed || kind == 0 || kind != previous) ++group;
    }
    ranked.push_back({entity, group, kind != 0 && delayed ? static_cast<uint32_t>(key) : 0});
  }
  return ranked;
}

void SjfOracleOrder::Sort(std::vector<QueueEntry>& queue) const {
  SortByKey<int64_t>(queue, [](const JobView& j) { return OracleWork(j); });
}

double SmallFirstRate(const Policy& policy, const Snapshot* snapshot) {
  if (policy.small_first_rate >= 0) return policy.small_first_rate;
  if (snapshot == nullptr || !(policy.small_first_delay_factor > 0)) return 0;
  size_t gpus = 0;
  for (const NodeView& node : snapshot->nodes) gpus += node.devices.size();
  return static_cast<double>(gpus) / policy.small_first_delay_factor;
}

Result<std::unique_ptr<QueueOrder>> MakeQueueOrder(std::string_view name, const Policy* policy,
                                                   const Snapshot* snapshot) {
  Policy p = policy ? *policy : Policy{};
  p.small_first_rate = SmallFirstRate(p, snapshot);
  if (name == "fifo") return std::unique_ptr<QueueOrder>(std::make_unique<ArrivalOrder>());
  if (name == "priority") {
    return std::unique_ptr<QueueOrder>(std::make_unique<PriorityOrder>(std::move(p)));
  }
  if (name == "fair-share") {
    std::map<EntityId, double> shares, usage, wait_ratio, wait_rank;
    if (snapshot) {
      shares = snapshot->entity_shares;
      usage = snapshot->decayed_usage;
      if (p.fair_share_wait_ratio > 0) {
        wait_ratio = snapshot->entity_wait_ratio;
        wait_rank = snapshot->entity_wait_rank;
      }
    }
    return std::unique_ptr<QueueOrder>(
        std::make_unique<FairShareOrder>(std::move(p), std::move(shares), std::move(usage),
                                         std::move(wait_ratio), std::move(wait_rank)));
  }
  if (name == "sjf-oracle") {
    return std::unique_ptr<QueueOrder>(std::make_unique<SjfOracleOrder>());
  }
  return InvalidArgument("unknown queue order \"" + std::string(name) + "\"");
}

}  // namespace gpuaas::sched
