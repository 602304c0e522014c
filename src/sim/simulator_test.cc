#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <sstream>

#include "model/gpu_class.h"
#include "sched/policy.h"
#include "sim/class_mix.h"
#include "sim/results_format.h"
#include "sim/trace_generator.h"

namespace gpuaas::sim {
namespace {

TraceJob Job(const std::string& id, int64_t submit, int64_t duration, int gpus,
             const std::string& entity, std::vector<std::string> types = {}) {
  TraceJob j;
  j.id = id;
  j.submit_s = submit;
  j.duration_s = duration;
  j.gpus = gpus;
  j.entity = entity;
  j.gpu_types = std::move(types);
  return j;
}

ClusterSpec Cluster(const std::string& spec) {
  auto c = ParseClusterSpec(spec, DefaultGpuClasses());
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : ClusterSpec{};
}

SimResult Replay(std::vector<TraceJob> jobs, const std::string& cluster, const std::string& policy,
                 int64_t default_walltime_s = 0) {
  VectorJobSource source(std::move(jobs));
  SimOptions o;
  o.policy = policy;
  o.verify_window = true;
  o.default_walltime_s = default_walltime_s;
  auto r = Simulate(source, Cluster(cluster), DefaultGpuClasses(), o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : SimResult{};
}

// Two GPUs on one node. a takes both 0-100; b and c (1 GPU each) start together at 100.
// JCT 100, 140, 110; waits 0, 90, 80; makespan 150; 280 GPU-seconds of 300.
TEST(Simulator, HandComputedFifo) {
  SimResult r =
      Replay({Job("a", 0, 100, 2, "x"), Job("b", 10, 50, 1, "y"), Job("c", 20, 30, 1, "y")},
             "h200:2x1", "fifo");
  const PolicyMetrics& m = r.metrics;
  EXPECT_EQ(m.jobs, 3);
  EXPECT_EQ(m.finished, 3);
  EXPECT_EQ(m.timed_out, 0);
  EXPECT_NEAR(m.avg_jct_s, 350.0 / 3, 1e-9);
  EXPECT_DOUBLE_EQ(m.p50_jct_s, 110);
  EXPECT_DOUBLE_EQ(m.p95_jct_s, 140);
  EXPECT_NEAR(m.avg_wait_s, 170.0 / 3, 1e-9);
  EXPECT_DOUBLE_EQ(m.p50_wait_s, 80);
  EXPECT_DOUBLE_EQ(m.p95_wait_s, 90);
  EXPECT_DOUBLE_EQ(m.p99_wait_s, 90);
  EXPECT_DOUBLE_EQ(m.makespan_s, 150);
  EXPECT_NEAR(m.gpu_utilization, 280.0 / 300.0, 1e-12);
  // h200 at 3.50 EUR/h: x 200 GPU-s = 194444.4 micro-EUR, y 80 GPU-s = 77777.8.
  ASSERT_EQ(m.entities.size(), 2u);
  EXPECT_EQ(m.entities[0].name, "x");
  EXPECT_EQ(m.entities[0].cost, 194444);
  EXPECT_DOUBLE_EQ(m.entities[0].gpu_seconds, 200);
  EXPECT_EQ(m.entities[1].name, "y");
  EXPECT_EQ(m.entities[1].jobs, 2);
  EXPECT_EQ(m.entities[1].cost, 77778);
  EXPECT_DOUBLE_EQ(m.entities[1].avg_wait_s, 85);
  EXPECT_DOUBLE_EQ(m.entities[1].avg_jct_s, 125);
  EXPECT_EQ(m.cost, 194444 + 77778);
  EXPECT_EQ(ResultsJson("t.csv", "h200:2x1", {m}),
            "{\"trace\":\"t.csv\",\"cluster\":\"h200:2x1\",\"results\":[{\"policy\":\"fifo\","
            "\"jobs\":3,\"finished\":3,\"avg_jct_s\":116.667,\"p50_jct_s\":110.000,"
            "\"p95_jct_s\":140.000,\"avg_wait_s\":56.667,\"p50_wait_s\":80.000,"
            "\"p95_wait_s\":90.000,\"p99_wait_s\":90.000,\"makespan_s\":150.000,"
            "\"gpu_utilization\":0.933333,\"cost\":{\"amount\":\"0.27\",\"currency\":\"EUR\","
            "\"micros\":272222},\"entities\":{\"x\":{\"jobs\":1,\"avg_jct_s\":100.000,"
            "\"avg_wait_s\":0.000,\"p95_wait_s\":0.000,\"gpu_seconds\":200.000,\"cost\":{"
            "\"amount\":\"0.19\",\"currency\":\"EUR\",\"micros\":194444}},\"y\":{\"jobs\":2,"
            "\"avg_jct_s\":125.000,\"avg_wait_s\":85.000,\"p95_wait_s\":90.000,"
            "\"gpu_seconds\":80.000,\"cost\":{\"amount\":\"0.08\",\"currency\":\"EUR\","
            "\"micros\":77778}}}}]}\n");
}

// Strict FIFO: the 2-GPU job at the head blocks the 1-GPU job behind it; ordered-fallback
// passes over it.
TEST(Simulator, FifoBlocksOrderedFallbackPassesOver) {
  std::vector<TraceJob> jobs = {Job("a", 0, 100, 1, "x"), Job("b", 1, 10, 2, "x"),
                                Job("c", 2, 10, 1, "x")};
  SimResult fifo = Replay(jobs, "h200:2x1", "fifo");
  SimResult fallback = Replay(jobs, "h200:2x1", "ordered-fallback");
  // fifo: c waits for b (100-110), starts at 110. fallback: c starts at 2.
  EXPECT_DOUBLE_EQ(fifo.metrics.p99_wait_s, 108);
  EXPECT_DOUBLE_EQ(fallback.metrics.p99_wait_s, 99);  // b still waits for a
  EXPECT_NEAR(fifo.metrics.avg_wait_s, (0 + 99 + 108) / 3.0, 1e-9);
  EXPECT_NEAR(fallback.metrics.avg_wait_s, (0 + 99 + 0) / 3.0, 1e-9);
}

TEST(Simulator, WalltimeKillsAndSlowerClassStretches) {
  // h200 is held until 1000 s (its walltime says up to 100000 s, so any policy prefers to fall
  // back rather than wait), so f falls back to l40s: 100 s / 0.4 = 250 s, its walltime of
  // 120 s stretched by the platform's ratio (1 / 0.4) to 300 s: not killed.
  TraceJob hold = Job("long", 0, 1000, 1, "x", {"h200"});
  hold.walltime_s = 100000;
  TraceJob first = Job("f", 0, 100, 1, "x", {"h200", "l40s"});
  first.walltime_s = 120;
  // o has its own ratio: 100 s / 0.5 = 200 s on l40s.
  TraceJob own_speed = Job("o", 300, 100, 1, "y", {"h200", "l40s"});
  own_speed.speeds = {{"h200", 1}, {"l40s", 0.5}};
  own_speed.walltime_s = 1000;
  // k is killed at its walltime: 1000-1040 on h200.
  TraceJob killed = Job("k", 1000, 100, 1, "y", {"h200"});
  killed.walltime_s = 40;
  SimResult r = Replay({hold, first, own_speed, killed}, "h200:1x1,l40s:1x1", "fifo");
  const PolicyMetrics& m = r.metrics;
  EXPECT_EQ(m.finished, 4);
  EXPECT_EQ(m.timed_out, 1);
  EXPECT_DOUBLE_EQ(m.makespan_s, 1040);
  ASSERT_EQ(m.entities.size(), 2u);
  EXPECT_DOUBLE_EQ(m.entities[0].gpu_seconds, 1000 + 250);
  EXPECT_DOUBLE_EQ(m.entities[0].avg_jct_s, (1000 + 250) / 2.0);
  EXPECT_DOUBLE_EQ(m.entities[1].gpu_seconds, 200 + 40);
  EXPECT_DOUBLE_EQ(m.entities[1].avg_jct_s, (200 + 40) / 2.0);
  EXPECT_DOUBLE_EQ(m.entities[1].avg_wait_s, 0);
  // Cost per class: h200 3.50 EUR/h, l40s 1.10 EUR/h.
  EXPECT_EQ(m.entities[0].cost, CostOf(1000 * 1000, 3'500'000) + CostOf(250 * 1000, 1'100'000));
  EXPECT_EQ(m.entities[1].cost, CostOf(40 * 1000, 3'500'000) + CostOf(200 * 1000, 1'100'000));
}

TEST(Simulator, DefaultWalltimeAppliesToJobsStatingNone) {
  SimResult r = Replay({Job("a", 0, 5000, 1, "x")}, "h200:1x1", "default", 3600);
  EXPECT_EQ(r.metrics.timed_out, 1);
  EXPECT_DOUBLE_EQ(r.metrics.makespan_s, 3600);
}

TEST(Simulator, JobsThatCanNeverRunAreNotFinished) {
  SimResult r = Replay(
      {Job("big", 0, 10, 24, "x"), Job("other", 0, 10, 1, "x", {"l40s"}), Job("ok", 0, 10, 1, "x")},
      "h200:8x2", "backfill");
  EXPECT_EQ(r.metrics.jobs, 3);
  EXPECT_EQ(r.metrics.finished, 1);
  EXPECT_EQ(r.unplaceable, 2);
  EXPECT_EQ(r.never_started, 2);
}

// `:min-gpus=N` keeps a node group for jobs of at least N GPUs (the node label
// gpuaas.io/min-gpus): spelled back the same; bad options refused; a 5-GPU job waits for the open
// node while the kept one is free, and one that only kept nodes could hold never runs.
TEST(Simulator, NodeGroupsKeptForLargeJobs) {
  ClusterSpec c = Cluster("h200:8x1:min-gpus=8,h200:8x1");
  EXPECT_EQ(c.ToString(), "h200:8x1:min-gpus=8,h200:8x1");
  for (const char* bad : {"h200:8x1:min-gpus=0", "h200:8x1:min=8", "h200:8x1:min-gpus=2000",
                          "h200:8x1:", "h200:8x1:min-gpus=8:x"}) {
    auto r = ParseClusterSpec(bad, DefaultGpuClasses());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("min-gpus=N"), std::string::npos) << r.status().message();
  }
  for (const char* policy : {"fifo", "backfill", "ordered-fallback", "default"}) {
    SCOPED_TRACE(policy);
    // a (4 GPUs) takes half the open node for 100 s; b (5 GPUs) waits for it, c (8 GPUs) takes
    // the kept node.
    SimResult r =
        Replay({Job("a", 0, 100, 4, "x"), Job("b", 10, 50, 5, "y"), Job("c", 20, 30, 8, "y")},
               "h200:8x1:min-gpus=8,h200:8x1", policy);
    EXPECT_EQ(r.metrics.finished, 3);
    ASSERT_EQ(r.metrics.entities.size(), 2u);
    // y's waits: b 90 s (until a ends), c none (policies that let c pass b; fifo blocks c).
    const double c_wait = std::string(policy) == "fifo" ? 80 : 0;
    EXPECT_DOUBLE_EQ(r.metrics.entities[1].avg_wait_s, (90 + c_wait) / 2);
  }
  SimResult never = Replay({Job("small", 0, 10, 2, "x"), Job("big", 0, 10, 8, "x")},
                           "h200:8x1:min-gpus=4", "default");
  EXPECT_EQ(never.unplaceable, 1);
  EXPECT_EQ(never.metrics.finished, 1);
}

TEST(Simulator, UnknownPolicyIsAnError) {
  VectorJobSource source({Job("a", 0, 1, 1, "x")});
  SimOptions o;
  o.policy = "lottery";
  auto r = Simulate(source, Cluster("h200:1x1"), DefaultGpuClasses(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown policy \"lottery\" (known: fifo, backfill"),
            std::string::npos);
}

GenerateOptions Sample(int64_t jobs, double load) {
  GenerateOptions g;
  g.jobs = jobs;
  g.seed = 7;
  g.entities = 5;
  g.load = load;
  ClusterSpec c = Cluster("h200:8x2,l40s:4x4");
  g.cluster_gpus = c.TotalGpus();
  g.classes = ClusterClasses(c, DefaultGpuClasses());
  return g;
}

std::string RunJson(const GenerateOptions& g, const std::string& policy) {
  TraceGenerator gen(g);
  SimOptions o;
  o.policy = policy;
  o.verify_window = true;
  auto r = Simulate(gen, Cluster("h200:8x2,l40s:4x4"), DefaultGpuClasses(), o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? ResultsJson("gen", "h200:8x2,l40s:4x4", {r->metrics}) : "";
}

// Invariants are checked after every pass (the default); every policy replays a loaded sample
// without a violation, and twice gives the same bytes.
TEST(Simulator, EveryPolicyPassesInvariantsAndIsDeterministic) {
  GenerateOptions g = Sample(400, 1.2);
  for (const std::string& policy : SimPolicyNames()) {
    if (!sched::PolicyByName(policy).ok()) continue;  // not in this scheduler version yet
    SCOPED_TRACE(policy);
    std::string a = RunJson(g, policy);
    EXPECT_NE(a.find("\"finished\":400"), std::string::npos) << a.substr(0, 200);
    EXPECT_EQ(a, RunJson(g, policy));
  }
}

// The fairness knobs (docs/scheduling.md): a loaded replay with all three passes the invariants
// and --verify-window (which checks the queue kept in order against a fresh sort: the wait
// floor reorders entities as jobs start, without an arrival), and changes the outcome.
TEST(Simulator, FairnessKnobsReplayExactly) {
  GenerateOptions g = Sample(400, 1.2);
  TraceGenerator plain_source(g);
  SimOptions o;
  o.policy = "default";
  o.verify_window = true;
  auto plain = Simulate(plain_source, Cluster("h200:8x2,l40s:4x4"), DefaultGpuClasses(), o);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  o.policy_overrides = {{"fair_share_wait_floor_s", "1800"},
                        {"small_first_cap_s", "7200"},
                        {"faster_class_wait_ratio", "0.5"}};
  TraceGenerator source(g);
  auto r = Simulate(source, Cluster("h200:8x2,l40s:4x4"), DefaultGpuClasses(), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->metrics.finished, 400);
  EXPECT_NE(r->metrics.avg_wait_s, plain->metrics.avg_wait_s);
  // Without --verify-window (started jobs then leave the queue in batches, see Compact): the same.
  o.verify_window = false;
  TraceGenerator again(g);
  auto fast = Simulate(again, Cluster("h200:8x2,l40s:4x4"), DefaultGpuClasses(), o);
  ASSERT_TRUE(fast.ok()) << fast.status().message();
  EXPECT_EQ(ResultsJson("gen", "c", {fast->metrics}), ResultsJson("gen", "c", {r->metrics}));
  o.policy_overrides = {{"small_first_cap_s", "-5"}};
  TraceGenerator bad(g);
  auto refused = Simulate(bad, Cluster("h200:8x2,l40s:4x4"), DefaultGpuClasses(), o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("small_first_cap_s"), std::string::npos);
}

// The fairness of waits (fair_share_wait_ratio, on in the default policy): it reorders entities
// between arrivals as waits grow, which --verify-window checks against fresh sorts; it changes
// the outcome, and narrows the gap between the worst entity's average wait and everyone's.
TEST(Simulator, WaitRatioReplaysExactlyAndNarrowsTheGap) {
  GenerateOptions g = Sample(600, 1.5);
  auto run = [&](const std::string& ratio) {
    SimOptions o;
    o.policy = "default";
    o.verify_window = true;
    o.policy_overrides = {{"fair_share_wait_ratio", ratio}};
    TraceGenerator source(g);
    return Simulate(source, Cluster("h200:8x2,l40s:4x4"), DefaultGpuClasses(), o);
  };
  auto off = run("0");
  auto on = run("1.2");
  ASSERT_TRUE(off.ok()) << off.status().message();
  ASSERT_TRUE(on.ok()) << on.status().message();
  auto worst = [](const PolicyMetrics& m) {
    double most = 0;
    for (const EntityMetrics& e : m.entities) most = std::max(most, e.avg_wait_s);
    return most / m.avg_wait_s;
  };
  EXPECT_EQ(on->metrics.finished, 600);
  EXPECT_LT(worst(on->metrics), worst(off->metrics))
      << worst(on->metrics) << " vs " << worst(off->metrics);
  auto refused = run("-1");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("fair_share_wait_ratio"), std::string::npos);
}

// The rank of the late entities (fair_share_wait_rank_half_life_s, the whole history by
// default) is replayed exactly under --verify-window (every pass checked against a fresh sort),
// and it decides: an hour's half-life ranks them otherwise on this trace of several entities.
TEST(Simulator, WaitRankReplaysExactly) {
  GenerateOptions g = Sample(600, 1.5);
  auto run = [&](std::vector<std::pair<std::string, std::string>> overrides) {
    SimOptions o;
    o.policy = "default";
    o.verify_window = true;
    o.policy_overrides = std::move(overrides);
    TraceGenerator source(g);
    return Simulate(source, Cluster("h200:8x2,l40s:4x4"), DefaultGpuClasses(), o);
  };
  auto whole = run({});
  auto hour = run({{"fair_share_wait_rank_half_life_s", "3600"}});
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  ASSERT_TRUE(hour.ok()) << hour.status().message();
  EXPECT_EQ(whole->metrics.finished, 600);
  EXPECT_NE(ResultsJson("gen", "c", {whole->metrics}), ResultsJson("gen", "c", {hour->metrics}));
  auto refused = run({{"fair_share_wait_rank_half_life_s", "-1"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("fair_share_wait_rank_half_life_s"), std::string::npos);
}

// The window leaves out candidates crowded out by same-shape ones ahead of them (one class, the
// same GPUs, walltimes no longer than theirs; Replay::CrowdedOut). Bursts of such jobs on one
// class, with mixed walltimes and some with a second class: --verify-window checks every pass
// against a pass on the whole queue, for every policy.
TEST(Simulator, CrowdedOutCandidatesChangeNothing) {
  std::mt19937_64 rng(11);
  auto pick = [&](std::initializer_list<int64_t> values) {
    return *(values.begin() + static_cast<std::ptrdiff_t>(rng() % values.size()));
  };
  std::vector<TraceJob> jobs;
  int64_t t = 0;
  for (int i = 0; i < 700; ++i) {
    t += i % 50 < 40 ? pick({0, 1, 5}) : pick({600, 1800, 3600});  // bursts, then quiet
    TraceJob j = Job(
        "j" + std::to_string(i), t, pick({300, 1200, 3000, 7000}),
        static_cast<int>(pick({1, 1, 2, 4, 8, 16})), "e" + std::to_string(rng() % 4),
        i % 7 == 0 ? std::vector<std::string>{"h200", "l40s"} : std::vector<std::string>{"h200"});
    j.walltime_s = pick({0, 3600, 7200, 14400});
    jobs.push_back(std::move(j));
  }
  for (const std::string& policy : SimPolicyNames()) {
    if (!sched::PolicyByName(policy).ok()) continue;
    SCOPED_TRACE(policy);
    SimResult r = Replay(jobs, "h200:8x3,l40s:4x2", policy, 7200);
    EXPECT_EQ(r.metrics.jobs, 700);
    EXPECT_GT(r.metrics.finished, 600);  // (some outlive their walltime)
  }
}

TEST(Simulator, SjfOracleBeatsFifoOnAverageJct) {
  if (!sched::PolicyByName("sjf-oracle").ok()) GTEST_SKIP() << "no sjf-oracle in sched yet";
  GenerateOptions g = Sample(400, 1.2);
  auto avg = [&](const std::string& policy) {
    TraceGenerator gen(g);
    SimOptions o;
    o.policy = policy;
    auto r = Simulate(gen, Cluster("h200:8x2,l40s:4x4"), DefaultGpuClasses(), o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->metrics.avg_jct_s : 0.0;
  };
  EXPECT_LE(avg("sjf-oracle"), avg("fifo"));
}

TEST(TraceGenerator, SameSeedSameBytesAndAMix) {
  std::ostringstream a, b, c;
  GenerateOptions g = Sample(300, 0.9);
  ASSERT_TRUE(WriteGeneratedTrace(g, a).ok());
  ASSERT_TRUE(WriteGeneratedTrace(g, b).ok());
  g.seed = 8;
  ASSERT_TRUE(WriteGeneratedTrace(g, c).ok());
  EXPECT_EQ(a.str(), b.str());
  EXPECT_NE(a.str(), c.str());
  std::istringstream in(a.str());
  TraceReader reader(in, "gen");
  TraceJob j;
  int n = 0, multi = 0, l40s_first = 0, two_classes = 0;
  std::set<std::string> entities;
  while (true) {
    auto more = reader.Next(&j);
    ASSERT_TRUE(more.ok()) << more.status().message();
    if (!*more) break;
    ++n;
    multi += j.gpus > 1;
    l40s_first += j.gpu_types.front() == "l40s";
    two_classes += j.gpu_types.size() == 2;
    entities.insert(j.entity);
  }
  EXPECT_EQ(n, 300);
  EXPECT_GT(multi, 50);
  EXPECT_GT(l40s_first, 30);
  EXPECT_GT(two_classes, 60);
  EXPECT_EQ(entities.size(), 5u);
}

TEST(ClassMix, DeterministicPerJobAndLeavesTypedJobsAlone) {
  auto classes = ClusterClasses(Cluster("l40s:4x1,h200:8x1"), DefaultGpuClasses());
  TraceJob a = Job("philly-1", 0, 10, 1, "x");
  TraceJob b = a;
  AssignClasses(&a, classes, 3);
  AssignClasses(&b, classes, 3);
  ASSERT_FALSE(a.gpu_types.empty());
  EXPECT_EQ(a.gpu_types, b.gpu_types);
  EXPECT_EQ(a.speeds, b.speeds);
  TraceJob big = Job("big", 0, 10, 8, "x");
  AssignClasses(&big, classes, 3);
  EXPECT_EQ(big.gpu_types.front(), "h200");  // the fastest class, whatever the spec order
  TraceJob typed = Job("t", 0, 10, 1, "x", {"l40s"});
  AssignClasses(&typed, classes, 3);
  EXPECT_EQ(typed.gpu_types, std::vector<std::string>{"l40s"});
  EXPECT_TRUE(typed.speeds.empty());
}

}  // namespace
}  // namespace gpuaas::sim

namespace gpuaas::sim {
namespace {

// --set queue_order=sjf-request orders by gpus x walltime (the request), never by run time:
// a blocker holds the node; then "long" (asks 10 h, runs 10 s) and "short" (asks 1 h, runs 1 h)
// wait; the request puts "short" first although it runs longer; sjf-oracle puts "long" first.
TEST(Simulator, SjfRequestOrdersByTheRequestNotTheRunTime) {
  auto jobs = [] {
    TraceJob blocker = Job("blocker", 0, 100, 1, "x");
    blocker.walltime_s = 100;
    TraceJob lng = Job("long", 1, 10, 1, "x");
    lng.walltime_s = 36000;
    TraceJob shrt = Job("short", 2, 3600, 1, "x");
    shrt.walltime_s = 3600;
    return std::vector<TraceJob>{blocker, lng, shrt};
  };
  auto wait_of_long = [&](const std::string& policy, bool request, bool arrival = false) {
    VectorJobSource source(jobs());
    SimOptions o;
    o.policy = policy;
    if (request) o.policy_overrides = {{"queue_order", "sjf-request"}};
    if (arrival) o.policy_overrides = {{"small_first_rate", "0"}};
    std::map<Millis, Millis> waits;  // submit -> wait
    o.on_finish = [&](const JobOutcome& x) { waits[x.submit] = x.start - x.submit; };
    auto r = Simulate(source, Cluster("h200:1x1"), DefaultGpuClasses(), o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return waits[kSimEpoch + 1000] / 1000;
  };
  EXPECT_EQ(wait_of_long("default", true), 100 + 3600 - 1);  // after "short"
  EXPECT_EQ(wait_of_long("sjf-oracle", false), 99);          // first: it runs 10 s
  // The default's small-first order (Policy::small_first_rate) also goes by the request.
  EXPECT_EQ(wait_of_long("default", false), 100 + 3600 - 1);
  EXPECT_EQ(wait_of_long("default", false, /*arrival=*/true), 99);  // arrival order
}

TEST(Simulator, SharesFromDemand) {
  VectorJobSource source(
      {Job("a", 0, 100, 3, "big"), Job("b", 1, 100, 1, "small"), Job("c", 2, 200, 3, "big")});
  auto shares = EntitySharesFromDemand(source);
  ASSERT_TRUE(shares.ok());
  // GPU-seconds 900 and 100, mean 500.
  EXPECT_DOUBLE_EQ(shares->at("big"), 1.8);
  EXPECT_DOUBLE_EQ(shares->at("small"), 0.2);
}

// Two GPUs. "light" used 10 GPU-seconds, "heavy" 1,000 when h2 and l1 (two GPUs each) compete
// at t=1000: with equal shares light goes first; with a 1,000x share heavy keeps its turn.
TEST(Simulator, SharesWeighFairShare) {
  auto jobs = [] {
    return std::vector<TraceJob>{Job("h1", 0, 1000, 1, "heavy"), Job("l0", 0, 10, 1, "light"),
                                 Job("h2", 1, 100, 2, "heavy"), Job("l1", 2, 100, 2, "light")};
  };
  auto start_of_h2 = [&](std::map<std::string, double> shares) {
    VectorJobSource source(jobs());
    SimOptions o;
    o.policy = "default";
    o.entity_shares = std::move(shares);
    std::map<Millis, Millis> starts;
    o.on_finish = [&](const JobOutcome& x) { starts[x.submit] = x.start; };
    auto r = Simulate(source, Cluster("h200:2x1"), DefaultGpuClasses(), o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return (starts[kSimEpoch + 1000] - kSimEpoch) / 1000;
  };
  EXPECT_EQ(start_of_h2({}), 1100);  // after l1
  EXPECT_EQ(start_of_h2({{"heavy", 1000.0}}), 1000);
}

TEST(Simulator, PolicyOverridesAreChecked) {
  VectorJobSource source({Job("a", 0, 10, 1, "x")});
  SimOptions o;
  o.policy = "default";
  o.policy_overrides = {{"reservations", "-1"}};
  auto r = Simulate(source, Cluster("h200:1x1"), DefaultGpuClasses(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("reservations"), std::string::npos);
  o.policy_overrides = {{"queue_order", "random"}};
  VectorJobSource again({Job("a", 0, 10, 1, "x")});
  r = Simulate(again, Cluster("h200:1x1"), DefaultGpuClasses(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("random"), std::string::npos);
}

}  // namespace
}  // namespace gpuaas::sim
