// Completion: a move-only, type-erased callback that resumes whoever waits
// for an RPC event (a coroutine, usually) on that waiter's own executor.
//
// Boost 1.81's any_completion_handler cannot be posted portably, and
// std::move_only_function is C++23, so the runtime wraps each waiter once, at
// the point where its concrete handler type (and so its executor) is known.
#pragma once

#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <utility>

#include "lib/rpc/types.h"

namespace peers::rpc {

template <typename... Args>
class Completion {
 public:
  Completion() = default;

  // Wraps an Asio completion handler; invoking the Completion posts the
  // handler with the arguments to the handler's associated executor (or
  // `fallback`), never running it inline.
  template <typename Handler>
  static Completion wrap(Handler&& handler, const Executor& fallback) {
    auto ex = boost::asio::get_associated_executor(handler, fallback);
    return Completion([h = std::forward<Handler>(handler), ex](Args... args) mutable {
      boost::asio::post(ex, boost::asio::append(std::move(h), std::move(args)...));
    });
  }

  template <typename F>
  explicit Completion(F&& f) : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}

  explicit operator bool() const { return impl_ != nullptr; }

  // Calls once; the Completion is empty afterwards.
  void operator()(Args... args) {
    auto impl = std::move(impl_);
    impl->call(std::move(args)...);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void call(Args... args) = 0;
  };
  template <typename F>
  struct Impl : Base {
    explicit Impl(F&& f) : f(std::move(f)) {}
    void call(Args... args) override { f(std::move(args)...); }
    F f;
  };
  std::unique_ptr<Base> impl_;
};

}  // namespace peers::rpc
