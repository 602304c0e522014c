#include "agent/nvml.h"

#include <dlfcn.h>

namespace gpuaas {
namespace {

// The NVML C API, declared as in NVIDIA's nvml.h (only what the agent uses).
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};
struct nvmlPciInfo_t {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
};
constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlReturn_t NVML_ERROR_NOT_SUPPORTED = 3;
constexpr nvmlReturn_t NVML_ERROR_NOT_FOUND = 6;
constexpr nvmlReturn_t NVML_ERROR_GPU_IS_LOST = 15;
constexpr int NVML_TEMPERATURE_GPU = 0;
constexpr int NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1;
constexpr int NVML_VOLATILE_ECC = 0;
constexpr unsigned NVML_DEVICE_MIG_ENABLE = 1;
constexpr int NVML_FEATURE_ENABLED = 1;
constexpr unsigned NVML_NVLINK_MAX_LINKS = 18;
constexpr unsigned NVML_DEVICE_UUID_V2_BUFFER_SIZE = 96;
constexpr unsigned NVML_DEVICE_NAME_V2_BUFFER_SIZE = 96;

}  // namespace

struct Nvml::Api {
  nvmlReturn_t (*Init)();
  nvmlReturn_t (*Shutdown)();
  const char* (*ErrorString)(nvmlReturn_t);
  nvmlReturn_t (*GetCount)(unsigned int*);
  nvmlReturn_t (*GetHandleByIndex)(unsigned int, nvmlDevice_t*);
  nvmlReturn_t (*GetUUID)(nvmlDevice_t, char*, unsigned int);
  nvmlReturn_t (*GetName)(nvmlDevice_t, char*, unsigned int);
  nvmlReturn_t (*GetMemoryInfo)(nvmlDevice_t, nvmlMemory_t*);
  nvmlReturn_t (*GetPciInfo)(nvmlDevice_t, nvmlPciInfo_t*);
  nvmlReturn_t (*GetUtilizationRates)(nvmlDevice_t, nvmlUtilization_t*);
  nvmlReturn_t (*GetPowerUsage)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*GetTemperature)(nvmlDevice_t, int, unsigned int*);
  nvmlReturn_t (*GetTotalEccErrors)(nvmlDevice_t, int, int, unsigned long long*);
  nvmlReturn_t (*GetMigMode)(nvmlDevice_t, unsigned int*, unsigned int*);
  nvmlReturn_t (*GetNvLinkState)(nvmlDevice_t, unsigned int, int*);
  nvmlReturn_t (*GetNvLinkRemotePciInfo)(nvmlDevice_t, unsigned int, nvmlPciInfo_t*);
  nvmlReturn_t (*GetMaxMigDeviceCount)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*GetMigDeviceHandleByIndex)(nvmlDevice_t, unsigned int, nvmlDevice_t*);
  nvmlReturn_t (*GetGpuInstanceId)(nvmlDevice_t, unsigned int*);
  std::string missing_mig;  // MIG listing symbols the library lacks ("" = all there)

  std::string Error(nvmlReturn_t r) const {
    const char* s = ErrorString ? ErrorString(r) : nullptr;
    return std::string(s ? s : "unknown NVML error") + " (NVML " + std::to_string(r) + ")";
  }
};

namespace {

template <typename Fn>
bool Resolve(void* handle, const char* name, Fn* out, std::string* missing) {
  void* sym = ::dlsym(handle, name);
  if (!sym) {
    *missing += (missing->empty() ? "" : ", ") + std::string(name);
    return false;
  }
  *out = reinterpret_cast<Fn>(sym);
  return true;
}

}  // namespace

Nvml::Nvml(void* handle, std::unique_ptr<Api> api) : handle_(handle), api_(std::move(api)) {}

Nvml::~Nvml() {
  if (api_ && api_->Shutdown) api_->Shutdown();
  if (handle_) ::dlclose(handle_);
}

