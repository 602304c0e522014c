// DecayedUsage: the exact exponential-decay integral behind fair share.
#include "sched/fair_share.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gpuaas::sched {
namespace {

constexpr Millis kT = 1'767'225'600'000;
constexpr Millis kHour = 3600 * 1000;

TEST(DecayedUsage, WithoutDecayIsGpuHours) {
  std::vector<UsageInterval> u = {{1, 4, kT - 2 * kHour, kT - kHour}, {2, 2, kT - kHour, 0}};
  EXPECT_DOUBLE_EQ(DecayedUsage(u, kT, 0), 4.0 + 2.0);
  auto by = DecayedUsageByEntity(u, kT, 0);
  EXPECT_DOUBLE_EQ(by[1], 4.0);
  EXPECT_DOUBLE_EQ(by[2], 2.0);
}

TEST(DecayedUsage, MatchesTheClosedForm) {
  // One GPU over the last hour with a one-hour half-life: (1/ln 2) * (1 - 1/2) GPU-hours.
  std::vector<UsageInterval> u = {{1, 1, kT - kHour, kT}};
  EXPECT_NEAR(DecayedUsage(u, kT, 3600), 0.5 / std::log(2.0), 1e-12);
  // The same hour, one half-life ago, counts half.
  std::vector<UsageInterval> old = {{1, 1, kT - 2 * kHour, kT - kHour}};
  EXPECT_NEAR(DecayedUsage(old, kT, 3600), 0.25 / std::log(2.0), 1e-12);
}

TEST(DecayedUsage, IsAdditiveOverSplitsAndIgnoresTheFuture) {
  std::vector<UsageInterval> whole = {{1, 3, kT - 5 * kHour, kT + kHour}};
  std::vector<UsageInterval> split = {{1, 3, kT - 5 * kHour, kT - 2 * kHour},
                                      {1, 3, kT - 2 * kHour, 0},
                                      {1, 7, kT + kHour, kT + 2 * kHour}};
  EXPECT_NEAR(DecayedUsage(whole, kT, 86400), DecayedUsage(split, kT, 86400), 1e-9);
  EXPECT_GT(DecayedUsage(whole, kT, 86400), 0.0);
  EXPECT_DOUBLE_EQ(DecayedUsage({{1, 0, kT - kHour, kT}}, kT, 3600), 0.0);
}

TEST(DecayedUsage, DecaysMonotonicallyWithAge) {
  std::vector<UsageInterval> u = {{1, 8, kT - kHour, kT}};
  double now = DecayedUsage(u, kT, 7 * 86400);
  double later = DecayedUsage(u, kT + 86400 * 1000LL, 7 * 86400);
  EXPECT_LT(later, now);
  EXPECT_NEAR(DecayedUsage(u, kT + 7 * 86400 * 1000LL, 7 * 86400), now / 2, 1e-9);
}

}  // namespace
}  // namespace gpuaas::sched
