// A pass with nothing to decide (the simulator's: no reasons, no estimates, no preemption) skips
// jobs of a shape that already failed to start now in it. The property: on random loaded
// snapshots, it places exactly the jobs that a pass which explains every wait (and so skips
// nothing) places, on the same devices.
#include <gtest/gtest.h>

#include <random>
#include <tuple>

#include "sched/scheduler.h"
#include "sched/test_snapshot.h"

namespace gpuaas::sched {
namespace {

using testing::AddRunning;
using testing::kNow;
using testing::MakeJob;
using testing::MakeNode;

Snapshot RandomLoaded(uint64_t seed, bool with_quota) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<uint64_t>(k)); };
  Snapshot s;
  s.classes = {{"h200", 1.0, 0}, {"l40s", 0.4, 0}};
  const int nodes = 3 + pick(6);
  JobId next = 1;
  for (int n = 0; n < nodes; ++n) {
    const bool h200 = pick(2) == 0;
    s.nodes.push_back(MakeNode(n + 1, h200 ? "h200" : "l40s", h200 ? 8 : 4));
    // Running jobs on some devices, ending at various times (the holds reservations go around).
    std::vector<int> devices;
    for (int d = 0; d < (h200 ? 8 : 4); ++d) {
      if (pick(3) != 0) devices.push_back(d);
    }
    if (!devices.empty()) {
      AddRunning(s, next++, 1 + pick(3), static_cast<size_t>(n), devices, kNow - 600'000,
                 600 + 1800 * pick(8));
    }
  }
  // Queued jobs of a few shapes, with many of the same GPU count and classes.
  const std::vector<std::vector<std::string>> types = {{}, {"h200"}, {"l40s"}, {"h200", "l40s"}};
  const int gpus[] = {1, 1, 2, 4, 8, 12, 16};
  for (int i = 0; i < 60; ++i) {
    JobView j = MakeJob(next++, gpus[pick(7)], types[static_cast<size_t>(pick(4))], 1 + pick(3),
                        kNow - 1000 * pick(5000), 600 * (1 + pick(12)));
    if (pick(8) == 0) j.walltime_s = 0;  // the default walltime
    s.queued.push_back(std::move(j));
  }
  if (with_quota) s.quota_limit[2] = {{"h200", 4}};
  return s;
}

// (job, node, devices) per slice, in plan order.
std::vector<std::tuple<JobId, NodeId, std::vector<int>>> Placed(const Plan& plan) {
  std::vector<std::tuple<JobId, NodeId, std::vector<int>>> out;
  for (const Placement& p : plan.placements) {
    for (const Slice& slice : p.slices) out.emplace_back(p.job, slice.node, slice.devices);
  }
  return out;
}

TEST(QuietPass, PlacesWhatAnExplainingPassPlaces) {
  for (int reservations : {1, 3}) {
    for (bool with_quota : {false, true}) {
      for (uint64_t seed = 1; seed <= 300; ++seed) {
        const Snapshot s = RandomLoaded(seed, with_quota);
        Policy quiet;
        quiet.preempt_lower_priority = false;
        quiet.reclaim = false;
        quiet.reservations = reservations;
        quiet.max_estimates = 0;
        quiet.explain_waiting = false;
        Policy explaining = quiet;
        explaining.explain_waiting = true;
        const Plan a = Schedule(s, quiet, kNow);
        const Plan b = Schedule(s, explaining, kNow);
        ASSERT_EQ(Placed(a), Placed(b)) << "seed " << seed << ", reservations " << reservations
                                        << (with_quota ? ", with a quota" : "");
        ASSERT_EQ(a.waiting.size(), b.waiting.size());
        for (size_t i = 0; i < a.waiting.size(); ++i) {
          ASSERT_EQ(a.waiting[i].job, b.waiting[i].job);
          ASSERT_EQ(a.waiting[i].queue_position, b.waiting[i].queue_position);
        }
      }
    }
  }
}

}  // namespace
}  // namespace gpuaas::sched
