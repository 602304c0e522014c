// Schedule() as a whole: robustness to odd input, determinism and the pass's bookkeeping. The
// policy rules themselves are covered by tests/scenarios/*.scn (scenario_test.cc).
#include "sched/scheduler.h"

#include <gtest/gtest.h>

#include "sched/invariants.h"
#include "sched/test_snapshot.h"

namespace gpuaas::sched {
namespace {

using testing::AddRunning;
using testing::kNow;
using testing::MakeJob;
using testing::MakeNode;

// The same placements (job, node, devices) and waiting jobs (job, position, estimate, reason).
void ExpectSamePlan(const Plan& a, const Plan& b) {
  ASSERT_EQ(a.placements.size(), b.placements.size());
  for (size_t i = 0; i < a.placements.size(); ++i) {
    EXPECT_EQ(a.placements[i].job, b.placements[i].job);
    EXPECT_EQ(a.placements[i].node, b.placements[i].node);
    EXPECT_EQ(a.placements[i].devices, b.placements[i].devices);
  }
  ASSERT_EQ(a.waiting.size(), b.waiting.size());
  for (size_t i = 0; i < a.waiting.size(); ++i) {
    EXPECT_EQ(a.waiting[i].job, b.waiting[i].job);
    EXPECT_EQ(a.waiting[i].queue_position, b.waiting[i].queue_position);
    EXPECT_EQ(a.waiting[i].estimated_start, b.waiting[i].estimated_start);
    EXPECT_EQ(a.waiting[i].reason, b.waiting[i].reason);
  }
}

TEST(Schedule, IsRobustToOddJobs) {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 4)};
  AddRunning(s, 5, 1, 0, {0}, kNow, 3600);
  s.queued = {MakeJob(1, 0), MakeJob(2, 1), MakeJob(2, 1), MakeJob(5, 1), MakeJob(3, 1, {"tpu"})};
  Plan plan = Schedule(s, Policy{}, kNow);
  ASSERT_TRUE(CheckInvariants(s, plan).ok()) << CheckInvariants(s, plan).message();
  ASSERT_EQ(plan.placements.size(), 1u);
  EXPECT_EQ(plan.placements[0].job, 2);
  EXPECT_EQ(plan.placements[0].devices, std::vector<int>{1});
  ASSERT_EQ(plan.waiting.size(), 3u);
  EXPECT_EQ(plan.waiting[0].job, 1);
  EXPECT_EQ(plan.waiting[0].reason, "invalid request: asks for 0 GPUs");
  EXPECT_EQ(plan.waiting[1].job, 3);
  EXPECT_EQ(plan.waiting[1].reason, "no node has 1 GPU of class tpu");
  EXPECT_EQ(plan.waiting[1].estimated_start, 0);
  EXPECT_EQ(plan.waiting[2].job, 5);
  EXPECT_EQ(plan.waiting[2].reason, "already holds GPUs");
}

// The same duplicate and "already holds" checks with ids too far apart for a bit set over
// their range (the pass then sorts them), and with negative ids.
TEST(Schedule, DuplicatesAndHoldersWithSparseIds) {
  for (JobId big : {JobId{5'000'000'000'000}, JobId{-7}}) {
    Snapshot s;
    s.nodes = {MakeNode(1, "h200", 4)};
    AddRunning(s, big, 1, 0, {0}, kNow, 3600);
    s.queued = {MakeJob(2, 1), MakeJob(big, 1), MakeJob(2, 2), MakeJob(9, 1)};
    Plan plan = Schedule(s, Policy{}, kNow);
    ASSERT_TRUE(CheckInvariants(s, plan).ok()) << CheckInvariants(s, plan).message();
    ASSERT_EQ(plan.placements.size(), 2u) << big;
    EXPECT_EQ(plan.placements[0].job, 2);  // the first of the duplicates (1 GPU)
    EXPECT_EQ(plan.placements[0].devices, std::vector<int>{1});
    EXPECT_EQ(plan.placements[1].job, 9);
    ASSERT_EQ(plan.waiting.size(), 1u);
    EXPECT_EQ(plan.waiting[0].job, big);
    EXPECT_EQ(plan.waiting[0].reason, "already holds GPUs");
  }
}

