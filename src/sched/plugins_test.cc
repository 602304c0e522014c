// Table-driven tests of each plugin on its own: queue order, filters, best-fit score and the
// device picker, plus the Timeline they share.
#include <gtest/gtest.h>

#include "sched/best_fit.h"
#include "sched/filters.h"
#include "sched/queue_order.h"
#include "sched/test_snapshot.h"
#include "sched/timeline.h"

namespace gpuaas::sched {
namespace {

using testing::AddRunning;
using testing::kNow;
using testing::MakeJob;
using testing::MakeNode;

constexpr Millis kHour = kMillisPerHour;

TEST(ArrivalOrder, SortsBySubmissionThenId) {
  std::vector<JobView> jobs = {MakeJob(5, 1, {}, 1, kNow + 10), MakeJob(3, 1, {}, 1, kNow + 10),
                               MakeJob(9, 1, {}, 1, kNow), MakeJob(1, 1, {}, 1, kNow + 20)};
  std::vector<const JobView*> q;
  for (const JobView& j : jobs) q.push_back(&j);
  ArrivalOrder().Sort(q);
  std::vector<JobId> ids;
  for (const JobView* j : q) ids.push_back(j->id);
  EXPECT_EQ(ids, (std::vector<JobId>{9, 3, 5, 1}));
}

TEST(PriorityOrder, SortsByPriorityThenArrival) {
  struct Case {
    JobId id;
    int priority;
    Millis submitted_at;
  };
  const Case cases[] = {{1, 0, kNow},       {2, 5, kNow + 30}, {3, 5, kNow + 10},
                        {4, -1, kNow - 99}, {5, 0, kNow},      {6, 5, kNow + 10}};
  std::vector<JobView> jobs;
  for (const Case& c : cases) {
    JobView j = MakeJob(c.id, 1, {}, 1, c.submitted_at);
    j.priority = c.priority;
    jobs.push_back(j);
  }
  std::vector<const JobView*> q;
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) q.push_back(&*it);
  PriorityOrder().Sort(q);
  std::vector<JobId> ids;
  for (const JobView* j : q) ids.push_back(j->id);
  EXPECT_EQ(ids, (std::vector<JobId>{3, 6, 2, 1, 5, 4}));
}

TEST(MakeQueueOrder, KnowsItsNames) {
  EXPECT_TRUE(MakeQueueOrder("fifo").ok());
  EXPECT_TRUE(MakeQueueOrder("priority").ok());
  EXPECT_FALSE(MakeQueueOrder("random").ok());
}

// A cluster: n1 h200x8 with devices 0-3 busy until now+1h; n2 h200x4 cordoned; n3 l40sx4 with
// device 0 unhealthy. Entity 1 may use 6 h200 and holds 4 (the job on n1).
Snapshot Cluster() {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 8), MakeNode(2, "h200", 4), MakeNode(3, "l40s", 4)};
  s.nodes[1].schedulable = false;
  s.nodes[2].devices[0].healthy = false;
  AddRunning(s, 100, 1, 0, {0, 1, 2, 3}, kNow, 3600);
  s.quota_limit[1]["h200"] = 6;
  return s;
}

TEST(Filters, EarliestStartPerFilterNodeAndAsk) {
  struct Case {
    const char* name;
    const Filter& filter;
    int gpus;
    std::string cls;
    EntityId entity;
    size_t node;
    Millis want;  // kNever = never
  };
  ClassSizeFilter size;
  SchedulableFilter sched;
  HealthFilter health;
  QuotaFilter quota;
  FreeDevicesFilter free;
  const Case cases[] = {
      {"size fits", size, 8, "h200", 1, 0, kNow},
      {"size too big", size, 9, "h200", 1, 0, kNever},
      {"size wrong class", size, 1, "l40s", 1, 0, kNever},
      {"size counts unhealthy", size, 4, "l40s", 1, 2, kNow},
      {"schedulable", sched, 1, "h200", 1, 0, kNow},
      {"cordoned", sched, 1, "h200", 1, 1, kNever},
      {"health enough", health, 3, "l40s", 1, 2, kNow},
      {"health short", health, 4, "l40s", 1, 2, kNever},
      {"quota room", quota, 2, "h200", 1, 0, kNow},
      {"quota after release", quota, 3, "h200", 1, 0, kNow + kHour},
      {"quota above limit", quota, 7, "h200", 1, 0, kNever},
      {"quota other entity unlimited", quota, 8, "h200", 2, 0, kNow},
      {"quota class unlimited", quota, 4, "l40s", 1, 2, kNow},
      {"free now", free, 4, "h200", 1, 0, kNow},
      {"free after release", free, 5, "h200", 1, 0, kNow + kHour},
      {"free skips unhealthy", free, 4, "l40s", 1, 2, kNever},
      {"free healthy ones", free, 3, "l40s", 1, 2, kNow},
  };
  Snapshot s = Cluster();
  Policy policy;
  Timeline tl(s, policy, kNow);
  for (const Case& c : cases) {
    JobView job = MakeJob(1, c.gpus, {c.cls}, c.entity);
    Ask ask{&job, c.cls, 3600};
    EXPECT_EQ(c.filter.Earliest(ask, c.node, tl, kNow), c.want) << c.name;
  }
}

