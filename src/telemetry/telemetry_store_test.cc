#include "telemetry/telemetry_store.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

GpuSample S(int index, Millis t, int util, int64_t power_w, int64_t mem = 1000) {
  GpuSample s;
  s.index = index;
  s.t = t;
  s.util_pct = util;
  s.power_mw = power_w * 1000;
  s.mem_used_mb = mem;
  s.temp_c = 50;
  return s;
}

TEST(TelemetryStoreTest, IntegratesPowerOverTheJobsDevicesAndInterval) {
  TelemetryStore ts;
  // Device 0 held by allocation 7 from t=1000; device 1 free.
  auto holder = [](int index) { return index == 0 ? DeviceHolder{7, 1000} : DeviceHolder{}; };
  ts.Ingest(1, {S(0, 500, 0, 100), S(1, 500, 0, 100)}, holder);
  ts.Ingest(1, {S(0, 1500, 90, 700, 5000), S(1, 1500, 0, 100)}, holder);
  ts.Ingest(1, {S(0, 2500, 90, 700, 9000), S(1, 2500, 0, 100)}, holder);
  auto j = ts.Job(7);
  ASSERT_TRUE(j.has_value());
  // [1000,1500] at mean (100+700)/2 = 400 W -> 200 J; [1500,2500] at 700 W -> 700 J.
  EXPECT_EQ(j->energy_uj, 400'000LL * 500 + 700'000LL * 1000);
  EXPECT_EQ(j->covered_ms, 1500);
  EXPECT_DOUBLE_EQ(j->avg_util_pct(), 90.0);
  EXPECT_EQ(j->peak_mem_mb, 9000);
  EXPECT_EQ(j->idle_ms, 0);
  // The device counter counts the whole time, before the job too.
  EXPECT_EQ(ts.Device(1, 0)->energy_uj, 400'000LL * 1000 + 700'000LL * 1000);
  EXPECT_EQ(ts.Device(1, 1)->energy_uj, 100'000LL * 2000);
  EXPECT_EQ(ts.ingested(), 6);
}

TEST(TelemetryStoreTest, ExactSplitBetweenConsecutiveJobsOnOneDevice) {
  TelemetryStore ts;
  DeviceHolder h{1, 0};
  auto holder = [&](int) { return h; };
  int64_t total = 0;
  for (Millis t = 1000; t <= 10'000; t += 1000) {
    if (t == 6000) {
      ts.Close(1);
      h = DeviceHolder{2, 5500};
    }
    ts.Ingest(3, {S(0, t, 50, 300)}, holder);
  }
  total = ts.Device(3, 0)->energy_uj;
  const auto a = ts.Job(1), b = ts.Job(2);
  ASSERT_TRUE(a && b);
  // Job 1 got [1000,5000], job 2 [5500,10000]; [5000,5500] belonged to nobody.
  EXPECT_EQ(a->energy_uj, 300'000LL * 4000);
  EXPECT_EQ(b->energy_uj, 300'000LL * 4500);
  EXPECT_EQ(a->energy_uj + b->energy_uj + 300'000LL * 500, total);
}

TEST(TelemetryStoreTest, IdleTimeBelowThresholdAndResentSamplesIgnored) {
  TelemetryStore ts;
  auto holder = [](int) { return DeviceHolder{4, 0}; };
  std::vector<GpuSample> batch = {S(0, 1000, 0, 80), S(0, 2000, 2, 80), S(0, 3000, 60, 500)};
  EXPECT_EQ(ts.Ingest(1, batch, holder), 3u);
  EXPECT_EQ(ts.Ingest(1, batch, holder), 0u);  // re-sent after a lost answer
  const auto j = ts.Job(4);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->idle_ms, 1000);
  EXPECT_EQ(j->covered_ms, 2000);
  const JobTelemetry closed = ts.Close(4);
  EXPECT_EQ(closed.energy_uj, j->energy_uj);
  EXPECT_EQ(closed.energy_mwh(), (80'000LL * 1000 + 290'000LL * 1000) / 3'600'000);
  // Samples after the close are not counted for it.
  ts.Ingest(1, {S(0, 4000, 99, 700)}, holder);
  EXPECT_EQ(ts.Job(4)->energy_uj, closed.energy_uj);
}

TEST(TelemetryStoreTest, GapsAreNotIntegratedAndRingIsBounded) {
  TelemetryStore::Options o;
  o.recent_per_device = 3;
  o.max_gap_ms = 5000;
  TelemetryStore ts(o);
  ts.Ingest(1, {S(0, 1000, 0, 100)}, nullptr);
  ts.Ingest(1, {S(0, 100'000, 0, 100)}, nullptr);  // agent away for 99 s
  EXPECT_EQ(ts.Device(1, 0)->energy_uj, 0);
  for (int i = 1; i <= 5; ++i) ts.Ingest(1, {S(0, 100'000 + i * 1000, 0, 100)}, nullptr);
  EXPECT_EQ(ts.Device(1, 0)->recent.size(), 3u);
  EXPECT_EQ(ts.Device(1, 0)->recent.front().t, 103'000);
  EXPECT_FALSE(ts.Job(99).has_value());
  EXPECT_EQ(ts.Close(99).energy_uj, 0);  // never sampled: zeros
}

TEST(TelemetryStoreTest, AContainersNetworkCountersGiveItsTotalsAndRates) {
  TelemetryStore ts;
  EXPECT_FALSE(ts.Job(7).has_value());
  ts.ObserveNet(7, {10'000, 1'000, 2'000});
  ASSERT_TRUE(ts.Job(7).has_value());  // counters alone make a job's telemetry
  EXPECT_FALSE(ts.Job(7)->net->tx_bytes_per_s.has_value());  // one reading: no rate yet
  ts.ObserveNet(7, {10'400, 9'000, 9'000});                  // under a second later: skipped
  EXPECT_EQ(ts.Job(7)->net->last.tx_bytes, 2'000);
  ts.ObserveNet(7, {12'000, 5'001'000, 1'002'000});
  const NetTraffic n = *ts.Job(7)->net;
  EXPECT_EQ(n.last.rx_bytes, 5'001'000);
  EXPECT_DOUBLE_EQ(*n.rx_bytes_per_s, 2'500'000.0);  // 5 MB over 2 s
  EXPECT_DOUBLE_EQ(*n.tx_bytes_per_s, 500'000.0);
  const JobTelemetry closed = ts.Close(7);
  EXPECT_EQ(closed.samples, 0);  // no GPU samples, yet the traffic stays readable
  EXPECT_EQ(closed.net->last.tx_bytes, 1'002'000);
  ts.ObserveNet(7, {20'000, 9'999'999, 9'999'999});  // after its end: not counted
  EXPECT_EQ(ts.Job(7)->net->last.tx_bytes, 1'002'000);
  ts.ObserveNet(0, {20'000, 1, 1});  // no allocation
  EXPECT_FALSE(ts.Job(0).has_value());
}

}  // namespace
}  // namespace gpuaas