TEST(Schedule, NoClassesAnywhere) {
  Snapshot s;
  s.queued = {MakeJob(1, 1)};
  Plan plan = Schedule(s, Policy{}, kNow);
  ASSERT_EQ(plan.waiting.size(), 1u);
  EXPECT_EQ(plan.waiting[0].reason, "no GPU class is configured");
}

TEST(Schedule, AnyClassWithoutCatalogueUsesNodeClasses) {
  Snapshot s;
  s.nodes = {MakeNode(1, "l40s", 2)};
  s.queued = {MakeJob(1, 2)};
  Plan plan = Schedule(s, Policy{}, kNow);
  ASSERT_EQ(plan.placements.size(), 1u);
  EXPECT_EQ(plan.placements[0].gpu_class, "l40s");
}

TEST(Schedule, IsDeterministicWhateverTheInputOrder) {
  Snapshot a;
  a.nodes = {MakeNode(1, "h200", 8), MakeNode(2, "h200", 8)};
  for (JobId id = 1; id <= 12; ++id) {
    a.queued.push_back(MakeJob(id, 1 + static_cast<int>(id % 4), {}, id % 3, kNow - id % 5));
  }
  Snapshot b = a;
  std::reverse(b.queued.begin(), b.queued.end());
  Plan pa = Schedule(a, Policy{}, kNow), pb = Schedule(b, Policy{}, kNow);
  ExpectSamePlan(pa, pb);
  EXPECT_TRUE(CheckInvariants(a, pa).ok());
}

// A windowed snapshot (the simulator's) plans exactly as a snapshot of the window's jobs alone,
// and the invariant check reads the same window.
TEST(Schedule, WindowedSnapshotPlansForTheWindowAlone) {
  Snapshot all;
  all.nodes = {MakeNode(1, "h200", 8), MakeNode(2, "h200", 4)};
  AddRunning(all, 100, 1, 0, {0, 1, 2}, kNow, 3600);
  for (JobId id = 1; id <= 10; ++id) {
    all.queued.push_back(MakeJob(id, 1 + static_cast<int>(id % 5), {}, id % 3, kNow - id));
  }
  Snapshot windowed = all;
  windowed.windowed = true;
  windowed.window = {1, 4, 5, 8};
  Snapshot alone = all;
  alone.queued.clear();
  for (uint32_t at : windowed.window) alone.queued.push_back(all.queued[at]);
  const Plan pw = Schedule(windowed, Policy{}, kNow), pa = Schedule(alone, Policy{}, kNow);
  ExpectSamePlan(pw, pa);
  EXPECT_EQ(pw.placements.size() + pw.waiting.size(), windowed.window.size());
  EXPECT_TRUE(CheckInvariants(windowed, pw).ok()) << CheckInvariants(windowed, pw).message();
  // The same plan read against the whole queue leaves the other jobs neither placed nor waiting.
  EXPECT_FALSE(CheckInvariants(all, pw).ok());
}

