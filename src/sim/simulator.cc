#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>

#include "billing/price_book.h"
#include "sched/invariants.h"
#include "sched/policy.h"
#include "sched/scheduler.h"
#include "sched/walltime.h"

namespace gpuaas::sim {
namespace {

constexpr const char* kOraclePolicy = "sjf-oracle";

// The scheduler's JobView gains oracle_runtime_s with the sjf-oracle queue order; until then the
// oracle policy is refused (see Replay::Init).
constexpr bool kSchedHasOracle = requires(sched::JobView j) { j.oracle_runtime_s; };

template <typename View>
void SetOracleRuntime(View& view, int64_t seconds) {
  if constexpr (requires { view.oracle_runtime_s; }) view.oracle_runtime_s = seconds;
}

std::string SecondsText(Millis t) { return std::to_string((t - kSimEpoch) / 1000); }

class Replay {
 public:
  Replay(JobSource& source, const ClusterSpec& cluster, const std::vector<GpuClass>& catalogue,
         const SimOptions& options)
      : source_(source),
        cluster_(cluster),
        catalogue_(catalogue),
        options_(options),
        metrics_({}, PriceBook(catalogue), cluster.TotalGpus()) {}

  Result<SimResult> Run();

 private:
  struct Live {
    int entity = 0;
    Millis submit = 0;
    int64_t duration_s = 0;
    int gpus = 1;
    std::string first_class;
    std::vector<std::pair<std::string, double>> speeds;
    // Once started:
    Millis start = 0;
    int gpu_class = 0;
    size_t node_pos = 0;
    std::vector<int> devices;
    bool timed_out = false;
  };

  Status Init();
  Status ReadNextArrival();
  void Arrive(TraceJob& job, Millis now);
  void Complete(JobId id, Millis end);
  Status Pass(Millis now);
  void Start(const sched::Placement& p, Millis now);
  bool MightPlace() const;
  double SpeedRatio(const Live& job, const std::string& gpu_class) const;
  int EntityIndex(const std::string& name);
  void Report(Millis now) const;

  JobSource& source_;
  const ClusterSpec& cluster_;
  const std::vector<GpuClass>& catalogue_;
  const SimOptions& options_;
  sched::Policy policy_;
  bool oracle_ = false;
  MetricsBuilder metrics_;

  sched::Snapshot snap_;
  std::map<std::string, int> class_index_;
  std::map<std::string, int> max_node_size_;  // per class: the most devices on one node
  std::vector<int> free_;                     // per node position: free devices
  std::unordered_map<JobId, size_t> queued_pos_, running_pos_;
  std::map<int, int> queued_sizes_;  // gpus asked -> queued jobs asking that many
  std::unordered_map<JobId, Live> live_;
  std::unordered_map<std::string, int> entity_index_;
  std::vector<std::string> entity_names_;
  using Completion = std::pair<Millis, JobId>;
  std::priority_queue<Completion, std::vector<Completion>, std::greater<>> completions_;

