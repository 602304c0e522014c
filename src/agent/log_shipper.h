// LogShipper: picks the log bytes that go into the next heartbeat and remembers, per workload,
// how far the server has acknowledged (offsets advance only after a 200 answer, so a lost answer
// re-sends the same bytes; the server writes only what it does not have yet).
// Budgets count base64 characters, so that a heartbeat stays far below the server's 1 MiB body
// limit: at most 256 KiB per running workload and 768 KiB per report. A final workload may use
// the whole report budget, so that its last output reaches the server with its exit.
// Thread-compatible (the Agent guards it).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "agent/protocol.h"
#include "agent/workload.h"
#include "base/status.h"

namespace gpuaas {

class LogShipper {
 public:
  // Reads up to max_bytes of a workload's log from offset ("" at its end).
  using ReadFn = std::function<Result<std::string>(AllocationId, int64_t offset, int64_t max)>;

  explicit LogShipper(int64_t max_b64_per_workload = 256 << 10,
                      int64_t max_b64_per_report = 768 << 10);

  // Chunks for the next report: final workloads first, then running ones, each in allocation
  // order, from the acknowledged offset. Unreadable logs are skipped.
  std::vector<LogChunk> Collect(const std::vector<WorkloadStatus>& workloads,
                                const ReadFn& read) const;
  // The server answered 200 to a report carrying these chunks.
  void Acknowledge(const std::vector<LogChunk>& chunks);
  int64_t Offset(AllocationId allocation) const;
  // True when nothing is left to ship from the workload's log.
  bool Drained(AllocationId allocation, const ReadFn& read) const;
  void Forget(AllocationId allocation) { offsets_.erase(allocation); }

 private:
  int64_t max_b64_per_workload_;
  int64_t max_b64_per_report_;
  std::map<AllocationId, int64_t> offsets_;
};

}  // namespace gpuaas
