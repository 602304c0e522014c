// A job's host resources and how the node's verdicts come back: cpus / memory_gb given or
// defaulted per GPU, validated, handed to the agent as cgroup limits; an OOM kill reported by the
// agent fails the job with "out of memory (limit N GiB)"; a GPU going bad fails its job, or
// requeues it by policy (server config or the job's requeue_on_preempt). Real SQLite store,
// manual clock.
#include <gtest/gtest.h>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

constexpr Millis kT0 = kFixtureT0;

class PlatformResourcesTest : public PlatformFixture {
 protected:
  PlatformResourcesTest() { open_in_setup_ = false; }
  void Configure(PlatformConfig& cfg) override {
    cfg = base_;
    cfg.schedule_min_interval_ms = 0;
  }
  // Starts the platform with `base`; the first time, also the entity "acme".
  void Open(const PlatformConfig& base, bool first = true) {
    base_ = base;
    OpenPlatform();
    if (first) CreateEntity("acme");
  }
  Result<Job> TrySubmit(JobRequest req) {
    req.gpu_types = {"h200"};
    req.command = {"train"};
    req.entity = "acme";
    return PlatformFixture::TrySubmit(req);
  }
  Job Submit(JobRequest req) {
    auto j = TrySubmit(std::move(req));
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? *j : Job{};
  }
  // Runs `job` on the node: returns its allocation once reported running.
  AllocationId Run(NodeReport& r, const Job& job) {
    DesiredWorkloads d = Beat(r);
    for (const auto& w : d.workloads) {
      if (w.job != job.id) continue;
      r.workloads.push_back(
          {job.id, w.allocation, "running", std::nullopt, 0, false, false, clock_.Now(), 0, ""});
      Beat(r);
      EXPECT_EQ(Get(job.id).state, JobState::kRunning);
      return w.allocation;
    }
    ADD_FAILURE() << "job " << job.id << " was not placed";
    return 0;
  }

  PlatformConfig base_;
};