// Two flexible jobs of 10 h (the tests below), submitted `waited_ms` ago, the H200 busy for an
// hour.
Snapshot TwoFlexibleJobsH200BusyAnHour(Millis waited_ms) {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 2), MakeNode(2, "l40s", 4)};
  s.classes = {{"h200", 1.0, 0}, {"l40s", 0.4, 0}};
  AddRunning(s, 100, 1, 0, {0, 1}, kNow, 3600);
  s.queued = {MakeJob(1, 2, {"h200", "l40s"}, 1, kNow - waited_ms - 1000, 36'000),
              MakeJob(2, 2, {"h200", "l40s"}, 1, kNow - waited_ms, 36'000)};
  return s;
}

// Two flexible jobs of 10 h on the H200 (25 h on the 2.5x slower L40S); the H200 busy for an
// hour, the L40S free: both finish sooner by waiting for the H200 (the second behind the first's
// reservation). With faster_class_wait_ratio R >= 0, the second, which has no reservation, waits
// only while its wait up to the H200's estimated start for it (11 h from now, after the first's
// reservation) stays under R times what the L40S would add to its run (15 h); else it starts
// there now, without waiting for a bound that the estimate already says it will pass.
TEST(Schedule, WaitingForAFasterClassWithoutReservationIsBounded) {
  auto plan_for = [](Millis waited_ms, double ratio) {
    Snapshot s = TwoFlexibleJobsH200BusyAnHour(waited_ms);
    Policy p;
    p.faster_class_wait_ratio = ratio;
    Plan plan = Schedule(s, p, kNow);
    EXPECT_TRUE(CheckInvariants(s, plan).ok()) << CheckInvariants(s, plan).message();
    return plan;
  };
  const Millis hour = 3'600'000;
  // Waiting: no bound; waited 3 h + 11 h to come < 1 x 15 h; 18 h + 11 h < 2 x 15 h.
  for (auto [waited, ratio] : {std::pair{100 * hour, -1.0}, {3 * hour, 1.0}, {18 * hour, 2.0}}) {
    Plan waits = plan_for(waited, ratio);
    EXPECT_TRUE(waits.placements.empty()) << ratio;
    ASSERT_EQ(waits.waiting.size(), 2u);
    EXPECT_NE(waits.waiting[1].reason.find("waiting for H200"), std::string::npos)
        << waits.waiting[1].reason;
  }
  // Starting on the L40S: 4 h + 11 h >= 15 h (waiting 4 h more would not reach the bound);
  // 19 h + 11 h >= 30 h; 0 h + 11 h >= 0.5 x 15 h; anything with 0.
  for (auto [waited, ratio] :
       {std::pair{4 * hour, 1.0}, {19 * hour, 2.0}, {0 * hour, 0.5}, {0 * hour, 0.0}}) {
    Plan second_goes = plan_for(waited, ratio);
    ASSERT_EQ(second_goes.placements.size(), 1u) << ratio;
    EXPECT_EQ(second_goes.placements[0].job, 2);
    EXPECT_EQ(second_goes.placements[0].gpu_class, "l40s");
    EXPECT_NE(second_goes.placements[0].reason.find("too long a wait compared with what L40S"),
              std::string::npos)
        << second_goes.placements[0].reason;
    ASSERT_EQ(second_goes.waiting.size(), 1u);
    EXPECT_EQ(second_goes.waiting[0].job, 1);  // (the reservation holder keeps waiting)
  }
}

// Patience for long jobs: the same two jobs, whose run the L40S would lengthen by 15 h. With
// faster_class_patience_extra_s at most 15 h the second waits as if the ratio were 1 (3 h waited
// + 11 h to come < 15 h); above 15 h, or off, the default ratio (1 %) sends it to the L40S. A
// larger ratio stays larger.
TEST(Schedule, LongJobsAreAsPatientAsTheirSlowdownWhenAsked) {
  auto plan_for = [](Millis waited_ms, double ratio, int64_t patience_s) {
    Snapshot s = TwoFlexibleJobsH200BusyAnHour(waited_ms);
    Policy p;
    p.faster_class_wait_ratio = ratio;
    p.faster_class_patience_extra_s = patience_s;
    EXPECT_TRUE(ValidatePolicy(p).ok());
    Plan plan = Schedule(s, p, kNow);
    EXPECT_TRUE(CheckInvariants(s, plan).ok()) << CheckInvariants(s, plan).message();
    return plan;
  };
  const Millis hour = 3'600'000;
  for (auto [ratio, patience_h, waits] : {std::tuple{0.01, 0, false},
                                          {0.01, 16, false},
                                          {0.01, 15, true},
                                          {0.01, 1, true},
                                          {2.0, 1, true}}) {
    Plan plan = plan_for(3 * hour, ratio, patience_h * 3600);
    EXPECT_EQ(plan.placements.empty(), waits) << ratio << " " << patience_h;
  }
  // Patience ends too: waited 4 h + 11 h >= 15 h.
  Plan goes = plan_for(4 * hour, 0.01, 3600);
  ASSERT_EQ(goes.placements.size(), 1u);
  EXPECT_EQ(goes.placements[0].gpu_class, "l40s");
  Policy bad;
  bad.faster_class_patience_extra_s = -1;
  EXPECT_FALSE(ValidatePolicy(bad).ok());
}

// A node kept for large jobs (min_job_gpus, the label gpuaas.io/min-gpus) takes no smaller one,
// on every path: the index of free nodes (now), earliest starts (the reservation and the
// estimate), gangs; a small job that only such nodes could hold says why.
TEST(Schedule, NodesKeptForLargeJobs) {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 8), MakeNode(2, "h200", 8), MakeNode(3, "h200", 8)};
  s.nodes[0].min_job_gpus = 8;
  s.nodes[1].min_job_gpus = 8;
  AddRunning(s, 100, 1, 2, {0, 1, 2, 3, 4, 5, 6, 7}, kNow, 3600);  // n3 busy for 1 h
  // 1 GPU, then 8 GPUs, then a 16-GPU gang (two whole nodes), all of class h200.
  s.queued = {MakeJob(1, 1, {"h200"}, 1, kNow - 3000), MakeJob(2, 8, {"h200"}, 1, kNow - 2000),
              MakeJob(3, 16, {"h200"}, 1, kNow - 1000)};
  s.classes = {{"h200", 1.0, 0}};
  Policy p;
  p.queue_order = "fifo";
  Plan plan = Schedule(s, p, kNow);
  ASSERT_TRUE(CheckInvariants(s, plan).ok()) << CheckInvariants(s, plan).message();
  // The small job waits for n3 (its reservation, in an hour) although n1 and n2 are free; the
  // 8-GPU job starts on n1; the gang waits: n2 and n3 together are free only in an hour, and
  // the small job holds n3 from then.
  ASSERT_EQ(plan.placements.size(), 1u);
  EXPECT_EQ(plan.placements[0].job, 2);
  EXPECT_EQ(plan.placements[0].node, 1);
  ASSERT_EQ(plan.waiting.size(), 2u);
  EXPECT_EQ(plan.waiting[0].job, 1);
  EXPECT_EQ(plan.waiting[0].estimated_start, kNow + 3'600'000);
  EXPECT_EQ(plan.waiting[1].job, 3);
  EXPECT_GT(plan.waiting[1].estimated_start, kNow);

  // Without the running job, the small job takes n3, the only node open to it, and the 8-GPU
  // job n1; the gang waits (n2 alone is not enough).
  s.running.clear();
  for (DeviceView& d : s.nodes[2].devices) d.used_by = 0;
  plan = Schedule(s, p, kNow);
  ASSERT_TRUE(CheckInvariants(s, plan).ok()) << CheckInvariants(s, plan).message();
  ASSERT_EQ(plan.placements.size(), 2u);
  EXPECT_EQ(plan.placements[0].job, 1);
  EXPECT_EQ(plan.placements[0].node, 3);
  EXPECT_EQ(plan.placements[1].job, 2);
  EXPECT_EQ(plan.placements[1].node, 1);
  // Once n3 is taken by an 8-GPU job instead, the gang gets n1 and n2.
  s.queued = {MakeJob(2, 8, {"h200"}, 1, kNow - 2000), MakeJob(3, 16, {"h200"}, 1, kNow - 1000),
              MakeJob(4, 8, {"h200"}, 1, kNow - 500)};
  plan = Schedule(s, p, kNow);
  ASSERT_TRUE(CheckInvariants(s, plan).ok()) << CheckInvariants(s, plan).message();
  ASSERT_EQ(plan.placements.size(), 2u);
  EXPECT_EQ(plan.placements[0].job, 2);
  EXPECT_EQ(plan.placements[1].job, 3);
  ASSERT_EQ(plan.placements[1].slices.size(), 2u);

  // Only kept nodes: the small job can never run there, and is told so.
  Snapshot kept;
  kept.nodes = {MakeNode(1, "h200", 8)};
  kept.nodes[0].min_job_gpus = 4;
  kept.queued = {MakeJob(1, 2, {"h200"})};
  kept.classes = {{"h200", 1.0, 0}};
  plan = Schedule(kept, Policy{}, kNow);
  ASSERT_EQ(plan.waiting.size(), 1u);
  EXPECT_NE(plan.waiting[0].reason.find("kept for jobs of more GPUs"), std::string::npos)
      << plan.waiting[0].reason;
  kept.queued = {MakeJob(1, 4, {"h200"})};
  plan = Schedule(kept, Policy{}, kNow);
  ASSERT_EQ(plan.placements.size(), 1u);
}

