// Jobs of the Platform: submit, cancel, read (see platform.h for the threading contract).
#include <algorithm>
#include <set>

#include "sched/filters.h"
#include "state/platform.h"

namespace gpuaas {
namespace {

constexpr size_t kMaxCommandArgs = 256;
constexpr size_t kMaxCommandBytes = 64 << 10;
constexpr int kMaxJobCpus = 1024;
constexpr int kMaxJobMemoryGb = 16384;
constexpr size_t kMaxJobName = 128;
constexpr int kMaxGpusPerJob = 1024;

std::string DefaultName(const JobRequest& req) {
  if (req.command.empty()) return JobKindName(req.kind);
  std::string n = req.command[0];
  if (auto slash = n.rfind('/'); slash != std::string::npos) n = n.substr(slash + 1);
  if (n.empty()) n = JobKindName(req.kind);
  return n.substr(0, kMaxJobName);
}

}  // namespace

Status Platform::CheckJobRequest(const JobRequest& req, EntityId entity) const {
  if (req.gpus < 1 || req.gpus > kMaxGpusPerJob) {
    return FailedPrecondition("gpus must be between 1 and " + std::to_string(kMaxGpusPerJob));
  }
  if (req.name.size() > kMaxJobName) {
    return FailedPrecondition("name is longer than " + std::to_string(kMaxJobName) + " characters");
  }
  std::set<std::string> seen;
  for (const auto& t : req.gpu_types) {
    bool known = std::any_of(config_.classes.begin(), config_.classes.end(),
                             [&](const GpuClass& c) { return c.name == t; });
    if (!known) {
      std::string names;
      for (const auto& c : config_.classes) names += (names.empty() ? "" : ", ") + c.name;
      return FailedPrecondition("unknown GPU type '" + t + "' (known: " + names + ")");
    }
    if (!seen.insert(t).second) return FailedPrecondition("GPU type '" + t + "' is listed twice");
  }
  if (req.walltime_s < 0 || req.walltime_s > config_.max_walltime_s) {
    return FailedPrecondition("walltime must be between 1 s and " +
                              FormatDurationSeconds(config_.max_walltime_s));
  }
  bool needs_command = req.kind == JobKind::kJob || req.kind == JobKind::kService;
  if (needs_command && req.command.empty()) {
    return FailedPrecondition(std::string("a ") + JobKindName(req.kind) + " needs a command");
  }
  if (req.command.size() > kMaxCommandArgs) {
    return FailedPrecondition("command has more than 256 arguments");
  }
  size_t bytes = 0;
  for (const auto& a : req.command) {
    bytes += a.size();
    if (a.find('\0') != std::string::npos) return FailedPrecondition("command contains a NUL byte");
  }
  if (bytes > kMaxCommandBytes) return FailedPrecondition("command is larger than 64 KiB");
  if (!req.command.empty() && req.command[0].empty()) {
    return FailedPrecondition("command's program name is empty");
  }
  if (!req.priority_class.empty() && req.priority_class != "production" &&
      req.priority_class != "standard" && req.priority_class != "best-effort") {
    return FailedPrecondition("unknown priority class '" + req.priority_class +
                              "' (production, standard, best-effort)");
  }
  if (req.project.size() > 64) return FailedPrecondition("project is longer than 64 characters");
  if (req.cpus < 0 || req.cpus > kMaxJobCpus) {
    return FailedPrecondition("cpus must be between 1 and " + std::to_string(kMaxJobCpus));
  }
  if (req.memory_gb < 0 || req.memory_gb > kMaxJobMemoryGb) {
    return FailedPrecondition("memory_gb must be between 1 and " + std::to_string(kMaxJobMemoryGb));
  }
  if (req.node_selector.size() > 16) return FailedPrecondition("at most 16 node_selector labels");
  if (req.environment.size() > 64 || (!req.environment.empty() && !IsValidName(req.environment))) {
    return FailedPrecondition("environment '" + req.environment + "' is not a valid name");
  }
  // Can it ever run? Some acceptable class must have enough GPUs (when its nodes are known) and
  // a quota that admits it. A job larger than every node of the class runs as a multi-node
  // gang (docs/scheduling.md), so the cluster's total counts; a notebook keeps to one node.
  const Entity& e = entities_.at(entity);
  std::vector<std::string> classes = req.gpu_types;
  if (classes.empty()) {
    for (const auto& c : config_.classes) classes.push_back(c.name);
  }
  std::string why;
  for (const auto& cls : classes) {
    auto q = e.quota.find(cls);
    if (q != e.quota.end() && q->second < req.gpus) {
      why = e.name + "'s quota allows " + std::to_string(q->second) + " " + cls + " GPUs";
      continue;
    }
    int biggest = -1;  // -1: no node of the class known yet
    int total = 0;
    int kept = 0;      // GPUs on nodes kept for larger jobs (gpuaas.io/min-gpus)
    int kept_for = 0;  // the smallest such floor
    for (const auto& [id, n] : nodes_) {
      int count = 0;
      for (const auto& g : n.gpus) count += g.gpu_class == cls;
      if (count == 0) continue;
      if (const int min = sched::MinJobGpus(n.labels); min > req.gpus) {
        kept += count;
        kept_for = kept_for == 0 ? min : std::min(kept_for, min);
        continue;
      }
      biggest = std::max(biggest, count);
      total += count;
    }
    if (biggest < 0 && kept > 0) {
      why = "every node of class " + cls + " is kept for jobs of at least " +
            std::to_string(kept_for) + " GPUs (label " + sched::kMinGpusLabel + ")";
      continue;
    }
    if (biggest >= 0 && req.kind == JobKind::kNotebook && biggest < req.gpus) {
      why = "a notebook runs on one node and no node has " + std::to_string(req.gpus) +
            " GPUs of class " + cls + " (largest: " + std::to_string(biggest) + ")";
      continue;
    }
    if (biggest >= 0 && total < req.gpus) {
      why = "the cluster has " + std::to_string(total) + " GPUs of class " + cls + ", not " +
            std::to_string(req.gpus);
      continue;
    }
    return Status::Ok();
  }
  return FailedPrecondition("this job can never run: " + why);
}

void Platform::SubmitJob(const Principal& p, const JobRequest& req, Done<Job> done) {
  if (p.agent) return done(PermissionDenied("agents do not submit jobs"));
  EntityId entity = p.entity;
  if (!req.entity.empty()) {
    auto it = entity_by_name_.find(req.entity);
    if (it == entity_by_name_.end() || !Visible(p, it->second)) {
      return done(NotFound("entity '" + req.entity + "' does not exist"));
    }
    entity = it->second;
  }
  if (entity == 0) {
    return done(InvalidArgument("a platform-admin names the entity to bill (\"entity\": NAME)"));
  }
  if (Status s = CheckJobRequest(req, entity); !s.ok()) return done(s);
  if (Status s = CheckJobRuntime(req, entity); !s.ok()) return done(s);
  // Budget policy (refuse, or best-effort only) and the workspace quota.
  if (Status s = CheckBillingAdmission(req, entity); !s.ok()) return done(s);
  if (queued_.size() >= config_.max_active_jobs) {
    return done(ResourceExhausted("the queue is full (" + std::to_string(config_.max_active_jobs) +
                                  " jobs); try again later"));
  }
  Job j;
  j.id = next_job_++;
  j.name = req.name.empty() ? DefaultName(req) : req.name;
  j.kind = req.kind;
  j.entity = entity;
  j.user = p.user;
  j.gpus = req.gpus;
  j.gpu_types = req.gpu_types;
  j.walltime_s = req.walltime_s > 0 ? req.walltime_s : config_.default_walltime_s;
  j.command = req.command;
  j.environment = req.environment;
  j.workspace_mode = req.workspace_mode;
  j.secrets = req.secrets;
  j.cpus = req.cpus > 0 ? req.cpus : std::min(kMaxJobCpus, req.gpus * config_.default_cpus_per_gpu);
  j.memory_gb = req.memory_gb > 0
                    ? req.memory_gb
                    : std::min(kMaxJobMemoryGb, req.gpus * config_.default_memory_gb_per_gpu);
  j.project = req.project;
  j.priority_class = req.priority_class;
  j.requeue_on_preempt = req.requeue_on_preempt;
  j.allow_fallback = req.allow_fallback;
  j.node_selector = req.node_selector;
  j.state = JobState::kQueued;
  j.submitted_at = clock_.Now();
  j.reason = "waiting for the scheduler";
  jobs_[j.id] = j;
  queued_.insert(j.id);
  start_trace_.Submitted(j.id, next_seq_);
  // The pass need not wait for this commit: batches commit in order, so a placement commits
  // after the job, and agents hear of it only once it is durable. The answer (201) is the job
  // as committed, once committed.
  Persist({j}, [j, done = std::move(done)] { done(j); });
  RequestSchedulePass();
}

void Platform::CancelJob(const Principal& p, JobId id, Done<Job> done) {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || p.agent || !Visible(p, it->second.entity)) {
    return done(NotFound("job " + std::to_string(id) + " does not exist"));
  }
  Job& j = it->second;
  if (IsFinal(j.state)) {
    return done(Conflict("job " + std::to_string(id) + " is already " + JobStateName(j.state)));
  }
  std::vector<Mutation> batch;
  std::set<NodeId> nodes;
  CancelInto(j, "cancelled by " + p.name, batch, nodes);
  Persist(std::move(batch), [this, id, nodes, done = std::move(done)] {
    for (NodeId n : nodes) WakeNode(n);
    done(jobs_.at(id));
  });
}

