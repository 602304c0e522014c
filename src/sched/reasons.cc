#include "sched/reasons.h"

namespace gpuaas::sched {
namespace {

std::string Plural(int n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string JoinOr(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i == 0 ? "" : " or ") + v[i];
  return out;
}

// Every node that could hold the job by its size failed on its labels: the job's node_selector,
// or a floor on the GPUs a job must ask for (NodeView::min_job_gpus).
std::string LabelsReason(const JobView& job, const std::vector<std::string>& classes) {
  std::string sel;
  for (const auto& [k, v] : job.node_selector) sel += (sel.empty() ? "" : ",") + k + "=" + v;
  if (sel.empty()) {
    return "the nodes of class " + JoinOr(classes) +
           " that could hold it are kept for jobs of more GPUs";
  }
  return "no node of class " + JoinOr(classes) + " has the labels " + sel;
}

}  // namespace

std::string EntityName(const Snapshot& snapshot, EntityId entity) {
  auto it = snapshot.entity_names.find(entity);
  if (it != snapshot.entity_names.end() && !it->second.empty()) return it->second;
  return "entity " + std::to_string(entity);
}

std::string WaitReason(const JobView& job, const Evaluation& ev, const Timeline& timeline,
                       const WaitContext& context) {
  const std::string n = std::to_string(job.gpus);
  const std::string gpus = job.gpus == 1 ? " GPU" : " GPUs";
  const std::string& cls = ev.furthest_class;
  if (ev.classes.empty()) return "no GPU class is configured";
  switch (ev.furthest) {
    case Stage::kLabels:
      return LabelsReason(job, ev.classes);
    case Stage::kTooBig:
      // The furthest stage over all nodes, nodes of other classes included: when a node of an
      // accepted class is big enough, it is its labels that keep the job off.
      for (const std::string& c : ev.classes) {
        const int ci = timeline.ClassIndex(c);
        if (ci >= 0 && timeline.Sizes(ci).any >= job.gpus) return LabelsReason(job, ev.classes);
      }
      return "no node has " + n + gpus + " of class " + JoinOr(ev.classes);
    case Stage::kUnschedulable:
      return "no schedulable node has " + n + gpus + " of class " + cls;
    case Stage::kUnhealthy:
      return "no schedulable node has " + n + " healthy" + gpus + " of class " + cls;
    case Stage::kQuota: {
      std::string entity = EntityName(timeline.snapshot(), job.entity);
      int limit = timeline.QuotaLimit(job.entity, cls).value_or(0);
      if (limit < job.gpus) {
        return "over quota: " + entity + "'s limit is " + std::to_string(limit) + " " + cls +
               ", the job asks " + n;
      }
      int used = timeline.QuotaPeak(job.entity, cls, timeline.now(), timeline.now() + 1);
      std::string out = "over quota: " + entity + " uses " + std::to_string(used) + " of its " +
                        std::to_string(limit) + " " + cls;
      // Room now, but not for the whole walltime: GPUs are reserved for a job ahead.
      if (used + job.gpus <= limit) out += ", and GPUs are reserved for a job ahead";
      return out;
    }
    case Stage::kBusy:
    case Stage::kFits:
      break;
  }
  // Waiting for GPUs (most waiting jobs): built in one string.
  std::string out;
  out.reserve(96);
  out.append("waiting for ").append(n).append(" ");
  if (!context.reserved_on.empty()) {
    out.append(context.reserved_class).append(gpus).append(": next in line, reserved on ");
    return out.append(context.reserved_on);
  }
  out.append(cls).append(gpus);
  if (context.blocked_by != 0) {
    return out.append(": behind job ")
        .append(std::to_string(context.blocked_by))
        .append(" (strict order)");
  }
  if (context.ahead_same_class > 0) {
    return out.append(": behind ").append(Plural(context.ahead_same_class, "job"));
  }
  return out.append(" to be released");
}

}  // namespace gpuaas::sched
