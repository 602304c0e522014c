#include "sim/simulator.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>

#include "billing/price_book.h"
#include "sched/class_name.h"
#include "sched/invariants.h"
#include "sched/policy.h"
#include "sched/queue_order.h"
#include "sched/scheduler.h"
#include "sched/timeline.h"
#include "sched/wait_fairness.h"
#include "sched/walltime.h"

namespace gpuaas::sim {
namespace {

constexpr const char* kOraclePolicy = "sjf-oracle";
constexpr const char* kRequestOrder = "sjf-request";

// 2^(-dt / half-life); 1 without decay.
double DecayFactor(Millis dt, int64_t half_life_s) {
  if (half_life_s <= 0) return 1.0;
  return std::exp2(-static_cast<double>(dt) / 1000.0 / static_cast<double>(half_life_s));
}

// Decayed usage of `gpus` GPUs held over [start, end), seen at `now` >= end, in GPU-hours: the
// closed form of sched/fair_share.h (DecayedUsage), kept incrementally here so that a pass
// costs O(entities + running) instead of O(history).
double DecayedGpuHours(int gpus, Millis start, Millis end, Millis now, int64_t half_life_s) {
  if (gpus <= 0 || end <= start) return 0.0;
  const double len = static_cast<double>(end - start) / 1000.0;
  if (half_life_s <= 0) return gpus * len / 3600.0;
  const double k = std::log(2.0) / static_cast<double>(half_life_s);
  const double age = static_cast<double>(now - end) / 1000.0;
  return gpus * std::exp(-k * age) * -std::expm1(-k * len) / k / 3600.0;
}

// Per entity index, the waits of started jobs weighted by age with one half-life
// (sched/wait_fairness.h), kept incrementally: each entity's tally as of its last start.
class StartedWaits {
 public:
  explicit StartedWaits(int64_t half_life_s = 0) : half_life_s_(half_life_s) {}
  void Add(size_t e, Millis submitted_at, Millis now) {
    if (tally_.size() <= e) {
      tally_.resize(e + 1);
      at_.resize(e + 1, now);
    }
    sched::WaitTally& t = tally_[e];
    const double age = sched::AgeWeight(now - at_[e], half_life_s_);
    t.waited_s *= age;
    t.jobs *= age;
    at_[e] = now;
    sched::AddStartedWait(&t, submitted_at, now, now, half_life_s_);
  }
  // The tally at `now` (>= the last Add), without queued jobs.
  sched::WaitTally At(size_t e, Millis now) const {
    sched::WaitTally t;
    if (e < tally_.size()) {
      const double age = sched::AgeWeight(now - at_[e], half_life_s_);
      t.waited_s = tally_[e].waited_s * age;
      t.jobs = tally_[e].jobs * age;
    }
    return t;
  }

 private:
  int64_t half_life_s_;
  std::vector<sched::WaitTally> tally_;
  std::vector<Millis> at_;
};

bool SamePlacements(const sched::Plan& a, const sched::Plan& b) {
  if (a.placements.size() != b.placements.size()) return false;
  for (size_t i = 0; i < a.placements.size(); ++i) {
    const sched::Placement& x = a.placements[i];
    const sched::Placement& y = b.placements[i];
    if (x.job != y.job || x.node != y.node || x.gpu_class != y.gpu_class ||
        x.devices != y.devices || x.slices.size() != y.slices.size()) {
      return false;
    }
    for (size_t k = 0; k < x.slices.size(); ++k) {
      if (x.slices[k].node != y.slices[k].node || x.slices[k].devices != y.slices[k].devices) {
        return false;
      }
    }
  }
  return a.preemptions.size() == b.preemptions.size();
}

Result<bool> ParseBool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return InvalidArgument("policy setting " + key + ": expected true or false, got \"" + v + "\"");
}

// A policy setting's number in [lo, hi] (NaN refused).
Result<double> ParseNumber(const std::string& key, const std::string& value, double lo, double hi,
                           const std::string& expected) {
  double n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || !(n >= lo && n <= hi)) {
    return InvalidArgument("policy setting " + key + ": expected " + expected + ", got \"" + value +
                           "\"");
  }
  return n;
}

