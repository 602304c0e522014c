#include "sched/plugins.h"

namespace gpuaas::sched {
namespace {

// Whether device d of the node is of the ask's class (by index when the ask knows it).
bool OfClass(const Ask& ask, const Timeline& timeline, size_t node_pos, size_t d,
             const DeviceView& dev) {
  if (ask.class_index >= 0) return timeline.DeviceClass(node_pos, d) == ask.class_index;
  return dev.gpu_class == ask.gpu_class;
}

}  // namespace

const char* StageName(Stage stage) {
  switch (stage) {
    case Stage::kLabels:
      return "labels";
    case Stage::kTooBig:
      return "too_big";
    case Stage::kUnschedulable:
      return "unschedulable";
    case Stage::kUnhealthy:
      return "unhealthy";
    case Stage::kQuota:
      return "quota";
    case Stage::kBusy:
      return "busy";
    case Stage::kFits:
      return "fits";
  }
  return "?";
}

void QueueOrder::Sort(std::vector<const JobView*>& queue) const {
  std::vector<QueueEntry> entries;
  entries.reserve(queue.size());
  for (const JobView* j : queue) entries.push_back({j, j->id, j->entity, j->gpus});
  Sort(entries);
  for (size_t i = 0; i < queue.size(); ++i) queue[i] = entries[i].job;
}

std::vector<int> UsableDevices(const Ask& ask, size_t node_pos, const Timeline& timeline,
                               Millis start) {
  std::vector<int> out;
  const NodeView& node = timeline.snapshot().nodes[node_pos];
  Millis end = AddSeconds(start, ask.walltime_s);
  for (size_t d = 0; d < node.devices.size(); ++d) {
    const DeviceView& dev = node.devices[d];
    if (!dev.healthy || !OfClass(ask, timeline, node_pos, d, dev)) continue;
    if (timeline.DeviceFree(node_pos, d, start, end)) out.push_back(dev.index);
  }
  return out;
}

int CountUsable(const Ask& ask, size_t node_pos, const Timeline& timeline, Millis start) {
  int out = 0;
  const NodeView& node = timeline.snapshot().nodes[node_pos];
  Millis end = AddSeconds(start, ask.walltime_s);
  for (size_t d = 0; d < node.devices.size(); ++d) {
    const DeviceView& dev = node.devices[d];
    if (!dev.healthy || !OfClass(ask, timeline, node_pos, d, dev)) continue;
    if (timeline.DeviceFree(node_pos, d, start, end)) ++out;
  }
  return out;
}

}  // namespace gpuaas::sched
