// GPU telemetry and health through the Platform: samples from heartbeats become per-job
// aggregates and the usage record's energy / idle time; a GPU reported unhealthy mid-job fails
// the job with the reason and is never placed again. Real SQLite store, manual clock.
#include <gtest/gtest.h>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

constexpr Millis kT0 = kFixtureT0;

class PlatformTelemetryTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    CreateEntity("acme");
  }
  Job Submit(int gpus) {
    JobRequest req;
    req.gpus = gpus;
    req.gpu_types = {"h200"};
    req.command = {"train"};
    req.entity = "acme";
    auto j = TrySubmit(req);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return *j;
  }
  // Registers a node of `node_gpus` GPUs and places a 1-GPU job on it: its assignment.
  Assignment PlaceOne(NodeReport& r, int node_gpus, Job* job) {
    r = Report(node_gpus);
    Beat(r);
    *job = Submit(1);
    DesiredWorkloads d = Beat(r);
    EXPECT_EQ(d.workloads.size(), 1u);
    return d.workloads.empty() ? Assignment{} : d.workloads[0];
  }
  static GpuSample Sample(int index, Millis t, int util, int64_t watts) {
    GpuSample s;
    s.index = index;
    s.t = t;
    s.util_pct = util;
    s.mem_used_mb = util * 1000;
    s.power_mw = watts * 1000;
    s.temp_c = 60;
    return s;
  }
};

