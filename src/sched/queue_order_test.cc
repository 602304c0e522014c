// The "priority" and "fair-share" orders against a plain reference: the order written as one
// comparison of the job fields (level, priority, usage per share or the usage delay, small-first
// key, arrival, id),
// on random queues with the awkward values (negative and extreme priorities, unknown classes,
// negative submission times, zero GPUs, equal keys).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <tuple>

#include "sched/queue_order.h"
#include "sched/test_snapshot.h"

namespace gpuaas::sched {
namespace {

// `many_priorities`: hundreds of distinct priorities (more tiers than the sort keeps in a small
// set while it reads the queue).
std::vector<JobView> RandomQueue(uint64_t seed, int n, bool many_priorities = false) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<uint64_t>(k)); };
  const std::string classes[] = {"", "production", "best-effort", "standard", "unknown"};
  const int priorities[] = {
      0, 1, -1, 5, -5, std::numeric_limits<int>::max(), std::numeric_limits<int>::min()};
  std::vector<JobView> jobs;
  for (int i = 0; i < n; ++i) {
    JobView j = testing::MakeJob(i + 1, /*gpus=*/pick(9), {}, /*entity=*/1 + pick(7),
                                 (pick(4) == 0 ? -1 : 1) * int64_t{pick(50)} * 1000);
    j.priority_class = classes[pick(5)];
    j.priority = many_priorities ? pick(400) - 200 : priorities[pick(7)];
    j.walltime_s = pick(3) == 0 ? 0 : 600 * (1 + pick(4));
    jobs.push_back(j);
  }
  return jobs;
}

// The default policy with the small-first rate of a 640-GPU platform (2): the orders made here
// see no snapshot, from which the rate comes otherwise (SmallFirstRate).
Policy Rated() {
  Policy policy;
  policy.small_first_rate = 2;
  return policy;
}

std::vector<JobId> Sorted(const QueueOrder& order, const std::vector<JobView>& jobs) {
  std::vector<const JobView*> q;
  for (const JobView& j : jobs) q.push_back(&j);
  order.Sort(q);
  std::vector<JobId> ids;
  for (const JobView* j : q) ids.push_back(j->id);
  return ids;
}

// Slurm's classic fair-share factor in sixteenths, from the maps as written (shares absent = 1,
// over the entities of the shares, the usage and the queue).
std::map<EntityId, uint32_t> ReferenceSteps(const std::map<EntityId, double>& shares,
                                            const std::map<EntityId, double>& usage,
                                            const std::vector<JobView>& jobs) {
  std::map<EntityId, double> all;
  for (const auto& [e, u] : usage) all[e] = 1.0;
  for (const JobView& j : jobs) all[j.entity] = 1.0;
  for (const auto& [e, s] : shares) all[e] = std::max(0.0, s);
  double total_share = 0, total_usage = 0;
  for (const auto& [e, s] : all) total_share += s;
  for (const auto& [e, u] : usage) total_usage += std::max(0.0, u);
  std::map<EntityId, uint32_t> steps;
  for (const auto& [e, share] : all) {
    const double u = usage.contains(e) ? std::max(0.0, usage.at(e)) : 0.0;
    steps[e] = !(share > 0) ? 16
               : total_usage == 0
                   ? 0
                   : static_cast<uint32_t>(std::lround(
                         16 * (1 - std::pow(2.0, -(u / total_usage) / (share / total_share)))));
  }
  return steps;
}

