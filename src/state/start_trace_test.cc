// StartTrace (the stages of a job's way to running) and, on the real Platform, the order that
// makes a quick start safe: the pass runs before the submission is durable, but the 201 waits
// for its commit and no agent hears of the placement before the placement is durable.
#include "state/start_trace.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <optional>

#include "state/platform.h"
#include "state/test_executor.h"

namespace gpuaas {
namespace {

TEST(StartTraceTest, StagesOfAJobGoIntoTheHistogramsOnceItsRunningStateIsDurable) {
  StartTrace t;
  t.Submitted(7, /*seq=*/1);
  t.Placed(7, StartTrace::Now(), /*seq=*/2);
  t.Committed(1);  // the job is durable, the placement not yet
  t.Dispatched(7);
  t.Reported(7, /*seq=*/3);
  t.Committed(2);
  EXPECT_EQ(t.finished(), 0);  // its running state is not durable yet
  t.Committed(3);
  EXPECT_EQ(t.finished(), 1);
  EXPECT_EQ(t.traced(), 0u);
  for (int s = 0; s < StartTrace::kStageCount; ++s) {
    EXPECT_EQ(t.Count(static_cast<StartTrace::Stage>(s)), 1) << s;
    EXPECT_GE(t.SumSeconds(static_cast<StartTrace::Stage>(s)), 0.0) << s;
  }
  const std::string m = t.MetricsText();
  EXPECT_NE(m.find("# TYPE gpuaas_job_start_seconds histogram"), std::string::npos);
  EXPECT_NE(m.find("gpuaas_job_start_seconds_count{stage=\"total\"} 1"), std::string::npos);
  EXPECT_NE(m.find("gpuaas_job_start_seconds_bucket{stage=\"agent\",le=\"+Inf\"} 1"),
            std::string::npos);
  // Buckets are cumulative: the 300 s bucket holds the job too.
  EXPECT_NE(m.find("gpuaas_job_start_seconds_bucket{stage=\"total\",le=\"300\"} 1"),
            std::string::npos);
}

TEST(StartTraceTest, AJobThatEndsBeforeRunningIsForgottenAndTheTraceIsBounded) {
  StartTrace t(/*max_jobs=*/2);
  t.Submitted(1, 1);
  t.Submitted(2, 1);
  t.Submitted(3, 1);  // over the bound: not traced
  EXPECT_EQ(t.traced(), 2u);
  t.Forget(1);
  t.Reported(3, 2);
  t.Committed(5);
  EXPECT_EQ(t.finished(), 0);
  EXPECT_EQ(t.traced(), 1u);
  // A job placed but not submitted in this run (a restart) has no submission stages.
  StartTrace u;
  u.Placed(9, StartTrace::Now(), 1);
  u.Reported(9, 2);
  u.Committed(2);
  EXPECT_EQ(u.finished(), 0);
}

// A Store that holds commits until the test releases them (the real SQLite store underneath).
class GatedStore final : public Store {
 public:
  explicit GatedStore(Store& inner) : inner_(inner) {}
  Result<StoredState> Load() override { return inner_.Load(); }
  void Commit(std::vector<Mutation> batch, std::function<void(Status)> done) override {
    std::lock_guard lock(mu_);
    if (hold_) {
      held_.push_back({std::move(batch), std::move(done)});
      return;
    }
    inner_.Commit(std::move(batch), std::move(done));
  }
  Status Flush() override { return inner_.Flush(); }
  void Close() override { inner_.Close(); }
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  size_t Held() {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    for (auto& [batch, done] : held_) inner_.Commit(std::move(batch), std::move(done));
    held_.clear();
  }

