#include "telemetry/telemetry_store.h"

#include <algorithm>

namespace gpuaas {

TelemetryStore::TelemetryStore() : TelemetryStore(Options{}) {}

TelemetryStore::TelemetryStore(Options options) : options_(options) {
  options_.recent_per_device = std::max<size_t>(2, options_.recent_per_device);
}

size_t TelemetryStore::Ingest(NodeId node, const std::vector<GpuSample>& samples,
                              const std::function<DeviceHolder(int index)>& holder) {
  size_t kept = 0;
  for (const GpuSample& s : samples) {
    if (s.index < 0 || s.t <= 0) continue;
    DeviceTelemetry& d = devices_[{node, s.index}];
    if (!d.recent.empty() && s.t <= d.recent.back().t) continue;  // old or re-sent
    const DeviceHolder h = holder ? holder(s.index) : DeviceHolder{};
    JobTelemetry* job = nullptr;
    if (h.allocation != 0 && s.t >= h.start && !closed_.count(h.allocation)) {
      job = &open_[h.allocation];
      job->samples += 1;
      job->peak_mem_mb = std::max(job->peak_mem_mb, s.mem_used_mb);
    }
    if (!d.recent.empty()) {
      const GpuSample& p = d.recent.back();
      const int64_t gap = s.t - p.t;
      if (gap <= options_.max_gap_ms) {
        const int64_t mean_mw = (p.power_mw + s.power_mw) / 2;
        d.energy_uj += mean_mw * gap;  // mW x ms = uJ
        if (job) {
          const int64_t ms = s.t - std::max(p.t, h.start);
          if (ms > 0) {
            job->covered_ms += ms;
            job->util_pct_ms += static_cast<int64_t>(std::clamp(s.util_pct, 0, 100)) * ms;
            job->energy_uj += mean_mw * ms;
            if (s.util_pct < options_.idle_util_pct) job->idle_ms += ms;
          }
        }
      }
    }
    d.recent.push_back(s);
    if (d.recent.size() > options_.recent_per_device) d.recent.pop_front();
    ++kept;
  }
  ingested_ += static_cast<int64_t>(kept);
  return kept;
}

JobTelemetry TelemetryStore::Close(AllocationId allocation) {
  JobTelemetry t;
  if (auto it = open_.find(allocation); it != open_.end()) {
    t = it->second;
    open_.erase(it);
  }
  if (closed_.emplace(allocation, t).second) {
    closed_order_.push_back(allocation);
    while (closed_order_.size() > options_.max_closed) {
      closed_.erase(closed_order_.front());
      closed_order_.pop_front();
    }
  }
  return t;
}

void TelemetryStore::ObserveNet(AllocationId allocation, const NetReading& r) {
  if (allocation == 0 || closed_.count(allocation)) return;
  JobTelemetry& job = open_[allocation];
  if (!job.net) {
    job.net = NetTraffic{r, std::nullopt, std::nullopt};
  } else {
    job.net->Observe(r);
  }
}

std::optional<JobTelemetry> TelemetryStore::Job(AllocationId allocation) const {
  if (auto it = open_.find(allocation); it != open_.end()) return it->second;
  if (auto it = closed_.find(allocation); it != closed_.end()) {
    if (it->second.samples == 0 && !it->second.net) return std::nullopt;
    return it->second;
  }
  return std::nullopt;
}

const DeviceTelemetry* TelemetryStore::Device(NodeId node, int index) const {
  auto it = devices_.find({node, index});
  return it == devices_.end() ? nullptr : &it->second;
}

}  // namespace gpuaas
