// The server's side of Policy::fair_share_wait_ratio: the Platform tallies each entity's waits
// (started jobs and queued ones) into the snapshot, and an entity that waited much longer than
// the platform's average goes ahead of one that used less.
#include <gtest/gtest.h>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

constexpr Millis kHour = 3'600'000;

class WaitFairnessTest : public PlatformFixture {
 protected:
  void Configure(PlatformConfig& cfg) override {
    cfg.fair_share_wait_ratio = ratio_;
    cfg.fair_share_usage_delay_s = usage_delay_s_;
    cfg.fair_share_wait_horizon_s = horizon_s_;
    cfg.fair_share_wait_rank_half_life_s = rank_half_life_s_;
    cfg.heartbeat_timeout_ms = 100 * kHour;  // (the clock jumps hours between heartbeats)
  }

  Job Submit(const Principal& who) {
    JobRequest req;
    req.gpus = 1;
    req.gpu_types = {"h200"};
    req.command = {"sleep", "36000"};
    return Must<Job>([&](auto done) { platform_->SubmitJob(who, req, done); });
  }
  // The agent of the 1-GPU node: starts what it is told to run, and reports `finished` as exited.
  void Agent(JobId finished = 0) {
    DesiredWorkloads d = Beat(node_);
    node_.workloads.clear();
    for (const auto& w : d.workloads) {
      node_.workloads.push_back(
          {w.job, w.allocation, "running", std::nullopt, 0, false, false, clock_.Now(), 0, ""});
    }
    for (auto& w : node_.workloads) {
      if (w.job == finished) {
        w.state = "exited";
        w.exit_code = 0;
        w.finished_at = clock_.Now();
      }
    }
    Beat(node_);
    exec_->Drain();
  }
  int Position(JobId id) {
    const QueueInfo* q = platform_->GetQueueInfo(id);
    return q ? q->position : -1;
  }

  // Heavy used the GPU for 10 h; then light's job runs while heavy's next job and, 2.5 h later,
  // light's next job queue. Half an hour after that: heavy waited 3 h over its 2 jobs (1.5 h on
  // average), light 0.5 h over 2 (0.25 h), the platform 3.5 h over 4 (0.875 h): heavy's ratio is
  // 1.71. Returns the queue positions of (heavy's job, light's job).
  std::pair<int, int> Positions() {
    CreateEntity("heavy");
    CreateEntity("light");
    Principal heavy = Member("hugo", "heavy");
    Principal light = Member("lea", "light");
    node_ = Report(1);
    Beat(node_);
    Job h1 = Submit(heavy);
    Agent();
    EXPECT_EQ(Get(h1.id).state, JobState::kRunning);
    clock_.Advance(10 * kHour);
    Agent(h1.id);
    EXPECT_EQ(Get(h1.id).state, JobState::kSucceeded);
    Job l1 = Submit(light);
    Agent();
    EXPECT_EQ(Get(l1.id).state, JobState::kRunning);
    Job h2 = Submit(heavy);
    clock_.Advance(5 * kHour / 2);
    Job l2 = Submit(light);
    clock_.Advance(kHour / 2);
    Agent();  // (a pass)
    EXPECT_EQ(Get(l1.id).state, JobState::kRunning);
    EXPECT_EQ(Get(h2.id).state, JobState::kQueued);
    EXPECT_EQ(Get(l2.id).state, JobState::kQueued);
    return {Position(h2.id), Position(l2.id)};
  }

