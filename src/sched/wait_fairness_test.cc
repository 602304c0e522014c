// The tallies of waits and the ratios behind Policy::fair_share_wait_ratio.
#include "sched/wait_fairness.h"

#include <gtest/gtest.h>

namespace gpuaas::sched {
namespace {

constexpr Millis kT = 1'767'225'600'000;
constexpr Millis kHour = 3'600'000;

TEST(WaitFairness, StartedJobsCountByAge) {
  WaitTally t;
  AddStartedWait(&t, kT - 3 * kHour, kT - 2 * kHour, kT, 0);  // no decay: 1 h, weight 1
  EXPECT_DOUBLE_EQ(t.waited_s, 3600);
  EXPECT_DOUBLE_EQ(t.jobs, 1);
  WaitTally aged;
  AddStartedWait(&aged, kT - 3 * kHour, kT - 2 * kHour, kT, 7200);  // one half-life ago
  EXPECT_DOUBLE_EQ(aged.waited_s, 1800);
  EXPECT_DOUBLE_EQ(aged.jobs, 0.5);
  EXPECT_DOUBLE_EQ(AgeWeight(-5, 10), 1.0);  // (a start after now counts in full)
  // Queued jobs: their wait so far, weight 1; never negative.
  AddQueuedWait(&t, kT - kHour, kT);
  AddQueuedWait(&t, kT + kHour, kT);
  EXPECT_DOUBLE_EQ(t.waited_s, 7200);
  EXPECT_DOUBLE_EQ(t.jobs, 3);
}

TEST(WaitFairness, RatiosAgainstThePlatformsAverage) {
  // Entity 1: 3 h over 2 jobs; 2: 0.5 h over 2; 3: 0 over 1 -> platform 3.5 h / 5 = 0.7 h.
  std::map<EntityId, WaitTally> tallies = {
      {1, {3 * 3600.0, 2}}, {2, {1800.0, 2}}, {3, {0, 1}}, {4, {0, 0}}};
  std::map<EntityId, double> r = WaitRatios(tallies);
  ASSERT_EQ(r.size(), 3u);  // (entity 4 has no jobs)
  EXPECT_DOUBLE_EQ(r[1], 1.5 / 0.7);
  EXPECT_DOUBLE_EQ(r[2], 0.25 / 0.7);
  EXPECT_DOUBLE_EQ(r[3], 0);
  // Nobody waited: no ratio means anything.
  EXPECT_TRUE(WaitRatios({{1, {0, 4}}, {2, {0, 1}}}).empty());
  EXPECT_TRUE(WaitRatios({}).empty());
}

}  // namespace
}  // namespace gpuaas::sched