TEST_F(PlatformResourcesTest, CpusAndMemoryAreGivenOrDefaultedPerGpuAndReachTheAgent) {
  PlatformConfig cfg;
  cfg.default_cpus_per_gpu = 6;
  cfg.default_memory_gb_per_gpu = 40;
  Open(cfg);
  NodeReport r = Report(4);
  Beat(r);
  JobRequest two;
  two.gpus = 2;
  const Job defaulted = Submit(two);
  EXPECT_EQ(defaulted.cpus, 12);
  EXPECT_EQ(defaulted.memory_gb, 80);
  JobRequest given;
  given.gpus = 1;
  given.cpus = 3;
  given.memory_gb = 5;
  const Job explicit_ = Submit(given);
  EXPECT_EQ(explicit_.cpus, 3);
  EXPECT_EQ(explicit_.memory_gb, 5);

  const DesiredWorkloads d = Beat(r);
  ASSERT_EQ(d.workloads.size(), 2u);
  for (const auto& w : d.workloads) {
    if (w.job == defaulted.id) {
      EXPECT_EQ(w.memory_bytes, int64_t{80} << 30);
      EXPECT_EQ(w.cpu_millis, 12'000);
    } else {
      EXPECT_EQ(w.memory_bytes, int64_t{5} << 30);
      EXPECT_EQ(w.cpu_millis, 3'000);
    }
  }

  // Out of bounds: refused as a broken rule, nothing queued.
  JobRequest bad;
  bad.cpus = 5000;
  EXPECT_EQ(TrySubmit(bad).status().code(), Code::kFailedPrecondition);
  bool more = false;
  bad.cpus = 0;
  bad.memory_gb = 100'000;
  auto refused = TrySubmit(bad);
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("memory_gb"), std::string::npos);
  EXPECT_EQ(platform_->ListJobs(admin_, std::nullopt, 0, 0, 100, &more).size(), 2u);

  // Kept by the store across a restart.
  ClosePlatform();
  Open(cfg, /*first=*/false);
  EXPECT_EQ(Get(explicit_.id).memory_gb, 5);
  EXPECT_EQ(Get(defaulted.id).cpus, 12);
}

TEST_F(PlatformResourcesTest, AnOomKillReportedByTheAgentFailsTheJobWithTheLimit) {
  Open(PlatformConfig{});
  NodeReport r = Report(1);
  Beat(r);
  JobRequest req;
  req.memory_gb = 2;
  const Job j = Submit(req);
  const AllocationId alloc = Run(r, j);
  clock_.Advance(3000);
  r.workloads = {{j.id, alloc, "exited", 137, 9, false, false, kT0, clock_.Now(),
                  "out of memory (limit 2 GiB)"}};
  Beat(r);
  const Job done = Get(j.id);
  EXPECT_EQ(done.state, JobState::kFailed);
  EXPECT_EQ(done.reason, "out of memory (limit 2 GiB)");
  EXPECT_EQ(done.exit_code, 137);
}

TEST_F(PlatformResourcesTest, ABadGpuRequeuesItsJobWhenTheServerSaysSo) {
  PlatformConfig cfg;
  cfg.requeue_on_gpu_failure = true;
  Open(cfg);
  NodeReport r = Report(2);
  Beat(r);
  JobRequest req;
  const Job j = Submit(req);
  const AllocationId alloc = Run(r, j);
  const int bad = Get(j.id).gpu_ids.at(0);
  clock_.Advance(5000);
  r.gpus[bad].state = DeviceState::kUnhealthy;
  r.gpus[bad].health_reason = "uncorrectable ECC errors (3)";
  Beat(r);
  const Job failed = Get(j.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_NE(failed.reason.find("became unhealthy: uncorrectable ECC errors (3)"), std::string::npos)
      << failed.reason;
  const JobId again = failed.id + 1;
  EXPECT_NE(failed.reason.find("(resubmitted as job " + std::to_string(again) + ")"),
            std::string::npos)
      << failed.reason;
  const Job copy = Get(again);
  EXPECT_EQ(copy.resubmitted_from, j.id);
  EXPECT_EQ(copy.command, j.command);
  EXPECT_EQ(copy.memory_gb, j.memory_gb);

  // The agent confirms the old one stopped; the copy runs on the healthy GPU only.
  r.workloads = {{j.id, alloc, "exited", 143, 15, false, true, kT0, clock_.Now(), ""}};
  Beat(r);
  r.workloads.clear();
  Run(r, copy);
  EXPECT_EQ(Get(again).gpu_ids, std::vector<int>{1 - bad});
}

TEST_F(PlatformResourcesTest, ABadGpuFailsItsJobByDefaultUnlessTheJobAskedToBeRequeued) {
  Open(PlatformConfig{});
  NodeReport r = Report(2);
  Beat(r);
  const Job plain = Submit(JobRequest{});
  JobRequest wants;
  wants.requeue_on_preempt = true;
  const Job requeued = Submit(wants);
  Run(r, plain);
  Run(r, requeued);
  clock_.Advance(5000);
  for (auto& g : r.gpus) {
    g.state = DeviceState::kUnhealthy;
    g.health_reason = "too hot (95 C)";
  }
  Beat(r);
  bool more = false;
  EXPECT_EQ(Get(plain.id).state, JobState::kFailed);
  EXPECT_EQ(Get(plain.id).reason.find("resubmitted"), std::string::npos);
  EXPECT_EQ(Get(requeued.id).state, JobState::kFailed);
  EXPECT_NE(Get(requeued.id).reason.find("resubmitted as job"), std::string::npos);
  const auto jobs = platform_->ListJobs(admin_, JobState::kQueued, 0, 0, 100, &more);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].resubmitted_from, requeued.id);
}

// A job whose node agent stopped while starting it never ran: it is resubmitted (a job that
// could not start for a reason of its own is not: it would fail again).
TEST_F(PlatformResourcesTest, AJobInterruptedBeforeItStartedIsResubmitted) {
  Open(PlatformConfig{});
  NodeReport r = Report(2);
  Beat(r);
  const Job cut = Submit(JobRequest{});
  const Job bad = Submit(JobRequest{});
  const AllocationId cut_alloc = Run(r, cut);
  const AllocationId bad_alloc = Run(r, bad);
  clock_.Advance(15'000);
  WorkloadReport interrupted{cut.id,
                             cut_alloc,
                             "failed_to_start",
                             127,
                             0,
                             false,
                             false,
                             kT0,
                             clock_.Now(),
                             "the node's agent stopped before the job started"};
  interrupted.interrupted = true;
  r.workloads = {interrupted,
                 {bad.id, bad_alloc, "failed_to_start", 127, 0, false, false, kT0, clock_.Now(),
                  "command not found: trainn"}};
  Beat(r);
  const Job failed = Get(cut.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  const JobId again = bad.id + 1;
  EXPECT_EQ(
      failed.reason,
      "failed to start: the node's agent stopped before the job started (resubmitted as job " +
          std::to_string(again) + ")");
  EXPECT_EQ(Get(bad.id).reason, "failed to start: command not found: trainn");
  const Job copy = Get(again);
  EXPECT_EQ(copy.resubmitted_from, cut.id);
  EXPECT_EQ(copy.command, cut.command);
  EXPECT_FALSE(IsFinal(copy.state));  // queued, or already placed on the freed devices
  r.workloads.clear();
  Run(r, copy);  // the devices of both were freed
  EXPECT_EQ(Get(again).state, JobState::kRunning);
}

}  // namespace
}  // namespace gpuaas
