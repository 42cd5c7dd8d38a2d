// A timer on the seam clock (clock.h): asio::steady_timer in production;
// under a VirtualTime its waits complete when virtual time reaches the
// expiry, in deadline order, so a simulation jumps from deadline to deadline.
//
//   peers::Timer t(executor);
//   t.expires_after(std::chrono::seconds(1));
//   co_await t.async_wait(asio::use_awaitable);
//
// The interface is the part of asio::steady_timer the stack uses; any Asio
// completion token works in both modes.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "lib/kernel/clock.h"

namespace peers {

namespace detail {
struct VirtualTimerState;
}

class Timer {
 public:
  using clock_type = Clock;
  using duration = Clock::duration;
  using time_point = Clock::time_point;
  using executor_type = boost::asio::any_io_executor;
  using WaitHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  explicit Timer(const executor_type& ex);
  Timer(const executor_type& ex, duration d) : Timer(ex) { expires_after(d); }
  Timer(const executor_type& ex, time_point t) : Timer(ex) { expires_at(t); }
  template <typename ExecutionContext, typename = std::enable_if_t<std::is_convertible_v<
                                           ExecutionContext&, boost::asio::execution_context&>>>
  explicit Timer(ExecutionContext& ctx) : Timer(executor_type(ctx.get_executor())) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  executor_type get_executor();

  // Both cancel pending waits (operation_aborted) and return how many.
  std::size_t expires_at(time_point t);
  std::size_t expires_after(duration d) { return expires_at(Clock::now() + d); }
  time_point expiry() const;
  std::size_t cancel();

  template <typename Token>
  auto async_wait(Token&& token) {
    if (!virt_) return real_->async_wait(std::forward<Token>(token));
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) { wait_virtual(WaitHandler(std::move(handler))); }, token);
  }

 private:
  void wait_virtual(WaitHandler handler);

  // One of the two. A virtual timer makes no steady_timer: that would start
  // the io_context's reactor, which every poll() then asks epoll about.
  std::optional<boost::asio::steady_timer> real_;
  std::shared_ptr<detail::VirtualTimerState> virt_;
};

// Virtual time for a simulation: while one exists, Clock::now() reads it and
// every Timer created meanwhile is virtual. One per process, one thread.
//
//   peers::VirtualTime vt;
//   for (;;) {
//     io.poll();                       // everything runnable now
//     auto next = vt.next_deadline();  // nothing runnable: jump
//     if (!next || *next > end) break;
//     vt.advance_to(*next);            // posts the waits that are due
//   }
class VirtualTime {
 public:
  explicit VirtualTime(Clock::time_point start = Clock::time_point(std::chrono::hours(1)));
  ~VirtualTime();
  VirtualTime(const VirtualTime&) = delete;
  VirtualTime& operator=(const VirtualTime&) = delete;

  static VirtualTime* current() { return current_; }
  using Key = std::pair<Clock::time_point, std::uint64_t>;  // expiry, arming order

  Clock::time_point now() const { return Clock::virtual_now_; }
  // The earliest expiry of a timer that has a wait pending.
  std::optional<Clock::time_point> next_deadline();
  // Completes, in expiry order, every wait due at or before t, then sets the
  // clock to t (never backwards). Completions are posted to their executors.
  void advance_to(Clock::time_point t);
  // Timers and calls waiting now (a measure of pending work).
  std::size_t armed() const { return live_; }
  // Runs fn when virtual time reaches t (from advance_to, on the thread that
  // drives the simulation): cheaper than a Timer for a simulator's own
  // events, such as a packet leaving a link.
  void call_at(Clock::time_point t, std::function<void()> fn);

 private:
  friend class Timer;
  void arm(const std::shared_ptr<detail::VirtualTimerState>& t);
  void disarm(detail::VirtualTimerState& t);

  static inline VirtualTime* current_ = nullptr;
  std::uint64_t next_seq_ = 0;
  // A binary min-heap of small entries by (expiry, arming order); what each
  // runs is in a slot (reused). A disarmed timer leaves its entry, which is
  // dropped when it reaches the top: disarming is O(1).
  struct Entry {
    Clock::time_point at;
    std::uint64_t seq;
    std::uint32_t slot;
  };
  struct Slot {
    std::function<void()> fn;                    // a call_at
    detail::VirtualTimerState* timer = nullptr;  // or a timer (null: disarmed)
  };
  std::uint32_t push(Clock::time_point at);
  Entry pop();
  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t live_ = 0;
};

}  // namespace peers
