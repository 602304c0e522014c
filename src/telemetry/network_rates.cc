#include "telemetry/network_rates.h"

namespace gpuaas {

void NetworkRates::Observe(NodeId node, const NetReading& r) {
  auto [it, fresh] = nodes_.try_emplace(node);
  NodeNetwork& n = it->second;
  if (fresh) {
    n.last = r;
    return;
  }
  // Reports can follow each other by milliseconds (a job's end is sent at once): a rate over
  // such an interval is noise, so a reading under a second after the last one is skipped.
  if (r.t < n.last.t + kMinIntervalMs) return;
  if (r.rx_bytes < n.last.rx_bytes || r.tx_bytes < n.last.tx_bytes) {
    n = NodeNetwork{r, std::nullopt, std::nullopt};  // counters reset: no rate across it
    return;
  }
  const double seconds = static_cast<double>(r.t - n.last.t) / 1000.0;
  n.rx_bytes_per_s = static_cast<double>(r.rx_bytes - n.last.rx_bytes) / seconds;
  n.tx_bytes_per_s = static_cast<double>(r.tx_bytes - n.last.tx_bytes) / seconds;
  n.last = r;
}

const NodeNetwork* NetworkRates::Node(NodeId node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : &it->second;
}

}  // namespace gpuaas
