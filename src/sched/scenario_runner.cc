#include "sched/scenario_runner.h"

#include <algorithm>
#include <map>
#include <set>

#include "sched/fair_share.h"
#include "sched/filters.h"
#include "sched/invariants.h"
#include "sched/scheduler.h"
#include "sched/walltime.h"

namespace gpuaas::sched {
namespace {

// Bound on the replay, so that a scheduler bug cannot loop forever.
constexpr int kMaxSteps = 100000;

enum class JobPhase { kFuture, kQueued, kRunning, kStopping, kFinished, kTimedOut };

const char* PhaseName(JobPhase p) {
  switch (p) {
    case JobPhase::kFuture:
      return "not submitted";
    case JobPhase::kQueued:
      return "queued";
    case JobPhase::kRunning:
      return "running";
    case JobPhase::kStopping:
      return "stopping";
    case JobPhase::kFinished:
      return "finished";
    case JobPhase::kTimedOut:
      return "timed_out";
  }
  return "?";
}

struct JobRun {
  const ScenarioJob* spec = nullptr;
  JobView view;
  JobPhase phase = JobPhase::kFuture;
  size_t node_pos = 0;  // the first slice's
  std::string gpu_class;
  std::vector<int> devices;                                 // the first slice's
  std::vector<std::pair<size_t, std::vector<int>>> slices;  // (node position, devices)
  int64_t started_s = 0, ends_s = 0, walltime_s = 0;
  int64_t stop_s = 0;  // stopping: when the grace period ends
  JobId stopping_for = 0;
  int preemptions = 0;
  std::string reason;                       // of its placement or preemption
  std::optional<int64_t> entitled_since_s;  // queued within its entity's guarantee since
  size_t usage = 0;                         // index of its open usage interval
  bool IsHolding() const { return phase == JobPhase::kRunning || phase == JobPhase::kStopping; }
};

std::string Join(const std::vector<int>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out;
}

class Runner {
 public:
  explicit Runner(const Scenario& s) : s_(s) {
    for (size_t e = 0; e < s.entities.size(); ++e) entity_ids_[s.entities[e]] = e + 1;
    for (size_t n = 0; n < s.nodes.size(); ++n) {
      NodeView node{static_cast<NodeId>(n + 1),
                    s.nodes[n].name,
                    s.nodes[n].schedulable,
                    {},
                    s.nodes[n].labels};
      node.min_job_gpus = MinJobGpus(node.labels);  // (checked by the parser)
      int index = 0;
      for (const auto& [cls, count] : s.nodes[n].groups) {
        for (int i = 0; i < count; ++i) node.devices.push_back({index++, cls, true, 0});
      }
      for (int bad : s.nodes[n].unhealthy) SetHealth(node, bad, false);
      nodes_.push_back(node);
    }
    for (const auto& [entity, limits] : s.quotas) quota_[entity_ids_[entity]] = limits;
    for (const auto& [entity, g] : s.guarantees) guarantee_[entity_ids_[entity]] = g;
    for (const auto& [entity, w] : s.shares) shares_[entity_ids_[entity]] = w;
    for (const auto& [entity, h] : s.usage) {  // h GPU-hours in the hour before time 0
      usage_.push_back({entity_ids_[entity], static_cast<int>(h + 0.5),
                        kScenarioOrigin - kMillisPerHour, kScenarioOrigin});
    }
    for (const ScenarioJob& j : s.jobs) {
      JobRun r;
      r.spec = &j;
      r.view = {j.id,        entity_ids_[j.entity],
                j.gpus,      j.types,
                j.priority,  kScenarioOrigin + j.at_s * kMillisPerSecond,
                j.walltime_s};
      r.view.oracle_runtime_s = j.runs_s;  // only the sjf-oracle order reads it
      r.view.priority_class = j.priority_class;
      r.view.speeds = j.speeds;
      r.view.allow_fallback = j.allow_fallback;
      r.view.single_node = j.single_node;
      r.view.node_selector = j.selector;
      jobs_.emplace(j.id, r);
    }
  }

