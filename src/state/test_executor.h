// TestExecutor: a manual Executor for tests of the Platform. Posted work and due timers run
// only inside Drain(), on the test's thread; the Store's writer thread may Post() concurrently.
// Timers use the ManualClock the test advances.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>

#include "base/clock.h"
#include "base/executor.h"
#include "store/store.h"

namespace gpuaas {

class TestExecutor final : public Executor {
 public:
  TestExecutor(ManualClock& clock, Store& store) : clock_(clock), store_(store) {}

  void Post(std::function<void()> fn) override {
    std::lock_guard<std::mutex> l(mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t RunAfter(int64_t delay_ms, std::function<void()> fn) override {
    std::lock_guard<std::mutex> l(mu_);
    uint64_t id = ++next_id_;
    timers_[id] = {clock_.Now() + delay_ms, std::move(fn)};
    return id;
  }
  void Cancel(uint64_t id) override {
    std::lock_guard<std::mutex> l(mu_);
    timers_.erase(id);
  }

  // Runs posted work and due timers until nothing is left (waiting for store commits).
  void Drain() {
    for (int rounds = 0; rounds < 10'000; ++rounds) {
      (void)store_.Flush();
      std::function<void()> fn;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (!posted_.empty()) {
          fn = std::move(posted_.front());
          posted_.pop_front();
        } else {
          for (auto it = timers_.begin(); it != timers_.end(); ++it) {
            if (it->second.first <= clock_.Now()) {
              fn = std::move(it->second.second);
              timers_.erase(it);
              break;
            }
          }
        }
      }
      if (!fn) return;
      fn();
    }
  }
  // Advances the clock by `ms` and drains.
  void Advance(int64_t ms) {
    clock_.Advance(ms);
    Drain();
  }

 private:
  ManualClock& clock_;
  Store& store_;
  std::mutex mu_;
  std::deque<std::function<void()>> posted_;
  std::map<uint64_t, std::pair<Millis, std::function<void()>>> timers_;
  uint64_t next_id_ = 0;
};

}  // namespace gpuaas
