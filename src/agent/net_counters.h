// A node's network byte counters from Linux's /proc/net/dev, summed over its interfaces: the
// ones named, or every one but the loopback when none is named (`gpuaas agent
// --net-interfaces`). The agent sends them in each heartbeat (telemetry/network_rates.h).
// Pure parsing plus one file read; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gpuaas {

struct NetCounters {
  int64_t rx_bytes = 0;
  int64_t tx_bytes = 0;
};

// Parses /proc/net/dev's text. Errors: a malformed line, or a named interface that is absent.
Result<NetCounters> ParseProcNetDev(std::string_view text,
                                    const std::vector<std::string>& interfaces);
Result<NetCounters> ReadNetCounters(const std::string& path,
                                    const std::vector<std::string>& interfaces);

}  // namespace gpuaas
