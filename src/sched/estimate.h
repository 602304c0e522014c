// Estimates for a job that is not submitted yet (`gpuaas estimate --gpus 4 --gpu-type
// h200,l40s --walltime 4h`): when and where it would start if submitted now, behind the queue
// as the scheduler orders it, what it would cost, and the same for each acceptable class.
// Runs the very scheduler (Schedule) on the snapshot plus the hypothetical job: pure,
// deterministic, thread-safe. Cost: one pass per acceptable class plus one.
#pragma once

#include <string>
#include <vector>

#include "base/money.h"
#include "sched/policy.h"
#include "sched/snapshot.h"

namespace gpuaas::sched {

struct EstimateAlternative {
  std::string gpu_class;
  Millis start = 0;        // 0 = unknown (it cannot run on that class, or not within the estimates)
  Millis end = 0;          // start + the expected run time on the class
  MicroEur cost = 0;       // gpus x expected hours x the class's hourly rate
  NodeId node = 0;         // when it would start now; 0 = not known yet
  std::string reason;      // why it waits there (or the placement's reason)
  int queue_position = 0;  // 0 = it would start at once
};

struct Estimate {
  Millis start = 0;  // 0 = unknown
  NodeId node = 0;   // 0 = not known (it would wait)
  std::string gpu_class;
  Millis end = 0;
  MicroEur cost = 0;
  int queue_position = 0;                         // 0 = it would start at once
  std::string reason;                             // in words
  std::vector<EstimateAlternative> alternatives;  // per acceptable class, in preference order
};

// `job.id` 0 (or taken) = a fresh id; submitted_at 0 = now.
Estimate EstimateJob(const Snapshot& snapshot, const Policy& policy, const JobView& job,
                     Millis now);

}  // namespace gpuaas::sched