// `shares` and `usage`: those `fair` was made with (for the usage delay).
std::vector<JobId> Reference(const Policy& policy, const FairShareOrder* fair,
                             std::vector<JobView> jobs,
                             const std::map<EntityId, double>& shares = {},
                             const std::map<EntityId, double>& usage = {}) {
  const bool delayed = fair && policy.fair_share_usage_delay_s > 0;
  std::map<EntityId, double> delay_s;
  if (delayed) {
    for (const auto& [e, steps] : ReferenceSteps(shares, usage, jobs)) {
      delay_s[e] = static_cast<double>(policy.fair_share_usage_delay_s) * steps / 16.0;
    }
  }
  // The wait floor: an entity whose jobs' mean submission is at least the floor before the
  // queue's mean (compared exactly: sums and counts cross-multiplied).
  std::map<EntityId, std::pair<__int128, __int128>> by_entity;  // (sum of submissions, jobs)
  __int128 queue_sum = 0, queue_jobs = 0;
  for (const JobView& j : jobs) {
    by_entity[j.entity].first += j.submitted_at;
    by_entity[j.entity].second += 1;
    queue_sum += j.submitted_at;
    queue_jobs += 1;
  }
  auto behind = [&](EntityId e) {
    const auto [sum, n] = by_entity[e];
    const __int128 floor_ms = __int128{policy.fair_share_wait_floor_s} * 1000;
    return floor_ms > 0 && queue_sum * n - sum * queue_jobs >= floor_ms * queue_jobs * n;
  };
  auto key = [&](const JobView& j) {
    const int64_t walltime = j.walltime_s > 0 ? j.walltime_s : policy.default_walltime_s;
    double size = static_cast<double>(std::max(j.gpus, 0)) * static_cast<double>(walltime);
    if (policy.small_first_cap_s > 0) {
      size =
          std::min(size, policy.small_first_rate * static_cast<double>(policy.small_first_cap_s));
    }
    const double delay = delayed ? delay_s.at(j.entity) : 0.0;
    const double submitted = static_cast<double>(j.submitted_at) / 1000.0 + delay;
    const double small = policy.small_first_rate <= 0
                             ? (delayed ? submitted : 0.0)  // arrival order within a tier
                             : size + policy.small_first_rate * submitted;
    const bool not_behind = fair ? !behind(j.entity) : false;
    const double usage = fair && !delayed ? fair->UsagePerShare(j.entity) : 0.0;
    const EntityId entity = fair && !delayed ? j.entity : 0;
    return std::make_tuple(-int64_t{PriorityLevel(policy, j.priority_class)}, -int64_t{j.priority},
                           not_behind, usage, entity, small, j.submitted_at, j.id);
  };
  std::sort(jobs.begin(), jobs.end(),
            [&](const JobView& a, const JobView& b) { return key(a) < key(b); });
  std::vector<JobId> ids;
  for (const JobView& j : jobs) ids.push_back(j.id);
  return ids;
}

// The priority order on the first `seeds` random queues equals the reference.
void ExpectPriorityOrderMatches(const Policy& policy, uint64_t seeds) {
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    std::vector<JobView> jobs = RandomQueue(seed, 500);
    EXPECT_EQ(Sorted(PriorityOrder(policy), jobs), Reference(policy, nullptr, jobs))
        << "seed " << seed;
  }
}

TEST(QueueOrder, PriorityOrderMatchesThePlainComparison) {
  ExpectPriorityOrderMatches(Rated(), 20);
  ExpectPriorityOrderMatches(Policy{}, 5);  // (no snapshot: arrival order within a tier)
}

TEST(QueueOrder, PriorityOrderWithManyDistinctPriorities) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    std::vector<JobView> jobs = RandomQueue(seed, 2000, /*many_priorities=*/true);
    EXPECT_EQ(Sorted(PriorityOrder(Rated()), jobs), Reference(Rated(), nullptr, jobs))
        << "seed " << seed;
  }
}

// Levels far apart (tiers far apart are numbered like any others).
TEST(QueueOrder, PriorityOrderWithExtremeLevels) {
  Policy policy = Rated();
  policy.priority_classes = {{"production", std::numeric_limits<int>::max()},
                             {"standard", 0},
                             {"best-effort", std::numeric_limits<int>::min()}};
  ExpectPriorityOrderMatches(policy, 5);
}

