#include "lib/kernel/timer.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>
#include <vector>

namespace peers {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs io until nothing is runnable and no timer waits, jumping time.
void run_virtual(asio::io_context& io, VirtualTime& vt) {
  for (;;) {
    io.restart();
    io.poll();
    auto next = vt.next_deadline();
    if (!next) break;
    vt.advance_to(*next);
  }
}

TEST(Timer, RealTimerWaitsForRealTime) {
  ASSERT_FALSE(Clock::is_virtual());
  asio::io_context io;
  Timer t(io);
  auto start = Clock::now();
  t.expires_after(20ms);
  bool fired = false;
  t.async_wait([&](boost::system::error_code ec) { fired = !ec; });
  io.run();
  EXPECT_TRUE(fired);
  EXPECT_GE(Clock::now() - start, 20ms);
}

TEST(Timer, VirtualWaitsCompleteInDeadlineOrderAtTheirDeadline) {
  asio::io_context io;
  VirtualTime vt;
  ASSERT_TRUE(Clock::is_virtual());
  auto t0 = Clock::now();
  std::vector<std::string> order;
  std::vector<Clock::duration> at;
  auto sleeper = [&](std::string name, Clock::duration d) -> asio::awaitable<void> {
    Timer t(co_await asio::this_coro::executor);
    t.expires_after(d);
    auto wait = t.async_wait(asio::use_awaitable);
    co_await std::move(wait);
    order.push_back(name);
    at.push_back(Clock::now() - t0);
  };
  asio::co_spawn(io, sleeper("c", 3s), asio::detached);
  asio::co_spawn(io, sleeper("a", 1s), asio::detached);
  asio::co_spawn(io, sleeper("b", 2h), asio::detached);
  auto real_start = std::chrono::steady_clock::now();
  run_virtual(io, vt);
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, 5s);  // two virtual hours
  EXPECT_EQ(order, (std::vector<std::string>{"a", "c", "b"}));
  EXPECT_EQ(at, (std::vector<Clock::duration>{1s, 3s, 2h}));
}

TEST(Timer, VirtualCancelAndRearmAbortPendingWaits) {
  asio::io_context io;
  VirtualTime vt;
  auto t0 = Clock::now();
  Timer t(io);
  t.expires_after(10s);
  std::vector<boost::system::error_code> results;
  t.async_wait([&](boost::system::error_code ec) { results.push_back(ec); });
  EXPECT_EQ(t.expires_after(5s), 1u);  // re-arming aborts the first wait
  Clock::time_point fired_at{};
  t.async_wait([&](boost::system::error_code ec) {
    results.push_back(ec);
    fired_at = Clock::now();
  });
  Timer never(io);
  never.expires_after(1s);
  never.async_wait([&](boost::system::error_code ec) { results.push_back(ec); });
  EXPECT_EQ(never.cancel(), 1u);
  run_virtual(io, vt);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0], asio::error::operation_aborted);
  EXPECT_EQ(results[1], asio::error::operation_aborted);
  EXPECT_FALSE(results[2]);
  EXPECT_EQ(fired_at - t0, 5s);
  EXPECT_EQ(vt.armed(), 0u);
}

TEST(Timer, VirtualWaitOnAPastExpiryCompletesAtOnce) {
  asio::io_context io;
  VirtualTime vt;
  Timer t(io);
  t.expires_at(Clock::now() - 1s);
  boost::system::error_code got = asio::error::timed_out;
  t.async_wait([&](boost::system::error_code ec) { got = ec; });
  io.poll();
  EXPECT_FALSE(got);
}

TEST(Timer, DestroyingAVirtualTimerAbortsItsWait) {
  asio::io_context io;
  VirtualTime vt;
  boost::system::error_code got;
  {
    Timer t(io);
    t.expires_after(1s);
    t.async_wait([&](boost::system::error_code ec) { got = ec; });
  }
  run_virtual(io, vt);
  EXPECT_EQ(got, asio::error::operation_aborted);
  EXPECT_FALSE(vt.next_deadline());
}

TEST(Timer, CallsAtAVirtualTimeRunInOrderWithTimers) {
  asio::io_context io;
  VirtualTime vt;
  auto t0 = Clock::now();
  std::vector<std::string> order;
  vt.call_at(t0 + 2s, [&] { order.push_back("call 2s"); });
  Timer t(io);
  t.expires_after(1s);
  t.async_wait([&](boost::system::error_code) { order.push_back("timer 1s"); });
  vt.call_at(t0 + 1s, [&] {
    order.push_back("call 1s");
    vt.call_at(Clock::now(), [&] { order.push_back("call 1s+0"); });
  });
  run_virtual(io, vt);
  EXPECT_EQ(order, (std::vector<std::string>{"call 1s", "call 1s+0", "timer 1s", "call 2s"}));
  EXPECT_EQ(Clock::now() - t0, 2s);
}

}  // namespace
}  // namespace peers