TEST(Schedule, LimitsEstimatesAndJobsPerPass) {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 1)};
  AddRunning(s, 100, 1, 0, {0}, kNow, 60);
  for (JobId id = 1; id <= 4; ++id) s.queued.push_back(MakeJob(id, 1, {}, 1, kNow + id));
  Policy p;
  p.max_estimates = 2;
  p.max_jobs_per_pass = 3;
  Plan plan = Schedule(s, p, kNow);
  ASSERT_EQ(plan.waiting.size(), 4u);
  EXPECT_EQ(plan.waiting[0].estimated_start, kNow + 60'000);
  EXPECT_EQ(plan.waiting[1].estimated_start, kNow + 3'660'000);
  EXPECT_EQ(plan.waiting[2].estimated_start, 0);
  EXPECT_FALSE(plan.waiting[3].considered);
  EXPECT_NE(ReasonOf(plan, plan.waiting[3]).find("not yet considered"), std::string::npos);
}

// With more reservations, more waiting jobs hold a place on the time line: a small long job
// that would delay the second waiting job no longer starts.
TEST(Schedule, ReservationsKnob) {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 4), MakeNode(2, "h200", 4)};
  AddRunning(s, 100, 1, 0, {0, 1, 2}, kNow, 3600);
  AddRunning(s, 101, 1, 1, {0, 1, 2}, kNow, 5400);
  s.queued = {MakeJob(1, 4, {}, 1, kNow), MakeJob(2, 4, {}, 1, kNow + 1),
              MakeJob(3, 1, {}, 1, kNow + 2, 86400)};
  struct Case {
    int reservations;
    size_t placed;
  } cases[] = {{0, 1}, {1, 1}, {2, 0}};
  for (const Case& c : cases) {
    Policy p;
    p.reservations = c.reservations;
    Plan plan = Schedule(s, p, kNow);
    EXPECT_TRUE(CheckInvariants(s, plan).ok());
    EXPECT_EQ(plan.placements.size(), c.placed) << c.reservations;
  }
}

TEST(PolicyByName, KnowsTheBaselines) {
  for (const std::string& name : PolicyNames()) {
    auto p = PolicyByName(name);
    ASSERT_TRUE(p.ok()) << name;
    EXPECT_TRUE(ValidatePolicy(*p).ok()) << name;
  }
  EXPECT_TRUE(PolicyByName("fifo")->strict_order);
  EXPECT_FALSE(PolicyByName("fifo")->backfill);
  EXPECT_TRUE(PolicyByName("backfill")->backfill);
  EXPECT_TRUE(PolicyByName("default")->backfill);
  EXPECT_FALSE(PolicyByName("ordered-fallback")->backfill);
  EXPECT_EQ(PolicyByName("default")->queue_order, "fair-share");
  EXPECT_EQ(PolicyByName("backfill")->queue_order, "fifo");
  EXPECT_FALSE(PolicyByName("ordered-fallback")->strict_order);
  EXPECT_FALSE(PolicyByName("lottery").ok());
  Policy bad;
  bad.queue_order = "lottery";
  EXPECT_FALSE(ValidatePolicy(bad).ok());
}

}  // namespace
}  // namespace gpuaas::sched
