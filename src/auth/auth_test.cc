#include <gtest/gtest.h>

#include <set>

#include "auth/principal.h"
#include "auth/token.h"

namespace gpuaas {
namespace {

TEST(Token, FreshTokensAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = NewApiToken();
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(LooksLikeToken(*t)) << *t;
    EXPECT_TRUE(seen.insert(*t).second);
  }
  EXPECT_FALSE(LooksLikeToken("not-a-token"));
  EXPECT_FALSE(LooksLikeToken("gpa_" + std::string(64, 'G')));
}

TEST(Token, HashIsSha256Hex) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Principal, RoleRules) {
  Principal admin{1, "root", 0, Role::kPlatformAdmin, false};
  Principal ea{2, "boss", 7, Role::kEntityAdmin, false};
  Principal m{3, "alice", 7, Role::kMember, false};
  Principal agent{0, "agent", 0, Role::kMember, true};
  EXPECT_TRUE(CanSeeEntity(admin, 9));
  EXPECT_TRUE(CanSeeEntity(m, 7));
  EXPECT_FALSE(CanSeeEntity(m, 9));
  EXPECT_FALSE(CanSeeEntity(agent, 7));
  EXPECT_TRUE(CanCreateUser(ea, 7, Role::kMember));
  EXPECT_TRUE(CanCreateUser(ea, 7, Role::kEntityAdmin));
  EXPECT_FALSE(CanCreateUser(ea, 7, Role::kPlatformAdmin));
  EXPECT_FALSE(CanCreateUser(ea, 8, Role::kMember));
  EXPECT_FALSE(CanCreateUser(m, 7, Role::kMember));
  EXPECT_TRUE(CanCreateUser(admin, 8, Role::kPlatformAdmin));
  EXPECT_TRUE(CanRunAgent(agent));
  EXPECT_TRUE(CanRunAgent(admin));
  EXPECT_FALSE(CanRunAgent(ea));
}

}  // namespace
}  // namespace gpuaas
