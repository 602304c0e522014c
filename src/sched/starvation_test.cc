// Property test: random bounded workloads (seeded, so reproducible) replayed by the scenario
// runner until every job is done. After every pass the runner checks CheckInvariants (no GPU
// twice, limits, preemptions, gangs) and that every guarantee is met within the grace period;
// here we also require that every job eventually ran (no starvation) under every policy.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "sched/scenario_runner.h"

namespace gpuaas::sched {
namespace {

// Jobs of guaranteed entities ask 1 or 2 GPUs: a guarantee is a number of GPUs, and a big job
// may need GPUs on one node that others hold within their own guarantees (fragmentation).
Scenario RandomScenario(uint64_t seed, const std::string& policy) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  Scenario s;
  s.file = "random-" + policy + "-" + std::to_string(seed);
  s.policy = *PolicyByName(policy);
  s.policy.preemption_grace_s = 60;
  s.classes = {{"h200", 1.0, 3'000'000}, {"l40s", 0.5, 1'000'000}};
  for (int n = 0; n < 4; ++n) s.nodes.push_back({"h" + std::to_string(n), {{"h200", 8}}, true, {}});
  for (int n = 0; n < 2; ++n) s.nodes.push_back({"l" + std::to_string(n), {{"l40s", 4}}, true, {}});
  s.entities = {"a", "b", "c", "d"};
  s.guarantees["a"] = {{"h200", 8}};
  s.guarantees["b"] = {{"h200", 8}};
  s.quotas["c"] = {{"h200", 24}, {"l40s", 8}};
  s.shares["d"] = 2;
  const int sizes[] = {1, 2, 4, 8, 16};
  const char* classes[] = {"standard", "standard", "best-effort", "production"};
  for (int j = 1; j <= 40; ++j) {
    ScenarioJob job;
    job.id = j;
    job.at_s = pick(4 * 3600);
    job.entity = s.entities[pick(4)];
    bool guaranteed = job.entity == "a" || job.entity == "b";
    job.gpus = guaranteed ? 1 + pick(2) : sizes[pick(pick(20) == 0 ? 5 : 4)];
    int t = pick(3);
    job.types = t == 0 || guaranteed ? std::vector<std::string>{"h200"}
                : t == 1             ? std::vector<std::string>{"l40s"}
                                     : std::vector<std::string>{"h200", "l40s"};
    if (job.gpus > 8 || (job.types.front() == "l40s" && job.gpus > 4)) job.types = {"h200"};
    job.walltime_s = 600 * (1 + pick(12));
    job.runs_s = pick(5) == 0 ? job.walltime_s + 60 : 60 + pick(static_cast<int>(job.walltime_s));
    job.priority_class = classes[pick(4)];
    job.preemptible = pick(4) != 0;
    s.jobs.push_back(job);
  }
  return s;
}

class NoStarvation : public testing::TestWithParam<std::string> {};

TEST_P(NoStarvation, EveryJobRunsAndGuaranteesHold) {
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    Scenario s = RandomScenario(seed, GetParam());
    ScenarioOutcome out = RunScenario(s);
    for (const std::string& f : out.failures) ADD_FAILURE() << f;
    EXPECT_TRUE(out.unfinished.empty())
        << s.file << ": " << out.unfinished.size() << " jobs never finished, first job "
        << (out.unfinished.empty() ? 0 : out.unfinished.front());
    EXPECT_GT(out.passes, 10) << s.file;
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, NoStarvation,
                         testing::Values("default", "fifo", "backfill", "ordered-fallback"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace gpuaas::sched