void Platform::CancelInto(Job& j, const std::string& reason, std::vector<Mutation>& batch,
                          std::set<NodeId>& nodes) {
  for (const Allocation* a : PartsOf(j)) nodes.insert(a->node);  // a gang has several
  if (j.state == JobState::kQueued) {
    queued_.erase(j.id);
    queue_info_.erase(j.id);
    FinalizeJob(j, JobState::kCancelled, clock_.Now(), reason, std::nullopt, batch);
  } else {
    // Its processes get SIGTERM, then SIGKILL after the grace period; its GPUs stay held (and
    // billed) until the agent confirms they are gone.
    j.cancel_requested = true;
    j.state = JobState::kCancelled;
    j.reason = reason;
    batch.push_back(j);
  }
}

Result<Job> Platform::GetJob(const Principal& p, JobId id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || p.agent || !Visible(p, it->second.entity)) {
    return NotFound("job " + std::to_string(id) + " does not exist");
  }
  return it->second;
}

std::vector<Job> Platform::ListJobs(const Principal& p, std::optional<JobState> state,
                                    EntityId entity, JobId after, size_t limit, bool* more) const {
  std::vector<Job> out;
  *more = false;
  if (p.agent) return out;
  for (auto it = jobs_.upper_bound(after); it != jobs_.end(); ++it) {
    const Job& j = it->second;
    if (!Visible(p, j.entity)) continue;
    if (entity != 0 && j.entity != entity) continue;
    if (state && j.state != *state) continue;
    if (out.size() == limit) {
      *more = true;
      break;
    }
    out.push_back(j);
  }
  return out;
}

