// Executor: where the single-writer state runs its work and timers. The server gives it the
// HTTP event loop; tests give it a manual one. Post() and RunAfter() may be called from any
// thread; callbacks run one at a time on the executor's thread, in order.
#pragma once

#include <cstdint>
#include <functional>

namespace gpuaas {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Post(std::function<void()> fn) = 0;
  virtual uint64_t RunAfter(int64_t delay_ms, std::function<void()> fn) = 0;
  virtual void Cancel(uint64_t timer_id) = 0;
};

}  // namespace gpuaas