Status ApplyPolicyOverrides(const std::vector<std::pair<std::string, std::string>>& overrides,
                            sched::Policy* p) {
  for (const auto& [key, value] : overrides) {
    if (key == "queue_order") {
      // sjf-request: the sjf order fed with the request (gpus x walltime), not the run time.
      p->queue_order = value == kRequestOrder ? kOraclePolicy : value;
    } else if (key == "backfill" || key == "strict_order") {
      auto b = ParseBool(key, value);
      if (!b.ok()) return b.status();
      (key == "backfill" ? p->backfill : p->strict_order) = *b;
    } else if (key == "reservations" || key == "fair_share_half_life_s" ||
               key == "fair_share_wait_floor_s" || key == "small_first_cap_s" ||
               key == "fair_share_usage_delay_s" || key == "fair_share_wait_horizon_s" ||
               key == "faster_class_patience_extra_s" ||
               key == "fair_share_wait_rank_half_life_s") {
      int64_t n = -1;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || n < 0 || n > 1'000'000'000) {
        return InvalidArgument("policy setting " + key + ": expected a count >= 0, got \"" + value +
                               "\"");
      }
      if (key == "reservations") {
        p->reservations = static_cast<int>(n);
      } else if (key == "fair_share_half_life_s") {
        p->fair_share_half_life_s = n;
      } else if (key == "small_first_cap_s") {
        p->small_first_cap_s = n;
      } else if (key == "fair_share_usage_delay_s") {
        p->fair_share_usage_delay_s = n;
      } else if (key == "fair_share_wait_horizon_s") {
        p->fair_share_wait_horizon_s = n;
      } else if (key == "faster_class_patience_extra_s") {
        p->faster_class_patience_extra_s = n;
      } else if (key == "fair_share_wait_rank_half_life_s") {
        p->fair_share_wait_rank_half_life_s = n;
      } else {
        p->fair_share_wait_floor_s = n;
      }
    } else if (key == "small_first_rate") {
      auto rate = ParseNumber(key, value, 0, 1e9, "GPU-seconds per second between 0 and 1e9");
      if (!rate.ok()) return rate.status();
      p->small_first_rate = *rate;
    } else if (key == "small_first_delay_factor") {
      auto factor = ParseNumber(key, value, 0, 1e9, "a number between 0 (off) and 1e9");
      if (!factor.ok()) return factor.status();
      p->small_first_delay_factor = *factor;
    } else if (key == "fair_share_wait_ratio") {
      auto ratio = ParseNumber(key, value, 0, 1e6, "a number between 0 (off) and 1e6");
      if (!ratio.ok()) return ratio.status();
      p->fair_share_wait_ratio = *ratio;
    } else if (key == "faster_class_wait_ratio") {
      auto ratio = ParseNumber(key, value, -std::numeric_limits<double>::infinity(), 1e6,
                               "a number up to 1e6 (negative: no bound)");
      if (!ratio.ok()) return ratio.status();
      p->faster_class_wait_ratio = *ratio;
    } else {
      return InvalidArgument("unknown policy setting \"" + key +
                             "\" (known: queue_order, backfill, reservations, strict_order, "
                             "fair_share_half_life_s, fair_share_usage_delay_s, "
                             "fair_share_wait_floor_s, fair_share_wait_horizon_s, "
                             "fair_share_wait_rank_half_life_s, fair_share_wait_ratio, "
                             "faster_class_patience_extra_s, faster_class_wait_ratio, "
                             "small_first_cap_s, "
                             "small_first_delay_factor, small_first_rate)");
    }
  }
  return sched::ValidatePolicy(*p);
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
    std::string trace_id;  // (for SimOptions::on_finish)
    int entity = 0;
    Millis submit = 0;
    int64_t duration_s = 0;
    int gpus = 1;
    std::string first_class;
    std::vector<std::pair<std::string, double>> speeds;
    // Once started:
    Millis start = 0;
    int gpu_class = 0;
    std::vector<std::pair<size_t, std::vector<int>>> slices;  // (node position, devices)
    bool timed_out = false;
    Millis hold_end = 0;  // the end of its devices' holds on the time line (start + walltime)
  };
  struct Decay {
    double closed = 0;  // GPU-hours of finished runs, decayed to `at`
    Millis at = 0;
    // Running jobs: their GPUs, and the sum of gpus x 2^(-(t - start) / half-life) at t =
    // `running_at`. Their decayed usage at `now` is (gpus - that sum at now) / ln 2 x half-life
    // in GPU-seconds: O(1) per entity and pass instead of O(running jobs).
    double running_gpus = 0;
    double running_weight = 0;
    Millis running_at = 0;
  };
  // Adds (sign 1, at the job's start) or removes (sign -1, at its end) a running job's term.
  void AddRunningDecay(const Live& job, int sign, Millis t);

  Status Init();
  Status ReadNextArrival();
  void Arrive(TraceJob& job, Millis now);
  // Starts a placed job (`view` is its queued view; the caller takes it out of the queue).
  void Start(const sched::Placement& p, const sched::JobView& view, Millis now);
  void Complete(JobId id, Millis end);
  void RemoveRunningView(size_t pos);
  Status Pass(Millis now);
  void ChooseWindow(std::vector<size_t>* window);
  // What the window reads of a queued job (queued_keys_).
  struct QueuedKey {
    uint64_t classes = 0;
    int64_t walltime_s = 0;
    int gpus = 0;
    bool plain = true;
  };
  bool Candidate(const QueuedKey& job) const;
  bool SureToWaitForGpus(const QueuedKey& job) const;
  bool CrowdedOut(const QueuedKey& job);
  uint64_t ClassMask(const std::vector<std::string>& names) const;
  bool MightPlace() const;
  void UpdateDecayedUsage(Millis now);
  // Snapshot::entity_wait_ratio at now (Policy::fair_share_wait_ratio).
  void UpdateWaitRatios(Millis now);
  double SpeedRatio(const Live& job, const std::string& gpu_class) const;
  int EntityIndex(const std::string& name);
  void Report(Millis now) const;

  JobSource& source_;
  const ClusterSpec& cluster_;
  const std::vector<GpuClass>& catalogue_;
  const SimOptions& options_;
  sched::Policy policy_;
  bool oracle_ = false;
  bool request_order_ = false;  // queue_order=sjf-request (SimOptions::policy_overrides)
  bool fair_share_ = false;
  bool wait_ratio_ = false;  // fair share with Policy::fair_share_wait_ratio
  MetricsBuilder metrics_;

  sched::Snapshot snap_;  // kept up to date in place
  // The cluster's classes in index order (ClusterClasses; a scan beats a tree of strings), and
  // by class index the most GPUs of the class on one node.
  std::vector<std::string> class_list_;
  std::vector<int> max_node_by_class_;
  int ClassOf(const std::string& name) const {
    for (size_t c = 0; c < class_list_.size(); ++c) {
      if (sched::SameClassName(class_list_[c], name)) return static_cast<int>(c);
    }
    return -1;
  }
  std::vector<int> free_by_class_;  // by class index
  std::vector<int> node_free_;      // by node position (a node has one class)
  std::vector<int> node_class_;     // by node position: class index
  std::vector<int> max_node_free_;  // by class index; refreshed by each pass
  std::vector<int> class_total_;    // by class index: GPUs in the cluster
  // Node groups kept for larger jobs (`:min-gpus=N`) make the two above depend on the job's size:
  // then OpenGpus and OpenNode look at the groups that let a job of `gpus` in.
  bool pools_ = false;
  int OpenGpus(int c, int gpus) const;  // GPUs of class c on nodes open to such a job
  int OpenNode(int c, int gpus) const;  // the most GPUs of class c on one such node
  SimSample sample_;                    // for on_sample; queued_jobs kept up to date
  int free_gpus_ = 0;
  int window_blockers_ = 0;  // non-candidates a pass must see (strict order: 1, backfill: R)
  // Per pass (ChooseWindow): for each shape of plain one-class candidates seen so far (GPUs and
  // class), the shortest walltimes among them, at most as many as the class's free GPUs hold.
  struct ShapeSeen {
    int gpus = 0;
    int gpu_class = 0;
    size_t k = 0;                    // free GPUs of the class / gpus, at the pass's start
    std::vector<int64_t> walltimes;  // ascending, at most k
  };
  std::vector<ShapeSeen> shapes_seen_;  // the first shapes_used_ are this pass's (kept: no
  size_t shapes_used_ = 0;              // allocation per pass)
  std::unordered_map<JobId, std::vector<size_t>> running_pos_;  // a gang: one view per node
  std::map<int, int> queued_sizes_;  // gpus asked -> queued jobs asking that many
  std::unordered_map<JobId, Live> live_;
  std::unordered_map<std::string, int> entity_index_;
  std::vector<std::string> entity_names_;
  std::vector<Decay> decay_;                   // per entity index (fair share)
  std::vector<int> queued_per_entity_;         // per entity index: jobs queued
  std::vector<int64_t> queued_submitted_sum_;  // per entity index: their submission times
  // For Policy::fair_share_wait_ratio: the waits of started jobs with the fair-share half-life,
  // and with the rank's (fair_share_wait_rank_half_life_s) when it differs (`rank_waits_`).
  StartedWaits started_waits_;
  StartedWaits rank_waits_;
  bool rank_differs_ = false;
  // Per queued job, in the order of snap_.queued: what the window's choice reads of it, packed
  // (a view is ~200 bytes; a pass reads these for the whole queue). `classes`: its acceptable
  // classes (ClassMask), so that the choice compares no class names; kStarted for a job started
  // since the last Compact (its view stays in place: taking it out would move every view behind
  // it). `walltime_s`: its own, or the policy's default; `plain`: no node selector, no speeds.
  std::vector<QueuedKey> queued_keys_;
  static constexpr uint64_t kStarted = ~uint64_t{0};
  size_t started_in_queue_ = 0;  // views marked kStarted
  void Compact();                // takes them out
  // fair share: the entities' order at the last sort
  std::vector<sched::FairShareOrder::Ranked> sorted_ranking_;
  // Fair share: the entities with queued jobs, in the order FairShareOrder ranks them.
  std::vector<sched::FairShareOrder::Ranked> Ranking() const;
  // (fair share) `ranking` is the last sort's ranking without the entities that have no queued
  // job left: the views queued then are still in order, and those arrived since (the last
  // `arrived_since_sort_`) go among them.
  bool SameRanking(const std::vector<sched::FairShareOrder::Ranked>& ranking) const;
  size_t arrived_since_sort_ = 0;
  // The queued views (those of started jobs left out) as the policy sorts them, the first
  // `sorted` of them being in that order already.
  std::vector<sched::QueueEntry> PolicyOrder(size_t sorted = 0) const;
  bool InPolicyOrder() const;  // (--verify-window: a fresh sort leaves the queue as it is)
  // The time line of running jobs, kept across passes (holds added at each start, taken back
  // at each end) and copied into `pass_timeline_` for a pass, instead of a time line built from
  // the snapshot at every pass. Equal to that one (checked by --verify-window): every running job
  // ends by its walltime, so at a pass every hold ends after now.
  std::optional<sched::Timeline> running_timeline_, pass_timeline_;
  using Completion = std::pair<Millis, JobId>;
  std::priority_queue<Completion, std::vector<Completion>, std::greater<>> completions_;

  std::optional<TraceJob> next_;  // the next arrival, read ahead
  JobId next_id_ = 1;
  SimResult result_;
  SimProgress progress_;
};

