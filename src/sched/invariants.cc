#include "sched/invariants.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>

namespace gpuaas::sched {
namespace {

std::string JobName(JobId id) { return "job " + std::to_string(id); }

bool AcceptsClass(const JobView& job, const Snapshot& s, const std::string& cls) {
  if (!job.gpu_types.empty()) {
    return std::find(job.gpu_types.begin(), job.gpu_types.end(), cls) != job.gpu_types.end();
  }
  if (s.classes.empty()) return true;
  return std::any_of(s.classes.begin(), s.classes.end(),
                     [&](const ClassInfo& c) { return c.name == cls; });
}

}  // namespace

Status CheckInvariants(const Snapshot& before, const Plan& plan) {
  std::map<JobId, const JobView*> queued;
  for (const JobView& j : before.queued) queued.emplace(j.id, &j);
  std::map<NodeId, const NodeView*> nodes;
  for (const NodeView& n : before.nodes) nodes.emplace(n.id, &n);

  std::set<std::pair<NodeId, int>> taken;  // devices in use: running, then this plan
  std::set<JobId> running;
  std::map<std::pair<EntityId, std::string>, int> used;
  for (const RunningView& r : before.running) {
    running.insert(r.id);
    used[{r.entity, r.gpu_class}] += static_cast<int>(r.devices.size());
    for (int d : r.devices) taken.insert({r.node, d});
  }
  for (const NodeView& n : before.nodes) {
    for (const DeviceView& d : n.devices) {
      if (d.used_by != 0) taken.insert({n.id, d.index});
    }
  }

  std::set<JobId> placed;
  std::map<std::pair<EntityId, std::string>, int> added;
  for (const Placement& p : plan.placements) {
    const std::string who = JobName(p.job);
    auto q = queued.find(p.job);
    if (q == queued.end()) return Internal(who + " is placed but not queued");
    if (running.contains(p.job)) return Internal(who + " is placed but already running");
    if (!placed.insert(p.job).second) return Internal(who + " is placed twice");
    const JobView& job = *q->second;
    if (!AcceptsClass(job, before, p.gpu_class)) {
      return Internal(who + " does not accept class " + p.gpu_class);
    }
    std::vector<Slice> slices = p.slices;
    if (slices.empty()) {
      slices.push_back({p.node, p.devices});
    } else if (slices.front().node != p.node || slices.front().devices != p.devices) {
      return Internal(who + ": node and devices differ from the first slice");
    }
    size_t total = 0;
    std::set<NodeId> slice_nodes;
    for (const Slice& slice : slices) {
      total += slice.devices.size();
      if (!slice_nodes.insert(slice.node).second) {
        return Internal(who + " has two slices on node " + std::to_string(slice.node));
      }
      auto n = nodes.find(slice.node);
      if (n == nodes.end()) {
        return Internal(who + " is placed on unknown node " + std::to_string(slice.node));
      }
      const NodeView& node = *n->second;
      if (!node.schedulable) return Internal(who + " is placed on unschedulable node " + node.name);
      for (const auto& [key, value] : job.node_selector) {
        auto l = node.labels.find(key);
        if (l == node.labels.end() || l->second != value) {
          return Internal(who + " is placed on " + node.name + " without label " + key + "=" +
                          value);
        }
      }
      for (int index : slice.devices) {
        const std::string dev = node.name + " device " + std::to_string(index);
        auto d = std::find_if(node.devices.begin(), node.devices.end(),
                              [&](const DeviceView& v) { return v.index == index; });
        if (d == node.devices.end()) return Internal(who + " gets missing " + dev);
        if (!d->healthy) return Internal(who + " gets unhealthy " + dev);
        if (d->gpu_class != p.gpu_class) {
          return Internal(who + " gets " + dev + " of class " + d->gpu_class + ", not " +
                          p.gpu_class);
        }
        if (!taken.insert({node.id, index}).second) return Internal(who + " gets busy " + dev);
      }
    }
    if (static_cast<int>(total) != job.gpus) {
      return Internal(who + " asks " + std::to_string(job.gpus) + " GPUs but gets " +
                      std::to_string(total));
    }
    if (slices.size() > 1) {
      // A gang only when no node of the class could hold the job.
      for (const NodeView& node : before.nodes) {
        int count = 0;
        for (const DeviceView& d : node.devices) count += d.gpu_class == p.gpu_class ? 1 : 0;
        if (count >= job.gpus) {
          return Internal(who + " is a gang although node " + node.name + " could hold it");
        }
      }
    }
    added[{job.entity, p.gpu_class}] += job.gpus;
  }

  for (const auto& [key, count] : added) {
    auto e = before.quota_limit.find(key.first);
    if (e == before.quota_limit.end()) continue;
    auto c = e->second.find(key.second);
    if (c == e->second.end()) continue;
    int total = used[key] + count;
    if (total > c->second) {
      return Internal("entity " + std::to_string(key.first) + " would use " +
                      std::to_string(total) + " " + key.second + " over its limit of " +
                      std::to_string(c->second));
    }
  }

  // Preemptions: only running jobs that are not already stopping, each once, for a queued job,
  // never a job within its entity's guarantee (running totals in start order, as Preemptor).
  std::map<std::pair<EntityId, std::string>, std::vector<const RunningView*>> by_quota;
  std::map<JobId, const RunningView*> running_views;
  for (const RunningView& r : before.running) {
    running_views.emplace(r.id, &r);
    if (!r.stopping) by_quota[{r.entity, r.gpu_class}].push_back(&r);
  }
  std::set<JobId> borrowing;
  for (auto& [key, jobs] : by_quota) {
    std::sort(jobs.begin(), jobs.end(), [](const RunningView* a, const RunningView* b) {
      return std::tie(a->started_at, a->id) < std::tie(b->started_at, b->id);
    });
    int guarantee = 0;
    if (auto e = before.quota_guarantee.find(key.first); e != before.quota_guarantee.end()) {
      if (auto c = e->second.find(key.second); c != e->second.end()) guarantee = c->second;
    }
    int total = 0;
    for (const RunningView* r : jobs) {
      total += static_cast<int>(r->devices.size());
      if (total > guarantee) borrowing.insert(r->id);
    }
  }
  std::set<JobId> preempted;
  for (const Preemption& v : plan.preemptions) {
    const std::string who = JobName(v.job);
    auto r = running_views.find(v.job);
    if (r == running_views.end()) return Internal(who + " is preempted but not running");
    if (r->second->stopping) return Internal(who + " is preempted again while stopping");
    if (!preempted.insert(v.job).second) return Internal(who + " is preempted twice");
    if (!queued.contains(v.for_job)) {
      return Internal(who + " is preempted for " + JobName(v.for_job) + ", which is not queued");
    }
    if (placed.contains(v.for_job)) {
      return Internal(who + " is preempted for " + JobName(v.for_job) + ", placed already");
    }
    if (!borrowing.contains(v.job)) {
      return Internal(who + " is preempted although within its entity's guarantee");
    }
    if (v.reason.empty()) return Internal(who + " is preempted without a reason");
  }

  std::set<JobId> waiting;
  int position = 0;
  for (const Waiting& w : plan.waiting) {
    const std::string who = JobName(w.job);
    if (!queued.contains(w.job)) return Internal(who + " is waiting but not queued");
    if (placed.contains(w.job)) return Internal(who + " is both placed and waiting");
    if (!waiting.insert(w.job).second) return Internal(who + " is waiting twice");
    if (w.queue_position != ++position) {
      return Internal(who + " has queue position " + std::to_string(w.queue_position) +
                      ", expected " + std::to_string(position));
    }
  }
  for (const auto& [id, job] : queued) {
    if (!placed.contains(id) && !waiting.contains(id)) {
      return Internal(JobName(id) + " is neither placed nor waiting");
    }
  }
  return Status::Ok();
}

}  // namespace gpuaas::sched