TEST_F(PlatformTelemetryTest, SamplesBecomeJobAggregatesAndUsageEnergy) {
  NodeReport r;
  Job j;
  const Assignment a = PlaceOne(r, 2, &j);
  ASSERT_EQ(a.gpu_ids.size(), 1u);
  const int dev = a.gpu_ids[0];
  const int other = 1 - dev;
  const AllocationId alloc = a.allocation;
  const Millis start = clock_.Now();
  r.workloads = {{j.id, alloc, "running", std::nullopt, 0, false, false, start, 0, ""}};
  // 1 s samples for 10 s: the job's device at 700 W / 90 % for 6 s, then idle at 100 W.
  for (int k = 1; k <= 10; ++k) {
    clock_.Advance(1000);
    const bool busy = k <= 6;
    r.samples = {Sample(dev, clock_.Now(), busy ? 90 : 0, busy ? 700 : 100),
                 Sample(other, clock_.Now(), 0, 75)};
    if (k == 10) {
      r.workloads = {{j.id, alloc, "exited", 0, 0, false, false, start, clock_.Now(), ""}};
    }
    Beat(r);
  }
  const Job done = Get(j.id);
  ASSERT_EQ(done.state, JobState::kSucceeded);
  auto t = platform_->JobTelemetryOf(done);
  ASSERT_TRUE(t.has_value());
  // Intervals (k-1, k] for k = 2..10 (the first sample opens the series): 9 s covered.
  EXPECT_EQ(t->covered_ms, 9000);
  // 700 W x 5 s + (700+100)/2 W x 1 s + 100 W x 3 s = 4200 J = 1166 mWh.
  EXPECT_EQ(t->energy_uj, 4'200'000'000LL);
  EXPECT_EQ(t->idle_ms, 4000);
  EXPECT_EQ(t->peak_mem_mb, 90'000);
  EXPECT_NEAR(t->avg_util_pct(), 90.0 * 5 / 9, 1e-9);
  // The other device's energy is not the job's.
  EXPECT_EQ(platform_->telemetry().Device(1, other)->energy_uj, 75'000LL * 9000);
  // The usage record carries the energy and idle time.
  auto state = store_->Load();
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->usage.size(), 1u);
  EXPECT_EQ(state->usage[0].energy_mwh, 1166);
  EXPECT_EQ(state->usage[0].idle_gpu_millis, 4000);
}

TEST_F(PlatformTelemetryTest, AContainerJobsTrafficIsItsOwnOnTheUsageRecordAndPerEntity) {
  NodeReport r;
  Job j;
  const AllocationId alloc = PlaceOne(r, 2, &j).allocation;
  const Millis start = clock_.Now();
  EXPECT_FALSE(platform_->JobTelemetryOf(Get(j.id)).has_value());  // nothing reported yet
  // The agent reads the container's counters every heartbeat (2 s apart here).
  WorkloadReport w{j.id, alloc, "running", std::nullopt, 0, false, false, start, 0, ""};
  const std::pair<int64_t, int64_t> counters[] = {{0, 0}, {4'000'000, 1'000}, {10'000'000, 5'000}};
  for (const auto& [rx, tx] : counters) {
    clock_.Advance(2000);
    w.net = NetReading{clock_.Now(), rx, tx};
    r.workloads = {w};
    Beat(r);
  }
  auto t = platform_->JobTelemetryOf(Get(j.id));
  ASSERT_TRUE(t.has_value() && t->net.has_value());
  EXPECT_EQ(t->net->last.rx_bytes, 10'000'000);
  EXPECT_DOUBLE_EQ(*t->net->rx_bytes_per_s, 3'000'000.0);  // 6 MB over the last 2 s
  EXPECT_DOUBLE_EQ(*t->net->tx_bytes_per_s, 2'000.0);
  EXPECT_EQ(platform_->EntityNetwork().at(1), std::make_pair(int64_t{10'000'000}, int64_t{5'000}));
  // Counters for an allocation this node does not hold are not taken.
  WorkloadReport stray = w;
  stray.allocation = alloc + 100;
  stray.net = NetReading{clock_.Now() + 5000, 1, 1};
  r.workloads = {w, stray};
  Beat(r);
  EXPECT_EQ(platform_->EntityNetwork().size(), 1u);
  // The job ends: its totals go on the usage record and stay in the entity's counter.
  clock_.Advance(2000);
  r.workloads = {{j.id, alloc, "exited", 0, 0, false, false, start, clock_.Now(), ""}};
  Beat(r);
  ASSERT_EQ(Get(j.id).state, JobState::kSucceeded);
  auto state = store_->Load();
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->usage.size(), 1u);
  EXPECT_EQ(state->usage[0].net_rx_bytes, 10'000'000);
  EXPECT_EQ(state->usage[0].net_tx_bytes, 5'000);
  EXPECT_EQ(platform_->JobTelemetryOf(Get(j.id))->net->last.tx_bytes, 5'000);
  EXPECT_EQ(platform_->EntityNetwork().at(1).second, 5'000);
  Restart();  // the entity's counter is the ledger's: it survives a restart
  EXPECT_EQ(platform_->EntityNetwork().at(1), std::make_pair(int64_t{10'000'000}, int64_t{5'000}));
}

TEST_F(PlatformTelemetryTest, UnhealthyGpuFailsItsJobAndIsNotPlacedAgain) {
  NodeReport r;
  Job j;
  const AllocationId alloc = PlaceOne(r, 1, &j).allocation;
  r.workloads = {{j.id, alloc, "running", std::nullopt, 0, false, false, clock_.Now(), 0, ""}};
  Beat(r);
  ASSERT_EQ(Get(j.id).state, JobState::kRunning);

  clock_.Advance(5000);
  r.gpus[0].state = DeviceState::kUnhealthy;
  r.gpus[0].health_reason = "GPU fell off the bus (GPU is lost (NVML 15))";
  DesiredWorkloads d = Beat(r);
  EXPECT_TRUE(d.workloads.empty()) << "the agent must stop the job";
  Job failed = Get(j.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_NE(failed.reason.find("GPU 0 (GPU-gpu-node-01-0) on node gpu-node-01 became unhealthy"),
            std::string::npos)
      << failed.reason;
  EXPECT_NE(failed.reason.find("fell off the bus"), std::string::npos);
  EXPECT_EQ(platform_->ListNodes()[0].gpus[0].health_reason, r.gpus[0].health_reason);

  // The agent stops it; the device is free but unhealthy: a new job waits.
  r.workloads = {{j.id, alloc, "exited", 143, 15, false, true, kT0, clock_.Now(), ""}};
  Beat(r);
  EXPECT_EQ(Get(j.id).state, JobState::kFailed);
  EXPECT_NE(Get(j.id).reason.find("unhealthy"), std::string::npos);
  r.workloads.clear();
  Job next = Submit(1);
  EXPECT_TRUE(Beat(r).workloads.empty());
  EXPECT_EQ(Get(next.id).state, JobState::kQueued);
  // Back to healthy (e.g. after a reset and an agent restart): it runs.
  r.gpus[0].state = DeviceState::kHealthy;
  r.gpus[0].health_reason.clear();
  Beat(r);
  EXPECT_EQ(Beat(r).workloads.size(), 1u);
}

}  // namespace
}  // namespace gpuaas