const QueueInfo* Platform::GetQueueInfo(JobId id) const {
  auto it = queue_info_.find(id);
  return it == queue_info_.end() ? nullptr : &it->second;
}

MicroEur Platform::JobCost(const Job& job) const {
  MicroEur cost = 0;
  for (const Allocation* a : PartsOf(job)) {  // every node of a gang
    Millis end = a->end != 0 ? a->end : std::max(clock_.Now(), a->start);
    cost += IntervalCost(static_cast<int>(a->devices.size()), a->start, end, a->gpu_class,
                         job.priority_class, prices_);
  }
  return cost;
}

bool Platform::IsReleasing(const Job& job) const {
  if (!IsFinal(job.state)) return false;
  for (const Allocation* a : PartsOf(job)) {
    if (a->end == 0) return true;
  }
  return false;
}

std::vector<const Allocation*> Platform::PartsOf(const Job& job) const {
  std::vector<const Allocation*> out;
  if (auto p = parts_.find(job.id); p != parts_.end()) {
    for (AllocationId id : p->second) {
      if (auto it = allocations_.find(id); it != allocations_.end()) out.push_back(&it->second);
    }
  } else if (auto it = allocations_.find(job.allocation); it != allocations_.end()) {
    out.push_back(&it->second);
  }
  return out;
}

bool Platform::OtherPartsOpen(const Job& job, AllocationId except) const {
  for (const Allocation* a : PartsOf(job)) {
    if (a->id != except && a->end == 0) return true;
  }
  return false;
}

