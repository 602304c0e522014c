// The Supervisor's container runtime (see podman_runtime.h and supervisor.h): the shim runs
// `podman run` in the foreground, so logs, exit codes and adoption are the process runtime's;
// only launching and stopping differ.
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "agent/container_network.h"
#include "agent/supervisor.h"
#include "base/log.h"

namespace gpuaas {

// mu_ held (spawns are serialised). The spec was written and its command checked by Launch.
void Supervisor::LaunchContainer(Entry& e) {
  const WorkloadDir dir = DirOf(e.spec.allocation);
  auto cmd = BuildPodmanRun(options_.podman, e.spec, dir.File("container.pid"));
  if (!cmd.ok()) return FailToStart(e, cmd.status().message());
  auto exec_path = ResolveCommand(options_.podman.podman, path_env_, dir.File("work"));
  if (!exec_path.ok()) {
    return FailToStart(e, "podman runtime: " + exec_path.status().message());
  }
  ShimLaunch launch;
  launch.exec_path = *exec_path;
  launch.argv = cmd->argv;
  // podman's own environment: PATH, HOME, LANG, then the container's variables, which the
  // `--env NAME` arguments hand to the container without their values on the command line.
  launch.envp = inherited_env_;
  for (const auto& [k, v] : cmd->env) launch.envp.push_back(k + "=" + v);
  launch.work_dir = dir.File("work");
  launch.log_path = dir.File("log");
  launch.exit_path = dir.File("exit");
  launch.pid_path = dir.File("pid");
  launch.log_cap_bytes = options_.log_cap_bytes;

  auto shim = SpawnShim(launch);
  if (!shim.ok()) return FailToStart(e, shim.status().message());
  if (shim->exec_errno != 0) {
    ReapFailedShim(shim->shim_pid);
    return FailToStart(
        e, "cannot execute " + options_.podman.podman + ": " + strerror(shim->exec_errno));
  }
  const PidRecord rec = RecordStarted(e, dir, *shim);
  GLOG_INFO("agent: started job {} (allocation {}) in container {} from {} (GPUs by {}), pid {}",
            e.spec.job, e.spec.allocation, ContainerName(e.spec.allocation), e.spec.image,
            PodmanGpuModeName(options_.podman.gpu_mode), rec.job_pgid);
}

std::map<AllocationId, NetReading> Supervisor::ContainerNetwork() const {
  std::vector<AllocationId> running;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : entries_) {
      if (!e.spec.image.empty() && !e.status.final()) running.push_back(id);
    }
  }
  std::map<AllocationId, NetReading> out;  // (the files are read without the lock)
  for (AllocationId id : running) {
    auto c = ReadContainerNetwork(DirOf(id).File("container.pid"));
    if (c.ok()) out[id] = NetReading{clock_.Now(), c->rx_bytes, c->tx_bytes};
  }
  return out;
}

void Supervisor::SignalContainer(const Entry& e, int sig) const {
  if (sig == SIGKILL) {
    PodmanRemoveAsync(options_.podman, e.spec.allocation);
  } else {
    PodmanStopAsync(options_.podman, e.spec.allocation, e.stop_grace_ms);
  }
}

// A container asked to die may not have existed yet when `podman rm -f` ran (podman run was
// still creating it): repeat every 5 s while the shim waits for it.
void Supervisor::PollContainer(Entry& e, Millis now) {
  if (now < e.rekill_at) return;
  e.rekill_at = now + 5'000;
  GLOG_INFO("agent: container {} still running after its kill: podman rm -f again",
            ContainerName(e.spec.allocation));
  SignalGroup(e, SIGKILL);
}

}  // namespace gpuaas
