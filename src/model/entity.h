// Entity: a tenant (a subsidiary of the group) that owns users, jobs, quota and a bill.
#pragma once

#include <map>
#include <string>

#include "base/time.h"
#include "model/ids.h"

namespace gpuaas {

struct Entity {
  EntityId id = 0;
  std::string name;  // unique, [a-z0-9][a-z0-9-]{0,62}
  // GPU limit per device class ("h200" -> 8). A class absent from the map has no limit.
  std::map<std::string, int> quota;
  Millis created_at = 0;
  // GPUs per class always obtainable within the preemption grace period (reclaimed from
  // entities borrowing beyond their own guarantee). Absent = 0.
  std::map<std::string, int> guarantee = {};
  int shares = 1;  // fair-share weight

  bool operator==(const Entity&) const = default;
};

// Names of entities, users and nodes: 1..63 chars of [a-z0-9-_.], starting alphanumeric.
bool IsValidName(const std::string& name);

}  // namespace gpuaas
