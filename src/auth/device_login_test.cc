// Tests of the device login's grants (device_login.h), with time as an input: codes, the happy
// path (approve, token collected once), deny, expiry (and the grace to collect an approved
// grant), polling too fast, the bound, a failed token, and typed codes.
#include "auth/device_login.h"

#include <gtest/gtest.h>

#include <set>

namespace gpuaas {
namespace {

constexpr Millis kLife = 600'000, kEvery = 5'000;

TEST(DeviceLoginTest, CodesAreRandomAndShaped) {
  DeviceGrantStore store(100, 100, kLife, kEvery);
  std::set<std::string> users, devices;
  for (int i = 0; i < 50; ++i) {
    auto g = store.Begin("gpuaas CLI", "10.0.0.1", 1000);
    ASSERT_TRUE(g.ok());
    ASSERT_EQ(g->user_code.size(), 9u);
    EXPECT_EQ(g->user_code[4], '-');
    for (size_t k = 0; k < 9; ++k) {
      if (k == 4) continue;
      EXPECT_NE(std::string("BCDFGHJKLMNPQRSTVWXZ").find(g->user_code[k]), std::string::npos);
    }
    EXPECT_EQ(g->device_code.size(), 43u);  // 32 bytes, base64url
    EXPECT_EQ(g->expires_at, 1000 + kLife);
    users.insert(g->user_code);
    devices.insert(g->device_code);
  }
  EXPECT_EQ(users.size(), 50u);
  EXPECT_EQ(devices.size(), 50u);
}

TEST(DeviceLoginTest, ApprovedTheTokenIsCollectedOnce) {
  DeviceGrantStore store(10, 10, kLife, kEvery);
  auto g = store.Begin("gpuaas CLI on laptop\n(alice)", "10.0.0.1", 0);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->client, "gpuaas CLI on laptop (alice)");  // control characters become spaces
  auto first = store.Poll(g->device_code, 1000);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->approved);
  // The user types the code in lower case, without the dash.
  std::string typed = g->user_code.substr(0, 4) + g->user_code.substr(5);
  for (char& c : typed) c = static_cast<char>(c - 'A' + 'a');
  auto pending = store.Pending(typed, 2000);
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->from, "10.0.0.1");
  auto device = store.Approve(typed, "alice", 3000);
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(*device, g->device_code);
  EXPECT_EQ(store.Pending(g->user_code, 3000).status().code(), Code::kNotFound);  // answered
  auto approving = store.Poll(g->device_code, 7000);
  ASSERT_TRUE(approving.ok());
  EXPECT_FALSE(approving->approved);  // the token is being made
  store.Complete(*device, std::pair<std::string, Millis>("gpa_secret", 99));
  auto done = store.Poll(g->device_code, 13000);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->approved);
  EXPECT_EQ(done->token, "gpa_secret");
  EXPECT_EQ(done->user, "alice");
  EXPECT_EQ(done->token_expires_at, 99);
  EXPECT_EQ(store.Poll(g->device_code, 20000).status().code(), Code::kNotFound);
  EXPECT_EQ(store.size(), 0u);
}

TEST(DeviceLoginTest, DeniedOrTokenRefusedEndsTheGrant) {
  DeviceGrantStore store(10, 10, kLife, kEvery);
  auto g = store.Begin("cli", "a", 0);
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(store.Deny(g->user_code, "bob", 1000).ok());
  EXPECT_EQ(store.Approve(g->user_code, "bob", 1000).status().code(), Code::kNotFound);
  auto denied = store.Poll(g->device_code, 2000);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(denied.status().message(), "bob refused this login in the portal");
  EXPECT_EQ(store.Poll(g->device_code, 9000).status().code(), Code::kNotFound);

  auto h = store.Begin("cli", "a", 0);
  ASSERT_TRUE(h.ok());
  auto device = store.Approve(h->user_code, "carol", 1000);
  ASSERT_TRUE(device.ok());
  store.Complete(*device, PermissionDenied("tokens are not for agents"));
  auto refused = store.Poll(h->device_code, 2000);
  EXPECT_EQ(refused.status().code(), Code::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("no token could be made for carol"), std::string::npos);
}

