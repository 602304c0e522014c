#include "sched/preemption.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "sched/filters.h"
#include "sched/reasons.h"
#include "sched/walltime.h"

namespace gpuaas::sched {
namespace {

std::string JobList(const std::vector<Preemption>& v) {
  std::string out = v.size() == 1 ? "job " : "jobs ";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i].job);
  return out;
}

struct NodeOption {
  // Lower is better: the highest victim level, GPUs stopped, victims, node position.
  std::tuple<int, int, size_t, size_t> cost;
  std::vector<const RunningView*> victims;
  std::vector<int> devices;
};

}  // namespace

Preemptor::Preemptor(const Snapshot& snapshot, const Policy& policy)
    : snapshot_(snapshot),
      policy_(policy),
      max_victim_level_(std::numeric_limits<int>::min()),
      on_node_(snapshot.nodes.size()) {
  std::map<NodeId, size_t> node_pos;
  for (size_t n = 0; n < snapshot.nodes.size(); ++n) node_pos[snapshot.nodes[n].id] = n;
  std::map<std::pair<EntityId, std::string>, std::vector<const RunningView*>> by_quota;
  for (const RunningView& r : snapshot.running) {
    if (auto it = node_pos.find(r.node); it != node_pos.end()) on_node_[it->second].push_back(&r);
    if (r.stopping) {
      stopping_gpus_[{r.entity, r.gpu_class}] += static_cast<int>(r.devices.size());
    } else {
      by_quota[{r.entity, r.gpu_class}].push_back(&r);
    }
  }
  for (auto& [key, jobs] : by_quota) {
    std::sort(jobs.begin(), jobs.end(), [](const RunningView* a, const RunningView* b) {
      return std::tie(a->started_at, a->id) < std::tie(b->started_at, b->id);
    });
    int total = 0, guarantee = Guarantee(key.first, key.second);
    for (const RunningView* r : jobs) {
      total += static_cast<int>(r->devices.size());
      if (total > guarantee) {
        borrowing_.insert(r->id);
        if (r->preemptible) {
          max_victim_level_ =
              std::max(max_victim_level_, PriorityLevel(policy_, r->priority_class));
        }
      }
    }
  }
}

int Preemptor::Guarantee(EntityId entity, const std::string& gpu_class) const {
  auto e = snapshot_.quota_guarantee.find(entity);
  if (e == snapshot_.quota_guarantee.end()) return 0;
  auto c = e->second.find(gpu_class);
  return c == e->second.end() ? 0 : std::max(0, c->second);
}

