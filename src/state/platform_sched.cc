// Scheduling passes of the Platform: build a snapshot, run the pure scheduler, re-check and
// apply its plan (see platform.h for the threading contract).
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "base/log.h"
#include "base/time.h"
#include "sched/fair_share.h"
#include "sched/fair_share_standing.h"
#include "sched/filters.h"
#include "sched/queue_order.h"
#include "sched/scheduler.h"
#include "sched/wait_fairness.h"
#include "state/platform.h"

namespace gpuaas {

void Platform::RequestSchedulePass() {
  if (pass_pending_) return;
  pass_pending_ = true;
  // Coalesce bursts (e.g. many submissions) into one pass. Passes keep at least
  // schedule_min_interval_ms, and 4x the last pass's duration, between them, so that scheduling
  // a long queue never takes more than a fifth of the loop that also serves the API.
  int64_t min_gap = std::max<int64_t>(config_.schedule_min_interval_ms, 4 * last_pass_ms_);
  Millis since = clock_.Now() - last_pass_;
  int64_t delay = since >= min_gap ? 0 : min_gap - since;
  if (delay == 0) {
    executor_.Post([this] { RunSchedulePass(); });
  } else {
    executor_.RunAfter(delay, [this] { RunSchedulePass(); });
  }
}

sched::Policy Platform::ServerPolicy() const {
  sched::Policy policy;
  policy.default_walltime_s = config_.default_walltime_s;
  policy.preemption_grace_s = config_.preemption_grace_s;
  policy.small_first_rate = config_.small_first_rate;
  policy.small_first_delay_factor = config_.small_first_delay_factor;
  policy.small_first_cap_s = config_.small_first_cap_s;
  policy.fair_share_wait_floor_s = config_.fair_share_wait_floor_s;
  policy.faster_class_wait_ratio = config_.faster_class_wait_ratio;
  policy.faster_class_patience_extra_s = config_.faster_class_patience_extra_s;
  policy.fair_share_wait_ratio = config_.fair_share_wait_ratio;
  policy.fair_share_usage_delay_s = config_.fair_share_usage_delay_s;
  policy.fair_share_wait_horizon_s = config_.fair_share_wait_horizon_s;
  policy.fair_share_wait_rank_half_life_s = config_.fair_share_wait_rank_half_life_s;
  // Estimates are the costly part of a pass: the first jobs of the queue get them at every
  // pass; the rest show their position.
  policy.max_estimates = 100;
  return policy;
}

Platform::FairShareView Platform::FairShare(const Principal& p) {
  FairShareView view;
  view.policy = ServerPolicy();
  std::vector<EntityId> visible;
  for (const auto& [id, e] : entities_) {
    if (Visible(p, id)) visible.push_back(id);
  }
  const sched::Snapshot snap = BuildSnapshot(clock_.Now());
  view.policy.small_first_rate = sched::SmallFirstRate(view.policy, &snap);  // (as a pass's)
  view.standings = sched::FairShareStandings(view.policy, snap, visible);
  return view;
}

void Platform::ExplainFairShare(const sched::Snapshot& snap, const sched::Plan& plan) {
  const sched::Policy policy = ServerPolicy();
  if (policy.queue_order != "fair-share") return;
  // The jobs with others ahead of them, and their entities: there fair share may be why.
  std::vector<std::pair<JobId, EntityId>> behind;
  std::vector<EntityId> entities;
  for (const auto& w : plan.waiting) {
    if (w.queue_position <= 1) continue;
    if (auto j = jobs_.find(w.job); j != jobs_.end()) {
      behind.emplace_back(w.job, j->second.entity);
      entities.push_back(j->second.entity);
    }
  }
  if (entities.empty()) return;
  std::sort(entities.begin(), entities.end());
  entities.erase(std::unique(entities.begin(), entities.end()), entities.end());
  std::map<EntityId, std::string> why;
  for (const sched::FairShareStanding& s : sched::FairShareStandings(policy, snap, entities)) {
    if (s.late) {
      char ratio[32];
      std::snprintf(ratio, sizeof ratio, "%.1f", s.wait_ratio);
      why[s.entity] = std::string("; fair share: its entity goes first (its waits are ") + ratio +
                      "x the platform's average)";
    } else if (s.delay_s > 0) {
      why[s.entity] = "; fair share: placed as if submitted " + FormatDurationSeconds(s.delay_s) +
                      " later for its entity's recent use";
    }
  }
  for (const auto& [job, entity] : behind) {
    if (auto it = why.find(entity); it != why.end()) queue_info_[job].reason += it->second;
  }
}

sched::Snapshot Platform::BuildSnapshot(Millis now) {
  const sched::Policy policy = ServerPolicy();
  sched::Snapshot snap;
  for (const auto& c : config_.classes) snap.classes.push_back({c.name, c.speed, c.hourly_rate});
  for (const auto& [id, e] : entities_) {
    if (!e.quota.empty()) snap.quota_limit[id] = e.quota;
    if (!e.guarantee.empty()) snap.quota_guarantee[id] = e.guarantee;
    if (e.shares != 1) snap.entity_shares[id] = e.shares;
    snap.entity_names[id] = e.name;
  }
  // The late are ranked with a tally of their own only when its half-life differs.
  const bool rank_differs =
      policy.fair_share_wait_rank_half_life_s != policy.fair_share_half_life_s;
  // Fair share: decayed usage from the ledger (refreshed every minute: it moves slowly) plus
  // the open allocations (always current).
  if (now - decayed_at_ >= 60'000 || decayed_at_ == 0) {
    std::vector<sched::UsageInterval> closed;
    closed.reserve(ledger_.size());
    for (const auto& r : ledger_) closed.push_back({r.entity, r.gpus, r.start, r.end});
    decayed_closed_ = sched::DecayedUsageByEntity(closed, now, policy.fair_share_half_life_s);
    started_waits_.clear();
    rank_waits_.clear();
    if (policy.fair_share_wait_ratio > 0) {
      for (const auto& [id, j] : jobs_) {
        if (j.started_at == 0) continue;
        sched::AddStartedWait(&started_waits_[j.entity], j.submitted_at, j.started_at, now,
                              policy.fair_share_half_life_s);
        if (rank_differs) {
          sched::AddStartedWait(&rank_waits_[j.entity], j.submitted_at, j.started_at, now,
                                policy.fair_share_wait_rank_half_life_s);
        }
      }
    }
    decayed_at_ = now;
  }
  // Fairness of waits: those started jobs (a job started since the refresh counts again at the
  // next one, within a minute) and the queued jobs' waits so far; the same with the rank's
  // half-life when it differs.
  if (policy.fair_share_wait_ratio > 0) {
    auto ratios = [&](std::map<EntityId, sched::WaitTally> tallies, int64_t half_life_s) {
      const double age = sched::AgeWeight(now - decayed_at_, half_life_s);
      for (auto& [entity, t] : tallies) {
        t.waited_s *= age;
        t.jobs *= age;
      }
      for (JobId id : queued_) {
        const Job& j = jobs_.at(id);
        sched::AddQueuedWait(&tallies[j.entity], j.submitted_at, now);
      }
      return sched::WaitRatios(tallies, policy.fair_share_wait_horizon_s);
    };
    snap.entity_wait_ratio = ratios(started_waits_, policy.fair_share_half_life_s);
    if (rank_differs) {
      snap.entity_wait_rank = ratios(rank_waits_, policy.fair_share_wait_rank_half_life_s);
    }
  }
  std::vector<sched::UsageInterval> open;
  for (const auto& [aid, a] : allocations_) {
    if (a.end == 0) open.push_back({a.entity, static_cast<int>(a.devices.size()), a.start, 0});
  }
  snap.decayed_usage = decayed_closed_;
  for (const auto& [e, u] : sched::DecayedUsageByEntity(open, now, policy.fair_share_half_life_s)) {
    snap.decayed_usage[e] += u;
  }
  std::map<NodeId, size_t> node_pos;
  for (const auto& [id, n] : nodes_) {
    sched::NodeView v;
    v.id = id;
    v.name = n.name;
    v.schedulable = n.state == NodeState::kReady;
    v.labels = n.labels;
    v.min_job_gpus = sched::MinJobGpus(n.labels);  // (checked at registration)
    const std::set<int>* busy = nullptr;
    if (auto f = foreign_busy_.find(id); f != foreign_busy_.end()) busy = &f->second;
    for (const auto& g : n.gpus) {
      sched::DeviceView d;
      d.index = g.index;
      d.gpu_class = g.gpu_class;
      d.healthy = g.state == DeviceState::kHealthy;
      if (busy && busy->count(g.index)) d.used_by = -1;  // held by a workload being stopped
      v.devices.push_back(d);
    }
    node_pos[id] = snap.nodes.size();
    snap.nodes.push_back(std::move(v));
  }
  for (const auto& [aid, a] : allocations_) {
    if (a.end != 0) continue;
    const Job& j = jobs_.at(a.job);
    if (auto p = node_pos.find(a.node); p != node_pos.end()) {
      for (auto& d : snap.nodes[p->second].devices) {
        if (std::find(a.devices.begin(), a.devices.end(), d.index) != a.devices.end()) {
          d.used_by = j.id;
        }
      }
    }
    sched::RunningView rv{j.id,         j.entity,  a.node,
                          a.gpu_class,  a.devices, j.started_at != 0 ? j.started_at : a.start,
                          j.walltime_s, j.priority};
    rv.priority_class = j.priority_class;
    rv.stopping = IsFinal(j.state);  // cancelled or preempted, processes still stopping
    snap.running.push_back(std::move(rv));
  }
  snap.queued.reserve(queued_.size());
  for (JobId id : queued_) {
    const Job& j = jobs_.at(id);
    sched::JobView v{j.id, j.entity, j.gpus, j.gpu_types, j.priority, j.submitted_at, j.walltime_s};
    v.priority_class = j.priority_class;
    v.allow_fallback = j.allow_fallback;
    v.node_selector = j.node_selector;
    v.single_node = j.kind == JobKind::kNotebook;
    snap.queued.push_back(std::move(v));
  }
  return snap;
}

void Platform::RunSchedulePass() {
  pass_pending_ = false;
  ++passes_;
  if (queued_.empty()) {
    // Nothing to place, nothing spent: the next pass (e.g. for a submission in a moment) need
    // not keep the gap that spaces out real passes.
    queue_info_.clear();
    return;
  }
  const Millis now = clock_.Now();
  const StartTrace::Micros pass_start = StartTrace::Now();
  last_pass_ = now;
  sched::Snapshot snap = BuildSnapshot(now);

  sched::Plan plan = sched::Schedule(snap, ServerPolicy(), now);
  last_pass_ms_ = clock_.Now() - now;

  queue_info_.clear();
  for (const auto& w : plan.waiting) {
    queue_info_[w.job] = {w.queue_position, w.estimated_start, sched::ReasonOf(plan, w)};
  }
  ExplainFairShare(snap, plan);
  std::vector<Mutation> batch;
  std::set<NodeId> touched;
  for (const auto& pre : plan.preemptions) {
    auto jit = jobs_.find(pre.job);
    if (jit == jobs_.end() || IsFinal(jit->second.state) || jit->second.allocation == 0) continue;
    GLOG_INFO("preempting job {}: {}", pre.job, pre.reason);
    for (const Allocation* a : PartsOf(jit->second)) touched.insert(a->node);  // every part
    PreemptJob(jit->second, pre.reason, batch);
  }
  if (plan.placements.empty()) {
    if (!batch.empty()) {
      Persist(std::move(batch), [this, touched] {
        for (NodeId n : touched) WakeNode(n);
      });
    }
    return;
  }

  // Re-check before applying: the plan came from a snapshot of this very state, but a device
  // given twice would be the worst bug a GPU platform can have.
  std::map<NodeId, std::set<int>> taken;
  for (const auto& [aid, a] : allocations_) {
    if (a.end == 0) taken[a.node].insert(a.devices.begin(), a.devices.end());
  }
  for (const auto& [nid, busy] : foreign_busy_) taken[nid].insert(busy.begin(), busy.end());
  std::vector<AllocationId> new_allocs;
  for (const auto& pl : plan.placements) {
    auto jit = jobs_.find(pl.job);
    if (jit == jobs_.end() || jit->second.state != JobState::kQueued) continue;
    Job& j = jit->second;
    // One slice per node; a multi-node gang has several. All or nothing: every slice on a known
    // node (each node once), every device free, the sizes adding up to the job's.
    std::vector<sched::Slice> slices = pl.slices;
    if (slices.empty()) slices.push_back({pl.node, pl.devices});
    bool ok = true;
    int total = 0;
    std::set<NodeId> seen;
    for (const auto& sl : slices) {
      std::set<int> devices(sl.devices.begin(), sl.devices.end());
      ok = ok && nodes_.count(sl.node) && seen.insert(sl.node).second && !sl.devices.empty() &&
           devices.size() == sl.devices.size();
      for (int d : sl.devices) ok = ok && !taken[sl.node].count(d);
      total += static_cast<int>(sl.devices.size());
    }
    if (!ok || total != j.gpus) {
      GLOG_ERROR("scheduler placed job {} on busy or wrong devices; ignoring that placement", j.id);
      continue;
    }
    std::vector<AllocationId>& parts = parts_[j.id];
    parts.clear();
    for (const auto& sl : slices) {
      taken[sl.node].insert(sl.devices.begin(), sl.devices.end());
      Allocation a{next_alloc_++, j.id,       j.entity, j.user, sl.node,
                   pl.gpu_class,  sl.devices, now,      0};
      allocations_[a.id] = a;
      new_allocs.push_back(a.id);
      parts.push_back(a.id);
      batch.push_back(a);
      touched.insert(sl.node);
    }
    if (slices.size() > 1) {
      GLOG_INFO("job {}: {} GPUs as a gang over {} nodes", j.id, j.gpus, slices.size());
    }
    j.state = JobState::kStarting;
    j.gpu_type = pl.gpu_class;
    j.node = slices[0].node;  // rank 0
    j.gpu_ids = slices[0].devices;
    j.allocation = parts[0];
    j.reason.clear();
    queued_.erase(j.id);
    queue_info_.erase(j.id);
    batch.push_back(j);
    ++placements_;
    start_trace_.Placed(j.id, pass_start, next_seq_);  // persisted below
  }
  if (batch.empty()) return;
  const int64_t seq = next_seq_;  // the sequence number Persist() is about to use
  for (AllocationId id : new_allocs) alloc_seq_[id] = seq;
  Persist(std::move(batch), [this, touched, new_allocs] {
    for (AllocationId id : new_allocs) alloc_seq_.erase(id);
    for (NodeId n : touched) WakeNode(n);
  });
}

}  // namespace gpuaas
