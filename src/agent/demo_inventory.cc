#include "agent/demo_inventory.h"

#include <charconv>
#include <cstdint>
#include <cstdio>

#include "model/gpu_class.h"

namespace gpuaas {
namespace {

// FNV-1a 64 over the text, starting from `seed`: stable across platforms and releases.
uint64_t Fnv1a(std::string_view text, uint64_t seed) {
  uint64_t h = seed;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string KnownClasses() {
  std::string out;
  for (const auto& c : DefaultGpuClasses()) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

}  // namespace

std::string DemoGpuUuid(std::string_view node_name, int index) {
  const std::string key = std::string(node_name) + "/" + std::to_string(index);
  const uint64_t hi = Fnv1a(key, 14695981039346656037ULL);
  const uint64_t lo = Fnv1a(key, hi ^ 0x9e3779b97f4a7c15ULL);
  char buf[64];
  std::snprintf(buf, sizeof buf, "GPU-%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

Result<std::vector<GpuDevice>> MakeDemoGpus(std::string_view node_name, std::string_view gpu_class,
                                            int count) {
  if (count < 1 || count > kMaxDemoGpusPerNode) {
    return InvalidArgument("demo GPU count for " + std::string(gpu_class) + " must be 1.." +
                           std::to_string(kMaxDemoGpusPerNode) + ", got " + std::to_string(count));
  }
  for (const auto& c : DefaultGpuClasses()) {
    if (c.name != gpu_class) continue;
    std::vector<GpuDevice> gpus;
    for (int i = 0; i < count; ++i) {
      GpuDevice d;
      d.index = i;
      d.uuid = DemoGpuUuid(node_name, i);
      d.model = c.model;
      d.gpu_class = c.name;
      d.memory_mb = c.memory_mb;
      d.state = DeviceState::kHealthy;
      gpus.push_back(std::move(d));
    }
    return gpus;
  }
  return InvalidArgument("unknown GPU class \"" + std::string(gpu_class) +
                         "\" (known: " + KnownClasses() + ")");
}

Result<std::vector<DemoNodeSpec>> ParseDemoGpus(std::string_view spec) {
  std::vector<DemoNodeSpec> nodes;
  if (Trim(spec).empty()) {
    return InvalidArgument(
        "empty --demo-gpus spec; expected CLASS:COUNT[,CLASS:COUNT...], e.g. h200:8");
  }
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    const std::string item = Trim(spec.substr(start, comma - start));
    start = comma + 1;
    if (static_cast<int>(nodes.size()) >= kMaxDemoNodes) {
      return InvalidArgument("too many --demo-gpus items (at most " +
                             std::to_string(kMaxDemoNodes) + ")");
    }
    const size_t colon = item.find(':');
    if (item.empty() || colon == std::string::npos) {
      return InvalidArgument("bad --demo-gpus item \"" + item +
                             "\"; expected CLASS:COUNT, e.g. h200:8");
    }
    const std::string cls = Trim(std::string_view(item).substr(0, colon));
    const std::string num = Trim(std::string_view(item).substr(colon + 1));
    int count = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), count);
    if (num.empty() || ec != std::errc() || ptr != num.data() + num.size()) {
      return InvalidArgument("bad GPU count \"" + num + "\" in --demo-gpus item \"" + item + "\"");
    }
    DemoNodeSpec node;
    node.gpu_class = cls;
    node.name = "demo-" + cls + "-" + std::to_string(nodes.size());
    GPUAAS_ASSIGN_OR_RETURN(node.gpus, MakeDemoGpus(node.name, cls, count));
    nodes.push_back(std::move(node));
    if (comma == spec.size()) break;
  }
  return nodes;
}

}  // namespace gpuaas
