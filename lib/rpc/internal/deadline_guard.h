// A deadline over one awaited operation (a connect, a handshake): a timer
// whose handler calls on_timeout() unless the guarded work ended first.
// The handler may run after the guarding coroutine has ended (the timer
// fired just before the work finished, when cancel() comes too late and the
// handler is already queued), so it shares only a small heap state with the
// coroutine, never the frame's locals; on_timeout must own or hold what it
// touches.
//
//   Timer timer(ex);
//   timer.expires_after(timeout);
//   DeadlineGuard guard(timer, [&socket] { socket.close(); });
//   co_await connect...;
//   if (guard.finish(timer)) throw Error(Errc::kTimeout, "...");
#pragma once

#include <memory>
#include <utility>

namespace peers::rpc::detail {

class DeadlineGuard {
 public:
  template <class Timer, class OnTimeout>
  DeadlineGuard(Timer& timer, OnTimeout on_timeout) : state_(std::make_shared<State>()) {
    timer.async_wait([state = state_, on_timeout = std::move(on_timeout)](const auto& ec) mutable {
      if (ec || state->over) return;
      state->timed_out = true;
      on_timeout();
    });
  }

  // The guarded work ended: the timer does nothing any more. True when the
  // timer fired first (the work was cut short by on_timeout).
  template <class Timer>
  bool finish(Timer& timer) {
    state_->over = true;
    timer.cancel();
    return state_->timed_out;
  }

 private:
  struct State {
    bool over = false;       // the guarded work ended: the timer does nothing
    bool timed_out = false;  // the timer fired first
  };
  std::shared_ptr<State> state_;
};

}  // namespace peers::rpc::detail
