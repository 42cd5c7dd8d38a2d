// Completion: a move-only, type-erased callback that resumes whoever waits
// for an RPC event (a coroutine, usually) on that waiter's own executor.
//
// Boost 1.81's any_completion_handler cannot be posted portably, and
// std::move_only_function is C++23, so the runtime wraps each waiter once, at
// the point where its concrete handler type (and so its executor) is known.
#pragma once

#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <type_traits>
#include <utility>

#include "lib/rpc/types.h"

namespace peers::rpc {

template <typename... Args>
class Completion {
 public:
  Completion() = default;

  // Wraps an Asio completion handler; invoking the Completion posts the
  // handler with the arguments to the handler's associated executor (or
  // `fallback`), never running it inline. resume_here() may run it inline.
  template <typename Handler>
  static Completion wrap(Handler&& handler, const Executor& fallback) {
    using H = std::decay_t<Handler>;
    auto ex = boost::asio::get_associated_executor(handler, fallback);
    Completion c;
    c.impl_ = std::make_unique<Wrapped<H, decltype(ex)>>(std::forward<Handler>(handler), ex);
    return c;
  }

  template <typename F>
  explicit Completion(F&& f) : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}

  explicit operator bool() const { return impl_ != nullptr; }

  // Calls once; the Completion is empty afterwards.
  void operator()(Args... args) {
    auto impl = std::move(impl_);
    impl->call(false, std::move(args)...);
  }

  // The same, but a wrapped handler whose executor allows it (the caller is
  // already running on it) runs at once, inside this call, saving a trip
  // through the event loop. Only for callers that hold no locks and walk no
  // containers the resumed code could change.
  void resume_here(Args... args) {
    auto impl = std::move(impl_);
    impl->call(true, std::move(args)...);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void call(bool here, Args... args) = 0;
  };
  template <typename F>
  struct Impl : Base {
    explicit Impl(F&& f) : f(std::move(f)) {}
    void call(bool, Args... args) override { f(std::move(args)...); }
    F f;
  };
  template <typename H, typename Ex>
  struct Wrapped : Base {
    Wrapped(H&& h, Ex ex) : h(std::move(h)), ex(std::move(ex)) {}
    void call(bool here, Args... args) override {
      if (here) {
        boost::asio::dispatch(ex, boost::asio::append(std::move(h), std::move(args)...));
      } else {
        boost::asio::post(ex, boost::asio::append(std::move(h), std::move(args)...));
      }
    }
    H h;
    Ex ex;
  };
  std::unique_ptr<Base> impl_;
};

}  // namespace peers::rpc
