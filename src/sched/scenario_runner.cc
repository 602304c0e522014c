#include "sched/scenario_runner.h"

#include <algorithm>
#include <map>
#include <set>

#include "sched/invariants.h"
#include "sched/scheduler.h"
#include "sched/walltime.h"

namespace gpuaas::sched {
namespace {

// Bound on the replay, so that a scheduler bug cannot loop forever.
constexpr int kMaxSteps = 100000;

enum class JobPhase { kFuture, kQueued, kRunning, kFinished, kTimedOut };

const char* PhaseName(JobPhase p) {
  switch (p) {
    case JobPhase::kFuture:
      return "not submitted";
    case JobPhase::kQueued:
      return "queued";
    case JobPhase::kRunning:
      return "running";
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
  size_t node_pos = 0;
  std::string gpu_class;
  std::vector<int> devices;
  int64_t started_s = 0, ends_s = 0, walltime_s = 0;
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
      NodeView node{static_cast<NodeId>(n + 1), s.nodes[n].name, s.nodes[n].schedulable, {}, {}};
      int index = 0;
      for (const auto& [cls, count] : s.nodes[n].groups) {
        for (int i = 0; i < count; ++i) node.devices.push_back({index++, cls, true, 0});
      }
      for (int bad : s.nodes[n].unhealthy) SetHealth(node, bad, false);
      nodes_.push_back(node);
    }
    for (const auto& [entity, limits] : s.quotas) quota_[entity_ids_[entity]] = limits;
    for (const ScenarioJob& j : s.jobs) {
      JobRun r;
      r.spec = &j;
      r.view = {j.id,        entity_ids_[j.entity],
                j.gpus,      j.types,
                j.priority,  kScenarioOrigin + j.at_s * kMillisPerSecond,
                j.walltime_s};
      r.view.oracle_runtime_s = j.runs_s;  // only the sjf-oracle order reads it
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
        if (r.phase == JobPhase::kRunning && (!next || r.ends_s < *next)) next = r.ends_s;
      }
      if (!next) return std::move(out_);
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

  void Step(int64_t t) {
    for (auto& [id, r] : jobs_) {
      if (r.phase == JobPhase::kRunning && r.ends_s <= t) {
        r.phase = r.ends_s - r.started_s < StretchS(r.spec->runs_s, r.view, r.gpu_class, snap_)
                      ? JobPhase::kTimedOut
                      : JobPhase::kFinished;
        for (DeviceView& d : nodes_[r.node_pos].devices) {
          if (d.used_by == id) d.used_by = 0;
        }
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

  Snapshot BuildSnapshot() const {
    Snapshot s;
    s.nodes = nodes_;
    s.classes = s_.classes;
    s.quota_limit = quota_;
    for (const auto& [name, id] : entity_ids_) s.entity_names[id] = name;
    // Reverse id order on purpose: the queue-order plugin must sort.
    for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) {
      const JobRun& r = it->second;
      if (r.phase == JobPhase::kQueued) s.queued.push_back(r.view);
      if (r.phase == JobPhase::kRunning) {
        s.running.push_back({r.view.id, r.view.entity, nodes_[r.node_pos].id, r.gpu_class,
                             r.devices, kScenarioOrigin + r.started_s * kMillisPerSecond,
                             r.walltime_s, r.view.priority});
      }
    }
    return s;
  }

  void Schedule(int64_t t) {
    snap_ = BuildSnapshot();
    plan_ = sched::Schedule(snap_, s_.policy, kScenarioOrigin + t * kMillisPerSecond);
    ++out_.passes;
    Status st = CheckInvariants(snap_, plan_);
    if (!st.ok()) Fail(0, "at " + std::to_string(t) + " s: invariant broken: " + st.message());
    for (const Placement& p : plan_.placements) {
      JobRun& r = jobs_.at(p.job);
      r.phase = JobPhase::kRunning;
      r.node_pos = static_cast<size_t>(p.node - 1);
      r.gpu_class = p.gpu_class;
      r.devices = p.devices;
      r.started_s = t;
      r.walltime_s = WalltimeOnClassS(r.view, p.gpu_class, snap_, s_.policy);
      int64_t runs = StretchS(r.spec->runs_s, r.view, p.gpu_class, snap_);
      r.ends_s = t + std::min(runs, r.walltime_s);
      for (DeviceView& d : nodes_[r.node_pos].devices) {
        if (std::find(p.devices.begin(), p.devices.end(), d.index) != p.devices.end()) {
          d.used_by = p.job;
        }
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
      if (x.reason_contains && w->reason.find(*x.reason_contains) == std::string::npos) {
        Fail(x.line, who + " reason \"" + w->reason + "\" lacks \"" + *x.reason_contains + "\"");
      }
      if (x.reason_equals && w->reason != *x.reason_equals) {
        Fail(x.line, who + " reason \"" + w->reason + "\", expected \"" + *x.reason_equals + "\"");
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
    bool placed = r.phase == JobPhase::kRunning || r.phase == JobPhase::kFinished ||
                  r.phase == JobPhase::kTimedOut;
    if ((x.node || x.devices || x.gpu_class || x.started_s) && !placed) {
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
  std::map<JobId, JobRun> jobs_;
  Snapshot snap_;
  Plan plan_;
  ScenarioOutcome out_;
};

}  // namespace

ScenarioOutcome RunScenario(const Scenario& scenario) { return Runner(scenario).Run(); }

}  // namespace gpuaas::sched
