#include "auth/directory_groups.h"

#include <algorithm>
#include <map>
#include <set>

namespace gpuaas {
namespace {

int Rank(Role r) {
  switch (r) {
    case Role::kMember:
      return 0;
    case Role::kEntityAdmin:
      return 1;
    case Role::kPlatformAdmin:
      return 2;
  }
  return 0;
}

}  // namespace

std::vector<DirectoryGrant> GrantsOf(const std::vector<GroupMapping>& mappings,
                                     const std::vector<std::string>& groups) {
  const std::set<std::string> mine(groups.begin(), groups.end());
  std::map<EntityId, DirectoryGrant> by_entity;
  for (const GroupMapping& m : mappings) {
    if (!mine.count(m.group) || !MappableRole(m.role)) continue;
    auto [it, fresh] = by_entity.try_emplace(m.entity, DirectoryGrant{m.entity, m.role, {}});
    DirectoryGrant& g = it->second;
    if (!fresh && Rank(m.role) > Rank(g.role)) g.role = m.role;
    g.groups.push_back(m.group);
  }
  std::vector<DirectoryGrant> out;
  for (auto& [entity, g] : by_entity) {
    std::sort(g.groups.begin(), g.groups.end());
    g.groups.erase(std::unique(g.groups.begin(), g.groups.end()), g.groups.end());
    out.push_back(std::move(g));
  }
  return out;
}

Status CheckGroupName(std::string_view group) {
  if (group.empty() || group.size() > kMaxGroupNameBytes) {
    return InvalidArgument("a group name has 1 to " + std::to_string(kMaxGroupNameBytes) +
                           " bytes");
  }
  for (unsigned char c : group) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument("a group name may not hold control characters");
    }
  }
  return Status::Ok();
}

bool MappableRole(Role role) { return role == Role::kMember || role == Role::kEntityAdmin; }

}  // namespace gpuaas
