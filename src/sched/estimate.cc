#include "sched/estimate.h"

#include <algorithm>

#include "sched/class_choice.h"
#include "sched/placer.h"
#include "sched/scheduler.h"
#include "sched/walltime.h"

namespace gpuaas::sched {
namespace {

struct Outcome {
  Millis start = 0;
  NodeId node = 0;
  std::string gpu_class;
  int position = 0;
  std::string reason;
};

Outcome RunWith(const Snapshot& base, const Policy& policy, const JobView& job, Millis now) {
  Snapshot s = base;
  s.queued.push_back(job);
  Plan plan = Schedule(s, policy, now);
  Outcome out;
  for (const Placement& p : plan.placements) {
    if (p.job != job.id) continue;
    out.start = now;
    out.node = p.node;
    out.gpu_class = p.gpu_class;
    out.reason = p.reason.empty() ? "free now" : p.reason;
    return out;
  }
  for (const Waiting& w : plan.waiting) {
    if (w.job != job.id) continue;
    out.start = w.estimated_start;
    out.position = w.queue_position;
    out.reason = w.reason;
  }
  return out;
}

}  // namespace

Estimate EstimateJob(const Snapshot& snapshot, const Policy& policy, const JobView& job_in,
                     Millis now) {
  JobView job = job_in;
  JobId max_id = 0;
  for (const JobView& j : snapshot.queued) max_id = std::max(max_id, j.id);
  for (const RunningView& r : snapshot.running) max_id = std::max(max_id, r.id);
  if (job.id <= 0 || job.id <= max_id) job.id = max_id + 1;
  if (job.submitted_at == 0) job.submitted_at = now;
  const int64_t stated = job.walltime_s > 0 ? job.walltime_s : policy.default_walltime_s;

  Estimate est;
  Outcome main = RunWith(snapshot, policy, job, now);
  est.start = main.start;
  est.node = main.node;
  est.gpu_class = main.gpu_class;
  est.queue_position = main.position;
  est.reason = main.reason;

  std::optional<size_t> best;
  for (const std::string& cls : Placer::AcceptableClasses(job, snapshot)) {
    JobView one = job;
    one.gpu_types = {cls};
    one.allow_fallback = false;
    one.walltime_s = StretchS(stated, job, cls, snapshot);  // the limit it would get there
    one.speeds.clear();
    Outcome o = RunWith(snapshot, policy, one, now);
    EstimateAlternative alt;
    alt.gpu_class = cls;
    alt.start = o.start;
    alt.node = o.node;
    alt.reason = o.reason;
    alt.queue_position = o.position;
    int64_t run = ExpectedOnClassS(stated, job, cls, snapshot);
    alt.end = o.start == 0 ? 0 : AddSeconds(o.start, run);
    alt.cost = ClassCost(snapshot, cls, job.gpus, run);
    est.alternatives.push_back(alt);
    if (alt.end != 0 && (!best || alt.end < est.alternatives[*best].end)) {
      best = est.alternatives.size() - 1;
    }
  }
  // The class: the one it would start on now, else the earliest expected completion.
  const EstimateAlternative* chosen = nullptr;
  for (const EstimateAlternative& a : est.alternatives) {
    if (!est.gpu_class.empty() && a.gpu_class == est.gpu_class) chosen = &a;
  }
  if (!chosen && best) chosen = &est.alternatives[*best];
  if (chosen) {
    est.gpu_class = chosen->gpu_class;
    if (est.start == 0) est.start = chosen->start;
    if (est.start != 0 && chosen->start != 0) est.end = est.start + (chosen->end - chosen->start);
    est.cost = chosen->cost;
  }
  return est;
}

}  // namespace gpuaas::sched
