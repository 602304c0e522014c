// CheckInvariants must reject every kind of broken plan (table-driven) and accept a good one.
#include "sched/invariants.h"

#include <gtest/gtest.h>

#include <functional>
#include <utility>

#include "sched/test_snapshot.h"

namespace gpuaas::sched {
namespace {

using testing::AddRunning;
using testing::kNow;
using testing::MakeJob;
using testing::MakeNode;

// n1 h200x4 (device 3 unhealthy, device 0 used by job 100), n2 h200x4 cordoned, n3 l40sx2.
// Queued: job 1 (2 GPUs, h200), job 2 (1 GPU, any). Entity 1 may use 3 h200.
Snapshot Before() {
  Snapshot s;
  s.nodes = {MakeNode(1, "h200", 4), MakeNode(2, "h200", 4), MakeNode(3, "l40s", 2)};
  s.nodes[0].devices[3].healthy = false;
  s.nodes[1].schedulable = false;
  AddRunning(s, 100, 1, 0, {0}, kNow, 3600);
  s.queued = {MakeJob(1, 2, {"h200"}), MakeJob(2, 1, {}, 2)};
  s.classes = {{"h200", 1.0, 0}, {"l40s", 0.5, 0}};
  s.quota_limit[1]["h200"] = 3;
  return s;
}

Plan Good() {
  Plan p;
  p.placements = {{1, 1, "h200", {1, 2}}, {2, 3, "l40s", {0}}};
  return p;
}

TEST(CheckInvariants, AcceptsAGoodPlan) {
  EXPECT_TRUE(CheckInvariants(Before(), Good()).ok());
  Plan waiting;
  waiting.waiting = {{1, 1, 0, "x"}, {2, 2, 0, "y"}};
  EXPECT_TRUE(CheckInvariants(Before(), waiting).ok());
  Snapshot sparse = Before();  // the same plan on nodes 1, 5, 3 with devices listed out of order
  sparse.nodes[1].id = 5;
  std::swap(sparse.nodes[0].devices[1], sparse.nodes[0].devices[2]);
  EXPECT_TRUE(CheckInvariants(sparse, Good()).ok()) << CheckInvariants(sparse, Good()).message();
}

TEST(CheckInvariants, RejectsBrokenPlans) {
  struct Case {
    const char* name;
    std::function<void(Snapshot&, Plan&)> breakit;
    const char* error;
  };
  const Case cases[] = {
      {"unknown job", [](Snapshot&, Plan& p) { p.placements[1].job = 9; }, "not queued"},
      {"placed twice", [](Snapshot&, Plan& p) { p.placements.push_back(p.placements[1]); },
       "placed twice"},
      {"already running",
       [](Snapshot& s, Plan&) {
         s.running.push_back({2, 2, 3, "l40s", {1}, kNow, 60, 0});
       },
       "already running"},
      {"unknown node", [](Snapshot&, Plan& p) { p.placements[0].node = 7; }, "unknown node"},
      {"cordoned node",
       [](Snapshot&, Plan& p) {
         p.placements[0] = {1, 2, "h200", {0, 1}};
       },
       "unschedulable"},
      {"wrong class for job",
       [](Snapshot&, Plan& p) {
         p.placements[0] = {1, 3, "l40s", {0, 1}};
       },
       "does not accept"},
      {"too few devices", [](Snapshot&, Plan& p) { p.placements[0].devices = {1}; }, "gets 1"},
      {"missing device",
       [](Snapshot&, Plan& p) {
         p.placements[0].devices = {1, 9};
       },
       "missing"},
      {"unhealthy device",
       [](Snapshot&, Plan& p) {
         p.placements[0].devices = {1, 3};
       },
       "unhealthy"},
      {"device of another class",
       [](Snapshot&, Plan& p) {
         p.placements[1] = {2, 3, "h200", {0}};
       },
       "of class l40s"},
      {"device in use",
       [](Snapshot&, Plan& p) {
         p.placements[0].devices = {0, 1};
       },
       "busy"},
      {"device given twice",
       [](Snapshot&, Plan& p) {
         p.placements[0].devices = {1, 1};
       },
       "busy"},
      {"two jobs one device",
       [](Snapshot&, Plan& p) {
         p.placements[1] = {2, 1, "h200", {2}};
       },
       "busy"},
      {"over quota", [](Snapshot& s, Plan&) { s.quota_limit[1]["h200"] = 2; }, "over its limit"},
      {"node kept for larger jobs", [](Snapshot& s, Plan&) { s.nodes[0].min_job_gpus = 3; },
       "kept for jobs of at least 3"},
      {"placed and waiting",
       [](Snapshot&, Plan& p) {
         p.waiting = {{1, 1, 0, ""}};
       },
       "both placed and waiting"},
      {"neither", [](Snapshot&, Plan& p) { p.placements.pop_back(); }, "neither"},
      {"waiting twice",
       [](Snapshot&, Plan& p) {
         p.placements.pop_back();
         p.waiting = {{2, 1, 0, ""}, {2, 2, 0, ""}};
       },
       "waiting twice"},
      {"waiting unknown",
       [](Snapshot&, Plan& p) {
         p.waiting = {{9, 1, 0, ""}};
       },
       "not queued"},
      // Node ids not numbered in order, devices not listed by index: the searches, not the
      // direct positions.
      {"unknown node among sparse ids",
       [](Snapshot& s, Plan& p) {
         s.nodes[1].id = 5;
         p.placements[0].node = 2;
       },
       "unknown node"},
      {"busy device listed out of order",
       [](Snapshot& s, Plan& p) {
         std::swap(s.nodes[0].devices[0], s.nodes[0].devices[2]);  // indices 2, 1, 0, 3
         p.placements[0].devices = {0, 1};
       },
       "busy"},
      {"bad position",
       [](Snapshot&, Plan& p) {
         p.placements.pop_back();
         p.waiting = {{2, 2, 0, ""}};
       },
       "position"},
  };
  for (const Case& c : cases) {
    Snapshot s = Before();
    Plan p = Good();
    c.breakit(s, p);
    Status st = CheckInvariants(s, p);
    ASSERT_FALSE(st.ok()) << c.name;
    EXPECT_NE(st.message().find(c.error), std::string::npos) << c.name << ": " << st.message();
  }
}

}  // namespace
}  // namespace gpuaas::sched