// With the usage delay (the default: 4 h, and 1 min, about the queues' span) and without it
// (the strict order by usage per share).
TEST(QueueOrder, FairShareOrderMatchesThePlainComparison) {
  // Equal usage per share for entities 2 and 4 (ties go to the lower id); 6 has no share.
  std::map<EntityId, double> shares = {{1, 2.0}, {2, 1.0}, {4, 2.0}, {6, 0.0}};
  std::map<EntityId, double> usage = {{1, 10.0}, {2, 3.0}, {3, 0.5}, {4, 6.0}, {5, 40.0}};
  for (int64_t delay_s : {Policy{}.fair_share_usage_delay_s, int64_t{60}, int64_t{0}}) {
    Policy policy = Rated();
    policy.fair_share_usage_delay_s = delay_s;
    FairShareOrder order(policy, shares, usage);
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      std::vector<JobView> jobs = RandomQueue(seed, 500);
      EXPECT_EQ(Sorted(order, jobs), Reference(policy, &order, jobs, shares, usage))
          << "delay " << delay_s << " s, seed " << seed;
      // The same jobs in one tier (the usual queue: the ranks alone number the groups).
      for (JobView& j : jobs) {
        j.priority_class.clear();
        j.priority = 0;
      }
      EXPECT_EQ(Sorted(order, jobs), Reference(policy, &order, jobs, shares, usage))
          << "delay " << delay_s << " s, one tier, seed " << seed;
    }
    // Arrival only within a tier (rate 0), and a queue already in order stays so.
    policy.small_first_rate = 0;
    FairShareOrder by_arrival(policy, shares, usage);
    std::vector<JobView> jobs = RandomQueue(99, 500);
    std::vector<JobId> once = Sorted(by_arrival, jobs);
    EXPECT_EQ(once, Reference(policy, &by_arrival, jobs, shares, usage)) << "delay " << delay_s;
    std::vector<JobView> in_order;
    for (JobId id : once) in_order.push_back(jobs[static_cast<size_t>(id - 1)]);
    EXPECT_EQ(Sorted(by_arrival, in_order), once) << "delay " << delay_s;
  }
}

// By hand: entity 2 used everything (its factor: U/S = 1 / 0.5, 1 - 2^-2 = 0.75, so 12 of 16
// steps of 4 h: its jobs are placed as if submitted 3 h later). Its 1-GPU hour passes entity
// 1's 8-GPU 10-hour job (the strict order put that first), and entity 1's small job passes its
// small job when submitted less than 3 h after it.
TEST(QueueOrder, UsageWeighsAsADelay) {
  const std::map<EntityId, double> usage = {{1, 0.0}, {2, 100.0}};
  Policy policy = Rated();
  ASSERT_EQ(policy.fair_share_usage_delay_s, 4 * 3600);
  std::vector<JobView> jobs = {testing::MakeJob(1, 8, {}, 1, 0, 36'000),
                               testing::MakeJob(2, 1, {}, 2, 0, 3600)};
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage), jobs), (std::vector<JobId>{2, 1}));
  Policy strict;
  strict.fair_share_usage_delay_s = 0;
  EXPECT_EQ(Sorted(FairShareOrder(strict, {}, usage), jobs), (std::vector<JobId>{1, 2}));

  for (const auto& [after_s, first] : {std::pair<int64_t, JobId>{2 * 3600, 3}, {4 * 3600, 2}}) {
    std::vector<JobView> small = {testing::MakeJob(2, 1, {}, 2, 0, 3600),
                                  testing::MakeJob(3, 1, {}, 1, after_s * 1000, 3600)};
    EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage), small).front(), first)
        << "submitted " << after_s << " s after";
  }

  // The steps: none without usage, half for an entity at its share, all without a share.
  std::vector<FairShareOrder::Tally> tallies = {{1}, {2}, {3}};
  using Ranked = FairShareOrder::Ranked;
  EXPECT_EQ(FairShareOrder::Rank(policy, {}, {}, tallies),
            (std::vector<Ranked>{{1, 0, 0}, {2, 0, 0}, {3, 0, 0}}));
  EXPECT_EQ(FairShareOrder::Rank(policy, {{3, 0.0}}, {{1, 50.0}, {2, 50.0}}, tallies),
            (std::vector<Ranked>{{1, 0, 8}, {2, 0, 8}, {3, 0, 16}}));
  // Entities late on waits are groups of their own, ahead; the others one group. (Entity 3
  // has a share now: 1 and 2 each used half with a third of the shares, 1 - 2^-1.5 = 0.65.)
  policy.fair_share_wait_ratio = 1.5;
  EXPECT_EQ(FairShareOrder::Rank(policy, {}, {{1, 50.0}, {2, 50.0}}, tallies, {{3, 2.0}}),
            (std::vector<Ranked>{{3, 0, 0}, {1, 1, 10}, {2, 1, 10}}));
}

