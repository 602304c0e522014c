// Turns Slurm accounting output into a simulator trace (CONTRACT.md "Simulator").
//
// Input: `sacct --allocations --parsable2 --format=JobID,User,Account,Partition,AllocTRES,
// Submit,Start,End,Timelimit,State` (any order and extra columns; the header line names them;
// `|`-separated). Used: JobID, Submit, Start, End (required), AllocTRES (or AllocGRES / ReqTRES
// when it is absent), Account and User (entity = Account, else User), Timelimit, State.
// Per row:
//   * job steps (JobID with a '.') are skipped; array/het ids (123_4, 123+1) are kept as they are;
//   * jobs that never ran (Start "Unknown"/"None", End before Start, State PENDING/RUNNING)
//     or hold no GPU are skipped and counted;
//   * gpus from `gres/gpu=N`, or the sum of `gres/gpu:TYPE=N`; gpu_types = TYPE when it is one
//     of `known_classes` (lower-cased), else empty (any class);
//   * duration_s = End - Start; walltime_s = Timelimit (`[D-]HH:MM:SS`, `MM:SS`, `MM`;
//     UNLIMITED / Partition_Limit = none);
//   * times `YYYY-MM-DDTHH:MM:SS` are read as UTC; submit_s counts from the earliest Submit.
// Rows are sorted by submit time (ties keep input order), as the trace format requires.
// Errors name the line. Limits: 10,000,000 rows, 64 KiB a line. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "base/status.h"
#include "sim/trace.h"

namespace gpuaas::sim {

struct ImportStats {
  int64_t rows = 0;      // data rows read
  int64_t steps = 0;     // job steps skipped
  int64_t not_run = 0;   // never started or still running
  int64_t no_gpu = 0;    // no GPU in the allocation
  int64_t imported = 0;  // jobs in the trace
};

Result<std::vector<TraceJob>> ImportSacct(std::istream& in, const std::string& name,
                                          const std::vector<std::string>& known_classes,
                                          ImportStats* stats);

// `[D-]HH:MM:SS`, `HH:MM:SS`, `MM:SS`, `MM` -> seconds; UNLIMITED / Partition_Limit / empty
// -> 0 (no limit stated). Errors on anything else.
Result<int64_t> ParseSlurmDuration(std::string_view s);

// GPUs of a TRES string (`cpu=8,mem=64G,node=1,billing=8,gres/gpu=4` or
// `gres/gpu:h200=4`), and the GPU type when one is named (lower-cased). 0 GPUs if none.
Status ParseGpuTres(std::string_view tres, int* gpus, std::string* type);

}  // namespace gpuaas::sim
