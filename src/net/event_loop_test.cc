// EventLoop: ordering of posts, timers, cancellation and cross-thread Stop.
#include "net/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

namespace gpuaas::net {
namespace {

TEST(EventLoopTest, PostRunsInOrderOnRunThread) {
  EventLoop loop;
  std::vector<int> order;
  std::thread::id ran_on;
  loop.Post([&] { order.push_back(1); });
  loop.Post([&] {
    order.push_back(2);
    ran_on = std::this_thread::get_id();
    loop.Post([&] {
      order.push_back(3);
      loop.Stop();
    });
  });
  loop.Run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoopTest, TimersFireAndCancelledOnesDoNot) {
  EventLoop loop;
  std::vector<int> fired;
  uint64_t a = loop.RunAfter(0, [&] { fired.push_back(1); });
  uint64_t b = loop.RunAfter(0, [&] { fired.push_back(2); });
  uint64_t c = loop.RunAfter(5, [&] {
    fired.push_back(3);
    loop.Stop();
  });
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  loop.Cancel(b);
  loop.Run();
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
  loop.Cancel(a);  // already ran: a no-op
}

TEST(EventLoopTest, CancelFromInsideTheLoopBeforeExpiry) {
  EventLoop loop;
  bool fired = false;
  uint64_t id = loop.RunAfter(60'000, [&] { fired = true; });
  loop.Post([&] {
    loop.Cancel(id);
    loop.Stop();
  });
  loop.Run();
  EXPECT_FALSE(fired);
}

TEST(EventLoopTest, StopFromAnotherThreadAndRunAgain) {
  EventLoop loop;
  std::promise<void> started;
  std::thread runner([&] { loop.Run(); });
  loop.Post([&] { started.set_value(); });
  started.get_future().wait();
  loop.Stop();
  runner.join();
  // The loop can run again after Stop.
  bool ran = false;
  loop.Post([&] {
    ran = true;
    loop.Stop();
  });
  loop.Run();
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, ThrowingCallbackDoesNotKillTheLoop) {
  EventLoop loop;
  bool after = false;
  loop.Post([] { throw std::runtime_error("boom"); });
  loop.Post([&] {
    after = true;
    loop.Stop();
  });
  loop.Run();
  EXPECT_TRUE(after);
}

}  // namespace
}  // namespace gpuaas::net
