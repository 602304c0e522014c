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
  EXPECT_DOUBLE_EQ(t.queued, 2);
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

// Looking ahead: each queued job waits `horizon` more. A small team with its burst queued (2 of
// its 2 jobs, 1 h so far) against a large one with 2 of 20 queued, 3 h so far, and 18 started
// after 2 h each: now the large one is behind (2.1 h on average against 1 h); a day ahead the
// small one is (25 h against 4.5 h), as it will be if the burst has not started by then.
TEST(WaitFairness, LookingAheadCountsEachQueuedJob) {
  std::map<EntityId, WaitTally> tallies = {{1, {2 * 3600.0, 2, 2}},
                                           {2, {(18 * 2 + 2 * 3) * 3600.0, 20, 2}}};
  std::map<EntityId, double> now = WaitRatios(tallies);
  EXPECT_DOUBLE_EQ(now[1], 1.0 / (44.0 / 22));
  EXPECT_DOUBLE_EQ(now[2], 2.1 / (44.0 / 22));
  std::map<EntityId, double> ahead = WaitRatios(tallies, 86400);
  const double platform = (44.0 + 4 * 24) / 22;
  EXPECT_DOUBLE_EQ(ahead[1], 25.0 / platform);
  EXPECT_DOUBLE_EQ(ahead[2], (42.0 + 48) / 20 / platform);
  EXPECT_GT(ahead[1], 1.3);
  EXPECT_LT(ahead[2], 1.0);
  // A negative horizon counts as none; queued jobs with no wait yet still count ahead.
  EXPECT_EQ(WaitRatios(tallies, -5), now);
  EXPECT_DOUBLE_EQ(WaitRatios({{1, {0, 1, 1}}, {2, {0, 1, 0}}}, 3600)[1], 2.0);
}

}  // namespace
}  // namespace gpuaas::sched
