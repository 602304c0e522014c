// Choosing among a job's acceptable classes by expected completion time (after Gavel's
// heterogeneity awareness): for each class, the earliest start on it (from the time line) plus
// the run time there (the walltime scaled by the speed ratio, JobView::speeds or
// ClassInfo::speed); the earliest completion wins, ties go to the preferred class. So a job may
// start now on a slower L40S or wait for an H200 that will finish it sooner. The decision is
// explained in words a user understands, with the cost on each class.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "sched/placer.h"

namespace gpuaas::sched {

struct ClassChoice {
  std::optional<Option> option;  // the chosen class's option (now or later); unset = none known
  bool waits = false;            // another class has room now, but waiting finishes sooner
  std::string reason;            // why, in words ("" when the preferred class starts now)
};

// Precondition: `ev` is placer.Evaluate(job, timeline, policy, timeline.now(), find_earliest).
// Classes without room now are evaluated for their earliest start only when they could still
// finish first (or always, with `future`: the job has no room anywhere now).
// `wait_ratio` >= 0 (Policy::faster_class_wait_ratio, for a job that would wait without a
// reservation): once the job's wait up to the faster class's estimated start (a lower bound:
// the estimate ignores the jobs ahead) reaches this many times what the slower class would add
// to its run (1 time, at least, when that is Policy::faster_class_patience_extra_s or more), it
// starts on the slower class instead of waiting. Negative: no bound.
ClassChoice ChooseClass(const Placer& placer, const JobView& job, Evaluation& ev,
                        const Timeline& timeline, const Policy& policy, bool future,
                        double wait_ratio = -1);

// "14:20 UTC" (rounded to the minute).
std::string FormatClock(Millis t);
// Cost of `gpus` GPUs for `seconds` of the class (0 if the class has no rate).
MicroEur ClassCost(const Snapshot& snapshot, const std::string& gpu_class, int gpus,
                   int64_t seconds);

}  // namespace gpuaas::sched
