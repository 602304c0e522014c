// The scheduling pass: sort the queue (QueueOrder), place each job in turn (Placer: filters,
// score, device picker) on a Timeline that remembers this pass's placements, then project the
// start of every job left waiting (a shadow simulation on the same Timeline).
#include "sched/scheduler.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sched/class_choice.h"
#include "sched/class_name.h"
#include "sched/placer.h"
#include "sched/preemption.h"
#include "sched/queue_order.h"
#include "sched/reasons.h"
#include "sched/timeline.h"

namespace gpuaas::sched {
namespace {

// Of the evaluation at now of a job that was looked at and left waiting, only how far the job
// got (for its reason); not evaluated = `reason` set.
struct Pending {
  const JobView* job;
  bool evaluated = false;  // looked at
  bool any_class = false;  // ... and it has at least one acceptable class
  Stage furthest = Stage::kTooBig;
  std::string furthest_class;
  std::string reason;
  JobId blocked_by = 0;
  std::shared_ptr<Option> reserved = nullptr;  // where and from when its GPUs are reserved
  // Over quota: the reason says how much the entity uses, written once the pass is over.
  bool quota_reason_later = false;
  bool Evaluated() const { return evaluated && any_class; }
};

// Jobs are read in queue order, scattered in memory: ask for the lines of a job a few positions
// ahead (its view, then the names of its classes) while this one is evaluated.
void PrefetchAhead(const std::vector<QueueEntry>& queue, size_t at) {
  constexpr size_t kViewAhead = 16, kClassesAhead = 8;
  if (at + kViewAhead < queue.size()) {
    const char* view = reinterpret_cast<const char*>(queue[at + kViewAhead].job);
    for (size_t line = 0; line < sizeof(JobView); line += 64) __builtin_prefetch(view + line);
  }
  if (at + kClassesAhead < queue.size()) {
    const std::vector<std::string>& types = queue[at + kClassesAhead].job->gpu_types;
    if (!types.empty()) __builtin_prefetch(types.data());
  }
}

// Waiting jobs looked at so far, per class they accept: a short list (a cluster has a handful
// of classes), then a tree for names beyond it (jobs may name classes no node has).
class WaitingPerClass {
 public:
  void Add(const std::string& gpu_class) { ++Slot(gpu_class); }
  int Count(const std::string& gpu_class) { return Slot(gpu_class); }

 private:
  static constexpr size_t kListed = 16;
  int& Slot(const std::string& gpu_class) {
    for (auto& [name, count] : listed_) {
      if (SameClassName(name, gpu_class)) return count;
    }
    if (listed_.size() < kListed) return listed_.emplace_back(gpu_class, 0).second;
    return more_[gpu_class];
  }
  std::vector<std::pair<std::string, int>> listed_;
  std::map<std::string, int> more_;
};

// Shapes that could not start now in this pass, for the passes with nothing else to decide (see
// `nothing_to_decide` in Pass): a pass only adds holds as it goes, so a later job of the same
// shape (the same GPU count, class list and fallback; no node selector nor speed hints) with a
// walltime at least as long cannot start now either, and need not be evaluated. (The same GPU
// count, not more: a larger job may be a gang, which fits where one node does not. And only
// without quotas: a job stopped by its entity's limit on one class says nothing of another
// entity's job of the same shape.)
class FailedShapes {
 public:
  bool Covers(const JobView& job, int64_t walltime_s) const {
    if (!Plain(job)) return false;
    for (const Shape& s : shapes_) {
      if (s.gpus == job.gpus && walltime_s >= s.walltime_s &&
          s.allow_fallback == job.allow_fallback && *s.gpu_types == job.gpu_types) {
        return true;
      }
    }
    return false;
  }
  void Add(const JobView& job, int64_t walltime_s) {
    if (!Plain(job)) return;
    for (Shape& s : shapes_) {
      if (s.gpus == job.gpus && s.allow_fallback == job.allow_fallback &&
          *s.gpu_types == job.gpu_types) {
        s.walltime_s = std::min(s.walltime_s, walltime_s);
        return;
      }
    }
    if (shapes_.size() < kMost) {
      shapes_.push_back({&job.gpu_types, job.gpus, job.allow_fallback, walltime_s});
    }
  }

