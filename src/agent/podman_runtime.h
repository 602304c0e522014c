// The podman runtime: a workload whose spec names an image runs in a container. The shim runs
// `podman run --rm --name gpuaas-alloc-<ID> ... IMAGE COMMAND...` in the foreground, so the
// container's output goes into the workload's log and `podman run`'s exit code (the container's
// own) into its exit file, exactly as for a process; adoption across agent restarts is the
// shim's. Stopping goes through podman (SignalContainer): `podman stop -t GRACE` first, then
// `podman rm -f -t 0` (re-issued while the container lives) — killing the `podman run` client
// would leave the container running under conmon.
//
// GPUs: CDI (`--device nvidia.com/gpu=N`, production, needs `nvidia-ctk cdi generate`) or device
// nodes (`--device DIR/nvidiaN:/dev/nvidiaN` plus nvidiactl, nvidia-uvm, nvidia-uvm-tools and
// nvidia-modeset when present in DIR). Either way the container sees only the job's GPUs:
// NVIDIA_VISIBLE_DEVICES and GPUAAS_GPU_IDS hold the host indices, CUDA_VISIBLE_DEVICES the
// container's own ordinals 0..n-1 (CUDA numbers the devices it can open from 0; host indices
// would hide them).
//
// Environment: every job variable is passed as `-e NAME` (no value), which podman takes from its
// own environment, so values (secrets) never appear on a command line (ps). The workspace is a
// bind mount at /workspace (rw or ro); GPUAAS_WORKSPACE=/workspace.
// Thread-safety: pure functions, except the *Async ones, which fork; those are safe to call
// from a multi-threaded process (only async-signal-safe calls after fork).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/workload.h"
#include "base/status.h"

namespace gpuaas {

enum class PodmanGpuMode { kCdi, kDevices };
bool ParsePodmanGpuMode(const std::string& s, PodmanGpuMode* mode);  // "cdi" | "devices"
const char* PodmanGpuModeName(PodmanGpuMode m);

struct PodmanOptions {
  std::string podman = "podman";  // the binary (a name is looked up in PATH)
  PodmanGpuMode gpu_mode = PodmanGpuMode::kCdi;
  std::string device_dir = "/dev";   // devices mode: where nvidiaN, nvidiactl, ... are
  std::string oci_runtime = "runc";  // --runtime ("" = podman's default)
  // Added to every `podman run` (the defaults are what this kind of machine needs).
  std::vector<std::string> extra_args = {"--ulimit", "nofile=1024:1024", "--ulimit",
                                         "nproc=1000:1000"};
};

// The operator's own `podman run` options (server [runtime] podman_args, `gpuaas agent
// --podman-arg`), added to extra_args: e.g. {"--shm-size", "16g"} for PyTorch's data loaders,
// {"--volume", "/srv/models:/models:ro"} for shared read-only models. At most 64, each 1-4096
// characters. Refused (InvalidArgument, saying which and why): what would break the isolation of
// entities' jobs (--privileged, --cap-add, --security-opt, --device, --gpus, --volumes-from, a
// host namespace: --pid/--ipc/--uts/--userns/--cgroupns/--network/--net host) or the agent's
// control of the container (--rm, --name, --pidfile, --detach/-d, --memory, --memory-swap,
// --cpus, --runtime, --publish/-p).
Status CheckPodmanArgs(const std::vector<std::string>& args);

std::string ContainerName(AllocationId allocation);  // "gpuaas-alloc-<ID>"

struct ContainerCommand {
  std::vector<std::string> argv;           // podman run ... (argv[0] = options.podman)
  std::map<std::string, std::string> env;  // the container's variables (podman's env too)
};

// The `podman run` command of a container workload. job_env: the spec's env (secrets included).
// pidfile: where podman writes the container's first process id ("" = nowhere); the agent reads
// the job's network counters in that process's network namespace (container_network.h).
// Errors: no image, a GPU device node missing (devices mode), a bad workspace mode.
Result<ContainerCommand> BuildPodmanRun(const PodmanOptions& options, const WorkloadSpec& spec,
                                        const std::string& pidfile = "");

// Creates the workspace directory of a spec if it does not exist yet (mode 0770).
Status EnsureWorkspace(const WorkloadSpec& spec);

// Runs `podman stop -t S NAME` / `podman rm -f -t 0 NAME` in a detached process (never waits for
// podman; its output goes to /dev/null).
void PodmanStopAsync(const PodmanOptions& options, AllocationId allocation, int64_t grace_ms);
void PodmanRemoveAsync(const PodmanOptions& options, AllocationId allocation);

// Whether `podman` can run containers here (`podman info` answers). For tests and the agent's
// start-up message.
bool PodmanUsable(const std::string& podman, std::string* why);

}  // namespace gpuaas