  std::optional<TraceJob> next_;  // the next arrival, read ahead
  JobId next_id_ = 1;
  SimResult result_;
  SimProgress progress_;
};

Status Replay::Init() {
  const bool is_oracle = options_.policy == kOraclePolicy;
  auto policy = sched::PolicyByName(options_.policy);
  if (!policy.ok()) {
    if (is_oracle) {
      return InvalidArgument("policy sjf-oracle is not available in this scheduler version yet");
    }
    std::string known;
    for (const std::string& n : SimPolicyNames()) known += (known.empty() ? "" : ", ") + n;
    return InvalidArgument("unknown policy \"" + options_.policy + "\" (known: " + known + ")");
  }
  if (is_oracle && !kSchedHasOracle) {
    return InvalidArgument(
        "policy sjf-oracle needs JobView::oracle_runtime_s, which this "
        "scheduler version lacks");
  }
  oracle_ = is_oracle;
  policy_ = std::move(policy).value();
  policy_.max_estimates = 0;  // nobody reads start estimates in a replay
  if (options_.default_walltime_s > 0) policy_.default_walltime_s = options_.default_walltime_s;

  snap_.nodes = BuildNodes(cluster_);
  snap_.classes = ClusterClasses(cluster_, catalogue_);
  std::vector<std::string> class_names;
  for (const sched::ClassInfo& c : snap_.classes) {
    class_index_[c.name] = static_cast<int>(class_names.size());
    class_names.push_back(c.name);
  }
  metrics_ = MetricsBuilder(class_names, PriceBook(catalogue_), cluster_.TotalGpus());
  for (const NodeGroup& g : cluster_.groups) {
    int& m = max_node_size_[g.gpu_class];
    m = std::max(m, g.gpus_per_node);
  }
  for (const sched::NodeView& n : snap_.nodes) free_.push_back(static_cast<int>(n.devices.size()));
  return ReadNextArrival();
}

Status Replay::ReadNextArrival() {
  TraceJob job;
  auto more = source_.Next(&job);
  if (!more.ok()) return more.status();
  if (*more) {
    next_ = std::move(job);
  } else {
    next_.reset();
  }
  return Status::Ok();
}

int Replay::EntityIndex(const std::string& name) {
  auto [it, added] = entity_index_.emplace(name, static_cast<int>(entity_names_.size()));
  if (added) {
    entity_names_.push_back(name);
    snap_.entity_names[it->second + 1] = name;
  }
  return it->second;
}

void Replay::Arrive(TraceJob& job, Millis now) {
  const JobId id = next_id_++;
  const int entity = EntityIndex(job.entity);
  metrics_.AddSubmitted(entity, now);
  ++progress_.arrived;

  sched::JobView view;
  view.id = id;
  view.entity = entity + 1;
  view.gpus = job.gpus;
  view.priority = job.priority;
  view.submitted_at = now;
  view.walltime_s = job.walltime_s;
  if (job.gpu_types.empty()) {
    for (const sched::ClassInfo& c : snap_.classes) view.gpu_types.push_back(c.name);
  } else {
    view.gpu_types = std::move(job.gpu_types);
  }
  bool placeable = false;
  for (const std::string& c : view.gpu_types) {
    auto m = max_node_size_.find(c);
    placeable = placeable || (m != max_node_size_.end() && m->second >= job.gpus);
  }
  if (!placeable) {
    ++result_.unplaceable;
    return;
  }
  if (oracle_) SetOracleRuntime(view, job.duration_s);

  Live live;
  live.entity = entity;
  live.submit = now;
  live.duration_s = job.duration_s;
  live.gpus = job.gpus;
  live.first_class = view.gpu_types.front();
  live.speeds = std::move(job.speeds);
  live_.emplace(id, std::move(live));
  queued_pos_[id] = snap_.queued.size();
  snap_.queued.push_back(std::move(view));
  ++queued_sizes_[job.gpus];
}

double Replay::SpeedRatio(const Live& job, const std::string& gpu_class) const {
  if (gpu_class == job.first_class) return 1.0;
  if (!job.speeds.empty()) {
    double first = 1.0, given = 0;
    for (const auto& [name, speed] : job.speeds) {
      if (name == job.first_class) first = speed;
      if (name == gpu_class) given = speed;
    }
    if (given > 0) return given / first;
  }
  return sched::ClassSpeed(snap_, gpu_class) / sched::ClassSpeed(snap_, job.first_class);
}

void Replay::Start(const sched::Placement& p, Millis now) {
  // Take the job out of the queue (swap with the last).
  const size_t qpos = queued_pos_.at(p.job);
  sched::JobView view = std::move(snap_.queued[qpos]);
  if (qpos + 1 != snap_.queued.size()) {
    snap_.queued[qpos] = std::move(snap_.queued.back());
    queued_pos_[snap_.queued[qpos].id] = qpos;
  }
  snap_.queued.pop_back();
  queued_pos_.erase(p.job);
  if (--queued_sizes_[view.gpus] == 0) queued_sizes_.erase(view.gpus);

  Live& job = live_.at(p.job);
  const size_t node_pos = static_cast<size_t>(p.node - 1);
  for (int d : p.devices) snap_.nodes[node_pos].devices[d].used_by = p.job;
  free_[node_pos] -= static_cast<int>(p.devices.size());

  const int64_t walltime_s = sched::WalltimeOnClassS(view, p.gpu_class, snap_, policy_);
  const double run_ms =
      std::ceil(static_cast<double>(job.duration_s) * 1000.0 / SpeedRatio(job, p.gpu_class));
  const double wall_ms = static_cast<double>(walltime_s) * 1000.0;
  job.timed_out = run_ms > wall_ms;
  const Millis end = now + static_cast<Millis>(std::min(run_ms, wall_ms));
  job.start = now;
  job.gpu_class = class_index_.at(p.gpu_class);
  job.node_pos = node_pos;
  job.devices = p.devices;
  completions_.push({end, p.job});

  sched::RunningView r;
  r.id = p.job;
  r.entity = view.entity;
  r.node = p.node;
  r.gpu_class = p.gpu_class;
  r.devices = p.devices;
  r.started_at = now;
  r.walltime_s = walltime_s;
  r.priority = view.priority;
  running_pos_[p.job] = snap_.running.size();
  snap_.running.push_back(std::move(r));
}

void Replay::Complete(JobId id, Millis end) {
  auto it = live_.find(id);
  const Live& job = it->second;
  const size_t rpos = running_pos_.at(id);
  if (rpos + 1 != snap_.running.size()) {
    snap_.running[rpos] = std::move(snap_.running.back());
    running_pos_[snap_.running[rpos].id] = rpos;
  }
  snap_.running.pop_back();
  running_pos_.erase(id);
  for (int d : job.devices) snap_.nodes[job.node_pos].devices[d].used_by = 0;
  free_[job.node_pos] += static_cast<int>(job.devices.size());
  metrics_.AddFinished(
      {job.entity, job.gpu_class, job.submit, job.start, end, job.gpus, job.timed_out});
  ++progress_.finished;
  live_.erase(it);
}

bool Replay::MightPlace() const {
  if (queued_sizes_.empty()) return false;
  const int smallest = queued_sizes_.begin()->first;
  for (int f : free_) {
    if (f >= smallest) return true;
  }
  return false;
}

Status Replay::Pass(Millis now) {
  sched::Plan plan = sched::Schedule(snap_, policy_, now);
  ++result_.passes;
  if (options_.check_invariants) {
    Status s = sched::CheckInvariants(snap_, plan);
    if (!s.ok()) {
      return Internal("policy " + options_.policy + " at t=" + SecondsText(now) +
                      " s: invariant violated: " + s.message());
    }
  }
  for (const sched::Placement& p : plan.placements) Start(p, now);
  return Status::Ok();
}

void Replay::Report(Millis now) const {
  SimProgress p = progress_;
  p.passes = result_.passes;
  p.queued = snap_.queued.size();
  p.running = snap_.running.size();
  p.now_s = (now - kSimEpoch) / 1000;
  options_.on_progress(p);
}

Result<SimResult> Replay::Run() {
  if (Status s = Init(); !s.ok()) return s;
  while (next_ || !completions_.empty()) {
    Millis now = sched::kNever;
    if (next_) now = kSimEpoch + next_->submit_s * 1000;
    if (!completions_.empty()) now = std::min(now, completions_.top().first);
    while (!completions_.empty() && completions_.top().first == now) {
      const JobId id = completions_.top().second;
      completions_.pop();
      Complete(id, now);
    }
    while (next_ && kSimEpoch + next_->submit_s * 1000 == now) {
      Arrive(*next_, now);
      if (Status s = ReadNextArrival(); !s.ok()) return s;
    }
    ++result_.events;
    ++progress_.events;
    if (MightPlace()) {
      if (Status s = Pass(now); !s.ok()) return s;
    }
    if (options_.progress_every > 0 && options_.on_progress &&
        result_.events % options_.progress_every == 0) {
      Report(now);
    }
  }
  result_.never_started = static_cast<int64_t>(snap_.queued.size()) + result_.unplaceable;
  result_.metrics = metrics_.Finish(options_.policy, entity_names_);
  return std::move(result_);
}

}  // namespace

std::vector<std::string> SimPolicyNames() {
  return {"fifo", "backfill", "ordered-fallback", kOraclePolicy, "default"};
}

Result<SimResult> Simulate(JobSource& source, const ClusterSpec& cluster,
                           const std::vector<GpuClass>& catalogue, const SimOptions& options) {
  Replay replay(source, cluster, catalogue, options);
  return replay.Run();
}

}  // namespace gpuaas::sim