 private:
  static constexpr size_t kMost = 32;  // (a scan per job: a bounded one)
  struct Shape {
    const std::vector<std::string>* gpu_types;  // (views outlive the pass)
    int gpus;
    bool allow_fallback;
    int64_t walltime_s;
  };
  static bool Plain(const JobView& job) { return job.node_selector.empty() && job.speeds.empty(); }
  std::vector<Shape> shapes_;
};

// What became of each queue position in the pass: placed, not looked at (behind
// Policy::max_jobs_per_pass others), or waiting with details (a position in `pending`).
constexpr int32_t kPlaced = -1;
constexpr int32_t kNotConsidered = -2;
// Looked at and left waiting unevaluated in a pass with nothing to decide (no reason, no
// estimate): as Unevaluated(job) without its details, which nobody reads then.
constexpr int32_t kSkipped = -3;

std::unique_ptr<QueueOrder> OrderFor(const Policy& policy, const Snapshot& snapshot) {
  auto order = MakeQueueOrder(policy.queue_order, &policy, &snapshot);
  if (order.ok()) return std::move(order).value();
  return std::make_unique<ArrivalOrder>();
}

// Calls fn(class) for each of Placer::AcceptableClasses(job) in order until it returns true,
// without copying the names when the job (or the catalogue) lists them.
template <typename Fn>
void ForEachAcceptable(const JobView& job, const Snapshot& snapshot, Fn fn) {
  if (!job.gpu_types.empty()) {
    for (const std::string& c : job.gpu_types) {
      if (fn(c) || !job.allow_fallback) return;
    }
    return;
  }
  if (!snapshot.classes.empty()) {
    for (const ClassInfo& c : snapshot.classes) {
      if (fn(c.name)) return;
    }
    return;
  }
  for (const std::string& c : Placer::AcceptableClasses(job, snapshot)) {
    if (fn(c)) return;
  }
}

// Jobs that fit within their entity's guarantee (counting running jobs that are not stopping
// and the guaranteed jobs ahead) go first, in queue order (as Kueue admits workloads within
// nominal quota before borrowing ones): GPUs reclaimed for them are not taken by others.
void GuaranteedFirst(const Snapshot& snapshot, std::vector<QueueEntry>& queue) {
  // Per entity with a guarantee: each class's guarantee and the GPUs counted so far (a short
  // list: names compared in place, no lookup by (entity, name) per job).
  struct Room {
    const std::string* gpu_class;
    int guarantee;
    int used;
  };
  std::map<EntityId, std::vector<Room>> rooms;
  for (const auto& [entity, classes] : snapshot.quota_guarantee) {
    std::vector<Room>& r = rooms[entity];
    for (const auto& [name, gpus] : classes) r.push_back({&name, gpus, 0});
  }
  auto find = [](std::vector<Room>& r, const std::string& cls) -> Room* {
    for (Room& x : r) {
      if (*x.gpu_class == cls) return &x;
    }
    return nullptr;
  };
  for (const RunningView& r : snapshot.running) {
    if (r.stopping) continue;
    auto e = rooms.find(r.entity);
    if (e == rooms.end()) continue;
    if (Room* x = find(e->second, r.gpu_class)) x->used += static_cast<int>(r.devices.size());
  }
  std::vector<char> first(queue.size(), 0);
  bool any = false;
  EntityId last_entity = 0;  // the last entity looked up, and its rooms (or none)
  std::vector<Room>* room = nullptr;
  for (size_t i = 0; i < queue.size(); ++i) {
    const QueueEntry& e = queue[i];
    if (e.entity != last_entity || i == 0) {
      auto g = rooms.find(e.entity);
      room = g == rooms.end() ? nullptr : &g->second;
      last_entity = e.entity;
    }
    if (!room || e.gpus < 1) continue;
    ForEachAcceptable(*e.job, snapshot, [&](const std::string& cls) {
      Room* x = find(*room, cls);
      if (!x || x->used + e.gpus > x->guarantee) return false;
      x->used += e.gpus;
      first[i] = 1;
      any = true;
      return true;
    });
  }
  if (!any) return;
  // A stable partition: the guaranteed jobs first, each part in queue order.
  std::vector<QueueEntry> out;
  out.reserve(queue.size());
  for (size_t i = 0; i < queue.size(); ++i) {
    if (first[i]) out.push_back(queue[i]);
  }
  for (size_t i = 0; i < queue.size(); ++i) {
    if (!first[i]) out.push_back(queue[i]);
  }
  queue = std::move(out);
}

// The queued ids, for two questions: are there duplicates, and which running ids are queued
// too. A bit set over [lowest, highest id] when that range is small next to the queue (ids are
// mostly recent: one scan, no sort); otherwise a sorted vector.
class QueuedIds {
 public:
  explicit QueuedIds(const std::vector<QueueEntry>& queued) {
    if (queued.empty()) return;
    lo_ = hi_ = queued.front().id;
    for (const QueueEntry& j : queued) {
      lo_ = std::min(lo_, j.id);
      hi_ = std::max(hi_, j.id);
    }
    const uint64_t range = static_cast<uint64_t>(hi_) - static_cast<uint64_t>(lo_);
    if (range < 64 * queued.size() + 65536) {
      bits_.assign(range / 64 + 1, 0);
      for (const QueueEntry& j : queued) {
        const uint64_t at = static_cast<uint64_t>(j.id) - static_cast<uint64_t>(lo_);
        uint64_t& word = bits_[at / 64];
        const uint64_t bit = uint64_t{1} << (at % 64);
        if (word & bit) duplicates_ = true;
        word |= bit;
      }
      return;
    }
    sorted_.reserve(queued.size());
    for (const QueueEntry& j : queued) sorted_.push_back(j.id);
    std::sort(sorted_.begin(), sorted_.end());
    duplicates_ = std::adjacent_find(sorted_.begin(), sorted_.end()) != sorted_.end();
  }
  bool duplicates() const { return duplicates_; }
  bool contains(JobId id) const {
    if (!bits_.empty()) {
      if (id < lo_ || id > hi_) return false;
      const uint64_t at = static_cast<uint64_t>(id) - static_cast<uint64_t>(lo_);
      return (bits_[at / 64] >> (at % 64)) & 1;
    }
    return std::binary_search(sorted_.begin(), sorted_.end(), id);
  }