 private:
  Store& inner_;
  std::mutex mu_;
  bool hold_ = false;
  std::vector<std::pair<std::vector<Mutation>, std::function<void(Status)>>> held_;
};

class QuickStartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gpuaas-start-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = OpenSqliteStore(dir_ + "/db.sqlite");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    inner_ = std::move(s).value();
    gate_ = std::make_unique<GatedStore>(*inner_);
    exec_ = std::make_unique<TestExecutor>(clock_, *gate_);
    PlatformConfig cfg;
    cfg.schedule_min_interval_ms = 0;
    platform_ = std::make_unique<Platform>(clock_, *exec_, *gate_, cfg);
    auto token = platform_->Start();
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    exec_->Drain();
    admin_ = platform_->Authenticate(*token).value();
    EntityRequest er;
    er.name = "acme";
    std::optional<Result<Entity>> e;
    platform_->CreateEntity(admin_, er, [&](Result<Entity> r) { e = std::move(r); });
    exec_->Drain();
    ASSERT_TRUE(e && e->ok());
    node_.node = "n1";
    for (int i = 0; i < 8; ++i) {
      node_.gpus.push_back(
          {i, "GPU-n1-" + std::to_string(i), "NVIDIA H200", "h200", 143771, DeviceState::kHealthy});
    }
    Beat();
  }
  void TearDown() override {
    platform_.reset();
    exec_.reset();
    inner_->Close();
    std::filesystem::remove_all(dir_);
  }
  // One agent report (wait_ms 0); drains; the answer if it came.
  std::optional<DesiredWorkloads> Beat() {
    Principal agent;
    agent.agent = true;
    std::optional<DesiredWorkloads> out;
    platform_->Heartbeat(agent, node_, 0, [&](Result<DesiredWorkloads> r) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      out = *r;
    });
    exec_->Drain();
    return out;
  }

  std::string dir_;
  ManualClock clock_{1'795'000'000'000};
  std::unique_ptr<Store> inner_;
  std::unique_ptr<GatedStore> gate_;
  std::unique_ptr<TestExecutor> exec_;
  std::unique_ptr<Platform> platform_;
  Principal admin_;
  NodeReport node_;
};

TEST_F(QuickStartTest, PassRunsBeforeTheSubmitCommitButAgentsOnlyHearOfDurablePlacements) {
  clock_.Advance(1'000);  // a later report of the same node changes nothing durable
  gate_->Hold();
  JobRequest req;
  req.entity = "acme";
  req.gpus = 1;
  req.command = {"sleep", "60"};
  std::optional<Result<Job>> answer;
  platform_->SubmitJob(admin_, req, [&](Result<Job> r) { answer = std::move(r); });
  exec_->Drain();
  // Placed in memory already, but neither the job nor its placement is durable: no 201 yet,
  // and the agent is not told.
  EXPECT_FALSE(answer.has_value());
  EXPECT_EQ(gate_->Held(), 2u);  // the job's batch, then the placement's
  bool more = false;
  auto jobs = platform_->ListJobs(admin_, std::nullopt, 0, 0, 10, &more);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kStarting);
  auto d = Beat();
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->workloads.empty());

  gate_->Release();
  exec_->Drain();
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->status().ToString();
  EXPECT_EQ((*answer)->state, JobState::kQueued);  // the job as committed
  d = Beat();
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->workloads.size(), 1u);

  // The agent starts it and says so: its running state is durable, its stages are counted.
  const Assignment& w = d->workloads[0];
  node_.workloads = {{w.job, w.allocation, "running", std::nullopt, 0, false, false, 0, 0, ""}};
  Beat();
  EXPECT_EQ(platform_->GetJob(admin_, w.job)->state, JobState::kRunning);
  const StartTrace& t = platform_->start_trace();
  EXPECT_EQ(t.finished(), 1);
  for (int s = 0; s < StartTrace::kStageCount; ++s) {
    EXPECT_EQ(t.Count(static_cast<StartTrace::Stage>(s)), 1)
        << StartTrace::StageName(static_cast<StartTrace::Stage>(s));
  }
}

}  // namespace
}  // namespace gpuaas
