#include "auth/principal.h"

namespace gpuaas {

bool IsPlatformAdmin(const Principal& p) { return !p.agent && p.role == Role::kPlatformAdmin; }

bool CanSeeEntity(const Principal& p, EntityId entity) {
  if (p.agent) return false;
  return IsPlatformAdmin(p) || (entity != 0 && p.entity == entity);
}

bool CanCreateUser(const Principal& p, EntityId entity, Role role) {
  if (IsPlatformAdmin(p)) return true;
  if (p.agent || p.role != Role::kEntityAdmin) return false;
  return entity == p.entity && role != Role::kPlatformAdmin;
}

bool CanRunAgent(const Principal& p) { return p.agent || IsPlatformAdmin(p); }

}  // namespace gpuaas