Status Replay::Init() {
  auto policy = sched::PolicyByName(options_.policy);
  if (!policy.ok()) {
    std::string known;
    for (const std::string& n : SimPolicyNames()) known += (known.empty() ? "" : ", ") + n;
    bool documented = false;
    for (const std::string& n : SimPolicyNames()) documented = documented || n == options_.policy;
    if (documented) {
      return InvalidArgument("policy " + options_.policy +
                             " is not available in this scheduler version yet");
    }
    return InvalidArgument("unknown policy \"" + options_.policy + "\" (known: " + known + ")");
  }
  oracle_ = options_.policy == kOraclePolicy;
  policy_ = std::move(policy).value();
  for (const auto& [key, value] : options_.policy_overrides) {
    if (key == "queue_order") request_order_ = value == kRequestOrder;
  }
  if (Status s = ApplyPolicyOverrides(options_.policy_overrides, &policy_); !s.ok()) return s;
  oracle_ = (oracle_ || policy_.queue_order == kOraclePolicy) && !request_order_;
  policy_.max_estimates = 0;        // nobody reads start estimates in a replay
  policy_.explain_waiting = false;  // nor reasons in words
  // Simulated jobs have one priority class and no guarantees: nothing could be preempted, so
  // the search for victims is skipped (the same decisions, cheaper).
  policy_.preempt_lower_priority = false;
  policy_.reclaim = false;
  if (options_.default_walltime_s > 0) policy_.default_walltime_s = options_.default_walltime_s;
  fair_share_ = policy_.queue_order == "fair-share";
  wait_ratio_ = fair_share_ && policy_.fair_share_wait_ratio > 0;
  started_waits_ = StartedWaits(policy_.fair_share_half_life_s);
  rank_waits_ = StartedWaits(policy_.fair_share_wait_rank_half_life_s);
  rank_differs_ = policy_.fair_share_wait_rank_half_life_s != policy_.fair_share_half_life_s;

  snap_.nodes = BuildNodes(cluster_);
  snap_.classes = ClusterClasses(cluster_, catalogue_);
  for (const sched::ClassInfo& c : snap_.classes) class_list_.push_back(c.name);
  const size_t classes = class_list_.size();
  if (classes > 63) {  // (ClassMask: one bit per class, and kStarted)
    return InvalidArgument("the cluster has " + std::to_string(classes) +
                           " GPU classes; the simulator takes at most 63");
  }
  metrics_ = MetricsBuilder(class_list_, PriceBook(catalogue_), cluster_.TotalGpus());
  free_gpus_ = cluster_.TotalGpus();
  free_by_class_.assign(classes, 0);
  max_node_free_.assign(classes, 0);
  max_node_by_class_.assign(classes, 0);
  // (Every node's class is one of ClusterClasses: ClassOf finds it.)
  for (const sched::NodeView& n : snap_.nodes) {
    node_free_.push_back(static_cast<int>(n.devices.size()));
    node_class_.push_back(ClassOf(n.devices.front().gpu_class));
  }
  sample_.queued_jobs.assign(classes, 0);
  sample_.busy_gpus.assign(classes, 0);
  for (const NodeGroup& g : cluster_.groups) {
    const int c = ClassOf(g.gpu_class);
    free_by_class_[c] += g.gpus_per_node * g.nodes;
    max_node_by_class_[c] = std::max(max_node_by_class_[c], g.gpus_per_node);
    pools_ = pools_ || g.min_job_gpus > 0;
  }
  // The window (see ChooseWindow) is exact only without a per-pass limit: the simulator has none.
  policy_.max_jobs_per_pass = std::numeric_limits<int>::max();
  window_blockers_ = policy_.backfill ? policy_.reservations : policy_.strict_order ? 1 : 0;
  class_total_ = free_by_class_;
  running_timeline_.emplace(snap_, policy_, kSimEpoch);
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
    decay_.push_back({});
    queued_per_entity_.push_back(0);
    queued_submitted_sum_.push_back(0);
    snap_.entity_names[it->second + 1] = name;
    if (auto sh = options_.entity_shares.find(name); sh != options_.entity_shares.end()) {
      snap_.entity_shares[it->second + 1] = sh->second;
    }
  }
  return it->second;
}