// The wait floor (entities far behind the queue's mean submission first) and the cap on the
// size term, against the reference.
TEST(QueueOrder, FairShareOrderWithWaitFloorAndSizeCap) {
  std::map<EntityId, double> usage = {{1, 10.0}, {2, 3.0}, {3, 0.5}, {4, 6.0}, {5, 40.0}};
  for (int64_t floor_s : {1, 5, 20}) {
    Policy policy = Rated();
    policy.fair_share_wait_floor_s = floor_s;
    policy.small_first_cap_s = 300;
    FairShareOrder order(policy, {}, usage);
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      std::vector<JobView> jobs = RandomQueue(seed, 300);
      // Entities 4 and 5 submitted earlier: behind the queue's mean by up to 40 s.
      for (JobView& j : jobs) {
        if (j.entity >= 4) j.submitted_at -= 20'000 * (j.entity - 3);
      }
      EXPECT_EQ(Sorted(order, jobs), Reference(policy, &order, jobs, {}, usage))
          << "floor " << floor_s << " s, seed " << seed;
    }
  }
}

// By hand: entity 2 used more (last in fair share) but its job waits long: with a floor of one
// hour it goes first; a 16-GPU day-long job is no longer passed by a small job submitted two
// hours after it once the size term is capped at one hour.
TEST(QueueOrder, WaitFloorAndSizeCapByHand) {
  const std::map<EntityId, double> usage = {{1, 1.0}, {2, 50.0}};
  std::vector<JobView> jobs = {testing::MakeJob(1, 1, {}, 1, 10'800'000),
                               testing::MakeJob(2, 1, {}, 1, 10'800'000),
                               testing::MakeJob(3, 1, {}, 2, 0)};
  Policy policy;
  policy.fair_share_usage_delay_s = 0;  // (the strict order by usage)
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage), jobs), (std::vector<JobId>{1, 2, 3}));
  policy.fair_share_wait_floor_s = 3600;  // entity 2 submitted 2 h before the queue's mean
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage), jobs), (std::vector<JobId>{3, 1, 2}));
  policy.fair_share_wait_floor_s = 3 * 3600;  // (not 3 h)
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage), jobs), (std::vector<JobId>{1, 2, 3}));

  Policy sizes = Rated();
  std::vector<JobView> one_entity = {testing::MakeJob(1, 16, {}, 1, 0, 86'400),
                                     testing::MakeJob(2, 1, {}, 1, 7'200'000, 3600)};
  EXPECT_EQ(Sorted(PriorityOrder(sizes), one_entity), (std::vector<JobId>{2, 1}));
  sizes.small_first_cap_s = 3600;
  EXPECT_EQ(Sorted(PriorityOrder(sizes), one_entity), (std::vector<JobId>{1, 2}));
}

// Fairness of waits: an entity whose average wait is at least the policy's ratio times the
// platform's goes ahead of the others, whatever its usage, the highest ratio first; below the
// ratio, or with the knob off, usage decides.
TEST(QueueOrder, EntitiesFarBehindOnWaitsGoFirst) {
  const std::map<EntityId, double> usage = {{1, 1.0}, {2, 50.0}, {3, 80.0}};
  const std::map<EntityId, double> ratios = {{1, 0.2}, {2, 2.0}, {3, 3.5}};
  std::vector<JobView> jobs = {testing::MakeJob(1, 1, {}, 1, 0), testing::MakeJob(2, 1, {}, 2, 0),
                               testing::MakeJob(3, 1, {}, 3, 0)};
  Policy policy;
  policy.fair_share_wait_ratio = 1.5;
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage, ratios), jobs), (std::vector<JobId>{3, 2, 1}));
  policy.fair_share_wait_ratio = 2.5;  // only entity 3
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage, ratios), jobs), (std::vector<JobId>{3, 1, 2}));
  policy.fair_share_wait_ratio = 0;  // off
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage, ratios), jobs), (std::vector<JobId>{1, 2, 3}));
  // Through the snapshot, as a pass builds the order.
  Snapshot snap;
  snap.decayed_usage = usage;
  snap.entity_wait_ratio = ratios;
  policy.fair_share_wait_ratio = 1.5;
  auto order = MakeQueueOrder("fair-share", &policy, &snap);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(Sorted(**order, jobs), (std::vector<JobId>{3, 2, 1}));
  // Late entities go before those behind the wait floor.
  policy.fair_share_wait_floor_s = 1;
  jobs[0].submitted_at = -3'600'000;  // entity 1 far behind the queue's mean submission
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage, ratios), jobs), (std::vector<JobId>{3, 2, 1}));
}

