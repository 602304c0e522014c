// Principal: who is calling, and the role rules of the platform in one place.
// member: sees and acts on its own entity's jobs; entity-admin: also manages its entity's users;
// platform-admin: everything. The embedded agent is a principal of its own that may only
// heartbeat. Pure functions; thread-safe.
#pragma once

#include <string>

#include "model/ids.h"
#include "model/user.h"

namespace gpuaas {

struct Principal {
  UserId user = 0;  // 0 for the embedded agent
  std::string name;
  EntityId entity = 0;
  Role role = Role::kMember;
  bool agent = false;  // may only use the agent protocol
};

bool IsPlatformAdmin(const Principal& p);
// May `p` see objects of `entity`? (Members and entity-admins: only their own.)
bool CanSeeEntity(const Principal& p, EntityId entity);
// May `p` create a user of `role` in `entity`?
bool CanCreateUser(const Principal& p, EntityId entity, Role role);
// May `p` run the agent protocol (register nodes, report workloads)?
bool CanRunAgent(const Principal& p);

}  // namespace gpuaas
