// Supervisor: runs this node's workloads as real processes and survives its own restarts.
//
// Each workload (key: allocation id) lives in a WorkloadDir under <state_dir>/workloads/ and is
// run by a shim process (see shim.h) that owns the job, its log and its `exit` file. A new
// Supervisor on the same state_dir adopts what an earlier one left: running shims (same pid and
// same /proc start time) are watched again, finished ones are reported with their exit, and a
// shim that vanished without an exit file is reported as lost. Nothing is killed by destroying a
// Supervisor; only Stop()/StopAll() stop workloads.
//
// Stop: SIGTERM to the job's process group, SIGKILL to the group once grace_ms has passed.
// Walltime: enforced the same way from started_at; the result is marked timed_out.
// Limits: with `cgroups`, each workload gets a cgroup "a<allocation>" with the spec's memory and
// CPU limits, joined by the job before execve; a job the kernel OOM-killed there ends with the
// message "out of memory (limit N GiB)"; what is left in the cgroup is killed when the job ends,
// and the cgroup is removed by Forget().
// A poll thread (every poll_interval_ms) reaps shims, reads exit files, detects lost shims and
// enforces deadlines; deadlines are measured with the injected Clock.
//
// Thread-safety: all public methods are thread-safe. on_final runs on the poll thread (or the
// caller of Start) without internal locks held; it may call back into the Supervisor.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/cgroup.h"
#include "agent/podman_runtime.h"
#include "agent/shim.h"
#include "agent/workload.h"
#include "agent/workload_dir.h"
#include "base/clock.h"
#include "base/status.h"

namespace gpuaas {

struct SupervisorOptions {
  std::string state_dir;            // required; created if missing
  int64_t log_cap_bytes = 8 << 20;  // per workload; output past it is dropped and counted
  int poll_interval_ms = 100;
  // Called when a workload reached a final state (exited, failed_to_start, lost).
  std::function<void()> on_final;
  // Memory/CPU limits per workload (cgroup.h); nullptr = none.
  std::shared_ptr<const Cgroups> cgroups;
  // Workloads whose spec names an image run in podman containers (podman_runtime.h).
  PodmanOptions podman;
  // Process runtime: run each job as the Unix user this pattern names, "{entity}" replaced by
  // the job's entity (GPUAAS_ENTITY), e.g. "gpuaas-{entity}"; "" = as the agent's user. A job
  // whose user does not exist fails to start, saying so.
  std::string run_as_user;
};

class Supervisor {
 public:
  Supervisor(SupervisorOptions options, const Clock& clock);
  ~Supervisor();  // Close(); workloads keep running
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Creates the state dir, adopts existing workloads and starts the poll thread. Jobs get PATH,
  // HOME and LANG of this process, then the spec's env, CUDA_VISIBLE_DEVICES (from gpu_ids) and
  // GPUAAS_JOB_ID. Call once.
  Status Open();
  // Stops the poll thread. Idempotent. Workloads keep running.
  void Close();

  // Starts a workload unless its allocation is already known (then a no-op). A failure to start
  // (command not found, exec error) is not an error: the workload is then known as
  // failed_to_start with a message. An error Status means the spec is unusable.
  Status Start(const WorkloadSpec& spec);
  // Asks a running workload to stop (SIGTERM now, SIGKILL after its grace). No-op otherwise
  // (also once a stop is under way: its grace stays). grace_ms: this stop's grace (e.g. the
  // scheduler's preemption grace); absent or negative = the spec's grace_ms.
  void Stop(AllocationId allocation, std::optional<int64_t> grace_ms = std::nullopt);
  void StopAll();
  // Records a workload that should run here but of which this node has no trace (the server saw
  // it running; its directory is gone): it is known from now on as exited with exit code -1 and
  // this message, so that it gets reported like a lost shim. No-op if the allocation is known.
  Status RecordLost(const WorkloadSpec& spec, const std::string& message);

  std::vector<WorkloadStatus> List() const;  // by allocation id
  // The network counters of the running container workloads (container_network.h), read now;
  // absent for those not readable yet (podman still starting) or sharing the agent's network.
  std::map<AllocationId, NetReading> ContainerNetwork() const;
  std::optional<WorkloadStatus> Get(AllocationId allocation) const;
  // Up to max_bytes of the workload's log from offset ("" at its end). NotFound if unknown.
  Result<std::string> ReadLog(AllocationId allocation, int64_t offset, int64_t max_bytes) const;
  // Removes a final workload and its directory. FailedPrecondition while it runs.
  Status Forget(AllocationId allocation);

  // One round of the poll loop (the poll thread calls it; tests may too).
  void PollOnce();

 private:
  struct Entry {
    WorkloadSpec spec;
    WorkloadStatus status;
    std::optional<PidRecord> pid;
    bool stop_requested = false;
    bool timed_out = false;
    bool killed = false;
    Millis kill_at = 0;
    int64_t stop_grace_ms = 0;  // the grace of the stop under way
    Millis rekill_at = 0;       // containers: when to repeat `podman rm -f` (supervisor_podman.cc)
    // Adopted with a spec but no pid record (the agent died while starting it): until then a
    // shim may still record the job; after it, the job never ran. 0 = not waiting.
    Millis unrecorded_until = 0;
  };

  WorkloadDir DirOf(AllocationId allocation) const { return {workloads_root_, allocation}; }
  void Adopt(AllocationId allocation);
  void Launch(Entry& e);
  void FailToStart(Entry& e, const std::string& message);
  // Both runtimes, once the shim runs its job: the pid record (memory and disk), returned.
  PidRecord RecordStarted(Entry& e, const WorkloadDir& dir, const ShimProcess& shim);
  static void ReapFailedShim(pid_t shim_pid);
  void Finish(Entry& e, ExitRecord r);
  // Returns true when the entry became final.
  bool PollEntry(Entry& e, Millis now);
  bool PollUnrecorded(Entry& e, Millis now);
  void BeginStop(Entry& e, bool timed_out, Millis now, std::optional<int64_t> grace_ms = {});
  void SignalGroup(const Entry& e, int sig) const;
  // The container runtime (supervisor_podman.cc): launch through `podman run`; SIGTERM becomes
  // `podman stop -t GRACE`, SIGKILL `podman rm -f` (repeated by PollContainer until it is gone).
  void LaunchContainer(Entry& e);
  void SignalContainer(const Entry& e, int sig) const;
  void PollContainer(Entry& e, Millis now);
  bool ShimAlive(const PidRecord& p) const;
  void Notify();
  void Loop();

  const SupervisorOptions options_;
  const Clock& clock_;
  const std::string workloads_root_;
  std::vector<std::string> inherited_env_;  // "PATH=...", "HOME=...", "LANG=..."
  std::string path_env_;

  mutable std::mutex mu_;
  std::map<AllocationId, Entry> entries_;  // guarded by mu_

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool closing_ = false;  // guarded by loop_mu_
  std::thread thread_;
};

}  // namespace gpuaas