// The late entities are ranked by their rank ratio (Snapshot::entity_wait_rank, the whole
// history by default) where it is given, while lateness itself stays the recent ratio's: an
// entity late now but not ranked high by its history goes after one whose history is worse;
// one not late stays behind the late whatever its history.
TEST(QueueOrder, LateEntitiesRankedByTheirHistory) {
  const std::map<EntityId, double> usage = {{1, 1.0}, {2, 50.0}, {3, 80.0}};
  const std::map<EntityId, double> ratios = {{1, 0.2}, {2, 2.0}, {3, 3.5}};
  const std::map<EntityId, double> rank = {{1, 9.0}, {2, 2.5}, {3, 1.1}};
  std::vector<JobView> jobs = {testing::MakeJob(1, 1, {}, 1, 0), testing::MakeJob(2, 1, {}, 2, 0),
                               testing::MakeJob(3, 1, {}, 3, 0)};
  Policy policy;
  policy.fair_share_wait_ratio = 1.5;
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage, ratios, rank), jobs),
            (std::vector<JobId>{2, 3, 1}));
  // An entity without a rank ratio is ranked by its recent one.
  EXPECT_EQ(Sorted(FairShareOrder(policy, {}, usage, ratios, {{2, 2.5}}), jobs),
            (std::vector<JobId>{3, 2, 1}));
  Snapshot snap;
  snap.decayed_usage = usage;
  snap.entity_wait_ratio = ratios;
  snap.entity_wait_rank = rank;
  auto order = MakeQueueOrder("fair-share", &policy, &snap);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(Sorted(**order, jobs), (std::vector<JobId>{2, 3, 1}));
  using Ranked = FairShareOrder::Ranked;
  const std::vector<FairShareOrder::Tally> tallies = {{1}, {2}, {3}};
  EXPECT_EQ(FairShareOrder::Rank(policy, {}, usage, tallies, ratios, rank),
            (std::vector<Ranked>{{2, 0, 0}, {3, 1, 0}, {1, 2, 0}}));
  // With the fairness of waits off, neither map counts.
  policy.fair_share_wait_ratio = 0;
  order = MakeQueueOrder("fair-share", &policy, &snap);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(Sorted(**order, jobs), (std::vector<JobId>{1, 2, 3}));
}