int Platform::RankOf(const Job& job, AllocationId part) const {
  auto p = parts_.find(job.id);
  if (p == parts_.end()) return 0;
  auto it = std::find(p->second.begin(), p->second.end(), part);
  return it == p->second.end() ? 0 : static_cast<int>(it - p->second.begin());
}

std::set<NodeId> Platform::GangNodesToStop(const std::vector<Mutation>& batch,
                                           NodeId except) const {
  std::set<NodeId> out;
  for (const Mutation& m : batch) {
    const Job* j = std::get_if<Job>(&m);
    if (j == nullptr || !IsFinal(j->state)) continue;
    auto p = parts_.find(j->id);
    if (p == parts_.end() || p->second.size() < 2) continue;
    for (const Allocation* a : PartsOf(*j)) {
      if (a->end == 0 && a->node != except) out.insert(a->node);
    }
  }
  return out;
}

std::string Platform::LogPath(JobId id, int rank) const {
  if (config_.log_dir.empty()) return "";
  if (rank > 0) {
    return config_.log_dir + "/" + std::to_string(id) + ".rank" + std::to_string(rank) + ".log";
  }
  return config_.log_dir + "/" + std::to_string(id) + ".log";
}

void Platform::FinalizeJob(Job& job, JobState state, Millis when, const std::string& reason,
                           std::optional<int> exit_code, std::vector<Mutation>& batch) {
  if (!IsFinal(job.state)) job.state = state;
  start_trace_.Forget(job.id);
  job.finished_at = std::max(when, job.started_at);
  if (!reason.empty()) job.reason = reason;
  if (exit_code) job.exit_code = exit_code;
  batch.push_back(job);
}

void Platform::PreemptJob(Job& job, const std::string& reason, std::vector<Mutation>& batch) {
  // Like a cancel: SIGTERM, grace, SIGKILL; the GPUs stay held (and billed) until the agent
  // confirms that the processes are gone.
  job.state = JobState::kPreempted;
  job.cancel_requested = true;
  job.reason = "preempted: " + reason;
  if (job.requeue_on_preempt) {
    const JobId again = ResubmitJob(
        job, "resubmitted after job " + std::to_string(job.id) + " was preempted", batch);
    job.reason += " (resubmitted as job " + std::to_string(again) + ")";
  }
  batch.push_back(job);
}

JobId Platform::ResubmitJob(const Job& job, const std::string& reason,
                            std::vector<Mutation>& batch) {
  Job again = job;
  again.id = next_job_++;
  again.state = JobState::kQueued;
  again.submitted_at = clock_.Now();
  again.started_at = again.finished_at = 0;
  again.exit_code.reset();
  again.cancel_requested = false;
  again.gpu_type.clear();
  again.node = 0;
  again.gpu_ids.clear();
  again.allocation = 0;
  again.resubmitted_from = job.id;
  again.reason = reason;
  jobs_[again.id] = again;
  queued_.insert(again.id);
  start_trace_.Submitted(again.id, next_seq_);
  batch.push_back(again);
  return again.id;
}

void Platform::FinishAllocation(Allocation& alloc, Millis end, std::vector<Mutation>& batch) {
  if (alloc.end != 0) return;
  part_running_.erase(alloc.id);
  alloc.end = std::max(end, alloc.start);
  batch.push_back(alloc);
  UsageRecord r{alloc.id,    alloc.job,       alloc.entity,
                alloc.user,  alloc.gpu_class, static_cast<int>(alloc.devices.size()),
                alloc.start, alloc.end};
  // Telemetry of its devices over its interval (samples of the report that ended it included).
  const JobTelemetry t = telemetry_.Close(alloc.id);
  const Measured m = MeasuredOf(t);
  r.energy_mwh = m.energy_mwh;
  r.idle_gpu_millis = m.idle_gpu_millis;
  r.net_rx_bytes = m.net_rx_bytes;
  r.net_tx_bytes = m.net_tx_bytes;
  if (t.net) {
    auto& [rx, tx] = net_closed_by_entity_[alloc.entity];
    rx += r.net_rx_bytes;
    tx += r.net_tx_bytes;
  }
  ledger_.push_back(r);
  batch.push_back(r);
}

}  // namespace gpuaas
