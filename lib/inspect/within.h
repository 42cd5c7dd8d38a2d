// within(): runs an asynchronous operation with a deadline, for tools that
// talk to nodes that may be frozen, gone or not Peers nodes at all.
//
// The operation runs as its own coroutine; when the time is up the caller
// gets Errc::kTimeout at once and the operation is left to finish (or fail)
// in the background, its result dropped. So a TCP connect that would hang for
// minutes, or a server that accepts and never speaks, costs the caller
// exactly `timeout`.
//
//   auto op = vt::within<NodeStatus>(2s, [conn] { return InspectClient(conn).status(); },
//                                    "status of 10.0.0.2:7000");
//   NodeStatus st = co_await std::move(op);
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lib/kernel/error.h"
#include "lib/rpc/types.h"

namespace vt {

template <typename T>
peers::rpc::Task<T> within(std::chrono::steady_clock::duration timeout,
                           std::function<peers::rpc::Task<T>()> work, std::string what) {
  namespace asio = boost::asio;
  struct State {
    explicit State(const peers::rpc::Executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    std::optional<T> value;
    std::exception_ptr error;
    bool done = false;
  };
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<State>(ex);
  st->timer.expires_after(timeout);
  asio::co_spawn(
      ex,
      [st, work = std::move(work)]() -> peers::rpc::Task<void> {
        try {
          auto op = work();
          st->value.emplace(co_await std::move(op));
        } catch (...) {
          st->error = std::current_exception();
        }
        st->done = true;
        st->timer.cancel();
      },
      asio::detached);
  if (!st->done) {
    boost::system::error_code ec;
    auto wait = st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
  }
  if (!st->done) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    throw peers::Error(peers::Errc::kTimeout,
                       what + ": no answer within " + std::to_string(ms) + "ms");
  }
  if (st->error) std::rethrow_exception(st->error);
  co_return std::move(*st->value);
}

}  // namespace vt
