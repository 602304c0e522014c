#include "auth/directory_groups.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

GroupMapping Map(GroupMappingId id, const std::string& group, EntityId entity, Role role) {
  return GroupMapping{id, group, entity, role, 1, 0};
}

TEST(DirectoryGroupsTest, OneGrantPerEntityWithTheHighestRoleOfItsGroups) {
  const std::vector<GroupMapping> m = {
      Map(1, "risk-ml", 2, Role::kMember),    Map(2, "risk-ml-leads", 2, Role::kEntityAdmin),
      Map(3, "retail-ds", 1, Role::kMember),  Map(4, "ops", 3, Role::kEntityAdmin),
      Map(5, "/bank/Risk", 3, Role::kMember),
  };
  EXPECT_TRUE(GrantsOf(m, {}).empty());
  EXPECT_TRUE(GrantsOf(m, {"everyone", "RISK-ML"}).empty());  // names are compared exactly
  EXPECT_EQ(GrantsOf(m, {"risk-ml"}),
            (std::vector<DirectoryGrant>{{2, Role::kMember, {"risk-ml"}}}));
  EXPECT_EQ(GrantsOf(m, {"risk-ml-leads", "risk-ml", "risk-ml"}),
            (std::vector<DirectoryGrant>{{2, Role::kEntityAdmin, {"risk-ml", "risk-ml-leads"}}}));
  // Two entities: two grants, in entity order; the role of one never leaks to the other.
  EXPECT_EQ(GrantsOf(m, {"ops", "retail-ds"}),
            (std::vector<DirectoryGrant>{{1, Role::kMember, {"retail-ds"}},
                                         {3, Role::kEntityAdmin, {"ops"}}}));
}

TEST(DirectoryGroupsTest, APlatformAdminMappingNeverGrantsAnything) {
  // The platform refuses to make one; a row that says so anyway (edited by hand) gives nothing.
  const std::vector<GroupMapping> m = {Map(1, "root", 1, Role::kPlatformAdmin)};
  EXPECT_TRUE(GrantsOf(m, {"root"}).empty());
  EXPECT_FALSE(MappableRole(Role::kPlatformAdmin));
  EXPECT_TRUE(MappableRole(Role::kMember));
  EXPECT_TRUE(MappableRole(Role::kEntityAdmin));
}

TEST(DirectoryGroupsTest, GroupNames) {
  EXPECT_TRUE(CheckGroupName("GPU Users").ok());
  EXPECT_TRUE(CheckGroupName("/bank/risk-ml").ok());
  EXPECT_TRUE(CheckGroupName("4f6c2b1e-0d7a-4c55-9a8e-1c2d3e4f5a6b").ok());  // an Entra ID object
  EXPECT_TRUE(CheckGroupName("Équipe données").ok());
  EXPECT_TRUE(CheckGroupName(std::string(kMaxGroupNameBytes, 'g')).ok());
  EXPECT_EQ(CheckGroupName("").code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckGroupName(std::string(kMaxGroupNameBytes + 1, 'g')).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(CheckGroupName("a\nb").code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckGroupName(std::string("a\0b", 3)).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace gpuaas
