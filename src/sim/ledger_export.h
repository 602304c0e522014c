// Turns the platform's own job history (the jobs of the store, as loaded by the state) into a
// simulator trace, so that operators replay their real demand through other policies or fleets.
// Rules, per job:
//   * only jobs that ran and ended (started_at and finished_at set, a final state) are kept;
//     queued, running and never-started ones are skipped and counted;
//   * kind job -> batch, notebook -> notebook, service -> service; allocations are skipped
//     (reserved time, not demand the scheduler placed);
//   * duration_s = finished_at - started_at, converted to time on the job's first acceptable
//     class: a job that ran on a slower fallback class took longer, so its run time is
//     multiplied by speed(given) / speed(first) (catalogue speeds), rounded up; at least 1 s;
//   * walltime_s, gpus, gpu_types, priority as asked; entity = the entity's name (or e<ID>);
//   * submit_s counts from the earliest kept submission; rows sorted by submit time, then id.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/gpu_class.h"
#include "model/ids.h"
#include "model/job.h"
#include "sim/trace.h"

namespace gpuaas::sim {

struct ExportStats {
  int64_t jobs = 0;         // jobs looked at
  int64_t not_ended = 0;    // queued, starting, running, or ended without running
  int64_t allocations = 0;  // allocations skipped
  int64_t exported = 0;
  Millis origin = 0;  // submitted_at of the earliest kept job: the trace's second 0
};

std::vector<TraceJob> TraceFromJobs(const std::vector<Job>& jobs,
                                    const std::map<EntityId, std::string>& entity_names,
                                    const std::vector<GpuClass>& catalogue, ExportStats* stats);

}  // namespace gpuaas::sim
