#include "agent/sample_buffer.h"

#include <algorithm>

namespace gpuaas {

void SampleBuffer::Add(const GpuSample& s) {
  q_.push_back(s);
  if (q_.size() > capacity_) {
    q_.pop_front();
    ++front_seq_;
    ++dropped_;
  }
}

std::vector<GpuSample> SampleBuffer::Peek(size_t max, uint64_t* end_seq) const {
  const size_t n = std::min(max, q_.size());
  *end_seq = front_seq_ + n;
  return std::vector<GpuSample>(q_.begin(), q_.begin() + static_cast<std::ptrdiff_t>(n));
}

void SampleBuffer::Acknowledge(uint64_t end_seq) {
  while (!q_.empty() && front_seq_ < end_seq) {
    q_.pop_front();
    ++front_seq_;
  }
}

}  // namespace gpuaas