Result<std::unique_ptr<Nvml>> Nvml::Load(const std::string& path) {
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = ::dlerror();
    return Unavailable("no NVIDIA driver: cannot load " + path + " (" +
                       (err ? err : "dlopen failed") + ")");
  }
  auto api = std::make_unique<Api>();
  std::string missing;
  Resolve(handle, "nvmlInit_v2", &api->Init, &missing);
  Resolve(handle, "nvmlShutdown", &api->Shutdown, &missing);
  Resolve(handle, "nvmlErrorString", &api->ErrorString, &missing);
  Resolve(handle, "nvmlDeviceGetCount_v2", &api->GetCount, &missing);
  Resolve(handle, "nvmlDeviceGetHandleByIndex_v2", &api->GetHandleByIndex, &missing);
  Resolve(handle, "nvmlDeviceGetUUID", &api->GetUUID, &missing);
  Resolve(handle, "nvmlDeviceGetName", &api->GetName, &missing);
  Resolve(handle, "nvmlDeviceGetMemoryInfo", &api->GetMemoryInfo, &missing);
  Resolve(handle, "nvmlDeviceGetPciInfo_v3", &api->GetPciInfo, &missing);
  Resolve(handle, "nvmlDeviceGetUtilizationRates", &api->GetUtilizationRates, &missing);
  Resolve(handle, "nvmlDeviceGetPowerUsage", &api->GetPowerUsage, &missing);
  Resolve(handle, "nvmlDeviceGetTemperature", &api->GetTemperature, &missing);
  Resolve(handle, "nvmlDeviceGetTotalEccErrors", &api->GetTotalEccErrors, &missing);
  // Optional (older drivers, boards without MIG/NVLink): their absence is not an error.
  std::string optional;
  Resolve(handle, "nvmlDeviceGetMigMode", &api->GetMigMode, &optional);
  Resolve(handle, "nvmlDeviceGetNvLinkState", &api->GetNvLinkState, &optional);
  Resolve(handle, "nvmlDeviceGetNvLinkRemotePciInfo_v2", &api->GetNvLinkRemotePciInfo, &optional);
  // MIG instances (drivers >= R450): without them MIG mode is still reported, no instances.
  Resolve(handle, "nvmlDeviceGetMaxMigDeviceCount", &api->GetMaxMigDeviceCount, &api->missing_mig);
  Resolve(handle, "nvmlDeviceGetMigDeviceHandleByIndex", &api->GetMigDeviceHandleByIndex,
          &api->missing_mig);
  Resolve(handle, "nvmlDeviceGetGpuInstanceId", &api->GetGpuInstanceId, &api->missing_mig);
  if (!missing.empty()) {
    ::dlclose(handle);
    return Unavailable(path + " is not a usable NVML library (missing " + missing + ")");
  }
  if (nvmlReturn_t r = api->Init(); r != NVML_SUCCESS) {
    std::string err = api->Error(r);
    ::dlclose(handle);
    return Unavailable("no NVIDIA driver: nvmlInit_v2 failed: " + err);
  }
  return std::unique_ptr<Nvml>(new Nvml(handle, std::move(api)));
}

