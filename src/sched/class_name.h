// SameClassName: a == b for GPU class names, inline and without a call to memcmp. The time
// line, the filters and the simulator compare class names hundreds of times per pass; names of
// 4 to 8 bytes ("h200", "l40s") are compared as two 4-byte loads, the first and the last
// (overlapping when shorter than 8).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace gpuaas::sched {

inline bool SameClassName(const std::string& a, const std::string& b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 4 && n <= 8) {
    uint32_t a0, b0, a1, b1;
    std::memcpy(&a0, a.data(), 4);
    std::memcpy(&b0, b.data(), 4);
    std::memcpy(&a1, a.data() + n - 4, 4);
    std::memcpy(&b1, b.data() + n - 4, 4);
    return a0 == b0 && a1 == b1;
  }
  return a == b;
}

}  // namespace gpuaas::sched
