// Timeline kept across passes (AddRunning / RemoveRunning / AdvanceTo): it must stay equal to a
// time line built from the snapshot, which is what the simulator relies on.
#include "sched/timeline.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sched/scheduler.h"
#include "sched/test_snapshot.h"

namespace gpuaas::sched {
namespace {

using testing::AddRunning;
using testing::kNow;
using testing::MakeJob;
using testing::MakeNode;

Snapshot Cluster() {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 8), MakeNode(2, "h200", 8), MakeNode(3, "l40s", 4)};
  return s;
}

Millis End(Millis start, int64_t walltime_s) { return start + walltime_s * 1000; }

TEST(KeptTimeline, EqualsTheSnapshotsAsJobsStartAndEnd) {
  Policy policy;
  Snapshot s = Cluster();
  Timeline kept(s, policy, kNow);
  // Three jobs start (one on two nodes' worth of devices of node 1, one on node 3).
  AddRunning(s, 10, 1, 0, {0, 1, 2}, kNow, 3600);
  kept.AddRunning(0, {0, 1, 2}, 1, "h200", End(kNow, 3600));
  AddRunning(s, 11, 2, 2, {0, 1, 2, 3}, kNow, 600);
  kept.AddRunning(2, {0, 1, 2, 3}, 2, "l40s", End(kNow, 600));
  AddRunning(s, 12, 1, 1, {7}, kNow + 5000, 7200);
  kept.AddRunning(1, {7}, 1, "h200", End(kNow + 5000, 7200));
  std::string difference;
  kept.AdvanceTo(kNow + 10'000);
  EXPECT_TRUE(Timeline::SameState(kept, Timeline(s, policy, kNow + 10'000), &difference))
      << difference;

  // Job 11 ends: its devices are clean again.
  s.running.erase(s.running.begin() + 1);
  for (DeviceView& d : s.nodes[2].devices) d.used_by = 0;
  kept.RemoveRunning(2, {0, 1, 2, 3}, 2, "l40s", End(kNow, 600));
  kept.AdvanceTo(kNow + 20'000);
  const Timeline built(s, policy, kNow + 20'000);
  EXPECT_TRUE(Timeline::SameState(kept, built, &difference)) << difference;
  EXPECT_EQ(kept.CleanOn(2, kept.ClassIndex("l40s")), 4);
  EXPECT_EQ(kept.CleanOn(0, kept.ClassIndex("h200")), 5);

  // And a pass on (a copy of) the kept time line decides as a pass on the snapshot.
  s.queued = {MakeJob(20, 4, {"l40s"}), MakeJob(21, 8, {"h200"}), MakeJob(22, 5, {"h200"})};
  Timeline copy = kept;
  const Plan on_kept = Schedule(s, policy, kNow + 20'000, copy);
  const Plan on_snapshot = Schedule(s, policy, kNow + 20'000);
  ASSERT_EQ(on_kept.placements.size(), on_snapshot.placements.size());
  ASSERT_EQ(on_kept.placements.size(), 2u);
  for (size_t i = 0; i < on_kept.placements.size(); ++i) {
    EXPECT_EQ(on_kept.placements[i].job, on_snapshot.placements[i].job);
    EXPECT_EQ(on_kept.placements[i].node, on_snapshot.placements[i].node);
    EXPECT_EQ(on_kept.placements[i].devices, on_snapshot.placements[i].devices);
  }
  ASSERT_EQ(on_kept.waiting.size(), 1u);
  EXPECT_EQ(on_kept.waiting[0].reason, on_snapshot.waiting[0].reason);
  EXPECT_EQ(on_kept.waiting[0].estimated_start, on_snapshot.waiting[0].estimated_start);
}

TEST(KeptTimeline, QuotaHoldsFollowToo) {
  Policy policy;  // reclaim and preemption on: quota holds are tracked
  Snapshot s = Cluster();
  s.quota_limit[1]["h200"] = 12;
  Timeline kept(s, policy, kNow);
  AddRunning(s, 10, 1, 0, {0, 1}, kNow, 3600);
  kept.AddRunning(0, {0, 1}, 1, "h200", End(kNow, 3600));
  std::string difference;
  EXPECT_TRUE(Timeline::SameState(kept, Timeline(s, policy, kNow), &difference)) << difference;
  EXPECT_EQ(kept.QuotaPeak(1, "h200", kNow, kNow + 1000), 2);
  kept.RemoveRunning(0, {0, 1}, 1, "h200", End(kNow, 3600));
  EXPECT_EQ(kept.QuotaPeak(1, "h200", kNow, kNow + 1000), 0);
  EXPECT_TRUE(Timeline::SameState(kept, Timeline(Cluster(), policy, kNow), &difference))
      << difference;
}

// QuotaSteps kept up to date hold by hold (steps asked for between holds) must equal the steps
// built from all the holds at once (a time line asked only at the end).
TEST(QuotaSteps, UpdatedHoldByHoldEqualsRebuilt) {
  Policy policy;
  Snapshot s = Cluster();
  s.quota_limit[1]["h200"] = 64;
  std::mt19937_64 rng(11);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  for (int round = 0; round < 200; ++round) {
    Timeline updated(s, policy, kNow), rebuilt(s, policy, kNow);
    const int holds = 1 + pick(30);
    for (int h = 0; h < holds; ++h) {
      // Starts and ends on a coarse grid (shared instants), from the past or never ending,
      // empty, and now and then one ending before it starts.
      const Millis from = pick(6) == 0 ? Timeline::kPast : kNow + 1000 * pick(8);
      Millis until = pick(6) == 0 ? kNever : kNow + 1000 * (1 + pick(10));
      if (pick(10) == 0) until = from == Timeline::kPast ? kNow : from;
      if (pick(40) == 0 && from != Timeline::kPast) until = from - 1000;
      const int count = 1 + pick(4);
      if (pick(2)) updated.QuotaSteps(1, "h200");  // fresh steps: the next hold updates them
      updated.OccupyQuota(1, "h200", count, from, until);
      rebuilt.OccupyQuota(1, "h200", count, from, until);
    }
    ASSERT_EQ(updated.QuotaSteps(1, "h200"), rebuilt.QuotaSteps(1, "h200")) << "round " << round;
  }
}

// The free instants a kept time line knows (KnowFreeTimes) stay right across AdvanceTo and
// AddRunning: equal to those of a time line built from the snapshot then.
TEST(KeptTimeline, FreeTimesFollowAdvanceAndStarts) {
  Policy policy;
  Snapshot s = Cluster();
  AddRunning(s, 10, 1, 0, {0, 1, 2}, kNow, 3600);
  AddRunning(s, 11, 2, 2, {1}, kNow, 600);
  Timeline kept(s, policy, kNow);
  auto expect_same = [&](Millis now, const char* when) {
    const Timeline fresh(s, policy, now);
    for (size_t n = 0; n < s.nodes.size(); ++n) {
      for (const char* cls : {"h200", "l40s"}) {
        const int c = fresh.ClassIndex(cls);
        if (fresh.CountOn(n, c) == 0) continue;
        const Timeline::FreeFromNow a = kept.FreeTimesFromNow(n, c);
        const Timeline::FreeFromNow b = fresh.FreeTimesFromNow(n, c);
        ASSERT_EQ(a.count, b.count) << when << " node " << n;
        EXPECT_EQ(std::vector<Millis>(a.at, a.at + a.count),
                  std::vector<Millis>(b.at, b.at + b.count))
            << when << " node " << n << " " << cls;
        EXPECT_EQ(a.exact, b.exact) << when << " node " << n;
      }
    }
  };
  kept.KnowFreeTimes();
  expect_same(kNow, "at first");
  kept.AdvanceTo(kNow + 300'000);  // (before any job ends)
  expect_same(kNow + 300'000, "after AdvanceTo");
  AddRunning(s, 12, 1, 1, {4, 5}, kNow + 300'000, 7200);
  kept.AddRunning(1, {4, 5}, 1, "h200", End(kNow + 300'000, 7200));
  kept.KnowFreeTimes();
  kept.AdvanceTo(kNow + 500'000);
  expect_same(kNow + 500'000, "after a start and AdvanceTo");
}

TEST(KeptTimeline, SameStateSaysWhatDiffers) {
  Policy policy;
  Snapshot s = Cluster();
  Timeline a(s, policy, kNow);
  Timeline b(s, policy, kNow);
  std::string difference;
  EXPECT_TRUE(Timeline::SameState(a, b, &difference));
  b.AddRunning(1, {3}, 1, "h200", End(kNow, 60));
  EXPECT_FALSE(Timeline::SameState(a, b, &difference));
  EXPECT_EQ(difference, "holds of device 11");
  b.RemoveRunning(1, {3}, 1, "h200", End(kNow, 60));
  EXPECT_TRUE(Timeline::SameState(a, b, &difference)) << difference;
  b.AdvanceTo(kNow + 1);
  EXPECT_FALSE(Timeline::SameState(a, b, &difference));
  EXPECT_EQ(difference, "now");
}

}  // namespace
}  // namespace gpuaas::sched
