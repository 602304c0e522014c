// Estimates for a job that is not submitted: where and when it would start on each acceptable
// class, when it would end, and what it would cost. Runs the same scheduler on the current
// snapshot with the hypothetical job added at the back of the queue (see platform.h for the
// threading contract). Nothing is changed.
#include <algorithm>

#include "base/money.h"
#include "sched/estimate.h"
#include "sched/walltime.h"
#include "state/platform.h"

namespace gpuaas {

Result<EntityId> Platform::EstimateEntity(const Principal& p, const std::string& name) const {
  if (p.agent) return PermissionDenied("agents do not estimate jobs");
  EntityId entity = p.entity;
  if (!name.empty()) {
    auto it = entity_by_name_.find(name);
    if (it == entity_by_name_.end() || !Visible(p, it->second)) {
      return NotFound("entity '" + name + "' does not exist");
    }
    entity = it->second;
  }
  if (entity == 0) return InvalidArgument("a platform-admin names the entity (\"entity\": NAME)");
  return entity;
}

Result<JobEstimate> Platform::Estimate(const Principal& p, const JobRequest& req) {
  GPUAAS_ASSIGN_OR_RETURN(const EntityId entity, EstimateEntity(p, req.entity));
  JobRequest checked = req;
  if (checked.command.empty()) checked.command = {"true"};  // an estimate needs no command
  GPUAAS_RETURN_IF_ERROR(CheckJobRequest(checked, entity));

  const Millis now = clock_.Now();
  const int64_t walltime = req.walltime_s > 0 ? req.walltime_s : config_.default_walltime_s;
  std::vector<std::string> classes = req.gpu_types;
  if (classes.empty()) {
    for (const auto& c : config_.classes) classes.push_back(c.name);
  }
  if (!req.allow_fallback) classes.resize(1);

  // The scheduler's own estimate (sched::EstimateJob): one pass per acceptable class with the
  // job added at the back of the queue, its walltime stretched on a slower class.
  const sched::Snapshot base = BuildSnapshot(now);
  sched::Policy policy = ServerPolicy();
  policy.max_estimates = static_cast<int>(std::min<size_t>(base.queued.size() + 1, 100'000));
  sched::JobView v{0, entity, req.gpus, classes, 0, now, walltime};
  v.priority_class = req.priority_class;
  v.node_selector = req.node_selector;
  v.single_node = req.kind == JobKind::kNotebook;
  const sched::Estimate est = sched::EstimateJob(base, policy, v, now);

  JobEstimate out;
  out.entity = entity;
  out.gpus = req.gpus;
  for (const sched::EstimateAlternative& alt : est.alternatives) {
    ClassEstimate e;
    e.gpu_class = alt.gpu_class;
    // The walltime is stated on the first class; a slower class stretches it.
    e.runtime_s = sched::ExpectedOnClassS(walltime, v, alt.gpu_class, base);
    e.hourly_rate = prices_.HourlyRate(alt.gpu_class);
    e.cost = CostOf(static_cast<int64_t>(req.gpus) * e.runtime_s * 1000, e.hourly_rate);
    e.start = alt.start;
    if (alt.node != 0) {
      if (const Node* n = FindNodeById(alt.node)) e.node = n->name;
    }
    e.queue_position = alt.queue_position;
    e.reason = alt.reason;
    if (e.start != 0) e.end = e.start + e.runtime_s * 1000;
    out.options.push_back(std::move(e));
  }
  // The best option: the earliest expected end; unknown starts last; ties keep the order asked.
  out.best = 0;
  for (size_t i = 1; i < out.options.size(); ++i) {
    const ClassEstimate& b = out.options[out.best];
    const ClassEstimate& c = out.options[i];
    if (c.end != 0 && (b.end == 0 || c.end < b.end)) out.best = i;
  }
  return out;
}

}  // namespace gpuaas
