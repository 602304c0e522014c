// Nodes and the agent protocol of the Platform (see platform.h for the threading contract).
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "base/log.h"
#include "sched/filters.h"
#include "state/platform.h"
#include "state/waiter.h"

namespace gpuaas {

namespace {

constexpr size_t kMaxGpusPerNode = 64;
constexpr size_t kMaxWorkloadsPerReport = 4096;
constexpr size_t kMaxSamplesPerReport = 10'000;
constexpr size_t kMaxLabelsPerNode = 64;

bool SameInventory(const std::vector<GpuDevice>& a, const std::vector<GpuDevice>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].index != b[i].index || a[i].uuid != b[i].uuid || a[i].gpu_class != b[i].gpu_class ||
        a[i].memory_mb != b[i].memory_mb || a[i].state != b[i].state || a[i].model != b[i].model ||
        a[i].health_reason != b[i].health_reason || a[i].mig != b[i].mig)
      return false;
  }
  return true;
}

std::string JoinInts(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

Status Platform::CheckReport(const NodeReport& r) const {
  if (!IsValidName(r.node)) return InvalidArgument("node name '" + r.node + "' is invalid");
  if (r.gpus.size() > kMaxGpusPerNode) return FailedPrecondition("a node has at most 64 GPUs");
  if (r.workloads.size() > kMaxWorkloadsPerReport) {
    return FailedPrecondition("too many workloads in one report");
  }
  if (r.samples.size() > kMaxSamplesPerReport) {
    return FailedPrecondition("too many GPU samples in one report (at most 10000)");
  }
  std::set<int> indices;
  for (const auto& g : r.gpus) {
    if (!indices.insert(g.index).second || g.index < 0) {
      return FailedPrecondition("GPU index " + std::to_string(g.index) + " is invalid or repeated");
    }
    bool known = std::any_of(config_.classes.begin(), config_.classes.end(),
                             [&](const GpuClass& c) { return c.name == g.gpu_class; });
    if (!known) return FailedPrecondition("unknown GPU class '" + g.gpu_class + "'");
  }
  if (r.labels.size() > kMaxLabelsPerNode) {
    return FailedPrecondition("a node has at most " + std::to_string(kMaxLabelsPerNode) +
                              " labels");
  }
  for (const auto& [key, value] : r.labels) {
    if (key.empty() || key.size() > 253 || value.size() > 253) {
      return InvalidArgument("node label keys are 1-253 characters and values at most 253");
    }
  }
  if (Result<int> min = sched::MinJobGpusOf(r.labels); !min.ok()) return min.status();
  return Status::Ok();
}

std::vector<Node> Platform::ListNodes() const {
  std::vector<Node> out;
  out.reserve(nodes_.size());
  for (const auto& [id, n] : nodes_) out.push_back(n);
  return out;
}

void Platform::SetNodeMode(const Principal& p, const std::string& name, const std::string& action,
                           Done<Node> done) {
  if (!IsPlatformAdmin(p)) return done(PermissionDenied("only a platform-admin manages nodes"));
  auto it = node_by_name_.find(name);
  if (it == node_by_name_.end()) return done(NotFound("node '" + name + "' does not exist"));
  Node& n = nodes_[it->second];
  if (action == "cordon") {
    if (n.state == NodeState::kDown) return done(Conflict("node " + name + " is down"));
    n.state = NodeState::kCordoned;
  } else if (action == "drain") {
    if (n.state == NodeState::kDown) return done(Conflict("node " + name + " is down"));
    n.state = NodeState::kDraining;
  } else if (action == "resume") {
    if (n.state == NodeState::kDown) return done(Conflict("node " + name + " is down"));
    n.state = NodeState::kReady;
  } else {
    return done(InvalidArgument("unknown node action '" + action + "' (cordon, drain, resume)"));
  }
  GLOG_INFO("node {} is now {} (by {})", name, NodeStateName(n.state), p.name);
  Node copy = n;
  Persist({copy}, [this, copy, done = std::move(done)] {
    RequestSchedulePass();
    done(copy);
  });
}

const Node* Platform::FindNodeById(NodeId id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

JobId Platform::DeviceHolder(NodeId node, int index) const {
  for (const auto& [id, a] : allocations_) {
    if (a.end == 0 && a.node == node &&
        std::find(a.devices.begin(), a.devices.end(), index) != a.devices.end())
      return a.job;
  }
  return 0;
}

void Platform::Heartbeat(const Principal& p, const NodeReport& r, int64_t wait_ms,
                         Done<DesiredWorkloads> done) {
  if (!CanRunAgent(p)) return done(PermissionDenied("only agents and platform-admins heartbeat"));
  if (Status s = CheckReport(r); !s.ok()) return done(s);
  const Millis now = clock_.Now();
  std::vector<Mutation> batch;
  NodeId id;
  if (auto it = node_by_name_.find(r.node); it != node_by_name_.end()) {
    id = it->second;
  } else {
    id = next_node_++;
    Node n;
    n.id = id;
    n.name = r.node;
    n.registered_at = now;
    nodes_[id] = n;
    node_by_name_[r.node] = id;
    GLOG_INFO("node {} registered with {} GPUs{}", r.node, r.gpus.size(),
              r.simulated ? " (simulated)" : "");
  }
  Node& node = nodes_[id];
  bool changed = node.registered_at == now;
  if (!SameInventory(node.gpus, r.gpus) || node.simulated != r.simulated ||
      node.labels != r.labels) {
    node.gpus = r.gpus;
    std::sort(node.gpus.begin(), node.gpus.end(),
              [](const GpuDevice& a, const GpuDevice& b) { return a.index < b.index; });
    node.simulated = r.simulated;
    node.labels = r.labels;
    changed = true;
  }
  if (node.state == NodeState::kDown) {
    node.state = NodeState::kReady;
    changed = true;
    GLOG_INFO("node {} is ready", node.name);
  }
  node.last_heartbeat = now;
  if (r.net) network_.Observe(id, *r.net);
  AppendLogs(id, r);
  // A job failed for an unhealthy GPU: the answer (without it) must go out at once.
  if (ApplyTelemetry(node, r, batch)) node_dirty_.insert(id);

  bool freed = false;
  std::set<AllocationId> reported;
  for (const auto& w : r.workloads) freed |= ApplyWorkloadReport(node, w, batch, reported);
  for (auto& [aid, a] : allocations_) {
    if (a.node != id || a.end != 0 || reported.count(aid)) continue;
    Job& j = jobs_.at(a.job);
    auto seq = alloc_seq_.find(aid);
    bool committed = seq == alloc_seq_.end() || seq->second <= committed_seq_;
    if (agent_known_.count(aid)) {
      FinalizeJob(j, JobState::kLost, now,
                  "the node's agent no longer has this workload (was the node restarted?)",
                  std::nullopt, batch);
      FinishAllocation(a, now, batch);
      agent_known_.erase(aid);
      freed = true;
    } else if (IsFinal(j.state) && committed) {
      // Cancelled before the agent ever started it.
      FinalizeJob(j, j.state, now, "", std::nullopt, batch);
      FinishAllocation(a, now, batch);
      freed = true;
    }
  }
  std::set<int>& busy = foreign_busy_[id];
  busy.clear();
  for (const auto& w : r.workloads) {
    if (w.state != "running") continue;
    auto it = allocations_.find(w.allocation);
    if (it == allocations_.end() || it->second.end != 0 || it->second.node != id) {
      if (it != allocations_.end())
        busy.insert(it->second.devices.begin(), it->second.devices.end());
    }
  }
  if (changed) batch.push_back(node);
  // A multi-node gang this report ended: its other nodes stop their parts now.
  std::set<NodeId> gang_nodes = GangNodesToStop(batch, id);

  auto answer = [this, id, wait_ms, freed, changed, gang_nodes, done = std::move(done)]() mutable {
    for (NodeId n : gang_nodes) WakeNode(n);
    if (freed || changed) RequestSchedulePass();
    // A change made while no poll was held (node_dirty_) is answered at once.
    if (wait_ms <= 0 || stopping_ || node_dirty_.erase(id) > 0) return done(DesiredFor(id));
    if (auto old = waiters_.find(id); old != waiters_.end()) AnswerWaiter(id);
    auto w = std::make_unique<Waiter>();
    w->done = std::move(done);
    w->timer = executor_.RunAfter(wait_ms, [this, id] { AnswerWaiter(id); });
    waiters_[id] = std::move(w);
  };
  if (batch.empty()) {
    answer();
  } else {
    Persist(std::move(batch), std::move(answer));
  }
}

bool Platform::ApplyWorkloadReport(Node& node, const WorkloadReport& w,
                                   std::vector<Mutation>& batch, std::set<AllocationId>& reported) {
  reported.insert(w.allocation);
  auto it = allocations_.find(w.allocation);
  if (it == allocations_.end() || it->second.node != node.id || it->second.end != 0) return false;
  Allocation& a = it->second;
  Job& j = jobs_.at(a.job);
  const Millis now = clock_.Now();
  agent_known_.insert(a.id);
  auto clamp = [&](Millis t) { return std::clamp(t == 0 ? now : t, a.start, now); };
  if (w.state == "running") {
    part_running_.insert(a.id);
    // A multi-node gang runs once every part has started.
    bool all = true;
    for (const Allocation* p : PartsOf(j)) all = all && part_running_.count(p->id);
    if (j.state == JobState::kStarting && all) {
      j.state = JobState::kRunning;
      j.started_at = clamp(w.started_at);
      j.reason.clear();
      batch.push_back(j);
      start_trace_.Reported(j.id, next_seq_);  // Heartbeat() persists this batch next
    }
    return false;
  }
  if (w.state != "exited" && w.state != "failed_to_start") return false;
  Millis end = clamp(w.finished_at);
  if (j.started_at == 0 && w.state == "exited") j.started_at = clamp(w.started_at);
  JobState st = j.state;
  std::string reason;
  if (!IsFinal(j.state)) {
    if (w.state == "failed_to_start" && w.interrupted) {
      // The job never ran (the node's agent stopped while starting it): run it again.
      const JobId again = ResubmitJob(j,
                                      "resubmitted after job " + std::to_string(j.id) +
                                          " was interrupted before it started: " + w.message,
                                      batch);
      st = JobState::kFailed;
      reason =
          "failed to start: " + w.message + " (resubmitted as job " + std::to_string(again) + ")";
    } else if (w.state == "failed_to_start") {
      st = JobState::kFailed;
      reason = "failed to start: " + w.message;
    } else if (w.timed_out) {
      st = JobState::kTimedOut;
      reason = "stopped at its walltime of " + FormatDurationSeconds(j.walltime_s);
    } else if (w.stopped) {
      st = JobState::kFailed;
      reason = "stopped by the node agent" + (w.message.empty() ? "" : ": " + w.message);
    } else if (w.exit_code && *w.exit_code == -1 && w.signal == 0) {
      st = JobState::kLost;  // the agent has no trace of the process any more
      reason = "the node agent lost the process" + (w.message.empty() ? "" : ": " + w.message);
    } else if (w.message.rfind("out of memory", 0) == 0) {
      st = JobState::kFailed;  // the node's OOM killer, at the job's memory limit
      reason = w.message;
    } else if (w.exit_code && *w.exit_code == 0) {
      st = JobState::kSucceeded;
    } else if (w.signal != 0) {
      st = JobState::kFailed;
      reason = "killed by signal " + std::to_string(w.signal);
    } else {
      st = JobState::kFailed;
      reason = w.exit_code
                   ? "exited with code " + std::to_string(*w.exit_code)
                   : "ended without an exit code" + (w.message.empty() ? "" : ": " + w.message);
    }
  }
  std::optional<int> exit_code = w.exit_code;
  if (OtherPartsOpen(j, a.id)) {
    // A part of a multi-node gang. One that succeeds leaves the others running: the job
    // succeeds when every part has. One that fails ends the job (the others are stopped).
    std::string part = "node " + node.name + " (rank " + std::to_string(RankOf(j, a.id)) + ")";
    if (!IsFinal(j.state) && st == JobState::kSucceeded) {
      j.reason = part + " finished; waiting for the other nodes";
      batch.push_back(j);
      FinishAllocation(a, end, batch);
      agent_known_.erase(a.id);
      return true;
    }
    if (!IsFinal(j.state)) reason = part + ": " + reason + "; the other nodes are stopped";
  }
  if (IsFinal(j.state) && PartsOf(j).size() > 1 && j.exit_code) {
    exit_code.reset();  // the part that ended the gang gave its exit code
  }
  FinalizeJob(j, st, end, reason, exit_code, batch);
  FinishAllocation(a, end, batch);
  agent_known_.erase(a.id);
  return true;
}

void Platform::AppendLogs(NodeId node, const NodeReport& r) {
  if (config_.log_dir.empty()) return;
  for (const auto& c : r.logs) {
    auto j = jobs_.find(c.job);
    if (j == jobs_.end() || c.offset < 0) continue;
    int rank = 0;  // rank 0 runs on job.node
    if (j->second.node != node) {
      // Another part of a gang: its own log, by rank (while the server still knows the part).
      auto a = allocations_.find(c.allocation);
      if (a == allocations_.end() || a->second.job != c.job || a->second.node != node) continue;
      rank = RankOf(j->second, c.allocation);
      if (rank == 0) continue;
    }
    std::string path = LogPath(c.job, rank);
    size_t& size = log_sizes_[{c.job, rank}];
    if (size == 0) {
      struct stat sb;
      if (::stat(path.c_str(), &sb) == 0) size = static_cast<size_t>(sb.st_size);
    }
    // Chunks may be re-sent after a lost answer: write only what we do not have yet.
    size_t off = static_cast<size_t>(c.offset);
    if (off + c.data.size() <= size) continue;
    size_t skip = off < size ? size - off : 0;
    size_t room = size < config_.max_log_bytes ? config_.max_log_bytes - size : 0;
    size_t n = std::min(c.data.size() - skip, room);
    if (n == 0) continue;
    std::FILE* f = std::fopen(path.c_str(), "ab");
    if (!f) {
      GLOG_WARN("cannot write log {}", path);
      continue;
    }
    size += std::fwrite(c.data.data() + skip, 1, n, f);
    std::fclose(f);
  }
}

DesiredWorkloads Platform::DesiredFor(NodeId node) {
  DesiredWorkloads d;
  d.node_id = node;
  d.epoch = epoch_;
  d.version = ++answer_version_;
  d.heartbeat_interval_ms = config_.heartbeat_interval_ms;
  for (const auto& [aid, a] : allocations_) {
    if (a.node != node || a.end != 0) continue;
    auto seq = alloc_seq_.find(aid);
    if (seq != alloc_seq_.end() && seq->second > committed_seq_) continue;  // not durable yet
    const Job& j = jobs_.at(a.job);
    if (IsFinal(j.state)) {
      // Cancelled, preempted or lost: the agent must stop it, with this stop's grace.
      d.stopping[aid] =
          j.state == JobState::kPreempted ? config_.preemption_grace_s * 1000 : config_.grace_ms;
      continue;
    }
    Assignment w;
    w.job = j.id;
    w.allocation = aid;
    // Where this part is in its job (docs/agent.md): rank 0 of 1 for a single-node job.
    const std::vector<const Allocation*> parts = PartsOf(j);
    std::string nodes;
    for (const Allocation* p : parts) {
      const Node* pn = FindNodeById(p->node);
      nodes += (nodes.empty() ? "" : ",") + (pn ? pn->name : std::to_string(p->node));
    }
    w.env["GPUAAS_NODE_RANK"] = std::to_string(RankOf(j, aid));
    w.env["GPUAAS_NUM_NODES"] = std::to_string(std::max<size_t>(1, parts.size()));
    w.env["GPUAAS_NODES"] = nodes;
    w.env["GPUAAS_MASTER_ADDR"] = nodes.substr(0, nodes.find(','));
    w.env["GPUAAS_MASTER_PORT"] = std::to_string(29500 + j.id % 1000);
    w.env["GPUAAS_GPUS_PER_NODE"] = std::to_string(a.devices.size());
    w.env["GPUAAS_WORLD_GPUS"] = std::to_string(j.gpus);
    w.command = j.command;
    if (w.command.empty()) w.command = {"sleep", "infinity"};
    const Entity* e = FindEntityById(j.entity);
    if (j.kind == JobKind::kNotebook && j.command.empty() && !NotebookWorkload(j, a, w)) continue;
    w.env["CUDA_VISIBLE_DEVICES"] = JoinInts(a.devices);
    w.env["GPUAAS_JOB_ID"] = std::to_string(j.id);
    w.env["GPUAAS_JOB_NAME"] = j.name;
    w.env["GPUAAS_ENTITY"] = e ? e->name : "";
    w.env["GPUAAS_GPU_TYPE"] = a.gpu_class;
    RuntimeWorkload(j, w);  // image, workspace, secrets
    w.gpu_ids = a.devices;
    w.walltime_s = j.walltime_s;
    w.grace_ms = config_.grace_ms;
    w.memory_bytes = int64_t{j.memory_gb} << 30;
    w.cpu_millis = int64_t{j.cpus} * 1000;
    w.adopt_only = j.state == JobState::kRunning;
    if (j.state == JobState::kStarting) start_trace_.Dispatched(j.id);  // this answer tells it
    d.workloads.push_back(std::move(w));
  }
  return d;
}

void Platform::Shutdown() {
  stopping_ = true;
  std::vector<NodeId> held;
  for (const auto& [node, w] : waiters_) held.push_back(node);
  for (NodeId n : held) AnswerWaiter(n);
}

void Platform::WakeNode(NodeId node) {
  if (waiters_.count(node)) {
    AnswerWaiter(node);
  } else {
    node_dirty_.insert(node);
  }
}

void Platform::AnswerWaiter(NodeId node) {
  auto it = waiters_.find(node);
  if (it == waiters_.end()) return;
  std::unique_ptr<Waiter> w = std::move(it->second);
  waiters_.erase(it);
  executor_.Cancel(w->timer);
  w->done(DesiredFor(node));
}

void Platform::CheckNodeTimeouts() {
  const Millis now = clock_.Now();
  std::vector<Mutation> batch;
  bool freed = false;
  for (auto& [id, n] : nodes_) {
    if (n.state == NodeState::kDown || now - n.last_heartbeat <= config_.heartbeat_timeout_ms) {
      continue;
    }
    GLOG_WARN("node {} silent for {} ms: marking it down and its jobs lost", n.name,
              now - n.last_heartbeat);
    n.state = NodeState::kDown;
    batch.push_back(n);
    for (auto& [aid, a] : allocations_) {
      if (a.node != id || a.end != 0) continue;
      Job& j = jobs_.at(a.job);
      FinalizeJob(j, JobState::kLost, n.last_heartbeat,
                  IsFinal(j.state) ? "" : "node " + n.name + " stopped reporting", std::nullopt,
                  batch);
      FinishAllocation(a, n.last_heartbeat, batch);
      agent_known_.erase(aid);
      freed = true;
    }
    foreign_busy_.erase(id);
  }
  if (batch.empty()) return;
  // Gangs with a part on a lost node: their other nodes stop their parts now.
  std::set<NodeId> gang_nodes = GangNodesToStop(batch, 0);
  Persist(std::move(batch), [this, freed, gang_nodes] {
    for (NodeId n : gang_nodes) WakeNode(n);
    if (freed) RequestSchedulePass();
  });
}

}  // namespace gpuaas
