// BackgroundQueue: runs work off the event loop on one thread of its own, with a bounded
// backlog, for routes whose answer takes CPU time (GET /api/v1/forecast). A route copies what it
// needs from the Platform on the loop, then Submit()s the computation, which answers through
// net::Respond (callable from any thread). A full backlog refuses at once (the route answers
// 429), so a burst of requests can neither queue unbounded work nor stall the loop.
// Thread-safety: every method may be called from any thread; the destructor runs what is
// already queued, then joins the thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace gpuaas::api {

class BackgroundQueue {
 public:
  explicit BackgroundQueue(size_t max_pending);
  ~BackgroundQueue();
  BackgroundQueue(const BackgroundQueue&) = delete;
  BackgroundQueue& operator=(const BackgroundQueue&) = delete;

  // Queues `work`; false (and `work` dropped) when `max_pending` are already waiting or running.
  bool Submit(std::function<void()> work);
  // Whether a Submit now would be accepted (a hint: lets a route refuse before copying data).
  bool HasRoom();

 private:
  void Run();
  const size_t max_pending_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gpuaas::api
