// SampleBuffer: the agent's queue of GPU samples not yet acknowledged by the server. Bounded
// (the oldest are dropped, and counted, when the server stays unreachable too long); samples
// leave only once a heartbeat carrying them was answered 200, so an outage loses nothing that
// fits. Each sample has a sequence number; a report takes a prefix and acknowledges it by
// the sequence number past its end.
//
// Thread-safety: NOT thread-safe (the agent guards it with its mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "telemetry/sample.h"

namespace gpuaas {

class SampleBuffer {
 public:
  explicit SampleBuffer(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  void Add(const GpuSample& s);
  // Up to `max` of the oldest samples; *end_seq = the sequence number past the last one.
  std::vector<GpuSample> Peek(size_t max, uint64_t* end_seq) const;
  // Removes every sample with a sequence number below end_seq (a stale ack is harmless).
  void Acknowledge(uint64_t end_seq);

  size_t size() const { return q_.size(); }
  uint64_t dropped() const { return dropped_; }

 private:
  size_t capacity_;
  std::deque<GpuSample> q_;
  uint64_t front_seq_ = 0;  // sequence number of q_.front()
  uint64_t dropped_ = 0;
};

}  // namespace gpuaas
