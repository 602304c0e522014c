// LoopExecutor: the Executor interface of the state over the server's net::EventLoop.
#pragma once

#include "base/executor.h"
#include "net/event_loop.h"

namespace gpuaas {

class LoopExecutor final : public Executor {
 public:
  explicit LoopExecutor(net::EventLoop& loop) : loop_(loop) {}
  void Post(std::function<void()> fn) override { loop_.Post(std::move(fn)); }
  uint64_t RunAfter(int64_t delay_ms, std::function<void()> fn) override {
    return loop_.RunAfter(delay_ms, std::move(fn));
  }
  void Cancel(uint64_t timer_id) override { loop_.Cancel(timer_id); }

 private:
  net::EventLoop& loop_;
};

}  // namespace gpuaas