void Replay::Arrive(TraceJob& job, Millis now) {
  const JobId id = next_id_++;
  const int entity = EntityIndex(job.entity);
  metrics_.AddSubmitted(entity, now);
  ++queued_per_entity_[static_cast<size_t>(entity)];
  queued_submitted_sum_[static_cast<size_t>(entity)] += now;
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
  for (const std::string& name : view.gpu_types) {
    const int c = ClassOf(name);
    placeable = placeable || (c >= 0 && OpenGpus(c, job.gpus) >= job.gpus);
  }
  if (!placeable) {
    ++result_.unplaceable;
    return;
  }
  if (oracle_) view.oracle_runtime_s = job.duration_s;
  if (request_order_) {  // what the user asked for, which production knows
    view.oracle_runtime_s = job.walltime_s > 0 ? job.walltime_s : policy_.default_walltime_s;
  }
  // Speed hints are part of the request (users and history know them), not an oracle.
  for (const auto& [cls, speed] : job.speeds) view.speeds[cls] = speed;

  Live live;
  live.trace_id = job.id;
  live.entity = entity;
  live.submit = now;
  live.duration_s = job.duration_s;
  live.gpus = job.gpus;
  live.first_class = view.gpu_types.front();
  if (const int c = ClassOf(live.first_class); c >= 0) ++sample_.queued_jobs[c];
  live.speeds = std::move(job.speeds);
  live_.emplace(id, std::move(live));
  queued_keys_.push_back({ClassMask(view.gpu_types),
                          view.walltime_s > 0 ? view.walltime_s : policy_.default_walltime_s,
                          view.gpus, view.node_selector.empty() && view.speeds.empty()});
  snap_.queued.push_back(std::move(view));  // at the end: the next pass puts it in order
  snap_.queued_in_order = false;
  ++arrived_since_sort_;
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

void Replay::Start(const sched::Placement& p, const sched::JobView& view, Millis now) {
  if (--queued_sizes_[view.gpus] == 0) queued_sizes_.erase(view.gpus);
  --queued_per_entity_[static_cast<size_t>(view.entity - 1)];
  queued_submitted_sum_[static_cast<size_t>(view.entity - 1)] -= view.submitted_at;
  if (wait_ratio_) {
    const size_t e = static_cast<size_t>(view.entity - 1);
    started_waits_.Add(e, view.submitted_at, now);
    if (rank_differs_) rank_waits_.Add(e, view.submitted_at, now);
  }

  Live& job = live_.at(p.job);
  if (const int c = ClassOf(job.first_class); c >= 0) --sample_.queued_jobs[c];
  job.slices.clear();
  if (p.slices.empty()) {
    job.slices.push_back({static_cast<size_t>(p.node - 1), p.devices});
  } else {
    for (const sched::Slice& sl : p.slices) {
      job.slices.push_back({static_cast<size_t>(sl.node - 1), sl.devices});
    }
  }
  for (const auto& [node_pos, devices] : job.slices) {
    for (int d : devices) snap_.nodes[node_pos].devices[d].used_by = p.job;
    free_gpus_ -= static_cast<int>(devices.size());
  }

  const int64_t walltime_s = sched::WalltimeOnClassS(view, p.gpu_class, snap_, policy_);
  const double run_ms =
      std::ceil(static_cast<double>(job.duration_s) * 1000.0 / SpeedRatio(job, p.gpu_class));
  const double wall_ms = static_cast<double>(walltime_s) * 1000.0;
  job.timed_out = run_ms > wall_ms;
  const Millis end = now + static_cast<Millis>(std::min(run_ms, wall_ms));
  job.start = now;
  // (As Timeline's constructor holds a running job's devices.)
  job.hold_end = sched::AddSeconds(now, walltime_s > 0 ? walltime_s : policy_.default_walltime_s);
  for (const auto& [node_pos, devices] : job.slices) {
    running_timeline_->AddRunning(node_pos, devices, view.entity, p.gpu_class, job.hold_end);
  }
  job.gpu_class = ClassOf(p.gpu_class);
  if (fair_share_) AddRunningDecay(job, 1, now);
  for (const auto& [node_pos, devices] : job.slices) {
    free_by_class_[job.gpu_class] -= static_cast<int>(devices.size());
    node_free_[node_pos] -= static_cast<int>(devices.size());
  }
  completions_.push({end, p.job});

  std::vector<size_t>& positions = running_pos_[p.job];
  for (const auto& [node_pos, devices] : job.slices) {
    sched::RunningView r;
    r.id = p.job;
    r.entity = view.entity;
    r.node = snap_.nodes[node_pos].id;
    r.gpu_class = p.gpu_class;
    r.devices = devices;
    r.started_at = now;
    r.walltime_s = walltime_s;
    r.priority = view.priority;
    r.priority_class = view.priority_class;
    positions.push_back(snap_.running.size());
    snap_.running.push_back(std::move(r));
  }
}

void Replay::RemoveRunningView(size_t pos) {
  const size_t last = snap_.running.size() - 1;
  if (pos != last) {
    snap_.running[pos] = std::move(snap_.running[last]);
    for (size_t& p : running_pos_.at(snap_.running[pos].id)) {
      if (p == last) p = pos;
    }
  }
  snap_.running.pop_back();
}

void Replay::Complete(JobId id, Millis end) {
  auto it = live_.find(id);
  const Live& job = it->second;
  std::vector<size_t> positions = std::move(running_pos_.at(id));
  running_pos_.erase(id);
  std::sort(positions.rbegin(), positions.rend());  // the last first keeps the others valid
  for (size_t pos : positions) RemoveRunningView(pos);
  for (const auto& [node_pos, devices] : job.slices) {
    running_timeline_->RemoveRunning(node_pos, devices, job.entity + 1, class_list_[job.gpu_class],
                                     job.hold_end);
  }
  for (const auto& [node_pos, devices] : job.slices) {
    for (int d : devices) snap_.nodes[node_pos].devices[d].used_by = 0;
    free_gpus_ += static_cast<int>(devices.size());
    free_by_class_[job.gpu_class] += static_cast<int>(devices.size());
    node_free_[node_pos] += static_cast<int>(devices.size());
  }
  if (fair_share_) {
    AddRunningDecay(job, -1, end);
    const int64_t h = policy_.fair_share_half_life_s;
    Decay& d = decay_[job.entity];
    d.closed =
        d.closed * DecayFactor(end - d.at, h) + DecayedGpuHours(job.gpus, job.start, end, end, h);
    d.at = end;
  }
  const JobOutcome outcome{job.entity,
                           job.gpu_class,
                           job.submit,
                           job.start,
                           end,
                           job.gpus,
                           job.timed_out,
                           job.trace_id,
                           entity_names_[static_cast<size_t>(job.entity)],
                           class_list_[static_cast<size_t>(job.gpu_class)]};
  metrics_.AddFinished(outcome);
  if (options_.on_finish) options_.on_finish(outcome);
  ++progress_.finished;
  live_.erase(it);
}

// Exact: a placement needs job.gpus free devices, and the simulated jobs have no priority
// class or guarantee that could make a pass preempt (Pass refuses a plan with preemptions).
bool Replay::MightPlace() const {
  return !queued_sizes_.empty() && free_gpus_ >= queued_sizes_.begin()->first;
}

void Replay::AddRunningDecay(const Live& job, int sign, Millis t) {
  Decay& d = decay_[job.entity];
  const int64_t h = policy_.fair_share_half_life_s;
  d.running_weight *= DecayFactor(t - d.running_at, h);
  d.running_at = t;
  d.running_gpus += sign * job.gpus;
  d.running_weight += sign * job.gpus * DecayFactor(t - job.start, h);
}

void Replay::UpdateWaitRatios(Millis now) {
  auto ratios = [&](const StartedWaits& started) {
    std::map<EntityId, sched::WaitTally> tallies;
    for (size_t e = 0; e < queued_per_entity_.size(); ++e) {
      sched::WaitTally t = started.At(e, now);
      // The queued jobs' waits so far, from the sum of their submission times.
      const double queued = queued_per_entity_[e];
      t.waited_s +=
          (queued * static_cast<double>(now) - static_cast<double>(queued_submitted_sum_[e])) /
          1000.0;
      t.jobs += queued;
      t.queued = queued;
      if (t.jobs > 0) tallies[static_cast<EntityId>(e + 1)] = t;
    }
    return sched::WaitRatios(tallies, policy_.fair_share_wait_horizon_s);
  };
  snap_.entity_wait_ratio = ratios(started_waits_);
  if (rank_differs_) snap_.entity_wait_rank = ratios(rank_waits_);
}

void Replay::UpdateDecayedUsage(Millis now) {
  const int64_t h = policy_.fair_share_half_life_s;
  std::vector<double> usage(decay_.size());
  for (size_t e = 0; e < decay_.size(); ++e) {
    usage[e] = decay_[e].closed * DecayFactor(now - decay_[e].at, h);
  }
  if (h > 0) {
    // sum of gpus x (1 - 2^(-(now - start) / h)) / k / 3600, with k = ln 2 / h.
    const double k = std::log(2.0) / static_cast<double>(h);
    for (size_t e = 0; e < decay_.size(); ++e) {
      const Decay& d = decay_[e];
      if (d.running_gpus == 0) continue;
      const double weight = d.running_weight * DecayFactor(now - d.running_at, h);
      usage[e] += std::max(0.0, d.running_gpus - weight) / k / 3600.0;
    }
  } else {
    for (const auto& [id, positions] : running_pos_) {
      const Live& job = live_.at(id);
      usage[job.entity] += DecayedGpuHours(job.gpus, job.start, now, now, h);
    }
  }
  for (size_t e = 0; e < usage.size(); ++e) {
    snap_.decayed_usage[static_cast<EntityId>(e + 1)] = usage[e];
  }
}

int Replay::OpenGpus(int c, int gpus) const {
  if (!pools_) return class_total_[c];
  int n = 0;
  for (const NodeGroup& g : cluster_.groups) {
    if (g.min_job_gpus <= gpus && ClassOf(g.gpu_class) == c) n += g.gpus_per_node * g.nodes;
  }
  return n;
}

int Replay::OpenNode(int c, int gpus) const {
  if (!pools_) return max_node_by_class_[c];
  int most = 0;
  for (const NodeGroup& g : cluster_.groups) {
    if (g.min_job_gpus <= gpus && ClassOf(g.gpu_class) == c) most = std::max(most, g.gpus_per_node);
  }
  return most;
}

// A necessary condition for the job to start now: for some acceptable class, one node has
// job.gpus free GPUs of it (a job that fits on a node is placed on one node), or, for a job
// larger than any node of the class (a gang), the cluster has that many free.
bool Replay::Candidate(const QueuedKey& job) const {
  for (uint64_t classes = job.classes; classes != 0; classes &= classes - 1) {
    const int c = std::countr_zero(classes);
    const bool one_node = max_node_by_class_[c] >= job.gpus;
    if ((one_node ? max_node_free_[c] : free_by_class_[c]) >= job.gpus) return true;
  }
  return false;
}

// The cluster's classes among `names`, one bit per class index (Init refuses more than 63
// classes); names the cluster lacks are left out.
uint64_t Replay::ClassMask(const std::vector<std::string>& names) const {
  uint64_t mask = 0;
  for (const std::string& name : names) {
    if (const int c = ClassOf(name); c >= 0) mask |= uint64_t{1} << c;
  }
  return mask;
}

// The job fits on one node of an acceptable class when that node is free, so a pass that
// cannot start it finds it waiting for GPUs (the stage that blocks under strict order and earns
// a reservation under backfill), not too big.
bool Replay::SureToWaitForGpus(const QueuedKey& job) const {
  for (uint64_t classes = job.classes; classes != 0; classes &= classes - 1) {
    if (OpenNode(std::countr_zero(classes), job.gpus) >= job.gpus) return true;
  }
  return false;
}

// A candidate that cannot start in this pass all the same: a plain job (no node selector, no
// speed hints) of one class c, behind k = free GPUs of c / its GPUs (rounded down) plain
// candidates of the same GPUs and class whose walltimes are no longer than its own. Either they
// all start, and leave fewer GPUs of c than it asks, or one of them finds no room now, and then
// neither does it (the same request over a longer time, and a pass only adds holds: the pass's
// own failed-shape rule, sched/scheduler.cc). With one class there is no class to choose, and the
// simulator sets no quotas. Records the job among the shapes seen.
bool Replay::CrowdedOut(const QueuedKey& job) {
  if ((job.classes & (job.classes - 1)) != 0 || !job.plain) return false;
  const int c = std::countr_zero(job.classes);
  const auto used = shapes_seen_.begin() + static_cast<std::ptrdiff_t>(shapes_used_);
  auto seen = std::find_if(shapes_seen_.begin(), used, [&](const ShapeSeen& s) {
    return s.gpus == job.gpus && s.gpu_class == c;
  });
  if (seen == used) {
    if (shapes_used_ == shapes_seen_.size()) shapes_seen_.emplace_back();
    seen = shapes_seen_.begin() + static_cast<std::ptrdiff_t>(shapes_used_++);
    seen->gpus = job.gpus;
    seen->gpu_class = c;
    seen->k = static_cast<size_t>(free_by_class_[c] / job.gpus);
    seen->walltimes.clear();
  }
  const size_t k = seen->k;
  std::vector<int64_t>& w = seen->walltimes;
  const bool crowded = w.size() >= k && (k == 0 || w[k - 1] <= job.walltime_s);
  if (w.size() < k || (k > 0 && job.walltime_s < w.back())) {
    w.insert(std::upper_bound(w.begin(), w.end(), job.walltime_s), job.walltime_s);
    if (w.size() > k) w.pop_back();
  }
  return crowded;
}

// The queued jobs a pass must see to decide exactly as it would on the whole queue: every
// candidate (the only jobs that can start) but those crowded out (CrowdedOut), plus, in queue
// order, the non-candidates up to the first `window_blockers_` that are sure to wait for GPUs
// (under strict order the first such job blocks all behind it, so nothing behind it is needed;
// under backfill the first R get the reservations). The others cannot start, and cannot block or
// reserve ahead of those: leaving them out changes nothing but the cost. (Without preemption, which
// Pass refuses, and without quotas, which the simulator does not set.) `verify_window` checks this
// claim against full passes. The queue is kept in the order of the last pass (arrivals at the end),
// so that putting it in order again is mostly finding the arrivals' places (QueueOrder::SortTail;
// a full sort when the fair-share ranking changed), and the window, taken in queue order, is
// already sorted for the pass.
void Replay::ChooseWindow(std::vector<size_t>* window) {
  std::fill(max_node_free_.begin(), max_node_free_.end(), 0);
  for (size_t n = 0; n < node_free_.size(); ++n) {
    int& m = max_node_free_[node_class_[n]];
    m = std::max(m, node_free_[n]);
  }
  // Without an arrival since the last sort, the queue is still in order unless the entities'
  // fair-share ranking changed (every other key of the order is fixed at submission): no sort.
  std::vector<sched::FairShareOrder::Ranked> ranking;
  if (fair_share_) ranking = Ranking();
  const bool same_ranking = SameRanking(ranking);
  if (!snap_.queued_in_order || !same_ranking) {  // (not in order: an arrival since)
    // The order is of the jobs still queued: the views of started ones (not compacted yet) are
    // left out, as a production queue has no started job (the fair-share ranking counts the
    // entities of the queue it sorts), and stay where they are. With the same ranking, the
    // queued views before the arrivals are in order: only the arrivals' places are sought
    // (QueueOrder::SortTail).
    const size_t queued = snap_.queued.size() - started_in_queue_;
    const size_t sorted = same_ranking ? queued - arrived_since_sort_ : 0;
    const std::vector<sched::QueueEntry> order = PolicyOrder(sorted);
    // Put the views in that order in the places of queued views, cycle by cycle: a view already
    // in its place (most of them) does not move.
    std::vector<size_t> from(snap_.queued.size());
    size_t next = 0;
    for (size_t i = 0; i < from.size(); ++i) {
      from[i] = queued_keys_[i].classes == kStarted
                    ? i
                    : static_cast<size_t>(order[next++].job - snap_.queued.data());
    }
    for (size_t i = 0; i < from.size(); ++i) {
      if (from[i] == i) continue;
      sched::JobView held = std::move(snap_.queued[i]);
      const QueuedKey held_key = queued_keys_[i];
      size_t j = i;
      while (from[j] != i) {
        snap_.queued[j] = std::move(snap_.queued[from[j]]);
        queued_keys_[j] = queued_keys_[from[j]];
        const size_t next = from[j];
        from[j] = j;
        j = next;
      }
      snap_.queued[j] = std::move(held);
      queued_keys_[j] = held_key;
      from[j] = j;
    }
    sorted_ranking_ = std::move(ranking);
    arrived_since_sort_ = 0;
  }
  snap_.queued_in_order = true;  // (the pass sees this order, or a sub-sequence of it)
  const bool strict = policy_.strict_order && !policy_.backfill;
  int blockers = 0;
  bool any_candidate = false;
  shapes_used_ = 0;
  for (size_t i = 0; i < snap_.queued.size(); ++i) {
    const QueuedKey& j = queued_keys_[i];
    if (j.classes == kStarted) continue;
    if (Candidate(j) && !CrowdedOut(j)) {
      window->push_back(i);
      any_candidate = true;
      continue;
    }
    if (blockers >= window_blockers_) continue;
    window->push_back(i);
    if (SureToWaitForGpus(j) && ++blockers >= window_blockers_ && strict) break;
  }
  // Without a candidate nothing can start: the pass would only block or reserve, which lasts
  // until the next pass and is not simulated otherwise. No pass.
  if (!any_candidate) window->clear();
}

std::vector<sched::FairShareOrder::Ranked> Replay::Ranking() const {
  std::vector<sched::FairShareOrder::Tally> tallies;
  for (size_t e = 0; e < queued_per_entity_.size(); ++e) {
    if (queued_per_entity_[e] == 0) continue;
    tallies.push_back({static_cast<EntityId>(e + 1), queued_per_entity_[e],
                       policy_.fair_share_wait_floor_s > 0 ? queued_submitted_sum_[e] : 0});
  }
  // (as FairShareOrder::Sort ranks them)
  return sched::FairShareOrder::Rank(policy_, snap_.entity_shares, snap_.decayed_usage, tallies,
                                     snap_.entity_wait_ratio, snap_.entity_wait_rank);
}

std::vector<sched::QueueEntry> Replay::PolicyOrder(size_t sorted) const {
  std::vector<sched::QueueEntry> order;
  order.reserve(snap_.queued.size() - started_in_queue_);
  for (size_t i = 0; i < snap_.queued.size(); ++i) {
    if (queued_keys_[i].classes == kStarted) continue;
    const sched::JobView& j = snap_.queued[i];
    order.push_back({&j, j.id, j.entity, j.gpus});
  }
  auto queue_order = sched::MakeQueueOrder(policy_.queue_order, &policy_, &snap_);
  // (a named policy always has its order)
  if (queue_order.ok()) (*queue_order)->SortTail(order, sorted);
  return order;
}

bool Replay::InPolicyOrder() const {
  const std::vector<sched::QueueEntry> order = PolicyOrder();
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i].job != &snap_.queued[i]) return false;
  }
  return true;
}

