// Node and GpuDevice: the inventory an agent reports. A node's devices are addressed by their
// index on that node (what CUDA_VISIBLE_DEVICES names).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/time.h"
#include "model/ids.h"

namespace gpuaas {

enum class NodeState { kReady, kDown, kCordoned, kDraining };
const char* NodeStateName(NodeState s);  // "ready", "down", "cordoned", "draining"

enum class DeviceState { kHealthy, kUnhealthy };
const char* DeviceStateName(DeviceState s);  // "healthy", "unhealthy"

// A MIG device of a GPU in MIG mode, as NVML lists it (reported for visibility only: the
// scheduler places jobs on whole GPUs).
struct MigDevice {
  int index = 0;             // MIG device index on its GPU
  std::string uuid;          // "MIG-..."
  int64_t memory_mb = 0;     // the instance's framebuffer
  int gpu_instance_id = -1;  // NVML GPU instance id
  bool operator==(const MigDevice&) const = default;
};

struct GpuDevice {
  int index = 0;
  std::string uuid;
  std::string model;      // "NVIDIA H200"
  std::string gpu_class;  // "h200"
  int64_t memory_mb = 0;
  DeviceState state = DeviceState::kHealthy;
  // Why the agent reports it unhealthy ("GPU fell off the bus", "2 uncorrectable ECC
  // error(s)", "too hot: 95 C"); "" when healthy. Reported by the agent, shown to operators.
  std::string health_reason{};
  std::vector<MigDevice> mig{};  // its MIG devices (empty when MIG is off or unsupported)

  bool operator==(const GpuDevice&) const = default;
};

struct Node {
  NodeId id = 0;
  std::string name;  // unique
  NodeState state = NodeState::kDown;
  bool simulated = false;  // demo inventory: real processes, simulated GPUs
  std::vector<GpuDevice> gpus;
  std::map<std::string, std::string> labels;
  Millis registered_at = 0;
  Millis last_heartbeat = 0;

  bool operator==(const Node&) const = default;
};

}  // namespace gpuaas
