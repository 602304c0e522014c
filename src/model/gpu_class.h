// GpuClass: a kind of allocatable device. The unit of allocation is a device, not a card: a
// whole H200 today ("h200"), a MIG slice tomorrow ("h200.1g.18gb"), each its own class with its
// own memory, price and relative speed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/money.h"

namespace gpuaas {

struct GpuClass {
  std::string name;          // "h200", "l40s"
  std::string model;         // "NVIDIA H200"
  int64_t memory_mb = 0;     // device memory
  MicroEur hourly_rate = 0;  // price per device-hour
  double speed = 1.0;        // throughput relative to the fastest class (h200 = 1.0)
  double idle_watts = 0;     // power of an idle device, for the demo inventory
  double max_watts = 0;      // board power limit
};

// The built-in catalogue (H200 141 GB, L40S 48 GB) with default prices; a config may override.
std::vector<GpuClass> DefaultGpuClasses();

}  // namespace gpuaas
