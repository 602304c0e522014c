// NVML through the same dlopen path as production, against the test suite's stand-in library
// (tests/nvml_stub, built as libnvidia-ml.so.1): discovery, class mapping, readings, errors.
#include "agent/nvml.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "agent/nvml_gpu_source.h"

namespace gpuaas {
namespace {

namespace fs = std::filesystem;

// Writes the stub's config atomically (write + rename, like the tests of a running agent).
void WriteConfig(const std::string& path, const std::string& text) {
  {
    std::ofstream f(path + ".tmp");
    f << text;
  }
  fs::rename(path + ".tmp", path);
}

constexpr char kFourGpus[] =
    "name=NVIDIA H200;uuid=GPU-h200-0;mem_mb=143771;used_mb=1000;util=10;power_mw=120000;"
    "temp=40;nvlink=1\n"
    "name=NVIDIA H200;uuid=GPU-h200-1;mem_mb=143771;used_mb=90000;util=95;power_mw=650000;"
    "temp=70;mig=1;nvlink=0\n"
    "name=NVIDIA L40S;uuid=GPU-l40s-2;mem_mb=46068;used_mb=0;util=0;power_mw=35000;temp=33\n"
    "name=NVIDIA A100-SXM4-80GB;uuid=GPU-a100-3;mem_mb=81920\n";

class NvmlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nvml-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    config_ = (dir_ / "gpus.conf").string();
    ::setenv("NVML_STUB_CONFIG", config_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("NVML_STUB_CONFIG");
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::string config_;
};

TEST_F(NvmlTest, MissingLibraryMeansNoDriver) {
  auto n = Nvml::Load((dir_ / "libnvidia-ml.so.1").string());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), Code::kUnavailable);
  EXPECT_NE(n.status().message().find("no NVIDIA driver"), std::string::npos);
}

TEST_F(NvmlTest, DriverNotLoadedIsReportedWithNvmlsWords) {
  // Library present, no config: the stub's nvmlInit_v2 answers NVML_ERROR_DRIVER_NOT_LOADED.
  auto n = Nvml::Load(GPUAAS_NVML_STUB);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("Driver Not Loaded"), std::string::npos)
      << n.status().message();
}

TEST_F(NvmlTest, NotAnNvmlLibrary) {
  auto n = Nvml::Load("libm.so.6");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("missing nvmlInit_v2"), std::string::npos);
}

TEST_F(NvmlTest, DiscoversDevicesMapsClassesAndSkipsUnknownModels) {
  WriteConfig(config_, kFourGpus);
  std::vector<std::string> notes;
  auto src = NvmlGpuSource::Open(GPUAAS_NVML_STUB, {}, &notes);
  ASSERT_TRUE(src.ok()) << src.status().message();
  const auto inv = (*src)->Inventory();
  ASSERT_EQ(inv.size(), 3u);
  EXPECT_EQ(inv[0].gpu_class, "h200");
  EXPECT_EQ(inv[0].model, "NVIDIA H200");
  EXPECT_EQ(inv[0].uuid, "GPU-h200-0");
  EXPECT_EQ(inv[0].memory_mb, 143771);
  EXPECT_EQ(inv[2].gpu_class, "l40s");
  EXPECT_EQ(inv[2].index, 2);
  EXPECT_FALSE((*src)->simulated());
  const auto& infos = (*src)->devices();
  EXPECT_TRUE(infos[1].mig_enabled);
  EXPECT_FALSE(infos[0].mig_enabled);
  ASSERT_EQ(infos[0].nvlink_peers.size(), 1u);
  EXPECT_EQ(infos[0].nvlink_peers[0], infos[1].pci_bus_id);
  EXPECT_TRUE(infos[2].nvlink_peers.empty());  // L40S: no NVLink (NOT_SUPPORTED)
  bool skipped = false;
  for (const auto& n : notes) skipped |= n.find("A100") != std::string::npos;
  EXPECT_TRUE(skipped);
}

TEST_F(NvmlTest, ReadingsAndHealthProblems) {
  WriteConfig(config_, kFourGpus);
  GpuHealthLimits limits;
  limits.max_temp_c = 90;
  auto src = NvmlGpuSource::Open(GPUAAS_NVML_STUB, limits, nullptr);
  ASSERT_TRUE(src.ok());
  auto r = (*src)->Sample(12345, {});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[1].valid);
  EXPECT_EQ(r[1].sample.util_pct, 95);
  EXPECT_EQ(r[1].sample.mem_used_mb, 90000);
  EXPECT_EQ(r[1].sample.power_mw, 650000);
  EXPECT_EQ(r[1].sample.temp_c, 70);
  EXPECT_EQ(r[1].sample.t, 12345);
  for (const auto& g : r) EXPECT_EQ(g.problem, "");

  // GPU 0: uncorrectable ECC errors; GPU 1 falls off the bus; GPU 2 overheats.
  WriteConfig(config_,
              "name=NVIDIA H200;uuid=GPU-h200-0;mem_mb=143771;temp=40;ecc=2\n"
              "name=NVIDIA H200;uuid=GPU-h200-1;mem_mb=143771;lost=1\n"
              "name=NVIDIA L40S;uuid=GPU-l40s-2;mem_mb=46068;temp=96\n"
              "name=NVIDIA A100-SXM4-80GB;uuid=GPU-a100-3;mem_mb=81920\n");
  r = (*src)->Sample(13345, {});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].problem, "2 uncorrectable ECC error(s)");
  EXPECT_TRUE(r[0].valid);
  EXPECT_FALSE(r[1].valid);
  EXPECT_NE(r[1].problem.find("fell off the bus"), std::string::npos) << r[1].problem;
  EXPECT_NE(r[1].problem.find("GPU is lost"), std::string::npos) << r[1].problem;
  EXPECT_EQ(r[2].problem, "too hot: 96 C (limit 90 C)");
}

