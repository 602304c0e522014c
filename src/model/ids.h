// Identifiers: positive 64-bit integers assigned by the state in increasing order (0 = none).
// Ids double as the deterministic iteration order of the scheduler and the simulator.
#pragma once

#include <cstdint>

namespace gpuaas {

using EntityId = int64_t;
using UserId = int64_t;
using NodeId = int64_t;
using JobId = int64_t;
using AllocationId = int64_t;
using TokenId = int64_t;
using GroupMappingId = int64_t;

}  // namespace gpuaas
