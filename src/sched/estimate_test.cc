// EstimateJob: when, where and at what cost a job would run if submitted now.
#include "sched/estimate.h"

#include <gtest/gtest.h>

#include "sched/class_choice.h"
#include "sched/test_snapshot.h"

namespace gpuaas::sched {
namespace {

using testing::AddRunning;
using testing::kNow;
using testing::MakeJob;
using testing::MakeNode;

constexpr int64_t kHourMs = 3600 * 1000;

Snapshot Pool() {
  Snapshot s;
  s.classes = {{"h200", 1.0, 3'000'000}, {"l40s", 0.5, 1'000'000}};
  s.nodes = {MakeNode(1, "h200", 4), MakeNode(2, "l40s", 4)};
  AddRunning(s, 1, 1, 0, {0, 1, 2, 3}, kNow, 3600);  // H200 busy for an hour
  return s;
}

TEST(EstimateJob, ComparesClassesByExpectedCompletion) {
  Snapshot s = Pool();
  JobView job = MakeJob(0, 2, {"h200", "l40s"}, 2, 0, 4 * 3600);
  Estimate e = EstimateJob(s, Policy{}, job, kNow);
  // L40S now: 8 h (ends kNow + 8 h); H200 in 1 h: ends kNow + 5 h. Waiting wins.
  ASSERT_EQ(e.alternatives.size(), 2u);
  EXPECT_EQ(e.alternatives[0].gpu_class, "h200");
  EXPECT_EQ(e.alternatives[0].start, kNow + kHourMs);
  EXPECT_EQ(e.alternatives[0].end, kNow + 5 * kHourMs);
  EXPECT_EQ(e.alternatives[0].cost, 2 * 4 * 3'000'000);
  EXPECT_EQ(e.alternatives[1].gpu_class, "l40s");
  EXPECT_EQ(e.alternatives[1].start, kNow);
  EXPECT_EQ(e.alternatives[1].node, 2);
  EXPECT_EQ(e.alternatives[1].end, kNow + 8 * kHourMs);
  EXPECT_EQ(e.alternatives[1].cost, 2 * 8 * 1'000'000);
  EXPECT_EQ(e.gpu_class, "h200");
  EXPECT_EQ(e.start, kNow + kHourMs);
  EXPECT_EQ(e.end, kNow + 5 * kHourMs);
  EXPECT_EQ(e.node, 0);
  EXPECT_NE(e.reason.find("waiting for H200"), std::string::npos) << e.reason;
}

TEST(EstimateJob, StartsNowWhenThatIsBest) {
  Snapshot s = Pool();
  JobView job = MakeJob(0, 1, {"l40s"}, 2, 0, 3600);
  Estimate e = EstimateJob(s, Policy{}, job, kNow);
  EXPECT_EQ(e.start, kNow);
  EXPECT_EQ(e.node, 2);
  EXPECT_EQ(e.gpu_class, "l40s");
  EXPECT_EQ(e.queue_position, 0);
  EXPECT_EQ(e.cost, 1'000'000);
  // The snapshot is not changed and an unplaceable job has no estimate.
  Estimate none = EstimateJob(s, Policy{}, MakeJob(0, 64, {"h200"}, 2, 0, 3600), kNow);
  EXPECT_EQ(none.start, 0);
  EXPECT_NE(none.reason.find("no node has 64"), std::string::npos) << none.reason;
  EXPECT_TRUE(s.queued.empty());
}

// The clock in reasons ("busy until about 14:20 UTC"): to the nearest minute, within the day.
TEST(FormatClock, RoundsToTheMinuteWithinTheDay) {
  constexpr Millis kMinute = 60'000, kHour = 60 * kMinute;
  EXPECT_EQ(FormatClock(0), "00:00 UTC");
  EXPECT_EQ(FormatClock(14 * kHour + 20 * kMinute), "14:20 UTC");
  EXPECT_EQ(FormatClock(9 * kHour + 5 * kMinute + 29'999), "09:05 UTC");
  EXPECT_EQ(FormatClock(9 * kHour + 5 * kMinute + 30'000), "09:06 UTC");
  EXPECT_EQ(FormatClock(24 * kHour - 20'000), "00:00 UTC");  // the next day's midnight
  EXPECT_EQ(FormatClock(3 * 24 * kHour + 23 * kHour + 59 * kMinute), "23:59 UTC");
}

}  // namespace
}  // namespace gpuaas::sched