 private:
  JobId lo_ = 0, hi_ = 0;
  bool duplicates_ = false;
  std::vector<uint64_t> bits_;
  std::vector<JobId> sorted_;
};

// The queue in order, each id once (the first of duplicates in snapshot order). `holding`
// (sorted) gets the queued ids that also hold GPUs (a running view with the same id): usually
// none, and then no job needs the check.
std::vector<QueueEntry> SortedQueue(const Snapshot& snapshot, const Policy& policy,
                                    std::vector<JobId>* holding) {
  std::vector<QueueEntry> queue;
  queue.reserve(SeenCount(snapshot));
  ForEachSeen(snapshot, [&](const JobView& j) { queue.push_back({&j, j.id, j.entity, j.gpus}); });
  const QueuedIds ids(queue);
  if (ids.duplicates()) {  // (rare) keep the first of each id
    std::set<JobId> seen;
    std::erase_if(queue, [&](const QueueEntry& e) { return !seen.insert(e.id).second; });
  }
  holding->clear();
  if (!queue.empty()) {
    for (const RunningView& r : snapshot.running) {
      if (ids.contains(r.id)) holding->push_back(r.id);
    }
    std::sort(holding->begin(), holding->end());
  }
  if (!snapshot.queued_in_order) OrderFor(policy, snapshot)->Sort(queue);
  if (policy.reclaim && !snapshot.quota_guarantee.empty()) GuaranteedFirst(snapshot, queue);
  return queue;
}

// Shadow projection: in queue order, each waiting job starts at the earliest time it fits given
// running jobs' walltimes and the jobs projected ahead of it, and then holds its devices.
// `looked_at`: the waiting jobs that were looked at, in queue order, each with its position in
// plan->waiting.
void EstimateStarts(const Placer& placer,
                    const std::vector<std::pair<size_t, const Pending*>>& looked_at,
                    const Timeline& after_pass, const Policy& policy, Plan* plan) {
  if (policy.max_estimates <= 0) return;  // (the copy of the time line is not free)
  Timeline projection = after_pass;
  Millis last_start = after_pass.now();
  int estimated = 0;
  for (size_t i = 0; i < looked_at.size() && estimated < policy.max_estimates; ++i) {
    const auto& [at, pending] = looked_at[i];
    const JobView& job = *pending->job;
    if (job.gpus < 1 || !pending->Evaluated()) continue;
    ++estimated;
    if (pending->reserved) {  // already held on the time line
      last_start = pending->reserved->start;
      plan->waiting[at].estimated_start = last_start;
      continue;
    }
    bool strict = policy.strict_order && !policy.backfill;
    Millis not_before = strict ? last_start : after_pass.now();
    Evaluation ev = placer.Evaluate(job, projection, policy, not_before);
    std::optional<Option> chosen =
        not_before == after_pass.now()
            ? ChooseClass(placer, job, ev, projection, policy, /*future=*/true).option
            : ev.earliest;
    if (!chosen) continue;
    const Option& o = *chosen;
    Placer::Occupy(projection, job, o, o.start);
    last_start = o.start;
    plan->waiting[at].estimated_start = o.start;
  }
}

Pending Unevaluated(const JobView* job, std::string reason = {}) {
  return Pending{job, false, false, Stage::kTooBig, {}, std::move(reason), 0, nullptr};
}

// The knobs a pass corrects (see Schedule in scheduler.h).
Policy Corrected(const Policy& policy_in) {
  Policy policy = policy_in;
  // Priority preemption needs an order that puts higher classes first: otherwise the victim,
  // back in the queue ahead of the preemptor, would take its GPUs back, again and again.
  if (policy.queue_order != "priority" && policy.queue_order != "fair-share") {
    policy.preempt_lower_priority = false;
  }
  Policy defaults;
  if (policy.default_walltime_s <= 0) policy.default_walltime_s = defaults.default_walltime_s;
  if (policy.max_jobs_per_pass <= 0) policy.max_jobs_per_pass = defaults.max_jobs_per_pass;
  policy.max_estimates = std::max(0, policy.max_estimates);
  return policy;
}

Plan Pass(const Snapshot& snapshot, const Policy& policy, Millis now, Timeline& timeline) {
  Plan plan;
  const Placer placer = Placer::Default();
  const bool may_preempt = policy.reclaim || policy.preempt_lower_priority;
  std::optional<Preemptor> preemptor;  // built on first use (its index costs a walk of running)
  std::vector<JobId> holding;          // queued ids that also hold GPUs, sorted (usually none)
  const std::vector<QueueEntry> queue = SortedQueue(snapshot, policy, &holding);
  // Per queue position: kPlaced, kNotConsidered, or its details' position in `pending`.
  std::vector<int32_t> slot(queue.size(), kNotConsidered);
  std::vector<Pending> pending;  // the jobs looked at (or refused) and left waiting
  pending.reserve(std::min(queue.size(), static_cast<size_t>(policy.max_jobs_per_pass)));
  auto wait = [&](size_t at, Pending&& p) {
    slot[at] = static_cast<int32_t>(pending.size());
    pending.push_back(std::move(p));
  };
  // A job evaluated (into `ev`) and left waiting: its reason is written now, while its view is
  // at hand, with the count of waiting jobs ahead accepting the class it got furthest on (those
  // looked at before it). Over quota, the reason waits for the pass's final usage.
  WaitingPerClass waiting_for_class;
  Evaluation stage;  // what WaitReason reads: the classes, how far the job got and on which
  Evaluation ev;     // the job's at now (reused: its memory is kept from job to job)
  auto wait_evaluated = [&](size_t at, Pending&& p) {
    if (policy.explain_waiting) {
      if (p.reason.empty() && p.furthest == Stage::kQuota && !ev.classes.empty()) {
        p.quota_reason_later = true;
      } else if (p.reason.empty()) {
        stage.classes = ev.classes;
        stage.furthest = p.furthest;
        stage.furthest_class = p.furthest_class;
        WaitContext context;
        context.blocked_by = p.blocked_by;
        if (p.reserved) {
          context.reserved_on = snapshot.nodes[p.reserved->node_pos].name;
          context.reserved_class = p.reserved->gpu_class;
        }
        context.ahead_same_class = waiting_for_class.Count(p.furthest_class);
        p.reason = WaitReason(*p.job, stage, timeline, context);
      }
      for (const std::string& c : ev.classes) waiting_for_class.Add(c);
    }
    wait(at, std::move(p));
  };
  JobId blocked_by = 0;  // strict order: the first job waiting for capacity
  int reserved = 0;      // backfill: reservations made so far
  int looked_at = 0;
  FailedShapes failed;  // (only with nothing to decide)
  const bool same_for_all_entities =
      snapshot.quota_limit.empty() && snapshot.quota_guarantee.empty();

  auto holds_gpus = [&](JobId id) {
    return !holding.empty() && std::binary_search(holding.begin(), holding.end(), id);
  };
  for (size_t at = 0; at < queue.size(); ++at) {
    const QueueEntry& entry = queue[at];
    if (looked_at < policy.max_jobs_per_pass) PrefetchAhead(queue, at);
    if (holds_gpus(entry.id)) {
      wait(at, Unevaluated(entry.job, "already holds GPUs"));
      continue;
    }
    if (entry.gpus < 1) {
      wait(at, Unevaluated(entry.job,
                           "invalid request: asks for " + std::to_string(entry.gpus) + " GPUs"));
      continue;
    }
    if (looked_at++ >= policy.max_jobs_per_pass) continue;  // (slot: kNotConsidered)
    const JobView* job = entry.job;
    // When nobody can start now and nothing else is to be decided for a waiting job (no reason
    // in words, no estimate, no preemption, no reservation left to give, nobody to block), the
    // job's evaluation would change nothing: skip it. The simulator's case, not the server's.
    const bool nothing_to_decide = !policy.explain_waiting && policy.max_estimates == 0 &&
                                   !may_preempt &&
                                   (!policy.backfill || reserved >= policy.reservations) &&
                                   (policy.backfill || !policy.strict_order || blocked_by != 0);
    const int64_t walltime_s = job->walltime_s > 0 ? job->walltime_s : policy.default_walltime_s;
    if (nothing_to_decide && (!timeline.AnyFreeNow() || failed.Covers(*job, walltime_s))) {
      slot[at] = kSkipped;
      continue;
    }
    placer.EvaluateInto(*job, timeline, policy, now, /*find_earliest=*/false, -1, &ev);
    if (nothing_to_decide && same_for_all_entities && !ev.now && ev.furthest == Stage::kBusy) {
      failed.Add(*job, walltime_s);
    }
    ClassChoice choice;
    if (ev.now && blocked_by == 0) {
      const bool gets_reservation = policy.backfill && reserved < policy.reservations &&
                                    !IsBestEffort(policy, job->priority_class);
      choice = ChooseClass(placer, *job, ev, timeline, policy, /*future=*/false,
                           gets_reservation ? -1.0 : policy.faster_class_wait_ratio);
    }
    if (ev.now && blocked_by == 0 && !choice.waits) {
      const Option& o = choice.option ? *choice.option : *ev.now;
      Placer::Occupy(timeline, *job, o, now);
      Placement pl{job->id, o.node, o.gpu_class, o.devices};
      pl.reason = choice.reason;
      if (o.gang.empty()) {
        pl.slices.push_back({o.node, o.devices});
      } else {
        for (const auto& [node_pos, devices] : o.gang) {
          pl.slices.push_back({snapshot.nodes[node_pos].id, devices});
        }
      }
      plan.placements.push_back(std::move(pl));
      slot[at] = kPlaced;
      continue;
    }
    // Only the stage is kept (for the reason and the projection).
    // (The class name is read by reasons only: not copied without them.)
    Pending p{job,
              true,
              !ev.classes.empty(),
              ev.furthest,
              policy.explain_waiting ? ev.furthest_class : std::string(),
              "",
              blocked_by};
    bool waits_for_gpus = p.furthest == Stage::kBusy || choice.waits;
    const bool best_effort = IsBestEffort(policy, job->priority_class);
    if (choice.waits) {
      // Waiting for a faster class finishes sooner than starting now on a slower one.
      p.reason = choice.reason;
      if (policy.backfill && reserved < policy.reservations && !best_effort) {
        Placer::Occupy(timeline, *job, *choice.option, choice.option->start);
        p.reserved = std::make_shared<Option>(*choice.option);
        ++reserved;
      }
      wait_evaluated(at, std::move(p));
      continue;
    }
    if (may_preempt && waits_for_gpus && blocked_by == 0) {
      if (!preemptor) preemptor.emplace(snapshot, policy);
      if (auto d = preemptor->Decide(*job, ev.classes, timeline)) {
        // The claimer holds the devices it will get from now on (the victims' until they stop).
        Millis start = AddSeconds(now, policy.preemption_grace_s);
        timeline.Occupy(d->node_pos, d->devices, job->entity, d->gpu_class, now,
                        AddSeconds(start, d->walltime_s));
        p.reserved = std::make_shared<Option>(Option{start, d->gpu_class, 0, d->node_pos,
                                                     snapshot.nodes[d->node_pos].id, d->devices,
                                                     d->walltime_s, 0});
        p.reason = d->reason;
        for (Preemption& v : d->preemptions) plan.preemptions.push_back(std::move(v));
        wait_evaluated(at, std::move(p));
        continue;
      }
    }
    // Best-effort jobs never hold a reservation nor block anyone.
    if (best_effort) waits_for_gpus = false;
    std::optional<Option> earliest;
    if (policy.backfill && reserved < policy.reservations && waits_for_gpus) {
      Evaluation full = placer.Evaluate(*job, timeline, policy, now);
      earliest = ChooseClass(placer, *job, full, timeline, policy, /*future=*/true).option;
    }
    if (earliest) {
      // The reservation is a hold on the time line: later jobs' filters avoid it.
      Placer::Occupy(timeline, *job, *earliest, earliest->start);
      p.reserved = std::make_shared<Option>(*earliest);
      ++reserved;
    } else if (!policy.backfill && policy.strict_order && blocked_by == 0 && waits_for_gpus) {
      blocked_by = job->id;
    }
    wait_evaluated(at, std::move(p));
  }

  plan.waiting.reserve(queue.size() - plan.placements.size());
  std::vector<std::pair<size_t, const Pending*>> waiting_looked_at;
  waiting_looked_at.reserve(pending.size());
  int position = 0;
  for (size_t at = 0; at < queue.size(); ++at) {
    if (slot[at] == kPlaced) continue;
    ++position;
    if (slot[at] == kSkipped) {
      Waiting& w = plan.waiting.emplace_back();
      w.job = queue[at].id;
      w.queue_position = position;
      continue;
    }
    if (slot[at] == kNotConsidered) {
      Waiting& w = plan.waiting.emplace_back();  // (built in place: ~100,000 per pass)
      w.job = queue[at].id;
      w.queue_position = position;
      w.considered = false;
      continue;
    }
    Pending& p = pending[static_cast<size_t>(slot[at])];
    if (p.quota_reason_later) {
      Placer::AcceptableClassesInto(*p.job, snapshot, &stage.classes);
      stage.furthest = p.furthest;
      stage.furthest_class = p.furthest_class;
      p.reason = WaitReason(*p.job, stage, timeline, WaitContext{});
    }
    waiting_looked_at.push_back({plan.waiting.size(), &p});
    Waiting& w = plan.waiting.emplace_back();  // (in place: most reasons are empty)
    w.job = queue[at].id;
    w.queue_position = position;
    if (!p.reason.empty()) w.reason = std::move(p.reason);
  }
  if (plan.waiting.size() > waiting_looked_at.size() && policy.explain_waiting) {
    plan.not_considered = "waiting: not yet considered (queue longer than " +
                          std::to_string(policy.max_jobs_per_pass) + ")";
  }
  EstimateStarts(placer, waiting_looked_at, timeline, policy, &plan);
  return plan;
}

}  // namespace

Plan Schedule(const Snapshot& snapshot, const Policy& policy_in, Millis now) {
  const Policy policy = Corrected(policy_in);
  Timeline timeline(snapshot, policy, now);
  return Pass(snapshot, policy, now, timeline);
}

Plan Schedule(const Snapshot& snapshot, const Policy& policy_in, Millis now, Timeline& timeline) {
  return Pass(snapshot, Corrected(policy_in), now, timeline);
}

}  // namespace gpuaas::sched
