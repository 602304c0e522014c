#include "agent/net_counters.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

// As Linux 6.1 prints it (Debian 12).
constexpr const char* kProcNetDev =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo: 9000      90    0    0    0     0          0         0     9000      90    0    0 "
    "   0     0       0          0\n"
    "  eth0: 1500000  1200    0    0    0     0          0        12   250000     900    0    0 "
    "   0     0       0          0\n"
    "  eth1:12345678901 77   0    0    0     0          0         0 98765432109  55    0    0 "
    "   0     0       0          0\n";

TEST(NetCountersTest, SumsTheInterfacesButTheLoopbackOrTheNamedOnes) {
  auto all = ParseProcNetDev(kProcNetDev, {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->rx_bytes, 1'500'000 + 12'345'678'901);  // beyond 32 bits
  EXPECT_EQ(all->tx_bytes, 250'000 + 98'765'432'109);
  auto one = ParseProcNetDev(kProcNetDev, {"eth0"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->rx_bytes, 1'500'000);
  EXPECT_EQ(one->tx_bytes, 250'000);
  auto lo = ParseProcNetDev(kProcNetDev, {"lo"});
  ASSERT_TRUE(lo.ok());
  EXPECT_EQ(lo->rx_bytes, 9000);
}

TEST(NetCountersTest, MissingInterfacesAndBadLinesAreErrors) {
  auto missing = ParseProcNetDev(kProcNetDev, {"ib0"});
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("'ib0'"), std::string::npos);
  EXPECT_FALSE(ParseProcNetDev("h1\nh2\n eth0 1 2 3\n", {}).ok());
  EXPECT_FALSE(ParseProcNetDev("h1\nh2\n eth0: 1 2 3\n", {}).ok());
  EXPECT_EQ(ParseProcNetDev("h1\nh2\n", {})->rx_bytes, 0);
  // The real file of this machine parses (its counters are whatever they are).
  EXPECT_TRUE(ReadNetCounters("/proc/net/dev", {"lo"}).ok());
  EXPECT_EQ(ReadNetCounters("/nonexistent/net/dev", {}).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace gpuaas
