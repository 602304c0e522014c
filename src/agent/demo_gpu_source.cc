#include "agent/demo_gpu_source.h"

#include <cstdint>

namespace gpuaas {
namespace {

// 0..n-1 from (index, time in seconds): a cheap, stable hash.
int Jitter(int index, Millis t, int n) {
  uint64_t x = static_cast<uint64_t>(index) * 0x9e3779b97f4a7c15ULL ^
               static_cast<uint64_t>(t / 1000) * 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 31;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 29;
  return static_cast<int>(x % static_cast<uint64_t>(n));
}

}  // namespace

DemoGpuSource::DemoGpuSource(std::vector<GpuDevice> gpus, std::vector<GpuClass> classes)
    : gpus_(std::move(gpus)), classes_(std::move(classes)) {}

std::vector<GpuReading> DemoGpuSource::Sample(Millis now, const std::set<int>& busy) {
  std::vector<GpuReading> out;
  out.reserve(gpus_.size());
  for (const GpuDevice& d : gpus_) {
    double idle_w = 50, max_w = 300;
    for (const auto& c : classes_) {
      if (c.name == d.gpu_class && c.max_watts > 0) {
        idle_w = c.idle_watts;
        max_w = c.max_watts;
      }
    }
    GpuReading r;
    r.sample.index = d.index;
    r.sample.t = now;
    if (busy.count(d.index)) {
      r.sample.util_pct = 88 + Jitter(d.index, now, 10);
      r.sample.mem_used_mb = d.memory_mb * (70 + Jitter(d.index + 97, now, 10)) / 100;
      r.sample.power_mw =
          static_cast<int64_t>(max_w * 1000.0 * (85 + Jitter(d.index + 7, now, 13)) / 100.0);
      r.sample.temp_c = 65 + Jitter(d.index + 3, now, 10);
    } else {
      r.sample.util_pct = 0;
      r.sample.mem_used_mb = 0;
      r.sample.power_mw = static_cast<int64_t>(idle_w * 1000.0) + Jitter(d.index + 5, now, 3000);
      r.sample.temp_c = 32 + Jitter(d.index + 11, now, 4);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace gpuaas
