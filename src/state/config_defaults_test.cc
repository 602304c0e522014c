// The server's scheduler knobs (PlatformConfig, read from [scheduler]) default to the values of
// sched::Policy, which the simulator's `default` uses: a server with no [scheduler] section
// schedules as the simulator measured (docs/benchmarks.md). Each is written in both structs, so
// a default changed in one place only fails here.
#include <gtest/gtest.h>

#include "sched/policy.h"
#include "state/config.h"

namespace gpuaas {
namespace {

TEST(ConfigDefaults, SchedulerKnobsAreThePolicys) {
  const PlatformConfig config;
  const sched::Policy policy;
  EXPECT_EQ(config.default_walltime_s, policy.default_walltime_s);
  EXPECT_EQ(config.preemption_grace_s, policy.preemption_grace_s);
  EXPECT_EQ(config.small_first_rate, policy.small_first_rate);
  EXPECT_EQ(config.small_first_delay_factor, policy.small_first_delay_factor);
  EXPECT_EQ(config.small_first_cap_s, policy.small_first_cap_s);
  EXPECT_EQ(config.fair_share_wait_floor_s, policy.fair_share_wait_floor_s);
  EXPECT_EQ(config.faster_class_wait_ratio, policy.faster_class_wait_ratio);
  EXPECT_EQ(config.faster_class_patience_extra_s, policy.faster_class_patience_extra_s);
  EXPECT_EQ(config.fair_share_wait_ratio, policy.fair_share_wait_ratio);
  EXPECT_EQ(config.fair_share_usage_delay_s, policy.fair_share_usage_delay_s);
  EXPECT_EQ(config.fair_share_wait_horizon_s, policy.fair_share_wait_horizon_s);
  EXPECT_EQ(config.fair_share_wait_rank_half_life_s, policy.fair_share_wait_rank_half_life_s);
}

}  // namespace
}  // namespace gpuaas