  ScenarioOutcome Run() {
    std::set<int64_t> times;
    for (const ScenarioJob& j : s_.jobs) times.insert(j.at_s);
    for (const ScenarioEvent& e : s_.events) times.insert(e.at_s);
    for (const Expectation& x : s_.expectations) times.insert(x.at_s);
    for (int step = 0; step < kMaxSteps; ++step) {
      std::optional<int64_t> next;
      if (!times.empty()) next = *times.begin();
      for (const auto& [id, r] : jobs_) {
        if (r.IsHolding() && (!next || r.ends_s < *next)) next = r.ends_s;
        if (r.phase == JobPhase::kStopping && (!next || r.stop_s < *next)) next = r.stop_s;
      }
      if (!next) {
        for (const auto& [id, r] : jobs_) {
          if (r.phase != JobPhase::kFinished && r.phase != JobPhase::kTimedOut) {
            out_.unfinished.push_back(id);
          }
        }
        return std::move(out_);
      }
      times.erase(*next);
      Step(*next);
    }
    Fail(0, "replay did not end after " + std::to_string(kMaxSteps) + " steps");
    return std::move(out_);
  }

 private:
  void Fail(int line, const std::string& message) {
    out_.failures.push_back(s_.file + ":" + std::to_string(line) + ": " + message);
  }

  static void SetHealth(NodeView& node, int index, bool healthy) {
    for (DeviceView& d : node.devices) {
      if (d.index == index) d.healthy = healthy;
    }
  }

  int NodePos(const std::string& name) const {
    for (size_t n = 0; n < nodes_.size(); ++n) {
      if (nodes_[n].name == name) return static_cast<int>(n);
    }
    return -1;
  }

  void Release(JobId id, JobRun& r, int64_t t) {
    for (const auto& [node_pos, devices] : r.slices) {
      for (DeviceView& d : nodes_[node_pos].devices) {
        if (d.used_by == id) d.used_by = 0;
      }
    }
    usage_[r.usage].end = kScenarioOrigin + t * kMillisPerSecond;
  }

  void Step(int64_t t) {
    for (auto& [id, r] : jobs_) {
      if (r.IsHolding() && r.ends_s <= t) {
        r.phase = r.ends_s - r.started_s < StretchS(r.spec->runs_s, r.view, r.gpu_class, snap_)
                      ? JobPhase::kTimedOut
                      : JobPhase::kFinished;
        Release(id, r, r.ends_s);
      } else if (r.phase == JobPhase::kStopping && r.stop_s <= t) {
        r.phase = JobPhase::kQueued;  // preempted: back in the queue, same submission time
        ++r.preemptions;
        Release(id, r, r.stop_s);
      }
    }
    for (const ScenarioEvent& e : s_.events) {
      if (e.at_s == t) Apply(e);
    }
    for (auto& [id, r] : jobs_) {
      if (r.phase == JobPhase::kFuture && r.spec->at_s <= t) r.phase = JobPhase::kQueued;
    }
    Schedule(t);
    for (const Expectation& x : s_.expectations) {
      if (x.at_s == t) Check(x);
    }
  }

  void Apply(const ScenarioEvent& e) {
    if (e.verb == "quota") {
      for (const auto& [cls, n] : e.quota) quota_[entity_ids_[e.node]][cls] = n;
      return;
    }
    int n = NodePos(e.node);
    if (n < 0) return Fail(e.line, "unknown node " + e.node);
    if (e.verb == "cordon") nodes_[n].schedulable = false;
    if (e.verb == "uncordon") nodes_[n].schedulable = true;
    if (e.verb == "fail") SetHealth(nodes_[n], e.device, false);
    if (e.verb == "heal") SetHealth(nodes_[n], e.device, true);
  }

  Snapshot BuildSnapshot(int64_t t) const {
    Snapshot s;
    s.nodes = nodes_;
    s.classes = s_.classes;
    s.quota_limit = quota_;
    s.quota_guarantee = guarantee_;
    s.entity_shares = shares_;
    s.decayed_usage = DecayedUsageByEntity(usage_, kScenarioOrigin + t * kMillisPerSecond,
                                           s_.policy.fair_share_half_life_s);
    for (const auto& [name, id] : entity_ids_) s.entity_names[id] = name;
    // Reverse id order on purpose: the queue-order plugin must sort.
    for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) {
      const JobRun& r = it->second;
      if (r.phase == JobPhase::kQueued) s.queued.push_back(r.view);
      if (r.IsHolding()) {
        for (const auto& [node_pos, devices] : r.slices) {  // a gang: one view per node
          RunningView v{
              r.view.id,    r.view.entity,  nodes_[node_pos].id,
              r.gpu_class,  devices,        kScenarioOrigin + r.started_s * kMillisPerSecond,
              r.walltime_s, r.view.priority};
          v.priority_class = r.spec->priority_class;
          v.preemptible = r.spec->preemptible;
          v.stopping = r.phase == JobPhase::kStopping;
          v.stopping_for = r.stopping_for;
          s.running.push_back(v);
        }
      }
    }
    return s;
  }

