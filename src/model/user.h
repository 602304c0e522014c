// User and API token. A token is 256 random bits shown once; only its SHA-256 hash is stored.
#pragma once

#include <optional>
#include <string>

#include "base/time.h"
#include "model/ids.h"

namespace gpuaas {

enum class Role { kMember, kEntityAdmin, kPlatformAdmin };

const char* RoleName(Role r);  // "member", "entity-admin", "platform-admin"
std::optional<Role> ParseRole(const std::string& s);

struct User {
  UserId id = 0;
  std::string name;     // unique across the platform
  EntityId entity = 0;  // 0 only for the bootstrap platform admin
  Role role = Role::kMember;
  Millis created_at = 0;
  // Made at a single sign-on by a directory group mapping (model/directory_group.h): its role
  // follows the person's groups at each sign-in, and it may sign in only while they map to its
  // entity. false: made by an administrator, whatever the groups say.
  bool from_directory = false;
  // Disabled by an administrator at this time (someone left): its tokens are refused and it
  // cannot sign in, its history stays. 0 = active.
  Millis disabled_at = 0;

  bool operator==(const User&) const = default;
};

struct ApiToken {
  TokenId id = 0;
  UserId user = 0;
  std::string hash_hex;  // SHA-256 of the secret, lowercase hex
  Millis created_at = 0;
  Millis expires_at = 0;  // refused from then on; 0 = never
  bool session = false;   // a portal session made by a single sign-on: revoked at sign-out

  bool operator==(const ApiToken&) const = default;
};

}  // namespace gpuaas
