// A directory group mapping (single sign-on, docs/adr/0024): people whom the company's identity
// provider puts in `group` may sign in as `role` of `entity`. Their account is made at their
// first sign-in and its role follows their groups at every later one; accounts made by hand are
// not touched. An entity-admin maps groups to its own entity, a platform-admin to any.
#pragma once

#include <string>

#include "base/time.h"
#include "model/ids.h"
#include "model/user.h"

namespace gpuaas {

struct GroupMapping {
  GroupMappingId id = 0;
  std::string group;  // exactly as the provider's groups claim says it
  EntityId entity = 0;
  Role role = Role::kMember;  // member or entity-admin; never platform-admin
  UserId created_by = 0;
  Millis created_at = 0;

  bool operator==(const GroupMapping&) const = default;
};

struct DeleteGroupMapping {
  GroupMappingId id = 0;
};

}  // namespace gpuaas
