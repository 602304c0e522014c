// NetworkRates: each node's network traffic, from the byte counters its agent reads
// (/proc/net/dev, summed over the node's interfaces) and sends in every heartbeat ("net":
// {"t", "rx_bytes", "tx_bytes"}, docs/agent.md). The rate is the counters' difference over the
// readings' interval; a counter that went back (a reboot, an interface gone) starts afresh.
// The group's GPUs share one 30 Gb/s network: these rates are how an operator sees who fills it
// (GET /api/v1/nodes "network", /metrics gpuaas_node_network_*_bytes_total). A container job's
// own counters (its network namespace's, agent/container_network.h) are a NetTraffic of its
// allocation in the TelemetryStore.
// Thread-safety: NOT thread-safe; the Platform's single writer owns it. Pure: no clock, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "base/time.h"
#include "model/ids.h"

namespace gpuaas {

// One reading of a node's or a container's counters (bytes since the interfaces came up).
struct NetReading {
  Millis t = 0;  // when it was read (agent clock)
  int64_t rx_bytes = 0;
  int64_t tx_bytes = 0;
  bool operator==(const NetReading&) const = default;
};

// The traffic of one set of counters, reading after reading.
struct NetTraffic {
  static constexpr Millis kMinIntervalMs = 1000;

  NetReading last;
  // Over the last interval between two readings; nullopt until there are two.
  std::optional<double> rx_bytes_per_s;
  std::optional<double> tx_bytes_per_s;

  // Takes the next reading; one less than kMinIntervalMs after the last is ignored (a re-sent
  // heartbeat, or a report right after another).
  void Observe(const NetReading& r);
};

class NetworkRates {
 public:
  static constexpr Millis kMinIntervalMs = NetTraffic::kMinIntervalMs;
  void Observe(NodeId node, const NetReading& r);
  const NetTraffic* Node(NodeId node) const;

 private:
  std::map<NodeId, NetTraffic> nodes_;
};

}  // namespace gpuaas
