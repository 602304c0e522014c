#include "sched/placer.h"

#include <algorithm>
#include <functional>
#include <set>

#include "sched/best_fit.h"
#include "sched/filters.h"
#include "sched/walltime.h"

namespace gpuaas::sched {
namespace {

// A bound on the filters' fixed-point rounds; each round moves the start to a later hold end,
// so this is only reached with pathological holds (then the start is unknown).
constexpr int kMaxRounds = 64;

// Better option first: earlier start, earlier class, higher score, lower node id.
bool Better(const Option& a, const Option& b) {
  if (a.start != b.start) return a.start < b.start;
  if (a.class_rank != b.class_rank) return a.class_rank < b.class_rank;
  if (a.score != b.score) return a.score > b.score;
  return a.node < b.node;
}

}  // namespace

Placer::Placer(std::vector<std::unique_ptr<Filter>> filters, std::unique_ptr<Score> score,
               std::unique_ptr<DevicePicker> picker)
    : filters_(std::move(filters)),
      score_(std::move(score)),
      picker_(std::move(picker)),
      compact_picker_(dynamic_cast<const CompactPicker*>(picker_.get()) != nullptr),
      best_fit_score_(dynamic_cast<const BestFitScore*>(score_.get()) != nullptr) {}

Placer Placer::Default() {
  return Placer(DefaultFilters(), std::make_unique<BestFitScore>(),
                std::make_unique<CompactPicker>());
}

std::vector<std::string> Placer::AcceptableClasses(const JobView& job, const Snapshot& snapshot) {
  std::vector<std::string> out;
  AcceptableClassesInto(job, snapshot, &out);
  return out;
}

void Placer::AcceptableClassesInto(const JobView& job, const Snapshot& snapshot,
                                   std::vector<std::string>* out) {
  if (!job.gpu_types.empty()) {
    if (!job.allow_fallback) {
      out->assign(job.gpu_types.begin(), job.gpu_types.begin() + 1);
    } else {
      out->assign(job.gpu_types.begin(), job.gpu_types.end());
    }
    return;
  }
  out->clear();
  for (const ClassInfo& c : snapshot.classes) out->push_back(c.name);
  if (!out->empty()) return;
  std::set<std::string> seen;
  for (const NodeView& n : snapshot.nodes) {
    for (const DeviceView& d : n.devices) {
      if (seen.insert(d.gpu_class).second) out->push_back(d.gpu_class);
    }
  }
}

Millis Placer::EarliestOn(const Ask& ask, size_t node_pos, const Timeline& timeline,
                          Millis not_before, Stage* failed) const {
  *failed = Stage::kFits;
  Millis t = not_before;
  for (int round = 0; round < kMaxRounds; ++round) {
    Millis moved = t;
    for (const auto& f : filters_) {
      Millis e = f->Earliest(ask, node_pos, timeline, moved);
      if (e > ask.horizon) e = kNever;
      if (round == 0 && e > not_before && *failed == Stage::kFits) *failed = f->stage();
      if (e == kNever) return kNever;
      moved = std::max(moved, e);
    }
    if (moved == t) return t;
    t = moved;
  }
  return kNever;
}

Millis Placer::EarliestOnExact(const Ask& ask, Millis bound, const Timeline& timeline,
                               Millis not_before, Stage* failed) {
  // EarliestOn's rounds over the default chain, where the static filters pass (checked from the
  // index before) and the device filter's answer from t is max(t, bound).
  const QuotaFilter quota;
  *failed = Stage::kFits;
  Millis t = not_before;
  for (int round = 0; round < kMaxRounds; ++round) {
    Millis moved = t;
    // One filter's answer from `moved`, as EarliestOn takes it; false = never.
    auto step = [&](Millis e, Stage stage) {
      if (e > ask.horizon) e = kNever;
      if (round == 0 && e > not_before && *failed == Stage::kFits) *failed = stage;
      moved = std::max(moved, e);
      return e != kNever;
    };
    if (!step(quota.Earliest(ask, 0, timeline, moved), Stage::kQuota)) return kNever;
    if (!step(std::max(moved, bound), Stage::kBusy)) return kNever;
    if (moved == t) return t;
    t = moved;
  }
  return kNever;
}

bool Placer::IsGang(const JobView& job, const std::string& gpu_class, const Timeline& timeline) {
  int c = timeline.ClassIndex(gpu_class);
  if (c < 0) return false;
  int largest = timeline.Sizes(c).any;
  return largest > 0 && job.gpus > largest;
}

void Placer::Occupy(Timeline& timeline, const JobView& job, const Option& o, Millis start) {
  Millis end = AddSeconds(start, o.walltime_s);
  if (o.gang.empty()) {
    timeline.Occupy(o.node_pos, o.devices, job.entity, o.gpu_class, start, end);
    return;
  }
  for (const auto& [node_pos, devices] : o.gang) {
    timeline.Occupy(node_pos, devices, job.entity, o.gpu_class, start, end);
  }
}

Evaluation Placer::Evaluate(const JobView& job, const Timeline& timeline, const Policy& policy,
                            Millis not_before, bool find_earliest, int only_class) const {
  Evaluation ev;
  EvaluateInto(job, timeline, policy, not_before, find_earliest, only_class, &ev);
  return ev;
}

void Placer::EvaluateInto(const JobView& job, const Timeline& timeline, const Policy& policy,
                          Millis not_before, bool find_earliest, int only_class,
                          Evaluation* out) const {
  Evaluation& ev = *out;
  const Snapshot& snapshot = timeline.snapshot();
  ev.now.reset();
  ev.earliest.reset();
  ev.furthest = Stage::kTooBig;
  ev.furthest_class.clear();
  AcceptableClassesInto(job, snapshot, &ev.classes);
  ev.now_by_class.assign(ev.classes.size(), std::nullopt);
  ev.earliest_by_class.assign(ev.classes.size(), std::nullopt);
  bool any_stage = false;
  // On a class whose nodes are all smaller than the job, it is a multi-node gang (whole nodes),
  // whatever its other classes: accepting one more class never takes a placement away, and the
  // estimate, one class at a time, says the same (docs/adr/0012). Not for a single-node job.
  for (size_t rank = 0; rank < ev.classes.size(); ++rank) {
    if (only_class >= 0 && rank != static_cast<size_t>(only_class)) continue;
    if (job.single_node && IsGang(job, ev.classes[rank], timeline)) {
      if (!any_stage) {
        ev.furthest = Stage::kTooBig;
        ev.furthest_class = ev.classes[rank];
        any_stage = true;
      }
      continue;
    }
    EvaluateClass(job, rank, timeline, policy, not_before, find_earliest, ev, any_stage);
  }
  if (ev.classes.empty()) ev.furthest_class.clear();
}

void Placer::EvaluateClass(const JobView& job, size_t rank, const Timeline& timeline,
                           const Policy& policy, Millis not_before, bool find_earliest,
                           Evaluation& ev, bool& any_stage) const {
  const Snapshot& snapshot = timeline.snapshot();
  Ask ask{&job, ev.classes[rank], WalltimeOnClassS(job, ev.classes[rank], snapshot, policy),
          find_earliest ? kNever : not_before};
  ask.class_index = timeline.ClassIndex(ask.gpu_class);
  // (IsGang, with the class index at hand.)
  const int largest = ask.class_index >= 0 ? timeline.Sizes(ask.class_index).any : 0;
  if (largest > 0 && job.gpus > largest) {
    EvaluateGang(ask, rank, timeline, not_before, find_earliest, ev, any_stage);
    return;
  }
  std::optional<Option>& now_c = ev.now_by_class[rank];
  std::optional<Option>& earliest_c = ev.earliest_by_class[rank];
  if (!find_earliest && not_before == timeline.now() && timeline.Unfiltered(job)) {
    NowFast(ask, rank, timeline, ev, any_stage);
    return;
  }
  const int c = ask.class_index;
  const int g = job.gpus;
  // An earliest search from now on this class has the same answer for every job of the same
  // size, walltime and quota (the job's other fields play no part), until a hold of the class
  // changes: the time line remembers it.
  const bool memo =
      find_earliest && not_before == timeline.now() && timeline.Unfiltered(job) && c >= 0;
  const EntityId quota_entity = timeline.QuotaLimit(job.entity, ask.gpu_class) ? job.entity : 0;
  if (memo) {
    if (const Timeline::EarliestMemo* m =
            timeline.FindEarliest(c, g, ask.walltime_s, quota_entity)) {
      if (m->reached && (!any_stage || static_cast<Stage>(m->stage) > ev.furthest)) {
        ev.furthest = static_cast<Stage>(m->stage);
        ev.furthest_class = ask.gpu_class;
        any_stage = true;
      }
      if (m->found) {
        Option o{m->start,   ask.gpu_class,  rank,    m->node_pos, snapshot.nodes[m->node_pos].id,
                 m->devices, ask.walltime_s, m->score};
        earliest_c = o;
        if (o.start == not_before) now_c = o;
      }
      if (earliest_c && (!ev.earliest || Better(*earliest_c, *ev.earliest)))
        ev.earliest = earliest_c;
      if (now_c && (!ev.now || Better(*now_c, *ev.now))) ev.now = now_c;
      return;
    }
  }
  Timeline::EarliestMemo found;
  auto reach = [&](Stage stage) {
    if (!found.reached || static_cast<int>(stage) > found.stage) {
      found.reached = true;
      found.stage = static_cast<int>(stage);
    }
    if (!any_stage || stage > ev.furthest) {
      ev.furthest = stage;
      ev.furthest_class = ask.gpu_class;
      any_stage = true;
    }
  };
  // The static filters from the index (labels, size, schedulable, health), without running
  // them; for an earliest-start search, the remaining nodes in order of a lower bound on their
  // start, so that the search stops at the first node that cannot beat the best so far.
  auto quick_stage = [&](size_t n) {
    const NodeView& node = snapshot.nodes[n];
    return !MatchesSelector(job, node)           ? Stage::kLabels
           : c < 0 || timeline.CountOn(n, c) < g ? Stage::kTooBig
           : !node.schedulable                   ? Stage::kUnschedulable
           : timeline.HealthyOn(n, c) < g        ? Stage::kUnhealthy
                                                 : Stage::kFits;
  };
  auto bound_of = [&](size_t n) {
    Millis bound =
        not_before == timeline.now() ? timeline.CachedBound(n, c, g) : Timeline::kUnknownBound;
    if (bound == Timeline::kUnknownBound) {
      bool exact = false;
      bound = FreeBound(ask, n, timeline, not_before, &exact);
      if (not_before == timeline.now()) {
        timeline.CacheBound(n, c, g, bound);
        timeline.CacheExact(n, c, exact);
      }
    }
    return bound;
  };
  // Nodes are visited in order of (bound, position). A node that cannot start before the best
  // so far ends the search: neither can the rest (the stage of these nodes at not_before is
  // that of the ones seen, as quota does not depend on the node). Nor can a node whose bound is
  // the best's start when the best ranks at the score's ceiling, unless it has a lower id.
  const int64_t ceiling = score_->Ceiling(ask);
  auto stop_before = [&](Millis next_bound, size_t next) {
    if (!find_earliest || !earliest_c) return false;
    if (next_bound > earliest_c->start) return true;
    return earliest_c->score >= ceiling && next_bound == earliest_c->start &&
           snapshot.nodes[next].id > earliest_c->node;
  };
  auto visit = [&](Millis bound, size_t n) {
    Stage failed = Stage::kLabels;
    const Millis start =
        find_earliest && not_before == timeline.now() && timeline.CachedExact(n, c) == 1
            ? EarliestOnExact(ask, bound, timeline, not_before, &failed)
            : EarliestOn(ask, n, timeline, not_before, &failed);
    reach(failed);
    if (start == kNever) return;
    int64_t score = 0;
    const Timeline::FreeFromNow free = best_fit_score_ && not_before == timeline.now() && c >= 0
                                           ? timeline.FreeTimesFromNow(n, c)
                                           : Timeline::FreeFromNow{nullptr, 0, false};
    if (free.exact) {  // (each device stays free from its instant on: usable = free by start)
      score = -(std::upper_bound(free.at, free.at + free.count, start) - free.at);
    } else {
      score = score_->Rank(ask, n, timeline, start);
    }
    Option o{start, ask.gpu_class, rank, n, snapshot.nodes[n].id, {}, ask.walltime_s, score};
    bool is_now = start == not_before;
    bool better_earliest = !earliest_c || Better(o, *earliest_c);
    bool better_now = is_now && (!now_c || Better(o, *now_c));
    if (!better_earliest && !better_now) return;
    o.devices = picker_->Pick(ask, n, timeline, start);
    if (better_earliest) earliest_c = o;
    if (better_now) now_c = o;
  };
  Timeline::NodeOrder* kept_order = memo ? &timeline.NodeOrderOf(c, g) : nullptr;
  if (kept_order && !kept_order->built && ++kept_order->searches < 2) kept_order = nullptr;
  if (kept_order) {
    // From now without a selector, searched again: the time line keeps the nodes in order
    // between searches (only those whose holds changed are placed again).
    Timeline::NodeOrder& kept = *kept_order;
    if (!kept.built) {
      kept.bound.assign(snapshot.nodes.size(), Timeline::kOutOfOrder);
      for (size_t n = 0; n < snapshot.nodes.size(); ++n) {
        const Stage quick = quick_stage(n);
        if (quick != Stage::kFits) {
          kept.quick_stage = std::max(kept.quick_stage, static_cast<int>(quick));
          continue;
        }
        kept.bound[n] = bound_of(n);
        kept.order.insert({kept.bound[n], n});
      }
      kept.built = true;
    }
    for (size_t n : kept.dirty) {
      kept.bound[n] = bound_of(n);
      kept.order.insert({kept.bound[n], n});
    }
    kept.dirty.clear();
    if (kept.quick_stage >= 0) reach(static_cast<Stage>(kept.quick_stage));
    for (const auto& [bound, n] : kept.order) {
      if (stop_before(bound, n)) break;
      visit(bound, n);
    }
  } else {
    std::vector<std::pair<Millis, size_t>> order;
    for (size_t n = 0; n < snapshot.nodes.size(); ++n) {
      const Stage quick = quick_stage(n);
      if (quick != Stage::kFits) {
        reach(quick);
        continue;
      }
      order.push_back({find_earliest ? bound_of(n) : not_before, n});
    }
    // In order of the bound: a heap, popped only as far as the search goes (the bounds are
    // unique with the node, so the order is that of a full sort).
    const auto later = std::greater<std::pair<Millis, size_t>>();
    if (find_earliest) std::make_heap(order.begin(), order.end(), later);
    for (size_t left = order.size(); left > 0; --left) {
      if (find_earliest && stop_before(order.front().first, order.front().second)) break;
      if (find_earliest) std::pop_heap(order.begin(), order.begin() + left, later);
      const auto [bound, n] = find_earliest ? order[left - 1] : order[order.size() - left];
      visit(bound, n);
    }
  }
  if (memo) {
    if (earliest_c) {
      found.found = true;
      found.start = earliest_c->start;
      found.node_pos = earliest_c->node_pos;
      found.devices = earliest_c->devices;
      found.score = earliest_c->score;
    }
    timeline.RememberEarliest(c, g, ask.walltime_s, quota_entity, std::move(found));
  }
  if (earliest_c && (!ev.earliest || Better(*earliest_c, *ev.earliest))) ev.earliest = earliest_c;
  if (now_c && (!ev.now || Better(*now_c, *ev.now))) ev.now = now_c;
}

Millis Placer::FreeBound(const Ask& ask, size_t node_pos, const Timeline& timeline,
                         Millis not_before, bool* exact) {
  if (exact) *exact = true;
  // For each healthy device of the class, the first instant >= not_before it is free (holds
  // chained); the job needs ask.job->gpus of them free at once, so its start is no earlier than
  // the gpus-th smallest.
  const NodeView& node = timeline.snapshot().nodes[node_pos];
  const int c = ask.class_index >= 0 ? ask.class_index : timeline.ClassIndex(ask.gpu_class);
  const int k = ask.job->gpus;
  if (k < 1) return kNever;                      // (a pass never asks: it refuses such jobs first)
  if (not_before == timeline.now() && c >= 0) {  // the time line's, kept sorted
    const Timeline::FreeFromNow free = timeline.FreeTimesFromNow(node_pos, c);
    if (exact) *exact = free.exact;
    return free.count < k ? kNever : std::max(free.at[k - 1], not_before);  // (kPast: free now)
  }
  Millis firsts[64];
  int count = 0;
  std::vector<Millis> more;  // (only for a node with more than 64 devices of the class)
  for (size_t d = 0; d < node.devices.size(); ++d) {
    const DeviceView& dev = node.devices[d];
    if (!dev.healthy || timeline.DeviceClass(node_pos, d) != c) continue;
    bool later = false;
    const Millis t = Timeline::FreeFrom(timeline.DeviceHolds(node_pos, d), not_before, &later);
    if (later && exact) *exact = false;
    if (count < 64) {
      firsts[count++] = t;
    } else {
      more.push_back(t);
    }
  }
  if (more.empty()) {
    if (count < k) return kNever;
    std::nth_element(firsts, firsts + (k - 1), firsts + count);
    return firsts[k - 1];
  }
  more.insert(more.end(), firsts, firsts + count);
  if (static_cast<int>(more.size()) < k) return kNever;
  std::nth_element(more.begin(), more.begin() + (k - 1), more.end());
  return more[k - 1];
}

void Placer::NowFast(const Ask& ask, size_t rank, const Timeline& timeline, Evaluation& ev,
                     bool& any_stage) const {
  const Snapshot& snapshot = timeline.snapshot();
  const Millis now = timeline.now();
  const int g = ask.job->gpus;
  const int c = ask.class_index >= 0 ? ask.class_index : timeline.ClassIndex(ask.gpu_class);
  auto reach = [&](Stage stage) {
    if (!any_stage || stage > ev.furthest) {
      ev.furthest = stage;
      ev.furthest_class = ask.gpu_class;
      any_stage = true;
    }
  };
  if (c < 0) return reach(Stage::kTooBig);
  const Timeline::ClassSizes& sizes = timeline.Sizes(c);
  if (sizes.healthy < g) {
    return reach(sizes.schedulable >= g ? Stage::kUnhealthy
                 : sizes.any >= g       ? Stage::kUnschedulable
                                        : Stage::kTooBig);
  }
  QuotaFilter quota;
  if (quota.Earliest(ask, 0, timeline, now) != now) return reach(Stage::kQuota);
  // Clean nodes: the fewest clean devices that are enough (best fit), then the lowest id.
  std::optional<Option> best;
  bool from_bucket = false;
  for (int k = g; k <= timeline.MaxDevices(c); ++k) {
    const int first = timeline.FirstInBucket(c, k);
    if (first < 0) continue;
    const size_t n = static_cast<size_t>(first);
    best = Option{now, ask.gpu_class, rank, n, snapshot.nodes[n].id, {}, ask.walltime_s, -k};
    from_bucket = true;
    break;
  }
  // Tainted nodes (some device reserved later): the full filters.
  for (size_t n : timeline.Tainted(c)) {
    Stage failed = Stage::kLabels;
    if (EarliestOn(ask, n, timeline, now, &failed) != now) continue;
    Option o{now,
             ask.gpu_class,
             rank,
             n,
             snapshot.nodes[n].id,
             {},
             ask.walltime_s,
             score_->Rank(ask, n, timeline, now)};
    if (!best || Better(o, *best)) {
      best = o;
      from_bucket = false;
    }
  }
  if (!best) return reach(Stage::kBusy);
  reach(Stage::kFits);
  // On a node without future holds of the class, the devices usable now are its clean ones, and
  // none was released before now: CompactPicker takes the lowest.
  best->devices = compact_picker_ && from_bucket && !timeline.IsTainted(best->node_pos, c)
                      ? timeline.CleanDevices(best->node_pos, c, g)
                      : picker_->Pick(ask, best->node_pos, timeline, now);
  ev.now_by_class[rank] = best;
  ev.earliest_by_class[rank] = best;
  if (!ev.earliest || Better(*best, *ev.earliest)) ev.earliest = best;
  if (!ev.now || Better(*best, *ev.now)) ev.now = best;
}

std::optional<Option> Placer::GangAt(const Ask& ask, size_t rank, const Timeline& timeline,
                                     Millis start) const {
  const Snapshot& snapshot = timeline.snapshot();
  const int c = ask.class_index >= 0 ? ask.class_index : timeline.ClassIndex(ask.gpu_class);
  if (c < 0) return std::nullopt;
  std::vector<std::pair<int, size_t>> whole;  // (-free devices, node position)
  for (size_t n = 0; n < snapshot.nodes.size(); ++n) {
    const NodeView& node = snapshot.nodes[n];
    const int healthy = timeline.HealthyOn(n, c);
    if (healthy == 0 || !node.schedulable || !MatchesSelector(*ask.job, node)) continue;
    // From now, a node whose healthy devices of the class are all clean is wholly free, and an
    // untainted one with a device not clean has it held now; otherwise count the usable ones.
    const bool is_whole = start == timeline.now() && !timeline.IsTainted(n, c)
                              ? timeline.CleanOn(n, c) == healthy
                              : CountUsable(ask, n, timeline, start) == healthy;
    if (is_whole) whole.push_back({-healthy, n});
  }
  std::sort(whole.begin(), whole.end());
  Option o{start, ask.gpu_class, rank, 0, 0, {}, ask.walltime_s, 0};
  int needed = ask.job->gpus;
  for (const auto& [neg, n] : whole) {
    if (needed <= 0) break;
    std::vector<int> devices = UsableDevices(ask, n, timeline, start);
    if (static_cast<int>(devices.size()) > needed) devices.resize(needed);
    needed -= static_cast<int>(devices.size());
    o.gang.push_back({n, std::move(devices)});
  }
  if (needed > 0) return std::nullopt;
  o.node_pos = o.gang.front().first;
  o.node = snapshot.nodes[o.node_pos].id;
  o.devices = o.gang.front().second;
  o.score = -static_cast<int64_t>(o.gang.size());
  return o;
}

void Placer::EvaluateGang(const Ask& ask, size_t rank, const Timeline& timeline, Millis not_before,
                          bool find_earliest, Evaluation& ev, bool& any_stage) const {
  const Snapshot& snapshot = timeline.snapshot();
  const int c = ask.class_index >= 0 ? ask.class_index : timeline.ClassIndex(ask.gpu_class);
  // How far the gang gets, as the per-node filters would say for the cluster as a whole.
  int any = 0, labelled = 0, schedulable = 0, healthy = 0;
  if (c >= 0 && timeline.Unfiltered(*ask.job)) {  // the time line's totals
    const Timeline::ClassSizes& t = timeline.Totals(c);
    any = labelled = t.any;
    schedulable = t.schedulable;
    healthy = t.healthy;
  }
  for (size_t n = 0; c >= 0 && !timeline.Unfiltered(*ask.job) && n < snapshot.nodes.size(); ++n) {
    const NodeView& node = snapshot.nodes[n];
    const int count = timeline.CountOn(n, c);
    any += count;
    if (count == 0 || !MatchesSelector(*ask.job, node)) continue;
    labelled += count;
    if (!node.schedulable) continue;
    schedulable += count;
    healthy += timeline.HealthyOn(n, c);
  }
  const int g = ask.job->gpus;
  QuotaFilter quota;
  Stage stage = any < g                                                      ? Stage::kTooBig
                : labelled < g                                               ? Stage::kLabels
                : schedulable < g                                            ? Stage::kUnschedulable
                : healthy < g                                                ? Stage::kUnhealthy
                : quota.Earliest(ask, 0, timeline, not_before) != not_before ? Stage::kQuota
                                                                             : Stage::kBusy;
  std::optional<Option> now_option;
  // Whole free nodes now do not depend on the job (no selector, no reservation on the class to
  // weigh its walltime against): a gang that failed now fails for as many GPUs or more, until a
  // hold of the class changes.
  const bool memo =
      not_before == timeline.now() && timeline.Unfiltered(*ask.job) && timeline.Tainted(c).empty();
  if (stage == Stage::kBusy && !(memo && timeline.GangFailsNow(c, g))) {
    now_option = GangAt(ask, rank, timeline, not_before);
    if (!now_option && memo) timeline.RememberGangFailsNow(c, g);
  }
  if (now_option) stage = Stage::kFits;
  if (!any_stage || stage > ev.furthest) {
    ev.furthest = stage;
    ev.furthest_class = ask.gpu_class;
    any_stage = true;
  }
  if (now_option) {
    ev.now_by_class[rank] = now_option;
    ev.earliest_by_class[rank] = now_option;
  } else if (find_earliest && healthy >= g) {
    // Candidate starts: not_before and the hold ends on the class's healthy devices (of
    // labelled, schedulable nodes), ascending (bounded). Per node, its busy intervals (every
    // hold of those devices, by start); a node is whole over [t, t + walltime) when none
    // overlaps; GangAt builds the option at the first t where whole nodes hold enough GPUs.
    std::vector<Millis> ends;
    struct NodeBusy {
      int healthy = 0;
      std::vector<Hold> holds;  // by `from`
    };
    std::vector<NodeBusy> busy;
    for (size_t n = 0; n < snapshot.nodes.size(); ++n) {
      const NodeView& node = snapshot.nodes[n];
      const int h = timeline.HealthyOn(n, c);
      if (h == 0 || !node.schedulable || !MatchesSelector(*ask.job, node)) continue;
      NodeBusy b;
      b.healthy = h;
      for (size_t d = 0; d < node.devices.size(); ++d) {
        if (!node.devices[d].healthy || timeline.DeviceClass(n, d) != c) continue;
        for (const Hold& hold : timeline.DeviceHolds(n, d)) {
          ends.push_back(hold.until);
          b.holds.push_back(hold);
        }
      }
      std::sort(b.holds.begin(), b.holds.end(),
                [](const Hold& x, const Hold& y) { return x.from < y.from; });
      busy.push_back(std::move(b));
    }
    ends.push_back(not_before);
    std::erase_if(ends, [&](Millis t) { return t < not_before || t == kNever; });
    // The first 512 distinct instants, ascending, taken from a heap: the search usually ends
    // after a few, and the thousands of others are never sorted.
    std::make_heap(ends.begin(), ends.end(), std::greater<>());
    auto heap_end = ends.end();
    int tried = 0;
    Millis last = 0;
    while (heap_end != ends.begin() && tried < 512) {
      std::pop_heap(ends.begin(), heap_end, std::greater<>());
      --heap_end;
      const Millis t = *heap_end;
      if (tried > 0 && t == last) continue;
      last = t;
      ++tried;
      const Millis until = AddSeconds(t, ask.walltime_s);
      int free_gpus = 0;
      for (const NodeBusy& b : busy) {
        bool whole = true;
        for (const Hold& hold : b.holds) {
          if (hold.from >= until) break;
          if (t < hold.until) {
            whole = false;
            break;
          }
        }
        if (whole) free_gpus += b.healthy;
      }
      if (free_gpus < g) continue;
      if (quota.Earliest(ask, 0, timeline, t) != t) continue;
      if (auto o = GangAt(ask, rank, timeline, t)) {
        ev.earliest_by_class[rank] = o;
        break;
      }
    }
  }
  const auto& now_c = ev.now_by_class[rank];
  const auto& earliest_c = ev.earliest_by_class[rank];
  if (earliest_c && (!ev.earliest || Better(*earliest_c, *ev.earliest))) ev.earliest = earliest_c;
  if (now_c && (!ev.now || Better(*now_c, *ev.now))) ev.now = now_c;
}

}  // namespace gpuaas::sched
