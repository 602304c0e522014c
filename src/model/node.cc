#include "model/node.h"

namespace gpuaas {

const char* NodeStateName(NodeState s) {
  switch (s) {
    case NodeState::kReady:
      return "ready";
    case NodeState::kDown:
      return "down";
    case NodeState::kCordoned:
      return "cordoned";
    case NodeState::kDraining:
      return "draining";
  }
  return "down";
}

const char* DeviceStateName(DeviceState s) {
  return s == DeviceState::kHealthy ? "healthy" : "unhealthy";
}

}  // namespace gpuaas
