#include "api/background_queue.h"

#include <utility>

namespace gpuaas::api {

BackgroundQueue::BackgroundQueue(size_t max_pending)
    : max_pending_(max_pending == 0 ? 1 : max_pending), thread_([this] { Run(); }) {}

BackgroundQueue::~BackgroundQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool BackgroundQueue::Submit(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() + running_ >= max_pending_) return false;
    queue_.push_back(std::move(work));
  }
  cv_.notify_one();
  return true;
}

bool BackgroundQueue::HasRoom() {
  std::lock_guard<std::mutex> lock(mu_);
  return !stopping_ && queue_.size() + running_ < max_pending_;
}

void BackgroundQueue::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::function<void()> work = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    work();
    work = nullptr;
    lock.lock();
    --running_;
  }
}

}  // namespace gpuaas::api
