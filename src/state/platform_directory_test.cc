// Directory group mappings and what they do at a single sign-on (platform_directory.cc).
#include <gtest/gtest.h>

#include "auth/directory_groups.h"
#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

class DirectoryTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    CreateEntity("risk");
    CreateEntity("retail");
  }
  Result<GroupMapping> Map(const Principal& who, const std::string& group,
                           const std::string& entity, Role role = Role::kMember) {
    return Call<GroupMapping>([&](auto done) {
      platform_->CreateGroupMapping(who, {group, entity, role}, done);
    });
  }
  Result<UserWithToken> SignIn(const std::string& name, std::vector<std::string> groups) {
    return Call<UserWithToken>([&](auto done) {
      platform_->IssueSignInToken({name, std::move(groups)}, 3600, done);
    });
  }
  const User* UserNamed(const std::string& name) {
    for (const User& u : platform_->ListUsers(admin_)) {
      if (u.name == name) return platform_->FindUserById(u.id);
    }
    return nullptr;
  }
};

TEST_F(DirectoryTest, AGroupMakesTheAccountAtTheFirstSignInAndItsRoleFollowsTheGroups) {
  ASSERT_TRUE(Map(admin_, "risk-ml", "risk").ok());
  ASSERT_TRUE(Map(admin_, "risk-ml-leads", "risk", Role::kEntityAdmin).ok());
  auto first = SignIn("dana", {"everyone", "risk-ml"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->user.role, Role::kMember);
  EXPECT_TRUE(first->user.from_directory);
  Principal dana = platform_->Authenticate(first->token).value();
  EXPECT_EQ(dana.entity, platform_->GetEntity(admin_, "risk")->id);
  EXPECT_EQ(dana.role, Role::kMember);

  // Promoted in the directory: entity-admin at the next sign-in; kept over a restart.
  auto second = SignIn("dana", {"risk-ml", "risk-ml-leads"});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->user.id, first->user.id);
  EXPECT_EQ(second->user.role, Role::kEntityAdmin);
  Restart();
  ASSERT_NE(UserNamed("dana"), nullptr);
  EXPECT_EQ(UserNamed("dana")->role, Role::kEntityAdmin);
  EXPECT_TRUE(UserNamed("dana")->from_directory);
  ASSERT_EQ(platform_->ListGroupMappings(admin_)->size(), 2u);

  // Out of the leads: member again. Out of every mapped group: refused, the account kept.
  EXPECT_EQ(SignIn("dana", {"risk-ml"})->user.role, Role::kMember);
  auto gone = SignIn("dana", {"everyone"});
  EXPECT_EQ(gone.status().code(), Code::kPermissionDenied);
  EXPECT_NE(gone.status().message().find("none of your groups gives access to it"),
            std::string::npos)
      << gone.status().message();
  EXPECT_EQ(UserNamed("dana")->role, Role::kMember);
  // A group of another entity does not move an account.
  ASSERT_TRUE(Map(admin_, "retail-ds", "retail").ok());
  EXPECT_EQ(SignIn("dana", {"retail-ds"}).status().code(), Code::kPermissionDenied);
}

TEST_F(DirectoryTest, AccountsMadeByHandIgnoreTheGroups) {
  Member("erin", "retail", Role::kEntityAdmin);
  ASSERT_TRUE(Map(admin_, "risk-ml", "risk").ok());
  auto in = SignIn("erin", {"risk-ml"});
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->user.role, Role::kEntityAdmin);
  EXPECT_FALSE(in->user.from_directory);
  EXPECT_EQ(platform_->FindEntityById(in->user.entity)->name, "retail");
  EXPECT_TRUE(SignIn("erin", {}).ok());  // no group at all: as before the mappings
}

