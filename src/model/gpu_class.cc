#include "model/gpu_class.h"

namespace gpuaas {

std::vector<GpuClass> DefaultGpuClasses() {
  return {
      {"h200", "NVIDIA H200", 143771, 3'500'000, 1.0, 75, 700},
      {"l40s", "NVIDIA L40S", 46068, 1'100'000, 0.4, 35, 350},
  };
}

}  // namespace gpuaas
