// TelemetryStore: the server's memory of GPU telemetry. It keeps the recent samples of each
// device (a bounded ring), the device's energy counter, and per-allocation aggregates (average
// utilisation, peak memory, energy, idle device-time) that become the job's "telemetry" and the
// UsageRecord's energy_mwh / idle_gpu_millis when the allocation closes; and the network
// counters of a container job (its own network namespace: ObserveNet), which become the
// UsageRecord's net_rx_bytes / net_tx_bytes.
//
// Integration: between two consecutive samples of a device (a, b], the power is the mean of
// both readings (trapezoid) and the utilisation/memory those of b. That interval is given to the
// allocation holding the device at ingestion, clipped to start at the allocation's start: each
// device belongs to one allocation at a time, so the split is exact (no device-time counted
// twice). Gaps longer than max_gap_ms are not integrated (unknown, not zero). A sample not newer
// than the device's last one is ignored, which makes re-sent samples (an agent retrying after a
// lost answer) harmless. Energy is kept in microjoules (integers: the sums add up exactly).
//
// Thread-safety: NOT thread-safe; the Platform's single writer owns it. Pure: no clock, no I/O.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "model/ids.h"
#include "telemetry/network_rates.h"
#include "telemetry/sample.h"

namespace gpuaas {

struct JobTelemetry {
  int64_t samples = 0;
  int64_t covered_ms = 0;   // device-milliseconds covered by samples
  int64_t util_pct_ms = 0;  // sum of util_pct x ms (average = util_pct_ms / covered_ms)
  int64_t peak_mem_mb = 0;  // highest memory in use on any of its devices
  int64_t energy_uj = 0;    // microjoules over its devices and interval
  int64_t idle_ms = 0;      // device-milliseconds below the idle threshold
  // A container job's traffic: its counters start at 0 with the container, so `last` holds its
  // totals. Unset for jobs without their own network namespace (the process runtime).
  std::optional<NetTraffic> net;
  double avg_util_pct() const {
    return covered_ms > 0 ? static_cast<double>(util_pct_ms) / static_cast<double>(covered_ms) : 0;
  }
  int64_t energy_mwh() const { return energy_uj / 3'600'000; }  // 1 mWh = 3.6 J
};

struct DeviceTelemetry {
  std::deque<GpuSample> recent;  // oldest first, at most options.recent_per_device
  int64_t energy_uj = 0;         // integrated since this server first saw the device
};

// Who holds a device at ingestion: allocation 0 = nobody.
struct DeviceHolder {
  AllocationId allocation = 0;
  Millis start = 0;
};

class TelemetryStore {
 public:
  struct Options {
    size_t recent_per_device = 300;
    int idle_util_pct = 5;        // below this utilisation a device counts as idle
    int64_t max_gap_ms = 60'000;  // longer gaps between samples are not integrated
    size_t max_closed = 10'000;   // closed aggregates kept for the job JSON
  };

  TelemetryStore();
  explicit TelemetryStore(Options options);

  // Ingests a node's samples (any order across devices; per device in time order is best).
  // holder(index) says which allocation holds the device now. Returns how many were kept.
  size_t Ingest(NodeId node, const std::vector<GpuSample>& samples,
                const std::function<DeviceHolder(int index)>& holder);
  // Closes an allocation's aggregate and returns it (all zero without samples). The result
  // stays readable through Job() (bounded). Samples arriving later are not counted for it.
  JobTelemetry Close(AllocationId allocation);
  // A reading of an open allocation's network counters (ignored once it is closed).
  void ObserveNet(AllocationId allocation, const NetReading& r);
  // The aggregate of an open or recently closed allocation; nullopt if it has none.
  std::optional<JobTelemetry> Job(AllocationId allocation) const;

  const DeviceTelemetry* Device(NodeId node, int index) const;
  const std::map<std::pair<NodeId, int>, DeviceTelemetry>& devices() const { return devices_; }
  int64_t ingested() const { return ingested_; }
  const Options& options() const { return options_; }

 private:
  Options options_;
  std::map<std::pair<NodeId, int>, DeviceTelemetry> devices_;
  std::map<AllocationId, JobTelemetry> open_;
  std::map<AllocationId, JobTelemetry> closed_;
  std::deque<AllocationId> closed_order_;
  int64_t ingested_ = 0;
};

}  // namespace gpuaas
