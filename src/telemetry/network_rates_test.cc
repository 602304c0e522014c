#include "telemetry/network_rates.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

TEST(NetworkRatesTest, RatesAreTheCountersDifferenceOverTheInterval) {
  NetworkRates n;
  EXPECT_EQ(n.Node(1), nullptr);
  n.Observe(1, {10'000, 1'000, 5'000});
  ASSERT_NE(n.Node(1), nullptr);
  EXPECT_FALSE(n.Node(1)->rx_bytes_per_s.has_value());  // one reading: no rate yet
  n.Observe(1, {12'000, 3'001'000, 5'500});             // 2 s: 1.5 MB/s in, 250 B/s out
  EXPECT_DOUBLE_EQ(*n.Node(1)->rx_bytes_per_s, 1'500'000.0);
  EXPECT_DOUBLE_EQ(*n.Node(1)->tx_bytes_per_s, 250.0);
  // A re-sent, older or too close reading changes nothing; another node is apart.
  n.Observe(1, {12'000, 9'999'999, 9'999'999});
  n.Observe(1, {12'400, 9'999'999, 9'999'999});
  n.Observe(1, {11'000, 0, 0});
  EXPECT_EQ(n.Node(1)->last, (NetReading{12'000, 3'001'000, 5'500}));
  n.Observe(2, {12'000, 7, 7});
  EXPECT_DOUBLE_EQ(*n.Node(1)->rx_bytes_per_s, 1'500'000.0);
  EXPECT_FALSE(n.Node(2)->rx_bytes_per_s.has_value());
  // Counters that went back (the node rebooted) start afresh: no negative rate.
  n.Observe(1, {13'000, 100, 100});
  EXPECT_FALSE(n.Node(1)->rx_bytes_per_s.has_value());
  n.Observe(1, {14'000, 1'100, 100});
  EXPECT_DOUBLE_EQ(*n.Node(1)->rx_bytes_per_s, 1'000.0);
  EXPECT_DOUBLE_EQ(*n.Node(1)->tx_bytes_per_s, 0.0);
}

}  // namespace
}  // namespace gpuaas
