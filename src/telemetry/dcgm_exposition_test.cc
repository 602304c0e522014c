#include "telemetry/dcgm_exposition.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

TEST(DcgmExpositionTest, NamesLabelsAndUnits) {
  DcgmDevice d;
  d.gpu = 3;
  d.uuid = "GPU-abc";
  d.model_name = "NVIDIA H200";
  d.hostname = "node-1";
  d.job = "12";
  d.entity = "acme";
  d.memory_mb = 143771;
  d.has_sample = true;
  d.last.util_pct = 91;
  d.last.mem_used_mb = 70000;
  d.last.power_mw = 650'500;
  d.last.temp_c = 66;
  d.energy_uj = 5'000'000;
  DcgmDevice idle;
  idle.gpu = 4;
  idle.uuid = "GPU-\"x\"";
  idle.hostname = "node-1";
  idle.healthy = false;
  idle.health_reason = "lost";
  std::string out;
  AppendDcgmExposition({d, idle}, out);
  const std::string labels =
      "gpu=\"3\",UUID=\"GPU-abc\",device=\"nvidia3\",modelName=\"NVIDIA H200\","
      "Hostname=\"node-1\",job=\"12\",entity=\"acme\"";
  EXPECT_NE(out.find("DCGM_FI_DEV_GPU_UTIL{" + labels + "} 91\n"), std::string::npos) << out;
  EXPECT_NE(out.find("DCGM_FI_DEV_FB_USED{" + labels + "} 70000\n"), std::string::npos);
  EXPECT_NE(out.find("DCGM_FI_DEV_FB_FREE{" + labels + "} 73771\n"), std::string::npos);
  EXPECT_NE(out.find("DCGM_FI_DEV_POWER_USAGE{" + labels + "} 650.500\n"), std::string::npos);
  EXPECT_NE(out.find("DCGM_FI_DEV_GPU_TEMP{" + labels + "} 66\n"), std::string::npos);
  EXPECT_NE(out.find("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{" + labels + "} 5000\n"),
            std::string::npos);
  EXPECT_NE(out.find("# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter"), std::string::npos);
  // No sample: no utilisation series for it, but its health and (zero) energy.
  EXPECT_EQ(out.find("DCGM_FI_DEV_GPU_UTIL{gpu=\"4\""), std::string::npos);
  EXPECT_NE(out.find("UUID=\"GPU-\\\"x\\\"\""), std::string::npos);
  EXPECT_NE(out.find("gpuaas_gpu_healthy{gpu=\"4\""), std::string::npos);
  EXPECT_NE(out.find("reason=\"lost\"} 0\n"), std::string::npos);
}

}  // namespace
}  // namespace gpuaas
