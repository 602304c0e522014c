// Usage queries of the Platform, computed from the ledger (see billing/usage.h).
#include "state/platform.h"

namespace gpuaas {

Result<std::vector<EntityUsage>> Platform::Usage(const Principal& p, EntityId entity, Millis from,
                                                 Millis to) const {
  if (p.agent) return PermissionDenied("agents do not read usage");
  if (!IsPlatformAdmin(p)) {
    if (entity != 0 && entity != p.entity) return NotFound("entity does not exist");
    entity = p.entity;
    if (entity == 0) return std::vector<EntityUsage>{};
  }
  std::vector<Allocation> open;
  for (const auto& [id, a] : allocations_) {
    if (a.end == 0) open.push_back(a);
  }
  return ComputeUsage(ledger_, open, from, to, clock_.Now(), prices_, entity, OpenMeasured(open));
}

}  // namespace gpuaas
