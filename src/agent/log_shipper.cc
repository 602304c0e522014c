#include "agent/log_shipper.h"

#include <algorithm>

namespace gpuaas {
namespace {

int64_t RawBytesFor(int64_t b64_chars) { return std::max<int64_t>(0, b64_chars / 4 * 3); }
int64_t B64CharsOf(int64_t raw_bytes) { return (raw_bytes + 2) / 3 * 4; }

}  // namespace

LogShipper::LogShipper(int64_t max_b64_per_workload, int64_t max_b64_per_report)
    : max_b64_per_workload_(max_b64_per_workload), max_b64_per_report_(max_b64_per_report) {}

int64_t LogShipper::Offset(AllocationId allocation) const {
  auto it = offsets_.find(allocation);
  return it == offsets_.end() ? 0 : it->second;
}

std::vector<LogChunk> LogShipper::Collect(const std::vector<WorkloadStatus>& workloads,
                                          const ReadFn& read) const {
  std::vector<const WorkloadStatus*> order;
  for (const auto& w : workloads) order.push_back(&w);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    if (a->final() != b->final()) return a->final();
    return a->allocation < b->allocation;
  });
  std::vector<LogChunk> chunks;
  int64_t budget = max_b64_per_report_;
  for (const WorkloadStatus* w : order) {
    const int64_t cap = w->final() ? budget : std::min(budget, max_b64_per_workload_);
    const int64_t max_raw = RawBytesFor(cap);
    if (max_raw <= 0) break;
    const int64_t offset = Offset(w->allocation);
    auto data = read(w->allocation, offset, max_raw);
    if (!data.ok() || data->empty()) continue;
    budget -= B64CharsOf(static_cast<int64_t>(data->size()));
    chunks.push_back({w->job, w->allocation, offset, std::move(*data)});
  }
  return chunks;
}

void LogShipper::Acknowledge(const std::vector<LogChunk>& chunks) {
  for (const auto& c : chunks) {
    int64_t& off = offsets_[c.allocation];
    if (off == c.offset) off += static_cast<int64_t>(c.data.size());
  }
}

bool LogShipper::Drained(AllocationId allocation, const ReadFn& read) const {
  auto more = read(allocation, Offset(allocation), 1);
  return !more.ok() || more->empty();
}

}  // namespace gpuaas
