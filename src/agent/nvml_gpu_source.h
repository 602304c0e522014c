// NvmlGpuSource: the GPUs of this machine as NVML reports them (agent/nvml.h). Discovery maps
// NVML's product names to GPU classes (GpuClassForModel: "NVIDIA H200" -> h200, "NVIDIA L40S"
// -> l40s); devices of an unknown model are left out with a warning (the server would refuse
// the whole inventory). Readings are checked against GpuHealthLimits: a lost GPU
// (NVML_ERROR_GPU_IS_LOST), uncorrectable ECC errors, or a temperature at/above the limit make
// the reading's `problem`.
//
// Thread-safety: see GpuSource.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/gpu_source.h"
#include "agent/nvml.h"
#include "base/status.h"

namespace gpuaas {

// "h200" for an NVIDIA H200 (any variant: "NVIDIA H200 NVL"...), "l40s" for an L40S; "" if the
// model is not one of ours.
std::string GpuClassForModel(std::string_view nvml_name);

// Reading -> the health problem of a device ("" = healthy).
std::string HealthProblem(const NvmlReading& r, const GpuHealthLimits& limits);

class NvmlGpuSource : public GpuSource {
 public:
  // Loads NVML from `library` and discovers the devices. Unavailable when there is no driver
  // (the message says so); warnings (skipped or lost devices, MIG/NVLink facts) go to
  // `notes`.
  static Result<std::unique_ptr<NvmlGpuSource>> Open(const std::string& library,
                                                     GpuHealthLimits limits,
                                                     std::vector<std::string>* notes);

  std::vector<GpuDevice> Inventory() const override { return inventory_; }
  bool simulated() const override { return false; }
  std::vector<GpuReading> Sample(Millis now, const std::set<int>& busy) override;

  const std::vector<NvmlDeviceInfo>& devices() const { return infos_; }

 private:
  NvmlGpuSource(std::unique_ptr<Nvml> nvml, GpuHealthLimits limits)
      : nvml_(std::move(nvml)), limits_(limits) {}

  std::unique_ptr<Nvml> nvml_;
  GpuHealthLimits limits_;
  std::vector<NvmlDeviceInfo> infos_;
  std::vector<GpuDevice> inventory_;
};

}  // namespace gpuaas
