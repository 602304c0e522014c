#include "agent/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "agent/run_as.h"
#include "base/log.h"

namespace gpuaas {

namespace fs = std::filesystem;

namespace {

constexpr char kLostMessage[] = "supervisor lost the process";
constexpr int kFailedToStartExitCode = 127;
// Said of a workload whose agent stopped after writing its spec and before any shim recorded
// the job's start: the job never ran (the server resubmits it).
constexpr char kInterruptedMessage[] = "the node's agent stopped before the job started";
// How long an adopted workload without a pid record waits for one: a shim forked just before
// the agent died records itself on its own (shim.h); SpawnShim waits 10 s for a job to start.
constexpr Millis kUnrecordedSpawnGraceMs = 15'000;

std::optional<AllocationId> ParseAllocationDir(const std::string& name) {
  if (name.empty() || name.size() > 18) return std::nullopt;
  AllocationId id = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  if (id <= 0) return std::nullopt;
  return id;
}

std::string CgroupName(AllocationId allocation) { return "a" + std::to_string(allocation); }

std::string JoinGpuIds(const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

}  // namespace

Supervisor::Supervisor(SupervisorOptions options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      workloads_root_(options_.state_dir + "/workloads") {}

Supervisor::~Supervisor() { Close(); }

Status Supervisor::Open() {
  std::error_code ec;
  fs::create_directories(workloads_root_, ec);
  if (ec) return Internal("cannot create " + workloads_root_ + ": " + ec.message());
  for (const char* name : {"PATH", "HOME", "LANG"}) {
    if (const char* v = std::getenv(name)) inherited_env_.push_back(std::string(name) + "=" + v);
  }
  const char* path = std::getenv("PATH");
  path_env_ = path ? path : "";
  {
    std::lock_guard lock(mu_);
    for (const auto& dirent : fs::directory_iterator(workloads_root_, ec)) {
      if (!dirent.is_directory()) continue;
      const auto id = ParseAllocationDir(dirent.path().filename().string());
      if (id) Adopt(*id);
    }
    if (ec) return Internal("cannot list " + workloads_root_ + ": " + ec.message());
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Supervisor::Close() {
  {
    std::lock_guard lock(loop_mu_);
    closing_ = true;
  }
  loop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Supervisor::Loop() {
  std::unique_lock lock(loop_mu_);
  while (!closing_) {
    lock.unlock();
    PollOnce();
    lock.lock();
    loop_cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                      [this] { return closing_; });
  }
}

void Supervisor::Adopt(AllocationId allocation) {
  const WorkloadDir dir = DirOf(allocation);
  Entry e;
  Millis started_at = 0;
  if (Status st = dir.ReadSpec(&e.spec, &started_at); !st.ok()) {
    GLOG_WARN("agent: ignoring workload dir {}: {}", dir.path(), st.message());
    return;
  }
  e.status.job = e.spec.job;
  e.status.allocation = allocation;
  e.status.started_at = started_at;
  if (auto stop = dir.ReadStop()) {
    e.stop_requested = true;
    e.timed_out = stop->timed_out;
    e.kill_at = stop->kill_at;
  }
  if (auto failed = dir.ReadFailed()) {
    e.status.state = WorkloadState::kFailedToStart;
    e.status.exit_code = kFailedToStartExitCode;
    e.status.finished_at = started_at;
    e.status.message = *failed;
    e.status.interrupted = *failed == kInterruptedMessage;
  } else if (auto ex = dir.ReadExit()) {
    Finish(e, *ex);
    // Reap the shim if an earlier Supervisor of this very process started it (else ECHILD).
    if (auto pid = dir.ReadPid()) waitpid(pid->shim_pid, nullptr, WNOHANG);
  } else if (auto pid = dir.ReadPid()) {
    e.pid = *pid;  // the next poll tells whether the shim still runs
    GLOG_INFO("agent: adopted workload of allocation {} (job {}, shim pid {})", allocation,
              e.spec.job, pid->shim_pid);
  } else {
    // The agent stopped during this workload's start: a shim it forked may still be about to
    // record the job (PollUnrecorded), or the job never ran.
    e.unrecorded_until = clock_.Now() + kUnrecordedSpawnGraceMs;
    GLOG_INFO("agent: workload of allocation {} (job {}) has no pid record yet: waiting for it",
              allocation, e.spec.job);
  }
  entries_.emplace(allocation, std::move(e));
}

Status Supervisor::Start(const WorkloadSpec& spec) {
  if (spec.allocation <= 0) return InvalidArgument("workload without an allocation id");
  bool failed = false;
  {
    std::lock_guard lock(mu_);
    if (entries_.count(spec.allocation)) return Status::Ok();
    Entry& e = entries_[spec.allocation];
    e.spec = spec;
    e.status.job = spec.job;
    e.status.allocation = spec.allocation;
    e.status.started_at = clock_.Now();
    Launch(e);
    failed = e.status.final();
  }
  if (failed) Notify();
  return Status::Ok();
}

// Prepares and spawns the shim of a new entry (mu_ held: spawns are serialised).
void Supervisor::Launch(Entry& e) {
  const WorkloadDir dir = DirOf(e.spec.allocation);
  if (Status st = dir.Create(); !st.ok()) return FailToStart(e, st.message());
  if (Status st = dir.WriteSpec(e.spec, e.status.started_at); !st.ok()) {
    return FailToStart(e, st.message());
  }
  if (e.spec.command.empty()) return FailToStart(e, "empty command");
  // The entity workspace (both runtimes; podman_runtime.h), then containers go their own way.
  if (Status st = EnsureWorkspace(e.spec); !st.ok()) return FailToStart(e, st.message());
  if (!e.spec.image.empty()) return LaunchContainer(e);
  const auto path_it = e.spec.env.find("PATH");
  const std::string& path = path_it != e.spec.env.end() ? path_it->second : path_env_;
  auto exec_path = ResolveCommand(e.spec.command[0], path, dir.File("work"));
  if (!exec_path.ok()) return FailToStart(e, exec_path.status().message());

  ShimLaunch launch;
  launch.exec_path = *exec_path;
  launch.argv = e.spec.command;
  std::map<std::string, std::string> env;
  for (const auto& kv : inherited_env_) {
    const size_t eq = kv.find('=');
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : e.spec.env) env[k] = v;
  env["CUDA_VISIBLE_DEVICES"] = JoinGpuIds(e.spec.gpu_ids);
  env["GPUAAS_JOB_ID"] = std::to_string(e.spec.job);
  for (const auto& [k, v] : env) launch.envp.push_back(k + "=" + v);
  launch.work_dir = dir.File("work");
  launch.log_path = dir.File("log");
  launch.exit_path = dir.File("exit");
  launch.pid_path = dir.File("pid");
  launch.log_cap_bytes = options_.log_cap_bytes;
  if (options_.cgroups) {
    auto procs = options_.cgroups->Create(CgroupName(e.spec.allocation),
                                          {e.spec.memory_bytes, e.spec.cpu_millis});
    if (!procs.ok()) {
      return FailToStart(e, "cannot set up the workload's cgroup: " + procs.status().message());
    }
    launch.cgroup_procs = std::move(*procs);
  }
  if (!options_.run_as_user.empty()) {
    auto creds = EntityCredentials(options_.run_as_user, e.spec.env);
    if (!creds.ok()) return FailToStart(e, creds.status().message());
    // The job's working directory is its own; the log stays the shim's (the agent's user).
    if (Status st = MakeTraversable(dir.File("work"), options_.state_dir); !st.ok()) {
      return FailToStart(e, st.message());
    }
    if (chown(launch.work_dir.c_str(), creds->uid, creds->gid) != 0) {
      return FailToStart(
          e, "cannot give " + launch.work_dir + " to the job's user: " + strerror(errno));
    }
    launch.run_as = std::move(*creds);
  }

  auto shim = SpawnShim(launch);
  if (!shim.ok()) return FailToStart(e, shim.status().message());
  if (shim->cgroup_errno != 0) {
    ReapFailedShim(shim->shim_pid);
    return FailToStart(
        e, std::string("cannot join the workload's cgroup: ") + strerror(shim->cgroup_errno));
  }
  if (shim->credentials_errno != 0) {
    ReapFailedShim(shim->shim_pid);
    return FailToStart(
        e, std::string("cannot run as the entity's user: ") + strerror(shim->credentials_errno));
  }
  if (shim->exec_errno != 0) {
    ReapFailedShim(shim->shim_pid);
    return FailToStart(e,
                       "cannot execute " + e.spec.command[0] + ": " + strerror(shim->exec_errno));
  }
  const PidRecord rec = RecordStarted(e, dir, *shim);
  GLOG_INFO("agent: started job {} (allocation {}), pid {}", e.spec.job, e.spec.allocation,
            rec.job_pgid);
}

void Supervisor::ReapFailedShim(pid_t shim_pid) {
  // The shim exits right after its job failed to start (_exit(127)): reap it here.
  while (waitpid(shim_pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

PidRecord Supervisor::RecordStarted(Entry& e, const WorkloadDir& dir, const ShimProcess& shim) {
  // The shim wrote the record before it answered (shim.h); write it here only if it could not.
  auto rec = dir.ReadPid();
  if (!rec || rec->shim_pid != shim.shim_pid || rec->job_pgid != shim.job_pgid) {
    rec = PidRecord{};
    rec->shim_pid = shim.shim_pid;
    rec->job_pgid = shim.job_pgid;
    if (auto info = ReadProcInfo(rec->shim_pid)) rec->shim_start_time = info->start_time;
    if (Status st = dir.WritePid(*rec); !st.ok()) {
      GLOG_WARN("agent: allocation {}: {} (a restarted agent will not adopt it)", e.spec.allocation,
                st.message());
    }
  }
  e.pid = rec;
  return *rec;
}

void Supervisor::FailToStart(Entry& e, const std::string& message) {
  GLOG_WARN("agent: job {} (allocation {}) failed to start: {}", e.spec.job, e.spec.allocation,
            message);
  e.status.state = WorkloadState::kFailedToStart;
  e.status.exit_code = kFailedToStartExitCode;
  e.status.finished_at = clock_.Now();
  e.status.message = message;
  (void)DirOf(e.spec.allocation).WriteFailed(message);
}

void Supervisor::Finish(Entry& e, ExitRecord r) {
  if (options_.cgroups && e.pid) {
    const std::string name = CgroupName(e.spec.allocation);
    options_.cgroups->KillAll(name);  // what escaped the job's process group ends with it
    // The kernel's verdict, once: the message is kept in the exit file (and survives restarts).
    if (r.message.empty() && r.exit_code != 0 && r.exit_code != -1) {
      const CgroupOutcome o = options_.cgroups->Inspect(name);
      if (o.OomKilled(r.signal)) {
        const int64_t limit = o.memory_limit_bytes > 0 ? o.memory_limit_bytes : e.spec.memory_bytes;
        r.message =
            limit > 0 ? "out of memory (limit " + FormatMemoryLimit(limit) + ")" : "out of memory";
        GLOG_WARN("agent: job {} (allocation {}): {}", e.spec.job, e.spec.allocation, r.message);
        (void)DirOf(e.spec.allocation).WriteExit(r);
      }
    }
  }
  e.status.state = WorkloadState::kExited;
  e.status.exit_code = r.exit_code;
  e.status.signal = r.signal;
  e.status.finished_at = r.finished_at;
  e.status.message = r.message;
  e.status.timed_out = e.stop_requested && e.timed_out;
  e.status.stopped = e.stop_requested && !e.timed_out;
}

bool Supervisor::ShimAlive(const PidRecord& p) const {
  const auto info = ReadProcInfo(p.shim_pid);
  return info && info->start_time == p.shim_start_time && info->state != 'Z' && info->state != 'X';
}

void Supervisor::SignalGroup(const Entry& e, int sig) const {
  // Only while the shim lives: it keeps the job's group from being recycled until it exits.
  if (e.pid && ShimAlive(*e.pid)) {
    if (!e.spec.image.empty()) return SignalContainer(e, sig);
    kill(-e.pid->job_pgid, sig);
  }
}

void Supervisor::BeginStop(Entry& e, bool timed_out, Millis now, std::optional<int64_t> grace_ms) {
  if (e.stop_requested) return;
  e.stop_requested = true;
  e.timed_out = timed_out;
  e.stop_grace_ms = std::max<int64_t>(0, grace_ms && *grace_ms >= 0 ? *grace_ms : e.spec.grace_ms);
  e.kill_at = now + e.stop_grace_ms;
  (void)DirOf(e.spec.allocation).WriteStop({timed_out, e.kill_at});
  GLOG_INFO("agent: stopping job {} (allocation {}), grace {} ms{}", e.spec.job, e.spec.allocation,
            e.stop_grace_ms, timed_out ? ": walltime reached" : "");
  SignalGroup(e, SIGTERM);
}

bool Supervisor::PollUnrecorded(Entry& e, Millis now) {
  const WorkloadDir dir = DirOf(e.spec.allocation);
  if (auto ex = dir.ReadExit()) {  // the shim ran the job to its end meanwhile
    e.unrecorded_until = 0;
    Finish(e, *ex);
    return true;
  }
  if (auto pid = dir.ReadPid()) {
    e.unrecorded_until = 0;
    e.pid = *pid;
    GLOG_INFO("agent: adopted workload of allocation {} (job {}, shim pid {})", e.spec.allocation,
              e.spec.job, pid->shim_pid);
    if (e.stop_requested) SignalGroup(e, SIGTERM);  // asked to stop while it was unrecorded
    return false;
  }
  if (now < e.unrecorded_until) return false;
  e.unrecorded_until = 0;
  GLOG_WARN("agent: job {} (allocation {}): {}; it never ran", e.spec.job, e.spec.allocation,
            kInterruptedMessage);
  e.status.state = WorkloadState::kFailedToStart;
  e.status.exit_code = kFailedToStartExitCode;
  e.status.finished_at = now;
  e.status.message = kInterruptedMessage;
  e.status.interrupted = true;
  (void)dir.WriteFailed(kInterruptedMessage);
  return true;
}

bool Supervisor::PollEntry(Entry& e, Millis now) {
  if (e.status.final()) return false;
  if (!e.pid) return e.unrecorded_until != 0 && PollUnrecorded(e, now);
  const WorkloadDir dir = DirOf(e.spec.allocation);
  // waitpid fails with ECHILD for a shim adopted from an earlier agent process; then /proc tells.
  bool gone = waitpid(e.pid->shim_pid, nullptr, WNOHANG) == e.pid->shim_pid;
  if (auto ex = dir.ReadExit()) {
    Finish(e, *ex);
    return true;
  }
  if (!gone) gone = !ShimAlive(*e.pid);
  if (gone) {
    if (auto ex = dir.ReadExit()) {  // it may have finished between the two looks
      Finish(e, *ex);
    } else {
      GLOG_WARN("agent: job {} (allocation {}): {}", e.spec.job, e.spec.allocation, kLostMessage);
      ExitRecord lost{-1, 0, now, kLostMessage};
      (void)dir.WriteExit(lost);
      Finish(e, lost);
    }
    return true;
  }
  if (!e.stop_requested && e.spec.walltime_s > 0 &&
      now >= e.status.started_at + e.spec.walltime_s * kMillisPerSecond) {
    BeginStop(e, /*timed_out=*/true, now);
  }
  if (e.stop_requested && !e.killed && now >= e.kill_at) {
    GLOG_INFO("agent: job {} (allocation {}) outlived its grace: SIGKILL", e.spec.job,
              e.spec.allocation);
    SignalGroup(e, SIGKILL);
    e.killed = true;
    e.rekill_at = now + 5'000;
  }
  if (e.killed && !e.spec.image.empty()) PollContainer(e, now);
  return false;
}

void Supervisor::PollOnce() {
  bool any_final = false;
  {
    std::lock_guard lock(mu_);
    const Millis now = clock_.Now();
    for (auto& [id, e] : entries_) any_final |= PollEntry(e, now);
  }
  if (any_final) Notify();
}

void Supervisor::Notify() {
  if (options_.on_final) options_.on_final();
}

void Supervisor::Stop(AllocationId allocation, std::optional<int64_t> grace_ms) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(allocation);
  if (it != entries_.end() && !it->second.status.final()) {
    BeginStop(it->second, /*timed_out=*/false, clock_.Now(), grace_ms);
  }
}

Status Supervisor::RecordLost(const WorkloadSpec& spec, const std::string& message) {
  if (spec.allocation <= 0) return InvalidArgument("workload without an allocation id");
  {
    std::lock_guard lock(mu_);
    if (entries_.count(spec.allocation)) return Status::Ok();
    const WorkloadDir dir = DirOf(spec.allocation);
    GPUAAS_RETURN_IF_ERROR(dir.Create());
    const Millis now = clock_.Now();
    GPUAAS_RETURN_IF_ERROR(dir.WriteSpec(spec, now));
    const ExitRecord lost{-1, 0, now, message};
    GPUAAS_RETURN_IF_ERROR(dir.WriteExit(lost));
    Entry& e = entries_[spec.allocation];
    e.spec = spec;
    e.status.job = spec.job;
    e.status.allocation = spec.allocation;
    e.status.started_at = now;
    Finish(e, lost);
  }
  Notify();
  return Status::Ok();
}

void Supervisor::StopAll() {
  std::lock_guard lock(mu_);
  const Millis now = clock_.Now();
  for (auto& [id, e] : entries_) {
    if (!e.status.final()) BeginStop(e, /*timed_out=*/false, now);
  }
}

std::vector<WorkloadStatus> Supervisor::List() const {
  std::lock_guard lock(mu_);
  std::vector<WorkloadStatus> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(e.status);
  return out;
}

std::optional<WorkloadStatus> Supervisor::Get(AllocationId allocation) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(allocation);
  if (it == entries_.end()) return std::nullopt;
  return it->second.status;
}

Result<std::string> Supervisor::ReadLog(AllocationId allocation, int64_t offset,
                                        int64_t max_bytes) const {
  {
    std::lock_guard lock(mu_);
    if (!entries_.count(allocation)) {
      return NotFound("no workload for allocation " + std::to_string(allocation));
    }
  }
  if (offset < 0 || max_bytes < 0) return InvalidArgument("negative log offset or size");
  const std::string path = DirOf(allocation).File("log");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::string();  // nothing written yet (or failed to start)
    return Internal("cannot open " + path + ": " + strerror(errno));
  }
  std::string out(static_cast<size_t>(max_bytes), '\0');
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n =
        pread(fd, out.data() + got, out.size() - got, offset + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  out.resize(got);
  return out;
}

Status Supervisor::Forget(AllocationId allocation) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(allocation);
  if (it == entries_.end()) return Status::Ok();
  if (!it->second.status.final()) {
    return FailedPrecondition("allocation " + std::to_string(allocation) + " is still running");
  }
  Status st = DirOf(allocation).Remove();
  if (options_.cgroups) {
    if (Status cg = options_.cgroups->Remove(CgroupName(allocation)); !cg.ok()) {
      GLOG_WARN("agent: allocation {}: {}", allocation, cg.message());
    }
  }
  entries_.erase(it);
  return st;
}

}  // namespace gpuaas
