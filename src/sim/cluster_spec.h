// The simulated cluster: the CONTRACT's SPEC `CLASS:GPUS_PER_NODExNODES[,...]`
// (e.g. `h200:8x4,l40s:4x6`), where an item may end with `:min-gpus=N` (those nodes run only
// jobs of at least N GPUs, as the node label gpuaas.io/min-gpus does: `h200:8x16:min-gpus=8`), and
// the scheduler's views built from it: nodes (ids 1.., in spec order, devices 0..k-1) and the class
// catalogue (speeds and hourly rates from a GpuClass catalogue, in the order classes first appear
// in the spec: "any class" tries them that way). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/gpu_class.h"
#include "sched/snapshot.h"

namespace gpuaas::sim {

struct NodeGroup {
  std::string gpu_class;
  int gpus_per_node = 0;
  int nodes = 0;
  int min_job_gpus = 0;  // `:min-gpus=N`: only jobs of at least N GPUs (sched::NodeView)
};

struct ClusterSpec {
  std::vector<NodeGroup> groups;

  int TotalGpus() const;
  int TotalNodes() const;
  // The canonical spelling, e.g. "h200:8x4,l40s:4x6".
  std::string ToString() const;
};

// Limits: 1-64 GPUs per node, 1-100000 nodes per group, at most 1,000,000 GPUs in all. Every
// class must be in `catalogue` (its speed and price come from there).
Result<ClusterSpec> ParseClusterSpec(std::string_view spec, const std::vector<GpuClass>& catalogue);

// The classes of the spec, each once, in first-appearance order, with the catalogue's speed and
// hourly rate.
std::vector<sched::ClassInfo> ClusterClasses(const ClusterSpec& spec,
                                             const std::vector<GpuClass>& catalogue);

// Nodes with ids 1..n, names "<class>-<NNN>" numbered per class, all schedulable and healthy.
std::vector<sched::NodeView> BuildNodes(const ClusterSpec& spec);

}  // namespace gpuaas::sim
