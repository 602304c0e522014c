// Clock: the only source of "now" for logic. Real code gets a SystemClock from cmd/; tests and
// the simulator get a ManualClock they advance themselves (Envoy's SimulatedTimeSystem).
// Thread-safety: SystemClock is stateless; ManualClock is safe for concurrent Now()/Advance().
#pragma once

#include <atomic>

#include "base/time.h"

namespace gpuaas {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis Now() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start = 0) : now_(start) {}
  Millis Now() const override { return now_.load(); }
  void Set(Millis t) { now_.store(t); }
  void Advance(Millis d) { now_.fetch_add(d); }

 private:
  std::atomic<Millis> now_;
};

}  // namespace gpuaas