  void Schedule(int64_t t) {
    snap_ = BuildSnapshot(t);
    plan_ = sched::Schedule(snap_, s_.policy, kScenarioOrigin + t * kMillisPerSecond);
    ++out_.passes;
    Status st = CheckInvariants(snap_, plan_);
    if (!st.ok()) Fail(0, "at " + std::to_string(t) + " s: invariant broken: " + st.message());
    for (const Preemption& p : plan_.preemptions) {
      JobRun& r = jobs_.at(p.job);
      if (r.phase != JobPhase::kRunning) continue;  // the invariants reported it
      r.phase = JobPhase::kStopping;
      r.stop_s = t + s_.policy.preemption_grace_s;
      r.stopping_for = p.for_job;
      r.reason = p.reason;
    }
    for (const Placement& p : plan_.placements) {
      JobRun& r = jobs_.at(p.job);
      r.phase = JobPhase::kRunning;
      r.slices.clear();
      if (p.slices.empty()) {
        r.slices.push_back({static_cast<size_t>(p.node - 1), p.devices});
      } else {
        for (const Slice& sl : p.slices)
          r.slices.push_back({static_cast<size_t>(sl.node - 1), sl.devices});
      }
      r.node_pos = r.slices.front().first;
      r.gpu_class = p.gpu_class;
      r.devices = r.slices.front().second;
      r.started_s = t;
      r.stopping_for = 0;
      r.reason = p.reason;
      r.walltime_s = WalltimeOnClassS(r.view, p.gpu_class, snap_, s_.policy);
      int64_t runs = StretchS(r.spec->runs_s, r.view, p.gpu_class, snap_);
      r.ends_s = t + std::min(runs, r.walltime_s);
      int gpus = 0;
      for (const auto& [node_pos, devices] : r.slices) {
        gpus += static_cast<int>(devices.size());
        for (DeviceView& d : nodes_[node_pos].devices) {
          if (std::find(devices.begin(), devices.end(), d.index) != devices.end())
            d.used_by = p.job;
        }
      }
      r.usage = usage_.size();
      usage_.push_back({r.view.entity, gpus, kScenarioOrigin + t * kMillisPerSecond, 0});
    }
    WatchGuarantees(t);
  }

  // Every guarantee is met within the grace period: a queued job that fits within its entity's
  // guarantee (given the entity's running jobs that are not stopping) starts within
  // policy.preemption_grace_s of becoming so.
  void WatchGuarantees(int64_t t) {
    if (guarantee_.empty() || !s_.policy.reclaim) return;  // no promise without reclaim
    std::map<std::pair<EntityId, std::string>, int> used;
    for (const auto& [id, r] : jobs_) {
      if (r.phase == JobPhase::kRunning) {
        used[{r.view.entity, r.gpu_class}] += r.view.gpus;
      }
    }
    for (auto& [id, r] : jobs_) {  // id order; the queue order is the scheduler's business
      if (r.phase != JobPhase::kQueued) {
        r.entitled_since_s.reset();
        continue;
      }
      bool entitled = false;
      auto g = guarantee_.find(r.view.entity);
      if (g != guarantee_.end() && !r.view.gpu_types.empty()) {
        const std::string& cls = r.view.gpu_types.front();
        auto c = g->second.find(cls);
        int& u = used[{r.view.entity, cls}];
        if (c != g->second.end() && u + r.view.gpus <= c->second) {
          entitled = true;
          u += r.view.gpus;
        }
      }
      if (!entitled) {
        r.entitled_since_s.reset();
        continue;
      }
      if (!r.entitled_since_s) r.entitled_since_s = t;
      if (t - *r.entitled_since_s > s_.policy.preemption_grace_s) {
        Fail(r.spec->line, "at " + std::to_string(t) + " s: guarantee not met: job " +
                               std::to_string(id) + " has waited within its guarantee since " +
                               std::to_string(*r.entitled_since_s) + " s");
        r.entitled_since_s = t;  // report once per grace period
      }
    }
  }

