#include "sim/cluster_spec.h"

#include <charconv>
#include <cstdio>
#include <map>

namespace gpuaas::sim {
namespace {

constexpr int kMaxGpusPerNode = 64;
constexpr int kMaxNodesPerGroup = 100000;
constexpr int64_t kMaxTotalGpus = 1000000;

bool ParsePositive(std::string_view s, int* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && *v > 0;
}

const GpuClass* Find(const std::vector<GpuClass>& catalogue, std::string_view name) {
  for (const GpuClass& c : catalogue) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

int ClusterSpec::TotalGpus() const {
  int n = 0;
  for (const NodeGroup& g : groups) n += g.gpus_per_node * g.nodes;
  return n;
}

int ClusterSpec::TotalNodes() const {
  int n = 0;
  for (const NodeGroup& g : groups) n += g.nodes;
  return n;
}

std::string ClusterSpec::ToString() const {
  std::string s;
  for (const NodeGroup& g : groups) {
    if (!s.empty()) s += ",";
    s += g.gpu_class + ":" + std::to_string(g.gpus_per_node) + "x" + std::to_string(g.nodes);
    if (g.min_job_gpus > 0) s += ":min-gpus=" + std::to_string(g.min_job_gpus);
  }
  return s;
}

Result<ClusterSpec> ParseClusterSpec(std::string_view spec,
                                     const std::vector<GpuClass>& catalogue) {
  const std::string hint =
      " (expected CLASS:GPUS_PER_NODExNODES[:min-gpus=N][,...], e.g. h200:8x4,l40s:4x6)";
  ClusterSpec out;
  if (spec.empty()) return InvalidArgument("empty cluster spec" + hint);
  int64_t total = 0;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string_view item = spec.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const std::string quoted = "\"" + std::string(item) + "\"";
    size_t colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgument("cluster spec item " + quoted + " has no CLASS:" + hint);
    }
    std::string_view cls = item.substr(0, colon);
    std::string_view rest = item.substr(colon + 1);
    NodeGroup g;
    g.gpu_class = std::string(cls);
    if (size_t option = rest.find(':'); option != std::string_view::npos) {
      constexpr std::string_view kMin = "min-gpus=";
      std::string_view o = rest.substr(option + 1);
      if (!o.starts_with(kMin) || !ParsePositive(o.substr(kMin.size()), &g.min_job_gpus) ||
          g.min_job_gpus > 1024) {
        return InvalidArgument("cluster spec item " + quoted +
                               ": the option after the node count is min-gpus=N (1-1024: only "
                               "jobs of at least N GPUs run on these nodes)" +
                               hint);
      }
      rest = rest.substr(0, option);
    }
    size_t x = rest.find('x');
    if (x == std::string_view::npos || !ParsePositive(rest.substr(0, x), &g.gpus_per_node) ||
        !ParsePositive(rest.substr(x + 1), &g.nodes)) {
      return InvalidArgument("cluster spec item " + quoted +
                             ": GPUS_PER_NODExNODES must be two positive whole numbers" + hint);
    }
    if (Find(catalogue, cls) == nullptr) {
      std::string known;
      for (const GpuClass& c : catalogue) known += (known.empty() ? "" : ", ") + c.name;
      return InvalidArgument("cluster spec item " + quoted + ": unknown GPU class \"" +
                             std::string(cls) + "\" (known: " + known + ")");
    }
    if (g.gpus_per_node > kMaxGpusPerNode) {
      return InvalidArgument("cluster spec item " + quoted + ": at most 64 GPUs per node");
    }
    if (g.nodes > kMaxNodesPerGroup) {
      return InvalidArgument("cluster spec item " + quoted + ": at most 100000 nodes per item");
    }
    total += static_cast<int64_t>(g.gpus_per_node) * g.nodes;
    if (total > kMaxTotalGpus) return InvalidArgument("cluster spec: more than 1,000,000 GPUs");
    out.groups.push_back(std::move(g));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<sched::ClassInfo> ClusterClasses(const ClusterSpec& spec,
                                             const std::vector<GpuClass>& catalogue) {
  std::vector<sched::ClassInfo> out;
  for (const NodeGroup& g : spec.groups) {
    bool seen = false;
    for (const sched::ClassInfo& c : out) seen = seen || c.name == g.gpu_class;
    if (seen) continue;
    const GpuClass* c = Find(catalogue, g.gpu_class);
    out.push_back({g.gpu_class, c ? c->speed : 1.0, c ? c->hourly_rate : 0});
  }
  return out;
}

std::vector<sched::NodeView> BuildNodes(const ClusterSpec& spec) {
  std::vector<sched::NodeView> nodes;
  std::map<std::string, int> per_class;
  for (const NodeGroup& g : spec.groups) {
    for (int i = 0; i < g.nodes; ++i) {
      sched::NodeView n;
      n.id = static_cast<NodeId>(nodes.size() + 1);
      char num[16];
      std::snprintf(num, sizeof num, "%03d", ++per_class[g.gpu_class]);
      n.name = g.gpu_class + "-" + num;
      for (int d = 0; d < g.gpus_per_node; ++d) n.devices.push_back({d, g.gpu_class, true, 0});
      n.min_job_gpus = g.min_job_gpus;
      nodes.push_back(std::move(n));
    }
  }
  return nodes;
}

}  // namespace gpuaas::sim
