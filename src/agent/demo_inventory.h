// The demo inventory: simulated GPUs for machines without an NVIDIA driver (the contract's
// `--demo-gpus h200:8,l40s:4`). One node per item, named "demo-<class>-<item index>", whose
// devices have deterministic UUIDs so that restarts report the same inventory.
// Simulated GPUs run real processes; only the devices are made up. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/node.h"

namespace gpuaas {

constexpr int kMaxDemoGpusPerNode = 64;
constexpr int kMaxDemoNodes = 64;

struct DemoNodeSpec {
  std::string name;       // "demo-h200-0"
  std::string gpu_class;  // "h200"
  std::vector<GpuDevice> gpus;
};

// Parses "h200:8,l40s:4" (classes from DefaultGpuClasses(), counts 1..64, 1..64 items).
Result<std::vector<DemoNodeSpec>> ParseDemoGpus(std::string_view spec);

// `count` devices of class `gpu_class` for node `node_name`: indices 0..count-1, UUIDs from
// DemoGpuUuid, model and memory from the class catalogue.
Result<std::vector<GpuDevice>> MakeDemoGpus(std::string_view node_name, std::string_view gpu_class,
                                            int count);

// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", a pure function of (node name, index).
std::string DemoGpuUuid(std::string_view node_name, int index);

}  // namespace gpuaas
