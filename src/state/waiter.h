// A held agent long poll (private to the Platform's .cc files).
#pragma once

#include "state/platform.h"

namespace gpuaas {

struct Platform::Waiter {
  Done<DesiredWorkloads> done;
  uint64_t timer = 0;
};

}  // namespace gpuaas