  // A veteran ran 9 jobs without waiting 70 days ago (10 fair-share half-lives); now, while a
  // third entity's job holds the GPU, the veteran's job waits 3 h and a newcomer's 2 h. By
  // their recent waits the veteran is the more behind (its old jobs weigh 2^-10 each: ratio
  // 1.79 against 1.20, the platform's average being 5 h over about 3 jobs); by their whole
  // history the newcomer is (2 h over its one job against 3 h over 10: 4.8 against 0.72). Both
  // are late at a ratio of 1.1. Returns the queue positions of (veteran's job, newcomer's job).
  std::pair<int, int> VeteranAndNewcomer() {
    CreateEntity("veteran");
    CreateEntity("newcomer");
    CreateEntity("third");
    Principal veteran = Member("vera", "veteran");
    Principal newcomer = Member("nina", "newcomer");
    Principal third = Member("theo", "third");
    node_ = Report(1);
    Beat(node_);
    for (int i = 0; i < 9; ++i) {
      Job j = Submit(veteran);
      Agent();
      EXPECT_EQ(Get(j.id).state, JobState::kRunning);
      clock_.Advance(kHour);
      Agent(j.id);
      EXPECT_EQ(Get(j.id).state, JobState::kSucceeded);
    }
    for (int i = 0; i < 70 * 24 / 48; ++i) {  // (beats within the heartbeat timeout)
      clock_.Advance(48 * kHour);
      Agent();
    }
    Job t = Submit(third);
    Agent();
    EXPECT_EQ(Get(t.id).state, JobState::kRunning);
    Job v = Submit(veteran);
    clock_.Advance(kHour);
    Job n = Submit(newcomer);
    clock_.Advance(2 * kHour);
    Agent();  // (a pass)
    EXPECT_EQ(Get(v.id).state, JobState::kQueued);
    EXPECT_EQ(Get(n.id).state, JobState::kQueued);
    return {Position(v.id), Position(n.id)};
  }

  double ratio_ = 1.5;
  // The strict order by usage (the tests below weigh waits against usage), unless a test says.
  int64_t usage_delay_s_ = 0;
  // The waits so far (the tests below count them by hand), unless a test says.
  int64_t horizon_s_ = 0;
  int64_t rank_half_life_s_ = PlatformConfig{}.fair_share_wait_rank_half_life_s;
  NodeReport node_;
};

TEST_F(WaitFairnessTest, AnEntityFarBehindOnWaitsGoesFirst) {
  EXPECT_EQ(Positions(), std::make_pair(1, 2));
}

TEST_F(WaitFairnessTest, WithoutItUsageDecides) {
  ratio_ = 0;
  Restart();
  EXPECT_EQ(Positions(), std::make_pair(2, 1));
}

TEST_F(WaitFairnessTest, BelowTheRatioUsageDecides) {
  ratio_ = 1.8;  // (heavy's is 1.71)
  Restart();
  EXPECT_EQ(Positions(), std::make_pair(2, 1));
}

// The look-ahead of the ratio (the default, a day) as the server configures it: each queued job
// counts as waiting 24 h more, heavy's average is (3 + 24) / 2 h, light's (0.5 + 24) / 2 h, the
// platform's (3.5 + 48) / 4 h: heavy's ratio is 1.05, under 1.5: usage decides.
TEST_F(WaitFairnessTest, LookingADayAheadBothWaitAlike) {
  horizon_s_ = PlatformConfig{}.fair_share_wait_horizon_s;
  ASSERT_EQ(horizon_s_, 24 * 3600);
  Restart();
  EXPECT_EQ(Positions(), std::make_pair(2, 1));
}

// The usage delay (the default, 4 h) as the server configures it: heavy's factor is about
// 0.65 (10 of the 13 GPU-hours used, on half the shares) and light's 0.28, so heavy's job is
// delayed 1.5 h more, less than the 2.5 h it was submitted before light's: it stays ahead.
TEST_F(WaitFairnessTest, WithTheUsageDelayAnOlderJobOfTheHeavierEntityStaysAhead) {
  ratio_ = 0;
  usage_delay_s_ = PlatformConfig{}.fair_share_usage_delay_s;
  ASSERT_EQ(usage_delay_s_, 4 * 3600);
  Restart();
  EXPECT_EQ(Positions(), std::make_pair(1, 2));
}

// The late are ranked by their whole history (the default): the newcomer first.
TEST_F(WaitFairnessTest, TheLateAreRankedByTheirWholeHistory) {
  ASSERT_EQ(rank_half_life_s_, 0);
  ratio_ = 1.1;
  Restart();
  EXPECT_EQ(VeteranAndNewcomer(), std::make_pair(2, 1));
}

// With the fair-share half-life for the rank too (the rule before), the recent ratio ranks them:
// the veteran first.
TEST_F(WaitFairnessTest, RankedByTheirRecentWaitsWithTheFairShareHalfLife) {
  ratio_ = 1.1;
  rank_half_life_s_ = 7 * 24 * 3600;
  Restart();
  EXPECT_EQ(VeteranAndNewcomer(), std::make_pair(1, 2));
}

}  // namespace
}  // namespace gpuaas
