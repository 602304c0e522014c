// Allocation: devices held by a job on a node, from start until release. UsageRecord: a closed
// allocation interval appended to the usage ledger; invoices and usage are computed from the
// ledger (plus the still-open allocations up to "now"), never kept as separate counters.
#pragma once

#include <string>
#include <vector>

#include "base/time.h"
#include "model/ids.h"

namespace gpuaas {

struct Allocation {
  AllocationId id = 0;
  JobId job = 0;
  EntityId entity = 0;
  UserId user = 0;
  NodeId node = 0;
  std::string gpu_class;
  std::vector<int> devices;  // indices on `node`
  Millis start = 0;
  Millis end = 0;  // 0 while open

  bool operator==(const Allocation&) const = default;
};

struct UsageRecord {
  AllocationId allocation = 0;
  JobId job = 0;
  EntityId entity = 0;
  UserId user = 0;
  std::string gpu_class;
  int gpus = 0;
  Millis start = 0;
  Millis end = 0;
  // Filled from telemetry when the allocation closes (0 = no samples): energy of its devices
  // in milliwatt-hours, and device-milliseconds spent below the idle utilisation threshold.
  int64_t energy_mwh = 0;
  int64_t idle_gpu_millis = 0;
  // A container job's network traffic in bytes (its own network namespace; 0 = not measured:
  // the process runtime shares the node's network).
  int64_t net_rx_bytes = 0;
  int64_t net_tx_bytes = 0;

  bool operator==(const UsageRecord&) const = default;
};

}  // namespace gpuaas
