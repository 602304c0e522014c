#include "sim/plan.h"

#include <gtest/gtest.h>

#include "model/gpu_class.h"
#include "sim/simulator.h"

namespace gpuaas::sim {
namespace {

ClusterSpec Spec(const std::string& s) {
  auto c = ParseClusterSpec(s, DefaultGpuClasses());
  EXPECT_TRUE(c.ok()) << s;
  return *c;
}

TEST(Plan, ScaledLoadCompressesArrivals) {
  std::vector<TraceJob> jobs(3);
  for (int i = 0; i < 3; ++i) {
    jobs[i].id = std::to_string(i);
    jobs[i].submit_s = 100 * i;
    jobs[i].duration_s = 50;
  }
  VectorJobSource inner(jobs);
  ScaledLoadSource scaled(inner, 1.3);
  TraceJob j;
  std::vector<int64_t> submits;
  while (*scaled.Next(&j)) submits.push_back(j.submit_s);
  EXPECT_EQ(submits, (std::vector<int64_t>{0, 76, 153}));  // 100/1.3 = 76.9, 200/1.3 = 153.8
}

TEST(Plan, NodeCosts) {
  auto c = ParseNodeCosts("h200=32000,l40s=9000.50");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->at("h200"), 32000 * kMicrosPerEur);
  EXPECT_EQ(FleetMonthlyCost(Spec("h200:8x2,l40s:4x3"), *c),
            2 * 32000 * kMicrosPerEur + 3 * 9000'500'000LL);
  EXPECT_FALSE(ParseNodeCosts("h200").ok());
  EXPECT_FALSE(ParseNodeCosts("h200=lots").ok());
  EXPECT_FALSE(ParseNodeCosts("").ok());
}

// A stand-in replay: the p95 wait falls with H200 capacity (L40S nodes help half as much).
Result<PolicyMetrics> FakeRun(const ClusterSpec& c) {
  double capacity = 0;
  for (const NodeGroup& g : c.groups) {
    capacity += (g.gpu_class == "h200" ? 1.0 : 0.5) * g.gpus_per_node * g.nodes;
  }
  PolicyMetrics m;
  m.jobs = m.finished = 10;
  m.p95_wait_s = std::max(0.0, 100.0 - capacity) * 600;  // 0 wait from 100 "H200 units"
  return m;
}

TEST(Plan, SearchFindsTheCheapestFleetMeetingTheTarget) {
  SearchOptions o;
  o.target_p95_wait_s = 3600;  // capacity >= 94
  o.node_cost = {{"h200", 30000 * kMicrosPerEur}, {"l40s", 12000 * kMicrosPerEur}};
  auto r = SearchCheapestFleet(Spec("h200:8x4,l40s:4x4"), o, FakeRun);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->found);
  EXPECT_TRUE(r->best.meets_target);
  EXPECT_LE(r->best.metrics.p95_wait_s, 3600);
  // Per unit of capacity an H200 node (8 units for 30000) beats an L40S node (2 units for
  // 12000): the search adds H200 nodes up to 8x11 (96 units), then drops the L40S node it can
  // spare (94 units: p95 = 6 x 600 s = the target).
  EXPECT_EQ(r->best.cluster.ToString(), "h200:8x11,l40s:4x3");
  for (const FleetResult& f : r->tried) {
    if (f.meets_target) {
      EXPECT_GE(f.monthly_cost, r->best.monthly_cost);
    }
  }
  EXPECT_EQ(r->tried.front().cluster.ToString(), "h200:8x4,l40s:4x4");
}

TEST(Plan, SearchErrorsAndLimits) {
  SearchOptions o;
  o.target_p95_wait_s = 60;
  o.node_cost = {{"h200", 1}};
  auto r = SearchCheapestFleet(Spec("h200:8x1,l40s:4x1"), o, FakeRun);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no node cost for class l40s"), std::string::npos);
  o.node_cost["l40s"] = 1;
  o.max_runs = 3;
  r = SearchCheapestFleet(Spec("h200:8x1,l40s:4x1"), o, FakeRun);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->found);
  EXPECT_TRUE(r->hit_run_limit);
  EXPECT_EQ(r->tried.size(), 3u);
}

// The real replay: a burst of 1-GPU jobs on a tiny H200 fleet; more nodes cut the wait.
TEST(Plan, SearchWithTheRealSimulator) {
  std::vector<TraceJob> jobs;
  for (int i = 0; i < 24; ++i) {
    TraceJob j;
    j.id = "j" + std::to_string(i);
    j.submit_s = i;
    j.duration_s = 3600;
    j.gpus = 1;
    j.entity = "acme";
    j.gpu_types = {"h200"};
    jobs.push_back(j);
  }
  auto run = [&](const ClusterSpec& c) -> Result<PolicyMetrics> {
    VectorJobSource src(jobs);
    SimOptions o;
    o.policy = "default";
    auto r = Simulate(src, c, DefaultGpuClasses(), o);
    if (!r.ok()) return r.status();
    return r->metrics;
  };
  SearchOptions o;
  o.target_p95_wait_s = 60;
  o.node_cost = {{"h200", 30000 * kMicrosPerEur}};
  auto r = SearchCheapestFleet(Spec("h200:8x1"), o, run);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->found);
  EXPECT_EQ(r->best.cluster.ToString(), "h200:8x3");  // 24 jobs at once need 24 GPUs
  const std::string json = PlanJson("t.csv", "default", 1.0, {r->best}, &*r, 60);
  EXPECT_NE(json.find("\"found\":true"), std::string::npos);
  EXPECT_NE(json.find("\"cluster\":\"h200:8x3\""), std::string::npos);
}

}  // namespace
}  // namespace gpuaas::sim
