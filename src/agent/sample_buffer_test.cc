#include "agent/sample_buffer.h"

#include <gtest/gtest.h>

#include <set>

#include "agent/demo_gpu_source.h"
#include "agent/demo_inventory.h"
#include "model/gpu_class.h"

namespace gpuaas {
namespace {

GpuSample At(Millis t) {
  GpuSample s;
  s.t = t;
  return s;
}

TEST(SampleBufferTest, PeekAcknowledgeAndBound) {
  SampleBuffer b(3);
  for (Millis t = 1; t <= 2; ++t) b.Add(At(t));
  uint64_t end = 0;
  auto first = b.Peek(10, &end);
  ASSERT_EQ(first.size(), 2u);
  b.Add(At(3));  // arrives while the report is in flight
  b.Acknowledge(end);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.Peek(10, &end)[0].t, 3);
  b.Acknowledge(0);  // a stale ack removes nothing
  EXPECT_EQ(b.size(), 1u);
  for (Millis t = 4; t <= 7; ++t) b.Add(At(t));  // outage: the oldest go
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.dropped(), 2u);
  auto two = b.Peek(2, &end);
  EXPECT_EQ(two[0].t, 5);
  EXPECT_EQ(two[1].t, 6);
  b.Acknowledge(end);
  EXPECT_EQ(b.Peek(10, &end)[0].t, 7);
}

TEST(DemoGpuSourceTest, BusyDevicesWorkHardIdleOnesIdle) {
  auto gpus = MakeDemoGpus("n", "h200", 2);
  ASSERT_TRUE(gpus.ok());
  DemoGpuSource src(*gpus, DefaultGpuClasses());
  EXPECT_TRUE(src.simulated());
  for (Millis t = 1000; t < 20'000; t += 1000) {
    auto r = src.Sample(t, std::set<int>{1});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].sample.util_pct, 0);
    EXPECT_GE(r[0].sample.power_mw, 75'000);
    EXPECT_LT(r[0].sample.power_mw, 80'000);
    EXPECT_GE(r[1].sample.util_pct, 88);
    EXPECT_LE(r[1].sample.util_pct, 97);
    EXPECT_GE(r[1].sample.power_mw, 700'000 * 85 / 100);
    EXPECT_LE(r[1].sample.power_mw, 700'000);
    EXPECT_GT(r[1].sample.mem_used_mb, 143771 / 2);
    EXPECT_TRUE(r[1].problem.empty());
  }
  // Deterministic: same inputs, same readings.
  EXPECT_EQ(src.Sample(5000, {1})[1].sample.power_mw, src.Sample(5000, {1})[1].sample.power_mw);
}

}  // namespace
}  // namespace gpuaas
