#include "model/user.h"

namespace gpuaas {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kMember:
      return "member";
    case Role::kEntityAdmin:
      return "entity-admin";
    case Role::kPlatformAdmin:
      return "platform-admin";
  }
  return "member";
}

std::optional<Role> ParseRole(const std::string& s) {
  if (s == "member") return Role::kMember;
  if (s == "entity-admin") return Role::kEntityAdmin;
  if (s == "platform-admin") return Role::kPlatformAdmin;
  return std::nullopt;
}

}  // namespace gpuaas
