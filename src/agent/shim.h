// The workload shim: a small process forked from the agent that owns one job process, so that
// jobs survive agent restarts. The shim starts its own session (setsid), forks the job into a
// process group of its own (pgid = job pid, so that signalling -pgid reaches the job and all
// its children but never the shim), copies the job's stdout+stderr into a size-capped log file,
// waits for the job, kills what is left of its process group, and writes the `exit` file
// atomically (write-tmp + rename) before it _exit()s. It ignores SIGTERM/SIGINT/SIGHUP.
//
// The agent is multi-threaded: between fork() and execve()/_exit() only async-signal-safe calls
// are made; everything (argv, envp, paths) is prepared as char arrays before fork().
// Thread-safety: SpawnShim may be called from any thread; callers serialise spawns (so that a
// concurrent fork does not hold a spawn's pipe open).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace gpuaas {

struct ShimLaunch {
  std::string exec_path;          // absolute path of the program (see ResolveCommand)
  std::vector<std::string> argv;  // argv[0] as given by the user
  std::vector<std::string> envp;  // "NAME=value"
  std::string work_dir;           // the job's working directory (must exist)
  std::string log_path;           // created/truncated by the shim
  std::string exit_path;          // written by the shim via exit_path + ".tmp"
  // Written by the shim via pid_path + ".tmp" once the job runs, before the agent hears of it:
  // "SHIM_PID SHIM_START_TIME JOB_PGID\n" (workload_dir.h's PidRecord), so that an agent killed
  // during the spawn still finds the job when it restarts. Empty = not written.
  std::string pid_path;
  int64_t log_cap_bytes = 8 << 20;
  // cgroup.procs files (cgroup.h) the job writes its pid into before execve, so that the job
  // and all it forks run under the workload's limits. Empty = no cgroup.
  std::vector<std::string> cgroup_procs;
  // The Unix identity the job runs as (set after joining the cgroup, before execve; the shim
  // itself stays the agent's user). nullopt = the agent's own.
  struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups
  };
  std::optional<Credentials> run_as;
};

struct ShimProcess {
  pid_t shim_pid = 0;
  pid_t job_pgid = 0;         // = the job's pid; 0 when the job could not be started
  int exec_errno = 0;         // non-zero: the job's chdir/execve failed with this errno
  int cgroup_errno = 0;       // non-zero: the job could not join its cgroup (it did not run)
  int credentials_errno = 0;  // non-zero: the job could not take its user (it did not run)
};

// Forks the shim and waits (bounded) until the job has exec'd or failed to. An error Status is a
// failure of the agent itself (fork, pipe); a failed execve is reported in exec_errno (the shim
// still writes `exit` with code 127 and must be reaped).
Result<ShimProcess> SpawnShim(const ShimLaunch& launch);

// Resolves argv[0] like execvp: a name with a '/' is taken as a path (relative ones against
// work_dir), else each PATH entry is tried for an executable regular file. NotFound with message
// "command not found: NAME" (or "permission denied: PATH") when nothing fits.
Result<std::string> ResolveCommand(const std::string& name, const std::string& path_env,
                                   const std::string& work_dir);

// The state letter and start time (clock ticks since boot) of a process from /proc/PID/stat;
// nullopt when there is no such process. (pid, start time) identifies a process across pid reuse.
struct ProcInfo {
  char state = '?';  // 'R', 'S', 'Z' (zombie), ...
  uint64_t start_time = 0;
};
std::optional<ProcInfo> ReadProcInfo(pid_t pid);

// The `exit` file: "CODE SIGNAL FINISHED_MS[ MESSAGE]\n".
struct ExitRecord {
  int exit_code = 0;  // 128 + signal when killed by a signal; -1 when unknown
  int signal = 0;
  Millis finished_at = 0;
  std::string message;
};
std::optional<ExitRecord> ParseExitRecord(const std::string& text);
std::string FormatExitRecord(const ExitRecord& r);

}  // namespace gpuaas