TEST(Filters, ReservationsLeaveHolesForShortJobs) {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 2)};
  Policy policy;
  Timeline tl(s, policy, kNow);
  tl.Occupy(0, {0, 1}, 1, "h200", kNow + kHour, kNow + 2 * kHour);  // a reservation
  FreeDevicesFilter free;
  struct Case {
    int64_t walltime_s;
    Millis want;
  } cases[] = {{1800, kNow}, {3600, kNow}, {3601, kNow + 2 * kHour}};
  for (const Case& c : cases) {
    JobView job = MakeJob(1, 2, {"h200"});
    Ask ask{&job, "h200", c.walltime_s};
    EXPECT_EQ(free.Earliest(ask, 0, tl, kNow), c.want) << c.walltime_s;
  }
}

TEST(BestFit, PrefersFewestFreeButEnoughAndLowestIndices) {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 8), MakeNode(2, "h200", 4)};
  AddRunning(s, 100, 1, 0, {1, 3}, kNow, 3600);
  Policy policy;
  Timeline tl(s, policy, kNow);
  JobView job = MakeJob(1, 3, {"h200"});
  Ask ask{&job, "h200", 600};
  BestFitScore score;
  CompactPicker picker;
  EXPECT_EQ(score.Rank(ask, 0, tl, kNow), -6);
  EXPECT_EQ(score.Rank(ask, 1, tl, kNow), -4);
  EXPECT_EQ(score.Rank(ask, 0, tl, kNow + kHour), -8);
  EXPECT_EQ(picker.Pick(ask, 0, tl, kNow), (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(picker.Pick(ask, 1, tl, kNow), (std::vector<int>{0, 1, 2}));
  // For a future start, the devices released just before it come first.
  EXPECT_EQ(picker.Pick(ask, 0, tl, kNow + kHour), (std::vector<int>{0, 1, 3}));
}

TEST(Timeline, RunningJobsHoldUntilTheirWalltime) {
  struct Case {
    const char* name;
    Millis started_at;
    int64_t walltime_s;
    Millis free_from;
  } cases[] = {
      {"ends in an hour", kNow, 3600, kNow + kHour},
      {"started earlier", kNow - kHour, 7200, kNow + kHour},
      {"not started yet", 0, 3600, kNow + kHour},
      {"overdue ends imminently", kNow - 2 * kHour, 3600, kNow + 1},
      {"no walltime: default", kNow, 0, kNow + 86400 * kMillisPerSecond},
  };
  for (const Case& c : cases) {
    Snapshot s;
    s.nodes = {MakeNode(1, "h200", 1)};
    AddRunning(s, 7, 1, 0, {0}, c.started_at, c.walltime_s);
    Timeline tl(s, Policy{}, kNow);
    EXPECT_FALSE(tl.DeviceFree(0, 0, c.free_from - 1, c.free_from)) << c.name;
    EXPECT_TRUE(tl.DeviceFree(0, 0, c.free_from, c.free_from + kHour)) << c.name;
    EXPECT_EQ(tl.QuotaPeak(1, "h200", kNow, kNow + 1), 1) << c.name;
    EXPECT_EQ(tl.QuotaPeak(1, "h200", c.free_from, c.free_from + kHour), 0) << c.name;
  }
}

TEST(Timeline, DeviceUsedByAnUnknownJobNeverFrees) {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 2)};
  s.nodes[0].devices[1].used_by = 42;
  Timeline tl(s, Policy{}, kNow);
  EXPECT_TRUE(tl.DeviceFree(0, 0, kNow, kNow + kHour));
  EXPECT_FALSE(tl.DeviceFree(0, 1, kNow + 1000 * kHour, kNow + 1001 * kHour));
}

}  // namespace
}  // namespace gpuaas::sched
