// Telemetry benchmark (issue 6), a plain main with printed figures:
//  (a) agent overhead: one sampling round of 8 GPUs per second, as the agent does it (NVML
//      reads through the real dlopen path against the stand-in library when it is found, else
//      the demo source; queueing; the heartbeat JSON with the 8 samples), as CPU time per round
//      and as a share of one core at a 1 s interval (target < 1 %);
//  (b) server ingestion: heartbeats of 1,000 nodes x 8 GPUs x 5 samples decoded from JSON
//      (api::NodeReportOf) and applied by Platform::Heartbeat (telemetry store, per-job
//      attribution), as samples per second (target >= 10,000).
// The stand-in NVML library: $GPUAAS_NVML_LIB, else <dir of this binary>/tests/nvml_stub/.
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "agent/demo_gpu_source.h"
#include "agent/demo_inventory.h"
#include "agent/nvml_gpu_source.h"
#include "agent/protocol.h"
#include "agent/sample_buffer.h"
#include "api/dto.h"
#include "base/log.h"
#include "model/gpu_class.h"
#include "state/test_executor.h"

namespace fs = std::filesystem;
using namespace gpuaas;

namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::unique_ptr<GpuSource> OpenSource(const fs::path& dir, std::string* what) {
  std::string lib;
  if (const char* env = getenv("GPUAAS_NVML_LIB")) lib = env;
  if (lib.empty()) {
    lib = (fs::read_symlink("/proc/self/exe").parent_path() / "tests/nvml_stub/libnvidia-ml.so.1")
              .string();
  }
  if (fs::exists(lib)) {
    const std::string conf = (dir / "gpus.conf").string();
    std::ofstream f(conf);
    for (int i = 0; i < 8; ++i) {
      f << "name=NVIDIA H200;uuid=GPU-bench-" << i
        << ";mem_mb=143771;used_mb=90000;util=93;power_mw=650000;temp=66;nvlink=" << (i ^ 1)
        << "\n";
    }
    f.close();
    setenv("NVML_STUB_CONFIG", conf.c_str(), 1);
    auto src = NvmlGpuSource::Open(lib, {}, nullptr);
    if (src.ok()) {
      *what = "NVML (stand-in library)";
      return std::move(*src);
    }
  }
  *what = "demo source (no NVML library found)";
  return std::make_unique<DemoGpuSource>(*MakeDemoGpus("bench", "h200", 8), DefaultGpuClasses());
}

void AgentOverhead(const fs::path& dir) {
  std::string what;
  auto src = OpenSource(dir, &what);
  SampleBuffer buffer(20'000);
  const int rounds = 20'000;
  size_t bytes = 0;
  const double c0 = CpuSeconds();
  for (int r = 0; r < rounds; ++r) {
    const Millis now = 1'795'000'000'000 + r * 1000LL;
    for (const auto& g : src->Sample(now, {0, 1, 2, 3})) buffer.Add(g.sample);
    HeartbeatReport report;
    report.node = "bench";
    report.gpus = src->Inventory();
    uint64_t end = 0;
    report.samples = buffer.Peek(2000, &end);
    bytes += HeartbeatReportToJson(report).size();
    buffer.Acknowledge(end);
  }
  const double per_round = (CpuSeconds() - c0) / rounds;
  std::printf("agent sampling, 8 GPUs, %s: %.1f us CPU per round (read + queue + JSON, %zu B)\n",
              what.c_str(), per_round * 1e6, bytes / rounds);
  std::printf("agent overhead at 1 s sampling: %.4f %% of one core (target < 1 %%)\n",
              per_round * 100.0);
}

void ServerIngestion(const fs::path& dir) {
  auto store = OpenSqliteStore((dir / "db.sqlite").string());
  if (!store.ok()) {
    std::printf("server ingestion: cannot open store: %s\n", store.status().message().c_str());
    return;
  }
  ManualClock clock(1'795'000'000'000);
  TestExecutor exec(clock, **store);
  PlatformConfig cfg;
  Platform platform(clock, exec, **store, cfg);
  (void)platform.Start();
  exec.Drain();
  Principal agent;
  agent.agent = true;
  const int nodes = 1000, gpus = 8, per_gpu = 5;
  auto body = [&](int n, Millis t0) {
    HeartbeatReport r;
    r.node = "node-" + std::to_string(n);
    r.gpus = *MakeDemoGpus(r.node, "h200", gpus);
    for (int k = 0; k < per_gpu; ++k) {
      for (int g = 0; g < gpus; ++g) {
        r.samples.push_back({g, t0 + k * 1000, 90, 80'000, 650'000 + g, 65});
      }
    }
    return HeartbeatReportToJson(r);
  };
  // Registration round (durable; not measured), then measured rounds of samples only.
  auto beat = [&](const std::string& json) {
    auto o = api::ParseObject(json);
    auto rep = api::NodeReportOf(*o);
    platform.Heartbeat(agent, *rep, 0, [](Result<DesiredWorkloads>) {});
  };
  for (int n = 0; n < nodes; ++n) beat(body(n, clock.Now()));
  exec.Drain();
  std::vector<std::string> bodies;
  const int rounds = 4;
  for (int r = 0; r < rounds; ++r) {
    for (int n = 0; n < nodes; ++n) bodies.push_back(body(n, clock.Now() + (r + 1) * 5000));
  }
  const int64_t before = platform.telemetry().ingested();
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& b : bodies) beat(b);
  exec.Drain();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int64_t n = platform.telemetry().ingested() - before;
  std::printf(
      "server ingestion: %lld samples in %.3f s = %.0f samples/s "
      "(JSON decode + Heartbeat; target >= 10000)\n",
      static_cast<long long>(n), s, static_cast<double>(n) / s);
}

}  // namespace

int main() {
  SetLogLevel("warn");
  const fs::path dir = fs::temp_directory_path() / ("gpuaas-telbench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  AgentOverhead(dir);
  ServerIngestion(dir);
  fs::remove_all(dir);
  return 0;
}
