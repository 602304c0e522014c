// WorkloadDir: the on-disk record of one workload, <state_dir>/workloads/<allocation>/, which is
// what lets a restarted agent adopt its workloads:
//   spec.json  the spec and its start time (written by the agent before the spawn)
//   pid        "SHIM_PID SHIM_START_TIME JOB_PGID" (the start time detects pid reuse), written
//              by the shim once the job runs (by the agent if the shim could not); a spec with
//              neither pid nor exit is a start the agent did not finish (Supervisor waits a
//              little for the shim, then reports the job interrupted: it never ran)
//   log        the job's stdout+stderr, bounded (written by the shim)
//   exit       "CODE SIGNAL FINISHED_MS[ MESSAGE]" (by the shim, or by the agent for a lost one)
//   failed     the message of a workload that failed to start (or never ran: interrupted)
//   stop       "TIMED_OUT KILL_AT_MS": a stop was asked (so a restart keeps its deadline)
//   work/      the job's working directory
// Every small file is written atomically (tmp + rename). Thread-compatible; one directory is
// only touched by its Supervisor (and the shim for log/exit/pid).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "agent/shim.h"
#include "agent/workload.h"
#include "base/status.h"

namespace gpuaas {

struct PidRecord {
  pid_t shim_pid = 0;
  uint64_t shim_start_time = 0;
  pid_t job_pgid = 0;
};

struct StopRecord {
  bool timed_out = false;
  Millis kill_at = 0;
};

class WorkloadDir {
 public:
  WorkloadDir(const std::string& workloads_root, AllocationId allocation);

  const std::string& path() const { return path_; }
  std::string File(const char* name) const { return path_ + "/" + name; }

  Status Create() const;  // the directory and work/
  Status Remove() const;  // everything, recursively

  Status WriteSpec(const WorkloadSpec& spec, Millis started_at) const;
  Status ReadSpec(WorkloadSpec* spec, Millis* started_at) const;
  Status WritePid(const PidRecord& r) const;
  std::optional<PidRecord> ReadPid() const;
  Status WriteExit(const ExitRecord& r) const;
  std::optional<ExitRecord> ReadExit() const;
  Status WriteFailed(const std::string& message) const;
  std::optional<std::string> ReadFailed() const;
  Status WriteStop(const StopRecord& r) const;
  std::optional<StopRecord> ReadStop() const;

 private:
  std::string path_;
};

// Whole-file helpers (also used for the log): nullopt when the file does not exist.
std::optional<std::string> ReadSmallFile(const std::string& path);
Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace gpuaas
