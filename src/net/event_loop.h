// EventLoop: one thread running callbacks in order (an asio io_context behind a pimpl, so that
// callers do not include Asio). The server's state lives on its loop: whatever runs on it is
// the single writer. Thread-safety: Post() and RunAfter() may be called from any thread;
// Run() blocks the calling thread until Stop().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace gpuaas::net {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void Post(std::function<void()> fn);
  // Runs fn on the loop after delay_ms. The returned id cancels it with Cancel() (a no-op once
  // it ran). Ids are never reused.
  uint64_t RunAfter(int64_t delay_ms, std::function<void()> fn);
  void Cancel(uint64_t timer_id);

  void Run();   // runs until Stop(); callbacks execute on this thread
  void Stop();  // safe from any thread and from signal-handling code paths posted to the loop

  // Opaque access for net/*.cc (returns the boost::asio::io_context*).
  void* native();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpuaas::net
