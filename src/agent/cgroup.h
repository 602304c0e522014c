// Cgroups: memory and CPU limits for the workloads of the process runtime, one cgroup per
// workload, named by the Supervisor ("a<allocation>") under a root configured per agent.
//
// One small interface, two implementations:
//  * cgroup v2 (production servers): memory.max (+ memory.swap.max = 0), cpu.max, outcome from
//    memory.events (oom_kill) and memory.peak, cgroup.kill to kill what is left, cgroup.procs
//    to join. The controllers are enabled on the way down (cgroup.subtree_control).
//  * cgroup v1 (this development machine, hybrid layout): the memory and cpu hierarchies, each
//    with a directory of the same relative path: memory.limit_in_bytes (+ memsw when swap
//    accounting exists), cpu.cfs_period_us / cpu.cfs_quota_us, outcome from memory.oom_control
//    (oom_kill, kernel >= 4.13) or memory.failcnt, memory.max_usage_in_bytes; joined through the
//    cgroup.procs of both.
// The workload's first process joins by writing its pid into every file Create() returns, before
// execve (shim.h), so that the job and everything it forks is inside from the start.
//
// OpenCgroups() detects the layout from /proc/self/mountinfo: v2 when a cgroup2 mount has the
// memory and cpu controllers, else v1 when the memory and cpu v1 hierarchies are mounted. It
// then checks that the root is writable (creates it and a probe child with a limit).
//
// Thread-safety: the implementations keep no mutable state; calls for different names may run
// concurrently. Paths are directories of a cgroup filesystem or, in tests, of a plain directory
// standing in for one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace gpuaas {

struct CgroupLimits {
  int64_t memory_bytes = 0;  // 0 = no memory limit
  int64_t cpu_millis = 0;    // 0 = no CPU quota; 1000 = one core
};

// What a finished workload's cgroup says about its memory.
struct CgroupOutcome {
  int64_t memory_limit_bytes = 0;  // 0 = none or unknown
  int64_t oom_kills = -1;          // -1 = the kernel does not say (old v1)
  int64_t memory_failcnt = 0;      // v1: times the limit was hit
  int64_t peak_bytes = 0;          // 0 = unknown
  // The kernel's OOM killer ended a process of the workload. With no oom_kill counter (old v1):
  // the limit was hit and the job died of SIGKILL.
  bool OomKilled(int signal) const;
};

class Cgroups {
 public:
  virtual ~Cgroups() = default;
  // "cgroup v1 (memory /sys/fs/cgroup/memory/gpuaas/n1, cpu /sys/fs/cgroup/cpu/gpuaas/n1)".
  virtual std::string Describe() const = 0;
  // Creates the root if needed and checks it can hold limited children (a probe child).
  virtual Status Check() const = 0;
  // Creates (or reuses, when empty) the workload's cgroup with these limits. Returns the
  // cgroup.procs files the workload's first process must write its pid into.
  virtual Result<std::vector<std::string>> Create(const std::string& name,
                                                  const CgroupLimits& limits) const = 0;
  virtual CgroupOutcome Inspect(const std::string& name) const = 0;
  // SIGKILLs every process still in the cgroup (v2: cgroup.kill). Best effort.
  virtual void KillAll(const std::string& name) const = 0;
  // Removes the cgroup (after KillAll when it is not empty). Ok when it does not exist.
  virtual Status Remove(const std::string& name) const = 0;
  // The directory of the cgroup (of its memory hierarchy on v1), for tests and logs.
  virtual std::string PathOf(const std::string& name) const = 0;
};

// root: the absolute directory of the workloads' parent cgroup in the cgroup2 filesystem.
std::unique_ptr<Cgroups> MakeCgroupsV2(std::string root);
// memory_root / cpu_root: the parent directories in the v1 memory and cpu hierarchies.
std::unique_ptr<Cgroups> MakeCgroupsV1(std::string memory_root, std::string cpu_root);

// The cgroup mounts found in a /proc/self/mountinfo text.
struct CgroupMounts {
  std::string v2;         // mount point of the cgroup2 filesystem ("" = none)
  std::string v1_memory;  // mount point of the v1 hierarchy with the memory controller
  std::string v1_cpu;     // ... with the cpu controller (may be "cpu,cpuacct")
};
CgroupMounts ParseCgroupMounts(const std::string& mountinfo);

// Detects the layout and opens `relative_root` (e.g. "gpuaas/node-1") in it, then Check()s it.
// Errors say what is missing or not writable, in words an operator can act on.
Result<std::unique_ptr<Cgroups>> OpenCgroups(
    const std::string& relative_root, const std::string& mountinfo_path = "/proc/self/mountinfo");

// --cgroups: off = no limits (said at start); auto = limits when the cgroups are usable, else a
// warning at start and no limits; required = the agent refuses to start without them.
enum class CgroupMode { kOff, kAuto, kRequired };
bool ParseCgroupMode(const std::string& text, CgroupMode* mode);  // "off", "auto", "required"
// Opens the cgroups as `mode` asks and logs the outcome once, clearly, for the operator (`who`:
// the agent's name). nullptr = run without limits (off, or auto when unusable). Error: required
// and not usable, with what to do about it.
Result<std::shared_ptr<const Cgroups>> CgroupsForMode(CgroupMode mode,
                                                      const std::string& relative_root,
                                                      const std::string& who);

// "64 MiB", "2 GiB", "1.5 GiB": a memory limit as the job's reason shows it.
std::string FormatMemoryLimit(int64_t bytes);

}  // namespace gpuaas
