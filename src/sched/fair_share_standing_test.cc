#include "sched/fair_share_standing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>

#include "sched/queue_order.h"
#include "sched/test_snapshot.h"

namespace gpuaas::sched {
namespace {

using testing::kNow;
using testing::MakeJob;

TEST(FairShareStanding, FiguresByHand) {
  Policy policy;  // delay 4 h in 16 steps of 900 s; wait ratio 1.3
  Snapshot snap;
  snap.entity_shares = {{2, 3.0}};
  snap.decayed_usage = {{1, 30.0}, {2, 10.0}};
  snap.entity_wait_ratio = {{1, 0.5}, {2, 0.9}, {4, 2.0}};
  snap.queued = {MakeJob(1, 1, {}, 1), MakeJob(2, 1, {}, 2), MakeJob(3, 8, {}, 2),
                 MakeJob(4, 2, {}, 4)};
  // Shares counted: 1 (entity 1) + 3 (entity 2) + 1 (entity 4, queued) = 5; usage 40.
  const auto s = FairShareStandings(policy, snap, {1, 2, 3, 4});
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].entity, 1);
  EXPECT_DOUBLE_EQ(s[0].share_part, 0.2);
  EXPECT_DOUBLE_EQ(s[0].usage_part, 0.75);
  EXPECT_DOUBLE_EQ(s[0].factor, 1 - std::exp2(-0.75 / 0.2));  // 0.926: 15 steps
  EXPECT_EQ(s[0].delay_s, 15 * 900);
  EXPECT_EQ(s[0].queued_jobs, 1);
  EXPECT_FALSE(s[0].late);

  EXPECT_DOUBLE_EQ(s[1].shares, 3.0);
  EXPECT_DOUBLE_EQ(s[1].share_part, 0.6);
  EXPECT_DOUBLE_EQ(s[1].factor, 1 - std::exp2(-0.25 / 0.6));  // 0.251: 4 steps
  EXPECT_EQ(s[1].delay_s, 4 * 900);
  EXPECT_EQ(s[1].queued_jobs, 2);
  EXPECT_DOUBLE_EQ(s[1].wait_ratio, 0.9);

  // Nothing queued, no usage: its next job would count its share (6 in all) and carry no delay.
  EXPECT_EQ(s[2].queued_jobs, 0);
  EXPECT_DOUBLE_EQ(s[2].share_part, 1.0 / 6);
  EXPECT_DOUBLE_EQ(s[2].factor, 0);
  EXPECT_EQ(s[2].delay_s, 0);
  EXPECT_DOUBLE_EQ(s[2].wait_ratio, -1);

  // Late on waits: first, no delay.
  EXPECT_TRUE(s[3].late);
  EXPECT_EQ(s[3].delay_s, 0);

  // No delay configured (the strict order by usage): the factor is still shown.
  policy.fair_share_usage_delay_s = 0;
  const auto strict = FairShareStandings(policy, snap, {1});
  EXPECT_EQ(strict[0].delay_s, 0);
  EXPECT_DOUBLE_EQ(strict[0].factor, s[0].factor);
}

// The standing of every queued entity says what the queue order does with it.
TEST(FairShareStanding, AgreesWithTheQueueOrder) {
  Policy policy;
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    Snapshot snap;
    uint32_t x = seed * 2654435761u;
    auto next = [&x](uint32_t n) {
      x = x * 1664525u + 1013904223u;
      return (x >> 8) % n;
    };
    std::vector<EntityId> entities;
    for (EntityId e = 1; e <= 8; ++e) {
      entities.push_back(e);
      if (next(3) == 0) snap.entity_shares[e] = static_cast<double>(next(4));  // 0..3
      if (next(2) == 0) snap.decayed_usage[e] = static_cast<double>(next(1000));
      if (next(2) == 0) snap.entity_wait_ratio[e] = next(300) / 100.0;
    }
    for (JobId id = 1; id <= 12; ++id) {
      snap.queued.push_back(MakeJob(id, 1, {}, static_cast<EntityId>(1 + next(8)),
                                    kNow - static_cast<Millis>(next(100000))));
    }
    const auto standings = FairShareStandings(policy, snap, entities);
    std::map<EntityId, FairShareOrder::Tally> by_entity;
    for (const JobView& j : snap.queued) {
      auto& t = by_entity[j.entity];
      t.entity = j.entity;
      ++t.jobs;
      t.submitted_sum_ms += j.submitted_at;
    }
    std::vector<FairShareOrder::Tally> tallies;
    for (const auto& [e, t] : by_entity) tallies.push_back(t);
    const auto ranked = FairShareOrder::Rank(policy, snap.entity_shares, snap.decayed_usage,
                                             tallies, snap.entity_wait_ratio);
    ASSERT_EQ(ranked.size(), by_entity.size());
    // Late entities each form a group of their own, ahead of the one group of the others.
    std::map<uint32_t, int> in_group;
    std::optional<uint32_t> others;
    for (const auto& r : ranked) {
      ++in_group[r.group];
      if (!standings[r.entity - 1].late) others = r.group;
    }
    for (const auto& r : ranked) {
      const FairShareStanding& s = standings[r.entity - 1];
      SCOPED_TRACE("seed " + std::to_string(seed) + " entity " + std::to_string(r.entity));
      EXPECT_EQ(s.queued_jobs, by_entity[r.entity].jobs);
      EXPECT_EQ(s.delay_s,
                policy.fair_share_usage_delay_s * r.delay_steps / FairShareOrder::kDelaySteps);
      if (s.late) {
        EXPECT_EQ(in_group[r.group], 1);
        if (others) {
          EXPECT_LT(r.group, *others);
        }
      } else {
        EXPECT_EQ(r.group, *others);
      }
    }
  }
}

}  // namespace
}  // namespace gpuaas::sched
