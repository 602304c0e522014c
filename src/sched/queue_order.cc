#include "sched/queue_order.h"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
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

// Sorts by a precomputed key (computed once per job, not per comparison), then arrival and id
// (copied next to the key, so that comparisons do not chase the job pointers). Adaptive: a
// queue already in order (the simulator keeps it so between passes) costs one scan, and one
// with new jobs at the end a sort of those and a merge.
template <typename Key, typename KeyFn>
void SortByKey(std::vector<const JobView*>& queue, KeyFn key_of) {
  struct Keyed {
    Key key;
    Millis submitted_at;
    JobId id;
    const JobView* job;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(queue.size());
  for (const JobView* j : queue) keyed.push_back({key_of(*j), j->submitted_at, j->id, j});
  auto less = [](const Keyed& a, const Keyed& b) {
    if (a.key != b.key) return a.key < b.key;
    return std::tie(a.submitted_at, a.id) < std::tie(b.submitted_at, b.id);
  };
  auto sorted_end = std::is_sorted_until(keyed.begin(), keyed.end(), less);
  if (sorted_end == keyed.end()) return;  // already in order (queue untouched)
  if (sorted_end - keyed.begin() >= static_cast<std::ptrdiff_t>(keyed.size() / 2)) {
    std::sort(sorted_end, keyed.end(), less);
    std::inplace_merge(keyed.begin(), sorted_end, keyed.end(), less);
  } else {
    std::sort(keyed.begin(), keyed.end(), less);
  }
  for (size_t i = 0; i < keyed.size(); ++i) queue[i] = keyed[i].job;
}

// PriorityLevel per job without a map lookup per job: the level of the default class once,
// and the last named class looked up (queues are mostly one or two classes).
class LevelOf {
 public:
  explicit LevelOf(const Policy& policy)
      : policy_(policy), default_level_(PriorityLevel(policy, "")) {}
  int operator()(const std::string& priority_class) {
    if (priority_class.empty()) return default_level_;
    if (priority_class != last_name_) {
      last_name_ = priority_class;
      last_level_ = PriorityLevel(policy_, priority_class);
    }
    return last_level_;
  }

 private:
  const Policy& policy_;
  int default_level_;
  std::string last_name_;
  int last_level_ = 0;
};

// The within-tier key of Policy::small_first_rate (0 when the rate is 0: arrival decides).
double SmallFirstKey(const Policy& policy, const JobView& j) {
  if (policy.small_first_rate <= 0) return 0;
  const int64_t walltime = j.walltime_s > 0 ? j.walltime_s : policy.default_walltime_s;
  return static_cast<double>(std::max(j.gpus, 0)) * static_cast<double>(walltime) +
         policy.small_first_rate * (static_cast<double>(j.submitted_at) / 1000.0);
}

}  // namespace

void ArrivalOrder::Sort(std::vector<const JobView*>& queue) const {
  auto less = [](const JobView* a, const JobView* b) {
    return std::tie(a->submitted_at, a->id) < std::tie(b->submitted_at, b->id);
  };
  if (!std::is_sorted(queue.begin(), queue.end(), less))
    std::sort(queue.begin(), queue.end(), less);
}

void PriorityOrder::Sort(std::vector<const JobView*>& queue) const {
  // Negated so that ascending order puts the higher level and priority first.
  LevelOf level(policy_);
  SortByKey<std::tuple<int64_t, int64_t, double>>(queue, [&](const JobView& j) {
    return std::tuple<int64_t, int64_t, double>(
        -level(j.priority_class), -static_cast<int64_t>(j.priority), SmallFirstKey(policy_, j));
  });
}

double FairShareOrder::UsagePerShare(EntityId entity) const {
  double share = 1.0;
  if (auto s = shares_.find(entity); s != shares_.end()) share = s->second;
  double usage = 0.0;
  if (auto u = usage_.find(entity); u != usage_.end()) usage = std::max(0.0, u->second);
  if (!(share > 0)) return std::numeric_limits<double>::infinity();
  return usage / share;
}

void FairShareOrder::Sort(std::vector<const JobView*>& queue) const {
  // The entities once, ranked by (usage per share, id); a job's key is then three integers.
  // Ties in usage/share go to the lower entity id, so that the order is total and stable.
  std::vector<EntityId> entities;
  entities.reserve(64);
  EntityId last = 0;
  for (const JobView* j : queue) {
    if (j->entity != last || entities.empty()) entities.push_back(j->entity);
    last = j->entity;
  }
  std::sort(entities.begin(), entities.end());
  entities.erase(std::unique(entities.begin(), entities.end()), entities.end());
  std::vector<std::pair<double, EntityId>> ranked;
  ranked.reserve(entities.size());
  for (EntityId e : entities) ranked.push_back({UsagePerShare(e), e});
  std::sort(ranked.begin(), ranked.end());
  std::vector<int64_t> rank_of(entities.size());  // by position in `entities`
  for (size_t r = 0; r < ranked.size(); ++r) {
    auto at = std::lower_bound(entities.begin(), entities.end(), ranked[r].second);
    rank_of[static_cast<size_t>(at - entities.begin())] = static_cast<int64_t>(r);
  }
  EntityId last_entity = 0;
  int64_t last_rank = 0;
  auto rank = [&](EntityId entity) {
    if (entity != last_entity || last_entity == 0) {
      auto at = std::lower_bound(entities.begin(), entities.end(), entity);
      last_rank = rank_of[static_cast<size_t>(at - entities.begin())];
      last_entity = entity;
    }
    return last_rank;
  };
  LevelOf level(policy_);
  SortByKey<std::tuple<int64_t, int64_t, int64_t, double>>(queue, [&](const JobView& j) {
    return std::tuple<int64_t, int64_t, int64_t, double>(-level(j.priority_class),
                                                         -static_cast<int64_t>(j.priority),
                                                         rank(j.entity), SmallFirstKey(policy_, j));
  });
}

void SjfOracleOrder::Sort(std::vector<const JobView*>& queue) const {
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
