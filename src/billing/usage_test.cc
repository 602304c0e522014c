#include "billing/usage.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

PriceBook Prices() {
  PriceBook p;
  p.SetRate("h200", 3'600'000);  // 1 micro-euro per GPU-millisecond
  p.SetRate("l40s", 360'000);
  return p;
}

TEST(Usage, ClosedAndOpenAllocationsClippedToWindow) {
  std::vector<UsageRecord> ledger = {
      {1, 1, 10, 100, "h200", 2, 1'000, 5'000},    // 2 GPUs x 4 s
      {2, 2, 11, 101, "l40s", 1, 0, 10'000},       // other entity
      {3, 3, 10, 100, "h200", 1, 20'000, 30'000},  // outside the window below
  };
  std::vector<Allocation> open = {{4, 4, 10, 100, 1, "l40s", {0, 1, 2}, 4'000, 0}};
  auto u = ComputeUsage(ledger, open, 2'000, 10'000, 6'000, Prices(), 0);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].entity, 10);
  EXPECT_EQ(u[0].by_class.at("h200").gpu_millis, 2 * 3'000);
  EXPECT_EQ(u[0].by_class.at("h200").cost, 6'000);
  EXPECT_EQ(u[0].by_class.at("l40s").gpu_millis, 3 * 2'000);  // open: 4 s .. now (6 s)
  EXPECT_EQ(u[0].by_class.at("l40s").cost, 600);
  EXPECT_EQ(u[0].cost, 6'600);
  EXPECT_EQ(u[1].entity, 11);
  EXPECT_EQ(u[1].by_class.at("l40s").gpu_millis, 8'000);
  auto only = ComputeUsage(ledger, open, 0, 100'000, 6'000, Prices(), 11);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].entity, 11);
}

// Energy and traffic are measured per allocation; a window gets the share of its billing units
// that start inside it, as invoices do (an open allocation has none yet).
TEST(Usage, EnergyAndNetworkAreSharedByTheUnitsInTheWindow) {
  std::vector<UsageRecord> ledger = {
      {1, 1, 10, 100, "h200", 2, 1'000, 5'000},  // units start at 1, 2, 3, 4 s
      {2, 2, 11, 101, "l40s", 1, 0, 10'000},     // 10 units
  };
  ledger[0].energy_mwh = 4'000;
  ledger[0].net_rx_bytes = 400;
  ledger[0].net_tx_bytes = 40;
  ledger[1].net_rx_bytes = 1'000;
  std::vector<Allocation> open = {{4, 4, 10, 100, 1, "l40s", {0}, 4'000, 0}};
  auto u = ComputeUsage(ledger, open, 2'000, 10'000, 6'000, Prices(), 0);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].energy_mwh, 3'000);  // 3 of its 4 units start in [2 s, 10 s)
  EXPECT_EQ(u[0].net_rx_bytes, 300);
  EXPECT_EQ(u[0].net_tx_bytes, 30);
  EXPECT_EQ(u[1].energy_mwh, 0);
  EXPECT_EQ(u[1].net_rx_bytes, 800);  // 8 of 10
  auto all = ComputeUsage(ledger, open, 0, 100'000, 6'000, Prices(), 0);
  EXPECT_EQ(all[0].net_rx_bytes, 400);  // nothing lost over a window that holds it all
  EXPECT_EQ(all[1].net_rx_bytes, 1'000);
}

TEST(Usage, IntervalCost) {
  EXPECT_EQ(IntervalCost(2, 0, 3'600'000, "h200", "", Prices()), 7'200'000);
  EXPECT_EQ(IntervalCost(2, 10, 5, "h200", "", Prices()), 0);
  EXPECT_EQ(IntervalCost(1, 0, 1000, "unknown", "", Prices()), 0);
  // A priority class with its own rate is charged at it; one without, at the general rate.
  PriceBook p = Prices();
  PriceChange be;
  be.gpu_class = "h200";
  be.priority_class = "best-effort";
  be.rate = 1'800'000;
  p.Add(be);
  EXPECT_EQ(IntervalCost(2, 0, 3'600'000, "h200", "best-effort", p), 3'600'000);
  EXPECT_EQ(IntervalCost(2, 0, 3'600'000, "h200", "production", p), 7'200'000);
  EXPECT_EQ(OverlapMillis(0, 10, 5, 20), 5);
  EXPECT_EQ(OverlapMillis(0, 10, 10, 20), 0);
}

}  // namespace
}  // namespace gpuaas