TEST(DeviceLoginTest, GrantsExpireButAnApprovedOneCanStillBeCollected) {
  DeviceGrantStore store(10, 10, kLife, kEvery);
  auto g = store.Begin("cli", "a", 0);
  auto h = store.Begin("cli", "a", 5000);  // expires at kLife + 5000
  ASSERT_TRUE(g.ok() && h.ok());
  auto late = store.Pending(g->user_code, kLife);
  EXPECT_EQ(late.status().code(), Code::kNotFound);
  EXPECT_NE(late.status().message().find("expired (after 10 minutes)"), std::string::npos);
  EXPECT_EQ(store.Poll(g->device_code, kLife).status().code(), Code::kNotFound);
  // Approved a second before the end: the CLI's next poll still gets it.
  auto device = store.Approve(h->user_code, "alice", kLife + 4000);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  store.Complete(*device, std::pair<std::string, Millis>("t", 0));
  auto got = store.Poll(h->device_code, kLife + 9000);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->approved);
}

TEST(DeviceLoginTest, PollingTooFastIsToldToSlowDown) {
  DeviceGrantStore store(10, 10, kLife, kEvery);
  auto g = store.Begin("cli", "a", 0);
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(store.Poll(g->device_code, 1000).ok());
  auto fast = store.Poll(g->device_code, 3000);
  EXPECT_EQ(fast.status().code(), Code::kResourceExhausted);
  EXPECT_EQ(fast.status().message(), "slow down: ask at most every 5 s");
  EXPECT_TRUE(store.Poll(g->device_code, 8000).ok());
}

TEST(DeviceLoginTest, TheNumberUnderWayIsBoundedInAllAndPerAddress) {
  DeviceGrantStore store(3, 2, kLife, kEvery);
  ASSERT_TRUE(store.Begin("a", "10.0.0.1", 0).ok());
  ASSERT_TRUE(store.Begin("b", "10.0.0.1", 0).ok());
  auto third = store.Begin("c", "10.0.0.1", 1);
  EXPECT_EQ(third.status().code(), Code::kResourceExhausted);
  EXPECT_NE(third.status().message().find("from 10.0.0.1"), std::string::npos);
  ASSERT_TRUE(store.Begin("c", "10.0.0.2", 1).ok());  // another address
  EXPECT_EQ(store.Begin("d", "10.0.0.3", 2).status().code(), Code::kResourceExhausted);
  EXPECT_TRUE(store.Begin("d", "10.0.0.1", kLife).ok());  // the first two expired
}

TEST(DeviceLoginTest, TypedCodesAreNormalisedOrRefused) {
  EXPECT_EQ(*NormalizeUserCode("wdjb-mjht"), "WDJB-MJHT");
  EXPECT_EQ(*NormalizeUserCode(" WDJB MJHT "), "WDJB-MJHT");
  EXPECT_EQ(*NormalizeUserCode("WDJBMJHT"), "WDJB-MJHT");
  for (const char* bad : {"", "WDJB-MJH", "WDJB-MJHTX", "WDJB-MJH0", "AEIO-UAEI", "WDJB_MJHT"}) {
    EXPECT_EQ(NormalizeUserCode(bad).status().code(), Code::kInvalidArgument) << bad;
  }
  DeviceGrantStore store(1, 1, kLife, kEvery);
  EXPECT_EQ(store.Pending("nonsense", 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store.Pending("BCDF-GHJK", 0).status().code(), Code::kNotFound);
  std::string long_client(300, 'x');
  long_client.replace(119, 2, "é");  // bytes 119 and 120: the cut at 120 would split it
  auto g = store.Begin(long_client, "", 0);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->client.size(), 119u);  // cut before é, not inside it
}

}  // namespace
}  // namespace gpuaas
