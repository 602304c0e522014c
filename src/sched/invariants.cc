#include "sched/invariants.h"

#include <algorithm>
#include <map>
#include <optional>
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

// Preemptions: only running jobs that are not already stopping, each once, for a queued job,
// never a job within its entity's guarantee (running totals in start order, as Preemptor).
template <typename FindQueued, typename IsPlaced>
Status CheckPreemptions(const Snapshot& before, const Plan& plan, FindQueued find_queued,
                        IsPlaced is_placed) {
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
    if (find_queued(v.for_job) == nullptr) {
      return Internal(who + " is preempted for " + JobName(v.for_job) + ", which is not queued");
    }
    if (is_placed(v.for_job)) {
      return Internal(who + " is preempted for " + JobName(v.for_job) + ", placed already");
    }
    if (!borrowing.contains(v.job)) {
      return Internal(who + " is preempted although within its entity's guarantee");
    }
    if (v.reason.empty()) return Internal(who + " is preempted without a reason");
  }

  return Status::Ok();
}

}  // namespace

Status CheckInvariants(const Snapshot& before, const Plan& plan) {
  // Run after every simulated pass: flat sorted vectors, not trees.
  std::vector<std::pair<JobId, const JobView*>> queued;  // by id; the first of duplicates
  queued.reserve(SeenCount(before));
  ForEachSeen(before, [&](const JobView& j) { queued.push_back({j.id, &j}); });
  std::stable_sort(queued.begin(), queued.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  queued.erase(std::unique(queued.begin(), queued.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; }),
               queued.end());
  // Position in `queued`, or queued.size() if the id is not queued.
  auto queued_at = [&](JobId id) -> size_t {
    auto it = std::lower_bound(queued.begin(), queued.end(),
                               std::pair<JobId, const JobView*>{id, nullptr},
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    return it != queued.end() && it->first == id ? static_cast<size_t>(it - queued.begin())
                                                 : queued.size();
  };
  auto find_queued = [&](JobId id) -> const JobView* {
    const size_t at = queued_at(id);
    return at < queued.size() ? queued[at].second : nullptr;
  };
  std::vector<std::pair<NodeId, size_t>> nodes;  // (id, position), by id
  nodes.reserve(before.nodes.size());
  for (size_t n = 0; n < before.nodes.size(); ++n) nodes.push_back({before.nodes[n].id, n});
  if (!std::is_sorted(nodes.begin(), nodes.end())) std::sort(nodes.begin(), nodes.end());
  // (Nodes numbered first, first + 1, ... in order: the position is the id's offset.)
  bool numbered = true;
  for (size_t n = 0; n < before.nodes.size() && numbered; ++n) {
    numbered = before.nodes[n].id == before.nodes[0].id + static_cast<NodeId>(n);
  }
  auto node_pos = [&](NodeId id) -> std::optional<size_t> {
    if (numbered) {
      if (before.nodes.empty() || id < before.nodes[0].id) return std::nullopt;
      const auto n = static_cast<size_t>(id - before.nodes[0].id);
      if (n >= before.nodes.size()) return std::nullopt;
      return n;
    }
    auto it = std::lower_bound(nodes.begin(), nodes.end(), std::pair<NodeId, size_t>{id, 0});
    if (it == nodes.end() || it->first != id) return std::nullopt;
    return it->second;
  };
  // Devices in use (running, then this plan), by node position and device position; running
  // jobs on unknown nodes or devices are kept aside.
  std::vector<size_t> base(before.nodes.size() + 1, 0);
  for (size_t n = 0; n < before.nodes.size(); ++n) {
    base[n + 1] = base[n] + before.nodes[n].devices.size();
  }
  std::vector<char> taken(base.back(), 0);
  // (A node whose devices are listed by index from 0: the position is the index.)
  std::vector<char> by_index(before.nodes.size(), 1);
  for (size_t n = 0; n < before.nodes.size(); ++n) {
    const std::vector<DeviceView>& devs = before.nodes[n].devices;
    for (size_t d = 0; d < devs.size() && by_index[n]; ++d) {
      by_index[n] = devs[d].index == static_cast<int>(d);
    }
  }
  auto dev_pos = [&](size_t n, int index) -> int {
    const std::vector<DeviceView>& devs = before.nodes[n].devices;
    if (by_index[n]) return index >= 0 && static_cast<size_t>(index) < devs.size() ? index : -1;
    for (size_t d = 0; d < devs.size(); ++d) {
      if (devs[d].index == index) return static_cast<int>(d);
    }
    return -1;
  };
  std::vector<JobId> running;
  running.reserve(before.running.size());
  for (const RunningView& r : before.running) {
    running.push_back(r.id);
    if (auto n = node_pos(r.node)) {
      for (int index : r.devices) {
        if (int d = dev_pos(*n, index); d >= 0) taken[base[*n] + d] = 1;
      }
    }
  }
  if (!std::is_sorted(running.begin(), running.end())) std::sort(running.begin(), running.end());
  for (size_t n = 0; n < before.nodes.size(); ++n) {
    for (size_t d = 0; d < before.nodes[n].devices.size(); ++d) {
      if (before.nodes[n].devices[d].used_by != 0) taken[base[n] + d] = 1;
    }
  }
  std::vector<char> placed_at(queued.size(), 0);  // by position in `queued`
  size_t placed = 0;
  std::map<std::pair<EntityId, std::string>, int> added;
  for (const Placement& p : plan.placements) {
    const std::string who = JobName(p.job);
    const size_t at = queued_at(p.job);
    if (at == queued.size()) return Internal(who + " is placed but not queued");
    const JobView* q = queued[at].second;
    if (std::binary_search(running.begin(), running.end(), p.job)) {
      return Internal(who + " is placed but already running");
    }
    if (placed_at[at]) return Internal(who + " is placed twice");
    placed_at[at] = 1;
    ++placed;
    const JobView& job = *q;
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
      auto n = node_pos(slice.node);
      if (!n) return Internal(who + " is placed on unknown node " + std::to_string(slice.node));
      const NodeView& node = before.nodes[*n];
      if (!node.schedulable) return Internal(who + " is placed on unschedulable node " + node.name);
      if (job.gpus < node.min_job_gpus) {
        return Internal(who + " (" + std::to_string(job.gpus) + " GPUs) is placed on " + node.name +
                        ", kept for jobs of at least " + std::to_string(node.min_job_gpus));
      }
      for (const auto& [key, value] : job.node_selector) {
        auto l = node.labels.find(key);
        if (l == node.labels.end() || l->second != value) {
          return Internal(who + " is placed on " + node.name + " without label " + key + "=" +
                          value);
        }
      }
      for (int index : slice.devices) {
        const int d = dev_pos(*n, index);
        auto dev = [&] { return node.name + " device " + std::to_string(index); };
        if (d < 0) return Internal(who + " gets missing " + dev());
        const DeviceView& v = node.devices[d];
        if (!v.healthy) return Internal(who + " gets unhealthy " + dev());
        if (v.gpu_class != p.gpu_class) {
          return Internal(who + " gets " + dev() + " of class " + v.gpu_class + ", not " +
                          p.gpu_class);
        }
        if (taken[base[*n] + d]) return Internal(who + " gets busy " + dev());
        taken[base[*n] + d] = 1;
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
    if (!before.quota_limit.empty()) added[{job.entity, p.gpu_class}] += job.gpus;
  }
  if (!added.empty()) {
    std::map<std::pair<EntityId, std::string>, int> used;
    for (const RunningView& r : before.running) {
      used[{r.entity, r.gpu_class}] += static_cast<int>(r.devices.size());
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
  }
  auto is_placed = [&](JobId id) {
    const size_t at = queued_at(id);
    return at < queued.size() && placed_at[at];
  };
  if (!plan.preemptions.empty()) {
    if (Status s = CheckPreemptions(before, plan, find_queued, is_placed); !s.ok()) return s;
  }

  // Waiting: queued, not placed, each once, in positions 1, 2, ... (marks by queued position).
  std::vector<char> seen(queued.size(), 0);
  size_t waiting = 0;
  int position = 0;
  for (const Waiting& w : plan.waiting) {
    const size_t at = queued_at(w.job);
    if (at == queued.size()) return Internal(JobName(w.job) + " is waiting but not queued");
    if (placed_at[at]) return Internal(JobName(w.job) + " is both placed and waiting");
    if (w.queue_position != ++position) {
      return Internal(JobName(w.job) + " has queue position " + std::to_string(w.queue_position) +
                      ", expected " + std::to_string(position));
    }
    char& mark = seen[at];
    if (mark) return Internal(JobName(w.job) + " is waiting twice");
    mark = 1;
    ++waiting;
  }
  // Every queued job is placed or waiting (both lists hold queued jobs only, each once).
  if (placed + waiting != queued.size()) {
    for (size_t i = 0; i < queued.size(); ++i) {
      if (!seen[i] && !placed_at[i]) {
        return Internal(JobName(queued[i].first) + " is neither placed nor waiting");
      }
    }
  }
  return Status::Ok();
}

}  // namespace gpuaas::sched
