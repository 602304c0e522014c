// GPU telemetry and health of the agents' reports (see platform.h for the threading contract):
// samples go to the TelemetryStore, attributed to the allocation holding each device; a device
// reported unhealthy stops being schedulable (the scheduler skips unhealthy devices) and the
// job holding it is failed with the reason, so that its agent stops it.
#include <algorithm>
#include <map>

#include "base/log.h"
#include "state/platform.h"

namespace gpuaas {

bool Platform::ApplyTelemetry(Node& node, const NodeReport& r, std::vector<Mutation>& batch) {
  std::map<int, gpuaas::DeviceHolder> holders;
  std::map<int, AllocationId> open_by_device;
  for (const auto& [aid, a] : allocations_) {
    if (a.node != node.id || a.end != 0) continue;
    for (int d : a.devices) {
      holders[d] = gpuaas::DeviceHolder{aid, a.start};
      open_by_device[d] = aid;
    }
  }
  if (!r.samples.empty()) {
    telemetry_.Ingest(node.id, r.samples, [&holders](int index) {
      auto it = holders.find(index);
      return it == holders.end() ? gpuaas::DeviceHolder{} : it->second;
    });
  }
  // A container job's network counters (agent/container_network.h), for its open allocation
  // on this node only.
  for (const WorkloadReport& w : r.workloads) {
    if (!w.net) continue;
    auto it = allocations_.find(w.allocation);
    if (it == allocations_.end() || it->second.node != node.id || it->second.end != 0) continue;
    telemetry_.ObserveNet(w.allocation, *w.net);
  }
  bool failed = false;
  const Millis now = clock_.Now();
  for (const GpuDevice& g : r.gpus) {
    if (g.state != DeviceState::kUnhealthy) continue;
    auto it = open_by_device.find(g.index);
    if (it == open_by_device.end()) continue;
    Job& j = jobs_.at(allocations_.at(it->second).job);
    if (IsFinal(j.state)) continue;
    const std::string why = "GPU " + std::to_string(g.index) + " (" + g.uuid + ") on node " +
                            node.name + " became unhealthy" +
                            (g.health_reason.empty() ? "" : ": " + g.health_reason);
    // Its processes are stopped by the agent (a final job is no longer desired); the devices
    // stay held until the agent confirms, and the unhealthy one is never placed again.
    if (config_.requeue_on_gpu_failure || j.requeue_on_preempt) {
      const JobId again = ResubmitJob(
          j, "resubmitted after job " + std::to_string(j.id) + " lost its GPU: " + why, batch);
      GLOG_WARN("job {}: {}; failing it (resubmitted as job {}) and draining the device", j.id, why,
                again);
      FinalizeJob(j, JobState::kFailed, now,
                  why + " (resubmitted as job " + std::to_string(again) + ")", std::nullopt, batch);
    } else {
      GLOG_WARN("job {}: {}; failing it and draining the device", j.id, why);
      FinalizeJob(j, JobState::kFailed, now, why, std::nullopt, batch);
    }
    failed = true;
  }
  return failed;
}

std::optional<JobTelemetry> Platform::JobTelemetryOf(const Job& job) const {
  std::optional<JobTelemetry> out;
  for (const Allocation* a : PartsOf(job)) {  // every node of a multi-node gang
    std::optional<JobTelemetry> t = telemetry_.Job(a->id);
    if (!t) continue;
    if (!out) {
      out = t;
      continue;
    }
    out->samples += t->samples;
    out->covered_ms += t->covered_ms;
    out->util_pct_ms += t->util_pct_ms;
    out->peak_mem_mb = std::max(out->peak_mem_mb, t->peak_mem_mb);
    out->energy_uj += t->energy_uj;
    out->idle_ms += t->idle_ms;
    if (t->net && out->net) {  // a gang's parts: totals and rates add up
      NetTraffic& n = *out->net;
      n.last.t = std::max(n.last.t, t->net->last.t);
      n.last.rx_bytes += t->net->last.rx_bytes;
      n.last.tx_bytes += t->net->last.tx_bytes;
      auto add = [](std::optional<double>& a, const std::optional<double>& b) {
        a = a && b ? std::optional<double>(*a + *b) : (a ? a : b);
      };
      add(n.rx_bytes_per_s, t->net->rx_bytes_per_s);
      add(n.tx_bytes_per_s, t->net->tx_bytes_per_s);
    } else if (t->net) {
      out->net = t->net;
    }
  }
  return out;
}

std::map<EntityId, std::pair<int64_t, int64_t>> Platform::EntityNetwork() const {
  auto out = net_closed_by_entity_;
  for (const auto& [aid, a] : allocations_) {
    if (a.end != 0) continue;
    std::optional<JobTelemetry> t = telemetry_.Job(aid);
    if (!t || !t->net) continue;
    auto& [rx, tx] = out[a.entity];
    rx += t->net->last.rx_bytes;
    tx += t->net->last.tx_bytes;
  }
  return out;
}

}  // namespace gpuaas