bool Replay::SameRanking(const std::vector<sched::FairShareOrder::Ranked>& ranking) const {
  if (!fair_share_) return true;
  // The same entities with queued jobs in the same order, with the same delays and the same
  // group boundaries between them (the group numbers themselves shift as entities leave).
  size_t at = 0;
  const sched::FairShareOrder::Ranked* previous = nullptr;
  for (const sched::FairShareOrder::Ranked& r : sorted_ranking_) {
    if (queued_per_entity_[static_cast<size_t>(r.entity - 1)] == 0) continue;
    if (at == ranking.size() || ranking[at].entity != r.entity ||
        ranking[at].delay_steps != r.delay_steps) {
      return false;
    }
    if (previous && (previous->group == r.group) != (ranking[at - 1].group == ranking[at].group)) {
      return false;
    }
    previous = &r;
    ++at;
  }
  return at == ranking.size();
}

Status Replay::Pass(Millis now) {
  if (fair_share_) UpdateDecayedUsage(now);
  if (wait_ratio_) UpdateWaitRatios(now);
  // Started jobs leave the queue in batches (the passes skip them until then); a pass on the
  // whole queue needs them out.
  if (started_in_queue_ > 0 &&
      (options_.verify_window || started_in_queue_ * 4 > snap_.queued.size())) {
    Compact();
  }
  std::vector<size_t> chosen;
  ChooseWindow(&chosen);
  if (chosen.empty()) return Status::Ok();  // nothing can start
  sched::Plan full_plan;
  running_timeline_->AdvanceTo(now);
  if (options_.verify_window) {
    if (!InPolicyOrder()) {
      return Internal("policy " + options_.policy + " at t=" + SecondsText(now) +
                      " s: the queue kept in order is not in the order its policy sorts it");
    }
    full_plan = sched::Schedule(snap_, policy_, now);
    std::string difference;
    if (!sched::Timeline::SameState(*running_timeline_, sched::Timeline(snap_, policy_, now),
                                    &difference)) {
      return Internal("policy " + options_.policy + " at t=" + SecondsText(now) +
                      " s: the time line kept across passes differs from the snapshot's (" +
                      difference + ")");
    }
  }
  // The pass sees the window (Snapshot::windowed; the same decisions: see ChooseWindow).
  snap_.windowed = chosen.size() < snap_.queued.size();
  if (snap_.windowed) snap_.window.assign(chosen.begin(), chosen.end());
  running_timeline_->KnowFreeTimes();  // (only nodes whose holds changed since the last pass)
  if (pass_timeline_) {
    *pass_timeline_ = *running_timeline_;  // (its memory reused)
  } else {
    pass_timeline_.emplace(*running_timeline_);
  }
  sched::Plan plan = sched::Schedule(snap_, policy_, now, *pass_timeline_);
  ++result_.passes;
  Status check = options_.check_invariants ? sched::CheckInvariants(snap_, plan) : Status::Ok();
  snap_.windowed = false;
  if (!check.ok()) {
    return Internal("policy " + options_.policy + " at t=" + SecondsText(now) +
                    " s: invariant violated: " + check.message());
  }
  if (options_.verify_window && !SamePlacements(plan, full_plan)) {
    return Internal("policy " + options_.policy + " at t=" + SecondsText(now) +
                    " s: the pass on the window of " + std::to_string(chosen.size()) +
                    " jobs placed differently from the pass on all " +
                    std::to_string(snap_.queued.size()) + " queued jobs");
  }
  if (!plan.preemptions.empty()) {
    return Internal("policy " + options_.policy + " at t=" + SecondsText(now) +
                    " s: the plan preempts job " + std::to_string(plan.preemptions[0].job) +
                    ", which the simulator does not model (no priority classes or guarantees)");
  }
  if (plan.placements.empty()) return Status::Ok();
  // Start the placed jobs (placements come in the window's order: one walk finds them); their
  // views stay in the queue, marked, until Compact.
  size_t next = 0;
  for (size_t i : chosen) {
    if (next == plan.placements.size()) break;
    if (snap_.queued[i].id != plan.placements[next].job) continue;
    Start(plan.placements[next++], snap_.queued[i], now);
    queued_keys_[i].classes = kStarted;
    ++started_in_queue_;
  }
  if (next != plan.placements.size()) {
    return Internal("policy " + options_.policy + " at t=" + SecondsText(now) + " s: job " +
                    std::to_string(plan.placements[next].job) +
                    " is placed out of queue order or twice");
  }
  return Status::Ok();
}