Result<std::vector<NvmlDeviceInfo>> Nvml::Discover(std::vector<std::string>* lost_errors) {
  unsigned int count = 0;
  if (nvmlReturn_t r = api_->GetCount(&count); r != NVML_SUCCESS) {
    return Unavailable("nvmlDeviceGetCount_v2: " + api_->Error(r));
  }
  std::vector<NvmlDeviceInfo> out;
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t dev = nullptr;
    NvmlDeviceInfo d;
    d.index = static_cast<int>(i);
    nvmlReturn_t r = api_->GetHandleByIndex(i, &dev);
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {};
    nvmlMemory_t mem{};
    nvmlPciInfo_t pci{};
    if (r == NVML_SUCCESS) r = api_->GetUUID(dev, uuid, sizeof uuid);
    if (r == NVML_SUCCESS) r = api_->GetName(dev, name, sizeof name);
    if (r == NVML_SUCCESS) r = api_->GetMemoryInfo(dev, &mem);
    if (r == NVML_SUCCESS) r = api_->GetPciInfo(dev, &pci);
    if (r != NVML_SUCCESS) {
      if (lost_errors) {
        lost_errors->push_back("GPU " + std::to_string(i) + ": " + api_->Error(r));
      }
      continue;
    }
    d.uuid = uuid;
    d.name = name;
    d.memory_mb = static_cast<int64_t>(mem.total >> 20);
    d.pci_bus_id = pci.busId;
    unsigned int current = 0, pending = 0;
    if (api_->GetMigMode && api_->GetMigMode(dev, &current, &pending) == NVML_SUCCESS) {
      d.mig_enabled = current == NVML_DEVICE_MIG_ENABLE;
    }
    if (d.mig_enabled) ListMig(dev, &d);
    if (api_->GetNvLinkState) {
      for (unsigned link = 0; link < NVML_NVLINK_MAX_LINKS; ++link) {
        int active = 0;
        nvmlReturn_t lr = api_->GetNvLinkState(dev, link, &active);
        if (lr == NVML_ERROR_NOT_SUPPORTED) break;
        if (lr != NVML_SUCCESS || active != NVML_FEATURE_ENABLED) continue;
        nvmlPciInfo_t remote{};
        if (api_->GetNvLinkRemotePciInfo &&
            api_->GetNvLinkRemotePciInfo(dev, link, &remote) == NVML_SUCCESS) {
          d.nvlink_peers.emplace_back(remote.busId);
        }
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

void Nvml::ListMig(void* parent, NvmlDeviceInfo* d) {
  if (!api_->missing_mig.empty()) {
    d->mig_error = "MIG instances not listed: the NVML library lacks " + api_->missing_mig +
                   " (driver too old)";
    return;
  }
  auto dev = static_cast<nvmlDevice_t>(parent);
  unsigned int max = 0;
  if (nvmlReturn_t r = api_->GetMaxMigDeviceCount(dev, &max); r != NVML_SUCCESS) {
    d->mig_error = "nvmlDeviceGetMaxMigDeviceCount: " + api_->Error(r);
    return;
  }
  for (unsigned int i = 0; i < max; ++i) {
    nvmlDevice_t mig = nullptr;
    nvmlReturn_t r = api_->GetMigDeviceHandleByIndex(dev, i, &mig);
    if (r == NVML_ERROR_NOT_FOUND) continue;  // no MIG device at this slot
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
    nvmlMemory_t mem{};
    unsigned int gi = 0;
    if (r == NVML_SUCCESS) r = api_->GetUUID(mig, uuid, sizeof uuid);
    if (r == NVML_SUCCESS) r = api_->GetMemoryInfo(mig, &mem);
    if (r == NVML_SUCCESS) r = api_->GetGpuInstanceId(mig, &gi);
    if (r != NVML_SUCCESS) {
      d->mig_error = "MIG device " + std::to_string(i) + ": " + api_->Error(r);
      continue;
    }
    NvmlMigInfo m;
    m.index = static_cast<int>(i);
    m.uuid = uuid;
    m.memory_mb = static_cast<int64_t>(mem.total >> 20);
    m.gpu_instance_id = static_cast<int>(gi);
    d->mig.push_back(std::move(m));
  }
}

NvmlReading Nvml::Read(int index) {
  NvmlReading rd;
  rd.index = index;
  nvmlDevice_t dev = nullptr;
  nvmlUtilization_t util{};
  nvmlMemory_t mem{};
  unsigned int power = 0, temp = 0;
  unsigned long long ecc = 0;
  nvmlReturn_t r = api_->GetHandleByIndex(static_cast<unsigned>(index), &dev);
  if (r == NVML_SUCCESS) r = api_->GetUtilizationRates(dev, &util);
  if (r == NVML_SUCCESS) r = api_->GetMemoryInfo(dev, &mem);
  if (r == NVML_SUCCESS) r = api_->GetPowerUsage(dev, &power);
  if (r == NVML_SUCCESS) r = api_->GetTemperature(dev, NVML_TEMPERATURE_GPU, &temp);
  if (r == NVML_SUCCESS) {
    nvmlReturn_t er =
        api_->GetTotalEccErrors(dev, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &ecc);
    if (er == NVML_ERROR_GPU_IS_LOST) r = er;  // ECC off / unsupported: not a failure
    if (er != NVML_SUCCESS) ecc = 0;
  }
  if (r != NVML_SUCCESS) {
    rd.lost = r == NVML_ERROR_GPU_IS_LOST;
    rd.error = api_->Error(r);
    return rd;
  }
  rd.util_pct = static_cast<int>(util.gpu);
  rd.mem_used_mb = static_cast<int64_t>(mem.used >> 20);
  rd.power_mw = power;
  rd.temp_c = static_cast<int>(temp);
  rd.ecc_uncorrected = ecc;
  return rd;
}

}  // namespace gpuaas
