#include "sched/placer.h"

#include <algorithm>
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
    : filters_(std::move(filters)), score_(std::move(score)), picker_(std::move(picker)) {}

Placer Placer::Default() {
  return Placer(DefaultFilters(), std::make_unique<BestFitScore>(),
                std::make_unique<CompactPicker>());
}

std::vector<std::string> Placer::AcceptableClasses(const JobView& job, const Snapshot& snapshot) {
  if (!job.gpu_types.empty()) {
    if (!job.allow_fallback) return {job.gpu_types.front()};
    return job.gpu_types;
  }
  std::vector<std::string> out;
  for (const ClassInfo& c : snapshot.classes) out.push_back(c.name);
  if (!out.empty()) return out;
  std::set<std::string> seen;
  for (const NodeView& n : snapshot.nodes) {
    for (const DeviceView& d : n.devices) {
      if (seen.insert(d.gpu_class).second) out.push_back(d.gpu_class);
    }
  }
  return out;
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

Evaluation Placer::Evaluate(const JobView& job, const Timeline& timeline, const Policy& policy,
                            Millis not_before, bool find_earliest) const {
  Evaluation ev;
  const Snapshot& snapshot = timeline.snapshot();
  ev.classes = AcceptableClasses(job, snapshot);
  bool any_stage = false;
  for (size_t rank = 0; rank < ev.classes.size(); ++rank) {
    Ask ask{&job, ev.classes[rank], WalltimeOnClassS(job, ev.classes[rank], snapshot, policy),
            find_earliest ? kNever : not_before};
    for (size_t n = 0; n < snapshot.nodes.size(); ++n) {
      Stage failed = Stage::kTooBig;
      Millis start = EarliestOn(ask, n, timeline, not_before, &failed);
      if (!any_stage || failed > ev.furthest) {
        ev.furthest = failed;
        ev.furthest_class = ask.gpu_class;
        any_stage = true;
      }
      if (start == kNever) continue;
      Option o{start,
               ask.gpu_class,
               rank,
               n,
               snapshot.nodes[n].id,
               {},
               ask.walltime_s,
               score_->Rank(ask, n, timeline, start)};
      bool is_now = start == not_before;
      bool better_earliest = !ev.earliest || Better(o, *ev.earliest);
      bool better_now = is_now && (!ev.now || Better(o, *ev.now));
      if (!better_earliest && !better_now) continue;
      o.devices = picker_->Pick(ask, n, timeline, start);
      if (better_earliest) ev.earliest = o;
      if (better_now) ev.now = o;
    }
  }
  if (ev.classes.empty()) ev.furthest_class = "";
  return ev;
}

}  // namespace gpuaas::sched
