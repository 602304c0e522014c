#include "api/background_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace gpuaas::api {
namespace {

TEST(BackgroundQueue, RunsOffTheCallersThreadAndRefusesBeyondItsBound) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> ran{0};
  std::thread::id worker;
  {
    BackgroundQueue q(2);
    EXPECT_TRUE(q.HasRoom());
    std::promise<void> started;
    ASSERT_TRUE(q.Submit([&] {
      worker = std::this_thread::get_id();
      started.set_value();
      gate.wait();
      ++ran;
    }));
    started.get_future().wait();            // one running
    ASSERT_TRUE(q.Submit([&] { ++ran; }));  // one waiting: the bound is reached
    EXPECT_FALSE(q.HasRoom());
    EXPECT_FALSE(q.Submit([&] { ran += 100; }));
    release.set_value();
  }  // the destructor runs what was queued, then joins
  EXPECT_EQ(ran.load(), 2);
  EXPECT_NE(worker, std::this_thread::get_id());
}

TEST(BackgroundQueue, AcceptsAgainOnceTheBacklogDrains) {
  BackgroundQueue q(1);
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) {
    // The slot frees just after the previous work returns: poll (bounded) until it does.
    bool accepted = false;
    for (int k = 0; k < 5000 && !accepted; ++k) {
      accepted = q.Submit([&] { ++ran; });
      if (!accepted) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(accepted) << i;
  }
  for (int k = 0; k < 5000 && ran.load() < 5; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(ran.load(), 5);
}

}  // namespace
}  // namespace gpuaas::api
