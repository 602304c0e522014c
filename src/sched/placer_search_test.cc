// The earliest-start search (Placer::Evaluate from now) against a brute-force reference on
// random small clusters: running jobs, holds that start later (reservations), unhealthy devices,
// entities with limits. The reference tries every candidate instant on every node with the time
// line's primitives only (DeviceFree, QuotaPeak); the search uses its indexes, caches, exact
// bounds, kept node orders and shortcuts, and must find the same start, node and score, also
// after placements made between searches. The start-now path must take the devices
// CompactPicker takes.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "sched/best_fit.h"
#include "sched/placer.h"
#include "sched/test_snapshot.h"
#include "sched/walltime.h"

namespace gpuaas::sched {
namespace {

using testing::kNow;
using testing::MakeJob;
using testing::MakeNode;

struct Reference {
  Millis start = kNever;
  int usable = 0;   // devices free over the job's walltime at the start, on the chosen node
  NodeId node = 0;  // the lowest id among the nodes with the fewest usable
};

// The earliest instant (now or a hold's end) at which some node has the GPUs free over the
// walltime and the entity's limit allows them; among nodes starting then, the fewest usable.
Reference BruteForce(const JobView& job, const Timeline& tl, const Policy& policy) {
  const Snapshot& s = tl.snapshot();
  const std::string& cls = job.gpu_types.front();
  const int64_t walltime_s = WalltimeOnClassS(job, cls, s, policy);
  std::set<Millis> instants = {tl.now()};
  for (size_t n = 0; n < s.nodes.size(); ++n) {
    for (size_t d = 0; d < s.nodes[n].devices.size(); ++d) {
      for (const Hold& h : tl.DeviceHolds(n, d)) {
        if (h.until > tl.now() && h.until != kNever) instants.insert(h.until);
      }
    }
  }
  for (const Hold& h : tl.QuotaHolds(job.entity, cls)) {
    if (h.until > tl.now() && h.until != kNever) instants.insert(h.until);
  }
  const std::optional<int> limit = tl.QuotaLimit(job.entity, cls);
  for (Millis t : instants) {
    const Millis end = AddSeconds(t, walltime_s);
    if (limit && tl.QuotaPeak(job.entity, cls, t, end) + job.gpus > *limit) continue;
    Reference best;
    for (size_t n = 0; n < s.nodes.size(); ++n) {
      if (!s.nodes[n].schedulable) continue;
      int usable = 0;
      for (size_t d = 0; d < s.nodes[n].devices.size(); ++d) {
        const DeviceView& dev = s.nodes[n].devices[d];
        if (dev.healthy && dev.gpu_class == cls && tl.DeviceFree(n, d, t, end)) ++usable;
      }
      if (usable >= job.gpus && (best.start == kNever || usable < best.usable)) {
        best = {t, usable, s.nodes[n].id};
      }
    }
    if (best.start != kNever) return best;
  }
  return {};
}

TEST(PlacerSearch, EarliestStartMatchesBruteForce) {
  Policy policy;
  int compared = 0, found = 0, picked = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<uint64_t>(k)); };
    Snapshot s;
    s.classes = {{"h200", 1.0, 0}, {"l40s", 0.5, 0}};
    const int nodes = 2 + pick(5);
    for (int n = 0; n < nodes; ++n) {
      s.nodes.push_back(MakeNode(n + 1, n % 3 == 2 ? "l40s" : "h200", 2 + pick(7)));
      if (pick(8) == 0) s.nodes.back().schedulable = false;
      for (DeviceView& d : s.nodes.back().devices) d.healthy = pick(12) != 0;
    }
    JobId id = 1;
    for (size_t n = 0; n < s.nodes.size(); ++n) {  // running jobs on some devices
      for (const DeviceView& d : std::vector<DeviceView>(s.nodes[n].devices)) {
        if (pick(3) != 0) continue;
        testing::AddRunning(s, id++, 1 + pick(3), n, {d.index}, kNow - 60'000,
                            1800 * (1 + pick(6)));
      }
    }
    if (pick(2)) s.quota_limit[1] = {{"h200", 2 + pick(8)}, {"l40s", 2 + pick(6)}};
    Timeline tl(s, policy, kNow);
    // Holds that start later, as reservations and earlier placements of the pass make them.
    for (int k = pick(4); k > 0; --k) {
      const size_t n = static_cast<size_t>(pick(nodes));
      const int dev = pick(static_cast<int>(s.nodes[n].devices.size()));
      const Millis from = kNow + 1800'000 * (1 + pick(6));
      tl.Occupy(n, {dev}, 1 + pick(3), s.nodes[n].devices[static_cast<size_t>(dev)].gpu_class, from,
                from + 3600'000);
    }
    const Placer placer = Placer::Default();
    for (int j = 0; j < 6; ++j) {
      JobView job = MakeJob(1000 + j, 1 + pick(6), {pick(3) ? "h200" : "l40s"}, 1 + pick(3), kNow,
                            900 * (1 + pick(8)));
      job.allow_fallback = false;
      if (Placer::IsGang(job, job.gpu_types[0], tl)) continue;  // (gangs: another search)
      const Reference want = BruteForce(job, tl, policy);
      // Twice: the second search may answer from the time line's memo and cached bounds.
      for (int again = 0; again < 2; ++again) {
        Evaluation ev = placer.Evaluate(job, tl, policy, kNow);
        ++compared;
        if (want.start == kNever) {
          EXPECT_FALSE(ev.earliest) << "seed " << seed << " job " << j;
          continue;
        }
        ++found;
        ASSERT_TRUE(ev.earliest) << "seed " << seed << " job " << j;
        EXPECT_EQ(ev.earliest->start, want.start) << "seed " << seed << " job " << j;
        EXPECT_EQ(ev.earliest->score, -want.usable) << "seed " << seed << " job " << j;
        EXPECT_EQ(ev.earliest->node, want.node) << "seed " << seed << " job " << j;
        EXPECT_EQ(static_cast<int>(ev.earliest->devices.size()), job.gpus);
      }
      // The start-now path (NowFast, with its shortcut for nodes without future holds) takes
      // the devices CompactPicker takes on the node it chose.
      Evaluation at_now;
      placer.EvaluateInto(job, tl, policy, kNow, /*find_earliest=*/false, -1, &at_now);
      if (at_now.now) {
        ++picked;
        const Ask ask{&job, at_now.now->gpu_class, at_now.now->walltime_s, kNow};
        EXPECT_EQ(at_now.now->devices, CompactPicker().Pick(ask, at_now.now->node_pos, tl, kNow))
            << "seed " << seed << " job " << j;
      }
      // Now and then a placement from now on a free device, as the pass makes them: the next
      // searches must see it (the time line's kept orders and bounds are refreshed).
      if (pick(2) == 0) {
        const size_t n = static_cast<size_t>(pick(nodes));
        const size_t d = static_cast<size_t>(pick(static_cast<int>(s.nodes[n].devices.size())));
        const Millis end = kNow + 900'000 * (1 + pick(8));
        if (tl.DeviceFree(n, d, kNow, end)) {
          tl.Occupy(n, {s.nodes[n].devices[d].index}, 1 + pick(3), s.nodes[n].devices[d].gpu_class,
                    kNow, end);
        }
      }
    }
  }
  EXPECT_GT(found, compared / 3);  // (the random clusters are not mostly hopeless)
  EXPECT_GT(picked, 300);
}

}  // namespace
}  // namespace gpuaas::sched
