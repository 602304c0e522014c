// What a person's directory groups give under the platform's group mappings (single sign-on,
// docs/adr/0024): for each entity a mapped group names, the highest role among those groups.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/directory_group.h"

namespace gpuaas {

// At most this many groups of one person are read from the provider's claim (the rest are
// ignored: Entra ID, for one, sends at most 200 and a link beyond).
constexpr size_t kMaxDirectoryGroups = 1000;
// At most this many mappings on a platform, and this long a group name.
constexpr size_t kMaxGroupMappings = 1000;
constexpr size_t kMaxGroupNameBytes = 256;

struct DirectoryGrant {
  EntityId entity = 0;
  Role role = Role::kMember;
  std::vector<std::string> groups;  // the person's groups mapped to this entity, sorted

  bool operator==(const DirectoryGrant&) const = default;
};

// One grant per entity that one of `groups` is mapped to, in entity id order.
std::vector<DirectoryGrant> GrantsOf(const std::vector<GroupMapping>& mappings,
                                     const std::vector<std::string>& groups);

// A group name as a mapping may hold it: 1 to kMaxGroupNameBytes bytes, no control characters
// (InvalidArgument otherwise). Names are compared exactly, case included: "/bank/risk-ml"
// (Keycloak's full path), "GPU-Users" (AD) or an Entra ID object id.
Status CheckGroupName(std::string_view group);

// Roles a mapping may give: member and entity-admin.
bool MappableRole(Role role);

}  // namespace gpuaas