  void Check(const Expectation& x) {
    ++out_.checked;
    auto it = jobs_.find(x.job);
    if (it == jobs_.end()) return Fail(x.line, "unknown job " + std::to_string(x.job));
    const JobRun& r = it->second;
    const std::string who = "at " + std::to_string(x.at_s) + " s job " + std::to_string(x.job);
    if (x.waiting) {
      auto w = std::find_if(plan_.waiting.begin(), plan_.waiting.end(),
                            [&](const Waiting& v) { return v.job == x.job; });
      if (r.phase != JobPhase::kQueued || w == plan_.waiting.end()) {
        return Fail(x.line, who + " is " + PhaseName(r.phase) + ", expected waiting");
      }
      const std::string& reason = ReasonOf(plan_, *w);
      if (x.reason_contains && reason.find(*x.reason_contains) == std::string::npos) {
        Fail(x.line, who + " reason \"" + reason + "\" lacks \"" + *x.reason_contains + "\"");
      }
      if (x.reason_equals && reason != *x.reason_equals) {
        Fail(x.line, who + " reason \"" + reason + "\", expected \"" + *x.reason_equals + "\"");
      }
      if (x.position && w->queue_position != *x.position) {
        Fail(x.line, who + " position " + std::to_string(w->queue_position) + ", expected " +
                         std::to_string(*x.position));
      }
      if (x.estimate_s) {
        int64_t got = w->estimated_start == 0
                          ? -1
                          : (w->estimated_start - kScenarioOrigin) / kMillisPerSecond;
        if (got != *x.estimate_s) {
          Fail(x.line, who + " estimated start " +
                           (got < 0 ? "unknown" : std::to_string(got) + " s") + ", expected " +
                           (*x.estimate_s < 0 ? "unknown" : std::to_string(*x.estimate_s) + " s"));
        }
      }
      return;
    }
    if (x.state && *x.state != PhaseName(r.phase)) {
      Fail(x.line, who + " is " + PhaseName(r.phase) + ", expected " + *x.state);
    }
    if (x.preemptions && *x.preemptions != r.preemptions) {
      Fail(x.line, who + " was preempted " + std::to_string(r.preemptions) + " times, expected " +
                       std::to_string(*x.preemptions));
    }
    if (x.reason_contains && r.reason.find(*x.reason_contains) == std::string::npos) {
      Fail(x.line, who + " reason \"" + r.reason + "\" lacks \"" + *x.reason_contains + "\"");
    }
    if (x.reason_equals && r.reason != *x.reason_equals) {
      Fail(x.line, who + " reason \"" + r.reason + "\", expected \"" + *x.reason_equals + "\"");
    }
    bool placed = r.phase == JobPhase::kRunning || r.phase == JobPhase::kFinished ||
                  r.phase == JobPhase::kTimedOut || r.phase == JobPhase::kStopping;
    if (x.nodes && placed) {
      std::string names;
      for (const auto& [node_pos, devices] : r.slices) {
        names += (names.empty() ? "" : ",") + nodes_[node_pos].name;
      }
      if (names != *x.nodes) Fail(x.line, who + " is on " + names + ", expected " + *x.nodes);
    }
    if ((x.node || x.devices || x.gpu_class || x.started_s || x.nodes) && !placed) {
      return Fail(x.line, who + " is " + PhaseName(r.phase) + ", expected placed");
    }
    if (x.node && *x.node != nodes_[r.node_pos].name) {
      Fail(x.line, who + " is on " + nodes_[r.node_pos].name + ", expected " + *x.node);
    }
    if (x.devices && *x.devices != Join(r.devices)) {
      Fail(x.line, who + " has devices " + Join(r.devices) + ", expected " + *x.devices);
    }
    if (x.gpu_class && *x.gpu_class != r.gpu_class) {
      Fail(x.line, who + " has class " + r.gpu_class + ", expected " + *x.gpu_class);
    }
    if (x.started_s && *x.started_s != r.started_s) {
      Fail(x.line, who + " started at " + std::to_string(r.started_s) + " s, expected " +
                       std::to_string(*x.started_s) + " s");
    }
  }

  const Scenario& s_;
  std::map<std::string, EntityId> entity_ids_;
  std::vector<NodeView> nodes_;
  std::map<EntityId, std::map<std::string, int>> quota_;
  std::map<EntityId, std::map<std::string, int>> guarantee_;
  std::map<EntityId, double> shares_;
  std::vector<UsageInterval> usage_;
  std::map<JobId, JobRun> jobs_;
  Snapshot snap_;
  Plan plan_;
  ScenarioOutcome out_;
};

}  // namespace

ScenarioOutcome RunScenario(const Scenario& scenario) { return Runner(scenario).Run(); }

}  // namespace gpuaas::sched
