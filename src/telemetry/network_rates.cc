#include "telemetry/network_rates.h"

namespace gpuaas {

void NetTraffic::Observe(const NetReading& r) {
  // Reports can follow each other by milliseconds (a job's end is sent at once): a rate over
  // such an interval is noise, so a reading under a second after the last one is skipped.
  if (r.t < last.t + kMinIntervalMs) return;
  if (r.rx_bytes < last.rx_bytes || r.tx_bytes < last.tx_bytes) {
    *this = NetTraffic{r, std::nullopt, std::nullopt};  // counters reset: no rate across it
    return;
  }
  const double seconds = static_cast<double>(r.t - last.t) / 1000.0;
  rx_bytes_per_s = static_cast<double>(r.rx_bytes - last.rx_bytes) / seconds;
  tx_bytes_per_s = static_cast<double>(r.tx_bytes - last.tx_bytes) / seconds;
  last = r;
}

void NetworkRates::Observe(NodeId node, const NetReading& r) {
  auto [it, fresh] = nodes_.try_emplace(node);
  if (fresh) {
    it->second.last = r;
  } else {
    it->second.Observe(r);
  }
}

const NetTraffic* NetworkRates::Node(NodeId node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : &it->second;
}

}  // namespace gpuaas
