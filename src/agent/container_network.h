// A container job's own network traffic. podman runs each container in its own network
// namespace (its bridge network) and writes the container's first process id into the workload
// directory (`podman run --pidfile`, podman_runtime.h); that process's /proc/PID/net/dev holds
// the namespace's counters, summed here over every interface but the loopback. They start at 0
// with the container, so they are the job's totals. The agent sends them with the workload's
// status ("net", docs/agent.md); the server keeps them per allocation (TelemetryStore) and on
// the usage record.
// A process in the agent's own network namespace is refused (FailedPrecondition): with
// `--network host`, or a pid reused by a host process after the container ended, the counters
// would be the node's, not the job's.
// One small file read per call; thread-compatible.
#pragma once

#include <string>

#include "agent/net_counters.h"
#include "base/status.h"

namespace gpuaas {

// pidfile: "PID\n" as podman writes it. proc: the proc file system's mount point (tests: a
// directory standing in for it, with PID/net/dev, PID/ns/net and self/ns/net).
Result<NetCounters> ReadContainerNetwork(const std::string& pidfile,
                                         const std::string& proc = "/proc");

}  // namespace gpuaas
