// Replays a Scenario under a virtual clock: jobs arrive, the scheduler runs at every event
// (arrival, finish, cluster event, expectation time), placed jobs run for their stated time
// (stretched on a slower class, cut at their walltime) and then free their devices. Invariants
// are checked after every pass and expectations at their time. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "sched/scenario.h"

namespace gpuaas::sched {

// Scenario time 0 on the scheduler's clock (2026-01-01T00:00:00Z), so that 0 is never "unset".
constexpr Millis kScenarioOrigin = 1'767'225'600'000;

struct ScenarioOutcome {
  std::vector<std::string> failures;  // "FILE:LINE: message" (or "FILE: at T s: ..." )
  int passes = 0;                     // scheduling passes run
  int checked = 0;                    // expectations checked
  std::vector<JobId> unfinished;      // jobs neither finished nor timed out when replay ended
};

ScenarioOutcome RunScenario(const Scenario& scenario);

}  // namespace gpuaas::sched