// Entity ids far apart (no table by id: a search among the queue's entities); same order.
TEST(QueueOrder, FairShareOrderWithSparseEntityIds) {
  Policy policy;
  std::vector<JobView> jobs = RandomQueue(11, 2'000);
  std::map<EntityId, double> usage;
  for (JobView& j : jobs) {
    j.entity *= 1'000'000'000'000;
    usage[j.entity] = static_cast<double>(j.entity % 7);
  }
  FairShareOrder order(policy, {}, usage);
  EXPECT_EQ(Sorted(order, jobs), Reference(policy, &order, jobs, {}, usage));
}

// More than 2^16 entities: the groups no longer fit packed next to the tier and are numbered in
// a second pass; same order.
TEST(QueueOrder, FairShareOrderWithManyEntities) {
  Policy policy;
  std::vector<JobView> jobs = RandomQueue(7, 70'000);
  std::map<EntityId, double> usage;
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].entity = static_cast<EntityId>(i % 66'000) + 1;
    usage[jobs[i].entity] = static_cast<double>((i * 7919) % 1000);
  }
  FairShareOrder order(policy, {}, usage);
  EXPECT_EQ(Sorted(order, jobs), Reference(policy, &order, jobs, {}, usage));
}

// By default the rate comes from the platform's GPUs (all nodes, whatever their state) / the
// delay factor, 320: 2 on 640 GPUs. A 1-GPU 1-hour request submitted 3 days after an 8-GPU
// 1-day one counts as submitted 30 min later, the big one 4 days later: it goes first on 640
// GPUs; on 6,400 (the big one's delay: 9.6 h), after it.
TEST(QueueOrder, SmallFirstRateComesFromThePlatformsGpus) {
  auto platform = [](int nodes) {
    Snapshot s;
    for (int i = 1; i <= nodes; ++i) s.nodes.push_back(testing::MakeNode(i, "h200", 8));
    return s;
  };
  Snapshot big = platform(80), huge = platform(800), small = platform(2);
  big.nodes[3].schedulable = false;  // (still counted: the rate does not move with a drain)
  Policy policy;
  EXPECT_EQ(SmallFirstRate(policy, &big), 2.0);
  EXPECT_DOUBLE_EQ(SmallFirstRate(policy, &small), 0.05);
  EXPECT_EQ(SmallFirstRate(policy, nullptr), 0.0);
  policy.small_first_rate = 3;  // a fixed rate wins
  EXPECT_EQ(SmallFirstRate(policy, &small), 3.0);
  policy.small_first_rate = -1;
  policy.small_first_delay_factor = 0;  // off: arrival order
  EXPECT_EQ(SmallFirstRate(policy, &big), 0.0);

  const std::vector<JobView> jobs = {testing::MakeJob(1, 8, {}, 1, 0, 86'400),
                                     testing::MakeJob(2, 1, {}, 1, 3 * 86'400'000, 3600)};
  auto order_on = [&](const Snapshot& s) {
    Policy p;
    auto order = MakeQueueOrder("priority", &p, &s);
    EXPECT_TRUE(order.ok());
    return Sorted(**order, jobs);
  };
  EXPECT_EQ(order_on(big), (std::vector<JobId>{2, 1}));
  EXPECT_EQ(order_on(huge), (std::vector<JobId>{1, 2}));
}

// SortTail (the simulator's sort after arrivals): a queue whose first `sorted` entries are in
// order, the others new, ends as Sort leaves it, for the fair-share order (its own merge: keys
// for the new entries and a binary search) and for the others (a sort), with several tiers,
// usage delays, late entities and a wait floor; new entries that go first, last and between.
TEST(QueueOrder, SortTailEqualsSort) {
  const std::map<EntityId, double> shares = {{1, 2.0}, {2, 1.0}, {6, 0.0}};
  const std::map<EntityId, double> usage = {{1, 10.0}, {2, 3.0}, {3, 0.5}, {5, 40.0}};
  const std::map<EntityId, double> ratios = {{4, 2.0}, {7, 3.0}};
  auto entries = [](const std::vector<JobView>& jobs) {
    std::vector<QueueEntry> q;
    for (const JobView& j : jobs) q.push_back({&j, j.id, j.entity, j.gpus});
    return q;
  };
  auto ids = [](const std::vector<QueueEntry>& q) {
    std::vector<JobId> out;
    for (const QueueEntry& e : q) out.push_back(e.id);
    return out;
  };
  for (int64_t delay_s : {Policy{}.fair_share_usage_delay_s, int64_t{0}}) {
    for (int64_t floor_s : {int64_t{0}, int64_t{5}}) {
      Policy policy = Rated();
      policy.fair_share_usage_delay_s = delay_s;
      policy.fair_share_wait_floor_s = floor_s;
      policy.fair_share_wait_ratio = 1.5;
      const FairShareOrder fair(policy, shares, usage, ratios);
      const PriorityOrder priority(policy);
      const ArrivalOrder arrival;
      for (const QueueOrder* order :
           std::initializer_list<const QueueOrder*>{&fair, &priority, &arrival}) {
        for (uint64_t seed = 1; seed <= 12; ++seed) {
          const std::vector<JobView> jobs = RandomQueue(seed, 400);
          std::vector<QueueEntry> expected = entries(jobs);
          order->Sort(expected);
          // The first n - k jobs in their order in the whole queue's, then the k last (ids
          // above n - k) as they came.
          for (size_t k : {size_t{0}, size_t{1}, size_t{3}, size_t{40}, size_t{150}, size_t{399}}) {
            const JobId first_new = static_cast<JobId>(jobs.size() - k) + 1;
            std::vector<QueueEntry> q;
            for (const QueueEntry& e : expected) {
              if (e.id < first_new) q.push_back(e);
            }
            for (const QueueEntry& e : entries(jobs)) {
              if (e.id >= first_new) q.push_back(e);
            }
            order->SortTail(q, jobs.size() - k);
            EXPECT_EQ(ids(q), ids(expected)) << "delay " << delay_s << " s, floor " << floor_s
                                             << " s, seed " << seed << ", " << k << " new";
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace gpuaas::sched