constexpr char kMigGpus[] =
    "name=NVIDIA H200;uuid=GPU-h200-0;mem_mb=143771;mig=1;mig_devices=1:71680,2:35840,9:17920\n"
    "name=NVIDIA H200;uuid=GPU-h200-1;mem_mb=143771;mig=0;mig_devices=1:71680\n"
    "name=NVIDIA L40S;uuid=GPU-l40s-2;mem_mb=46068\n";

TEST_F(NvmlTest, DiscoversMigInstancesOfAGpuInMigMode) {
  WriteConfig(config_, kMigGpus);
  auto nvml = Nvml::Load(GPUAAS_NVML_STUB);
  ASSERT_TRUE(nvml.ok()) << nvml.status().message();
  auto devs = (*nvml)->Discover();
  ASSERT_TRUE(devs.ok());
  ASSERT_EQ(devs->size(), 3u);
  const NvmlDeviceInfo& g = (*devs)[0];
  EXPECT_TRUE(g.mig_enabled);
  EXPECT_EQ(g.mig_error, "");
  ASSERT_EQ(g.mig.size(), 3u);
  EXPECT_EQ(g.mig[0].index, 0);
  EXPECT_EQ(g.mig[0].uuid, "MIG-GPU-h200-0-0");
  EXPECT_EQ(g.mig[0].memory_mb, 71680);
  EXPECT_EQ(g.mig[0].gpu_instance_id, 1);
  EXPECT_EQ(g.mig[1].memory_mb, 35840);
  EXPECT_EQ(g.mig[1].gpu_instance_id, 2);
  EXPECT_EQ(g.mig[2].uuid, "MIG-GPU-h200-0-2");
  EXPECT_EQ(g.mig[2].memory_mb, 17920);
  EXPECT_EQ(g.mig[2].gpu_instance_id, 9);
  EXPECT_EQ(g.memory_mb, 143771);  // the parent keeps its whole framebuffer
  // MIG mode off: instances configured but not listed; L40S: no MIG at all.
  EXPECT_FALSE((*devs)[1].mig_enabled);
  EXPECT_TRUE((*devs)[1].mig.empty());
  EXPECT_FALSE((*devs)[2].mig_enabled);
  EXPECT_TRUE((*devs)[2].mig.empty());
  EXPECT_EQ((*devs)[2].mig_error, "");
}

TEST_F(NvmlTest, MigInstancesShowInTheDiscoveryNotes) {
  WriteConfig(config_, kMigGpus);
  std::vector<std::string> notes;
  auto src = NvmlGpuSource::Open(GPUAAS_NVML_STUB, {}, &notes);
  ASSERT_TRUE(src.ok()) << src.status().message();
  bool seen = false;
  for (const auto& n : notes) {
    seen |= n.find("MIG on (3 instance(s); GI 1 MIG-GPU-h200-0-0 71680 MiB") != std::string::npos;
  }
  EXPECT_TRUE(seen);
}

TEST_F(NvmlTest, OldDriverWithoutMigListingStillLoadsAndSaysWhy) {
  WriteConfig(config_, kMigGpus);
  std::vector<std::string> notes;
  auto src = NvmlGpuSource::Open(GPUAAS_NVML_STUB_OLD, {}, &notes);
  ASSERT_TRUE(src.ok()) << src.status().message();
  const auto& infos = (*src)->devices();
  ASSERT_EQ(infos.size(), 3u);
  EXPECT_TRUE(infos[0].mig_enabled);
  EXPECT_TRUE(infos[0].mig.empty());
  EXPECT_NE(infos[0].mig_error.find("lacks nvmlDeviceGetMaxMigDeviceCount"), std::string::npos)
      << infos[0].mig_error;
  bool said = false;
  for (const auto& n : notes) said |= n.find("driver too old") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(GpuClassForModelTest, Names) {
  EXPECT_EQ(GpuClassForModel("NVIDIA H200"), "h200");
  EXPECT_EQ(GpuClassForModel("NVIDIA H200 NVL"), "h200");
  EXPECT_EQ(GpuClassForModel("NVIDIA L40S"), "l40s");
  EXPECT_EQ(GpuClassForModel("NVIDIA L40"), "");
  EXPECT_EQ(GpuClassForModel("NVIDIA A100-SXM4-80GB"), "");
}

}  // namespace
}  // namespace gpuaas