void Replay::Compact() {
  size_t kept = 0;
  for (size_t i = 0; i < snap_.queued.size(); ++i) {
    if (queued_keys_[i].classes == kStarted) continue;
    if (kept != i) {
      snap_.queued[kept] = std::move(snap_.queued[i]);
      queued_keys_[kept] = queued_keys_[i];
    }
    ++kept;
  }
  snap_.queued.resize(kept);
  queued_keys_.resize(kept);
  started_in_queue_ = 0;
}

void Replay::Report(Millis now) const {
  SimProgress p = progress_;
  p.passes = result_.passes;
  p.queued = snap_.queued.size() - started_in_queue_;
  p.running = live_.size() - p.queued;
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
    if (options_.on_sample) {
      sample_.now_s = (now - kSimEpoch) / 1000;
      for (size_t c = 0; c < class_total_.size(); ++c) {
        sample_.busy_gpus[c] = class_total_[c] - free_by_class_[c];
      }
      options_.on_sample(sample_);
    }
    if (options_.progress_every > 0 && options_.on_progress &&
        result_.events % options_.progress_every == 0) {
      Report(now);
    }
  }
  result_.never_started =
      static_cast<int64_t>(snap_.queued.size() - started_in_queue_) + result_.unplaceable;
  result_.metrics = metrics_.Finish(options_.policy, entity_names_);
  result_.entity_names = entity_names_;
  return std::move(result_);
}

}  // namespace

Result<std::map<std::string, double>> EntitySharesFromDemand(JobSource& source) {
  std::map<std::string, double> demand;
  double total = 0;
  TraceJob job;
  while (true) {
    auto more = source.Next(&job);
    if (!more.ok()) return more.status();
    if (!*more) break;
    const double d = static_cast<double>(job.gpus) * static_cast<double>(job.duration_s);
    demand[job.entity] += d;
    total += d;
  }
  if (demand.empty() || total <= 0) return demand;
  const double mean = total / static_cast<double>(demand.size());
  for (auto& [name, d] : demand) d = std::max(d / mean, 1e-6);
  return demand;
}

std::vector<std::string> SimPolicyNames() {
  return {"fifo", "backfill", "ordered-fallback", kOraclePolicy, "default"};
}

Result<SimResult> Simulate(JobSource& source, const ClusterSpec& cluster,
                           const std::vector<GpuClass>& catalogue, const SimOptions& options) {
  Replay replay(source, cluster, catalogue, options);
  return replay.Run();
}

}  // namespace gpuaas::sim