std::optional<PreemptionDecision> Preemptor::Decide(const JobView& job,
                                                    const std::vector<std::string>& classes,
                                                    const Timeline& timeline) {
  const Millis now = timeline.now();
  const int level = PriorityLevel(policy_, job.priority_class);
  const bool by_priority =
      policy_.preempt_lower_priority && !IsBestEffort(policy_, job.priority_class);
  for (const std::string& cls : classes) {
    // GPUs the entity holds now (running, minus those stopping, plus this pass's placements).
    int used =
        timeline.QuotaPeak(job.entity, cls, now, now + 1) -
        (stopping_gpus_.contains({job.entity, cls}) ? stopping_gpus_.at({job.entity, cls}) : 0);
    int guarantee = Guarantee(job.entity, cls);
    bool by_reclaim = policy_.reclaim && guarantee > 0 && used + job.gpus <= guarantee;
    if (!by_reclaim && !by_priority) continue;
    // A reclaim is judged anew each time (the entity's usage matters); a priority search that
    // failed for fewer GPUs at this level fails again.
    auto failed = failed_.find({cls, level});
    if (!by_reclaim && failed != failed_.end() && failed->second <= job.gpus) continue;
    std::optional<int> limit = timeline.QuotaLimit(job.entity, cls);
    if (limit && used + job.gpus > *limit) continue;
    Ask ask{&job, cls, WalltimeOnClassS(job, cls, snapshot_, policy_), now};
    std::optional<NodeOption> best;
    for (size_t n = 0; n < snapshot_.nodes.size(); ++n) {
      const NodeView& node = snapshot_.nodes[n];
      if (!node.schedulable || !MatchesSelector(job, node)) continue;
      std::vector<int> free = UsableDevices(ask, n, timeline, now);
      if (static_cast<int>(free.size()) >= job.gpus) continue;  // fits: nothing to preempt
      auto healthy = [&](int index) {
        int d = timeline.DevicePos(n, index);
        return d >= 0 && node.devices[d].healthy && node.devices[d].gpu_class == cls;
      };
      // Jobs already stopping for this claimer (or for nobody in particular): wait for them.
      int stopping = 0;
      std::vector<const RunningView*> victims;
      for (const RunningView* r : on_node_[n]) {
        if (r->gpu_class != cls || chosen_.contains(r->id)) continue;
        if (r->stopping) {
          if (r->stopping_for == 0 || r->stopping_for == job.id) {
            stopping +=
                static_cast<int>(std::count_if(r->devices.begin(), r->devices.end(), healthy));
          }
          continue;
        }
        if (!borrowing_.contains(r->id)) continue;  // within its entity's guarantee
        bool reclaimable = by_reclaim && r->entity != job.entity;
        bool lower =
            by_priority && r->preemptible && PriorityLevel(policy_, r->priority_class) < level;
        if (reclaimable || lower) victims.push_back(r);
      }
      if (static_cast<int>(free.size()) + stopping >= job.gpus) {
        PreemptionDecision d;
        d.reason = "reclaiming " + std::to_string(job.gpus - static_cast<int>(free.size())) + " " +
                   cls + " GPUs on " + node.name + ": waiting for preempted jobs to stop";
        d.node_pos = n;
        d.gpu_class = cls;
        d.walltime_s = ask.walltime_s;
        return d;
      }
      // Best-effort and lower classes first, then fewer GPUs, then the most recently started.
      std::sort(victims.begin(), victims.end(), [&](const RunningView* a, const RunningView* b) {
        auto key = [&](const RunningView* r) {
          return std::make_tuple(PriorityLevel(policy_, r->priority_class), r->devices.size(),
                                 -r->started_at, -r->id);
        };
        return key(a) < key(b);
      });
      NodeOption o;
      o.devices = free;
      int max_level = 0, stopped = 0;
      for (const RunningView* r : victims) {
        if (static_cast<int>(o.devices.size()) >= job.gpus) break;
        o.victims.push_back(r);
        max_level = std::max(max_level, PriorityLevel(policy_, r->priority_class));
        stopped += static_cast<int>(r->devices.size());
        for (int index : r->devices) {
          if (healthy(index)) o.devices.push_back(index);
        }
      }
      if (static_cast<int>(o.devices.size()) < job.gpus) continue;
      o.cost = {max_level, stopped, o.victims.size(), n};
      if (!best || o.cost < best->cost) best = std::move(o);
    }
    if (!best) {
      if (!by_reclaim) {
        int& f = failed_.try_emplace({cls, level}, job.gpus).first->second;
        f = std::min(f, job.gpus);
      }
      continue;
    }
    PreemptionDecision d;
    d.node_pos = std::get<3>(best->cost);
    d.gpu_class = cls;
    d.walltime_s = ask.walltime_s;
    d.devices.assign(best->devices.begin(), best->devices.begin() + job.gpus);
    std::sort(d.devices.begin(), d.devices.end());
    bool any_reclaim = false;
    for (const RunningView* r : best->victims) {
      chosen_.insert(r->id);
      bool reclaim = by_reclaim && r->entity != job.entity;
      any_reclaim = any_reclaim || reclaim;
      std::string reason =
          reclaim ? "reclaimed: " + EntityName(snapshot_, job.entity) + " needs its guaranteed " +
                        std::to_string(guarantee) + " " + cls + "; " +
                        EntityName(snapshot_, r->entity) + " was borrowing"
                  : "preempted: job " + std::to_string(job.id) + " of priority class " +
                        (job.priority_class.empty() ? policy_.default_priority_class
                                                    : job.priority_class) +
                        " needs " + std::to_string(job.gpus) + " " + cls + "; this job's class " +
                        (r->priority_class.empty() ? policy_.default_priority_class
                                                   : r->priority_class) +
                        " is lower";
      d.preemptions.push_back({r->id, reason, job.id});
    }
    std::set<std::string> owners;
    for (const RunningView* r : best->victims) owners.insert(EntityName(snapshot_, r->entity));
    std::string from;
    for (const std::string& o : owners) from += (from.empty() ? "" : ", ") + o;
    int freed = 0;
    for (const RunningView* r : best->victims) freed += static_cast<int>(r->devices.size());
    d.reason = std::string(any_reclaim ? "reclaiming " : "preempting ") + std::to_string(freed) +
               " " + cls + " GPUs from " + from + " (" + JobList(d.preemptions) + ") on " +
               snapshot_.nodes[d.node_pos].name;
    return d;
  }
  return std::nullopt;
}

}  // namespace gpuaas::sched
