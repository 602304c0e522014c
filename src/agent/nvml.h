// Nvml: NVIDIA's management library (NVML) loaded at run time with dlopen, so that the agent
// builds and runs without NVIDIA headers or libraries. The C API names, signatures and error
// codes are declared locally (nvml.cc) as NVML documents them; the same code path serves the
// real driver ("libnvidia-ml.so.1") and the stand-in library of the tests (tests/nvml_stub).
//
// Thread-safety: Load() and the destructor from one thread; the query methods may be called
// from one thread at a time (the agent's sampler). Preconditions: none; every NVML failure is a
// Status carrying nvmlErrorString's text, and a GPU that fell off the bus is Unavailable with
// `lost` set in the DeviceReading.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace gpuaas {

// One MIG device (a GPU instance with its compute instance) of a GPU in MIG mode.
struct NvmlMigInfo {
  int index = 0;             // MIG device index on its parent (nvmlDeviceGetMigDeviceHandleByIndex)
  std::string uuid;          // "MIG-..." (what CUDA_VISIBLE_DEVICES / NVIDIA_VISIBLE_DEVICES name)
  int64_t memory_mb = 0;     // the instance's own framebuffer
  int gpu_instance_id = -1;  // nvmlDeviceGetGpuInstanceId
};

struct NvmlDeviceInfo {
  int index = 0;
  std::string uuid;
  std::string name;        // "NVIDIA H200"
  std::string pci_bus_id;  // "00000000:17:00.0"
  int64_t memory_mb = 0;
  bool mig_enabled = false;               // MIG mode currently on (false when unsupported)
  std::vector<NvmlMigInfo> mig;           // its MIG devices (empty unless mig_enabled)
  std::string mig_error;                  // why `mig` could not be listed ("" = listed or no MIG)
  std::vector<std::string> nvlink_peers;  // PCI bus ids of active NVLink remotes
};

struct NvmlReading {
  int index = 0;
  bool lost = false;  // NVML_ERROR_GPU_IS_LOST: the GPU fell off the bus
  std::string error;  // the NVML error of a failed reading ("" = ok)
  int util_pct = 0;
  int64_t mem_used_mb = 0;
  int64_t power_mw = 0;
  int temp_c = 0;
  uint64_t ecc_uncorrected = 0;  // volatile (since driver load) uncorrectable ECC errors
};

class Nvml {
 public:
  // dlopen(path) ("libnvidia-ml.so.1" for the system's driver) and nvmlInit_v2. Unavailable
  // with a message for the operator when the library is missing, lacks a symbol, or the driver
  // is not loaded.
  static Result<std::unique_ptr<Nvml>> Load(const std::string& path);
  ~Nvml();  // nvmlShutdown + dlclose
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // Every device the driver sees. A lost device is skipped with its error in `lost_errors`.
  Result<std::vector<NvmlDeviceInfo>> Discover(std::vector<std::string>* lost_errors = nullptr);
  // One reading of device `index` (never an error: a failure is in reading.error / .lost).
  NvmlReading Read(int index);

  struct Api;  // the resolved function pointers (nvml.cc)

 private:
  Nvml(void* handle, std::unique_ptr<Api> api);
  void ListMig(void* parent, NvmlDeviceInfo* d);  // fills d->mig or d->mig_error
  void* handle_;
  std::unique_ptr<Api> api_;
};

}  // namespace gpuaas