TEST_F(DirectoryTest, SignInsThatMakeNoAccount) {
  // No mapping matches: the page says whom to ask.
  auto none = SignIn("frank", {"everyone"});
  EXPECT_EQ(none.status().code(), Code::kPermissionDenied);
  EXPECT_NE(none.status().message().find("no account"), std::string::npos);
  ASSERT_TRUE(Map(admin_, "risk-ml", "risk").ok());
  ASSERT_TRUE(Map(admin_, "retail-ds", "retail").ok());
  EXPECT_NE(SignIn("frank", {"everyone"}).status().message().find("none of your 1 directory"),
            std::string::npos);
  // Groups of two entities: a user belongs to one, a platform-admin decides which.
  auto both = SignIn("frank", {"risk-ml", "retail-ds"});
  EXPECT_EQ(both.status().code(), Code::kPermissionDenied);
  EXPECT_NE(both.status().message().find("several entities (risk, retail)"), std::string::npos)
      << both.status().message();
  // A name the platform cannot hold (an e-mail address as the username claim).
  auto mail = SignIn("frank@bank.example", {"risk-ml"});
  EXPECT_EQ(mail.status().code(), Code::kPermissionDenied);
  EXPECT_NE(mail.status().message().find("username_claim"), std::string::npos);
  EXPECT_EQ(UserNamed("frank"), nullptr);
  EXPECT_EQ(UserNamed("frank@bank.example"), nullptr);
  Restart();
  EXPECT_EQ(platform_->ListUsers(admin_).size(), 1u);  // the platform admin only
}

TEST_F(DirectoryTest, WhoMayMapWhichGroup) {
  Principal risk_admin = Member("ria", "risk", Role::kEntityAdmin);
  Principal member = Member("mo", "risk");
  EXPECT_TRUE(Map(risk_admin, "risk-ml", "risk", Role::kEntityAdmin).ok());
  // Not another entity's (not even told it exists), not as a member, never platform-admin.
  EXPECT_EQ(Map(risk_admin, "x", "retail").status().code(), Code::kNotFound);
  EXPECT_EQ(Map(member, "x", "risk").status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Map(admin_, "x", "risk", Role::kPlatformAdmin).status().code(),
            Code::kFailedPrecondition);  // 422: a known role that breaks the rule
  EXPECT_EQ(Map(admin_, "", "risk").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Map(admin_, "x", "nowhere").status().code(), Code::kNotFound);
  // A group maps to one entity: the platform-admin is told which, an entity-admin is not.
  ASSERT_TRUE(Map(admin_, "retail-ds", "retail").ok());
  auto taken = Map(risk_admin, "retail-ds", "risk");
  EXPECT_EQ(taken.status().code(), Code::kConflict);
  EXPECT_EQ(taken.status().message().find("retail:"), std::string::npos);
  EXPECT_NE(Map(admin_, "retail-ds", "risk").status().message().find("retail"), std::string::npos);
  EXPECT_EQ(Map(admin_, "risk-ml", "risk").status().code(), Code::kConflict);
  // Listing: an entity-admin sees its entity's, a member none.
  EXPECT_EQ(platform_->ListGroupMappings(admin_)->size(), 2u);
  auto own = platform_->ListGroupMappings(risk_admin);
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ((*own)[0].group, "risk-ml");
  EXPECT_EQ((*own)[0].created_by, risk_admin.user);
  EXPECT_EQ(platform_->ListGroupMappings(member).status().code(), Code::kPermissionDenied);
  // Removing: its own entity's only; then the group makes no account, and the id is gone.
  const GroupMappingId retail_id = platform_->ListGroupMappings(admin_)->back().id;
  auto remove = [&](const Principal& who, GroupMappingId id) {
    return Call<GroupMapping>([&](auto done) { platform_->DeleteGroupMapping(who, id, done); });
  };
  EXPECT_EQ(remove(risk_admin, retail_id).status().code(), Code::kNotFound);
  EXPECT_EQ(remove(member, (*own)[0].id).status().code(), Code::kPermissionDenied);
  EXPECT_TRUE(remove(risk_admin, (*own)[0].id).ok());
  EXPECT_EQ(remove(risk_admin, (*own)[0].id).status().code(), Code::kNotFound);
  EXPECT_EQ(SignIn("gus", {"risk-ml"}).status().code(), Code::kPermissionDenied);
  Restart();
  ASSERT_EQ(platform_->ListGroupMappings(admin_)->size(), 1u);
  EXPECT_EQ(platform_->ListGroupMappings(admin_)->front().id, retail_id);
}

TEST_F(DirectoryTest, TheNumberOfMappingsIsBounded) {
  for (size_t i = 0; i < kMaxGroupMappings; ++i) {
    ASSERT_TRUE(Map(admin_, "g" + std::to_string(i), "risk").ok());
  }
  auto full = Map(admin_, "one-more", "risk");
  EXPECT_EQ(full.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(platform_->ListGroupMappings(admin_)->size(), kMaxGroupMappings);
}

}  // namespace
}  // namespace gpuaas
