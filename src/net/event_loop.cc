// EventLoop over boost::asio::io_context. Timers live in a map guarded by a mutex so that
// RunAfter and Cancel work from any thread; a timer's callback runs only if its id is still in
// the map when it fires, which makes Cancel reliable even after the timer expired but before the
// callback ran.
#include "net/event_loop.h"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <exception>
#include <mutex>
#include <unordered_map>

#include "base/log.h"

namespace gpuaas::net {

namespace asio = boost::asio;

struct EventLoop::Impl {
  asio::io_context ioc{1};  // one thread: lets Asio skip internal locking where it can
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::mutex mu;  // guards timers
  std::unordered_map<uint64_t, std::unique_ptr<asio::steady_timer>> timers;
  std::atomic<uint64_t> next_timer_id{1};
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}

EventLoop::~EventLoop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->timers.clear();
  }
  impl_->work.reset();
}

void EventLoop::Post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

uint64_t EventLoop::RunAfter(int64_t delay_ms, std::function<void()> fn) {
  const uint64_t id = impl_->next_timer_id.fetch_add(1);
  auto timer = std::make_unique<asio::steady_timer>(impl_->ioc);
  timer->expires_after(std::chrono::milliseconds(delay_ms < 0 ? 0 : delay_ms));
  Impl* impl = impl_.get();
  std::lock_guard lock(impl->mu);
  timer->async_wait([impl, id, fn = std::move(fn)](const boost::system::error_code&) {
    {
      std::lock_guard inner(impl->mu);
      if (impl->timers.erase(id) == 0) return;  // cancelled
    }
    fn();
  });
  impl->timers.emplace(id, std::move(timer));
  return id;
}

void EventLoop::Cancel(uint64_t timer_id) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->timers.find(timer_id);
  if (it == impl_->timers.end()) return;
  it->second->cancel();
  impl_->timers.erase(it);
}

void EventLoop::Run() {
  for (;;) {
    try {
      impl_->ioc.run();
      break;
    } catch (const std::exception& e) {
      // A callback threw: report it and keep the loop alive; the server must not die for it.
      GLOG_ERROR("event loop: callback threw: {}", e.what());
    } catch (...) {
      GLOG_ERROR("event loop: callback threw a non-standard exception");
    }
  }
  impl_->ioc.restart();  // so that a later Run() works again
}

void EventLoop::Stop() { impl_->ioc.stop(); }

void* EventLoop::native() { return &impl_->ioc; }

}  // namespace gpuaas::net
