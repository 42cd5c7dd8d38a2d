// Test helpers: a hand-written service and an io_context running on threads.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>
#include <vector>

#include "lib/rpc/node.h"
#include "lib/wire/codec.h"
#include "lib/wire/error_registry.h"

namespace peers::rpc::testing {

// An io_context run by N threads for the life of the object.
class Kernel {
 public:
  explicit Kernel(int threads = 2) : guard_(io_.get_executor()) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~Kernel() {
    // Let closing connections finish on their own (so coroutine frames that
    // own sockets are freed while the io_context is alive), then stop.
    guard_.reset();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!io_.stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  Executor executor() { return io_.get_executor(); }
  boost::asio::io_context& io() { return io_; }

  // Runs a coroutine on the kernel and waits for its result (test thread).
  template <typename T>
  T run(Task<T> task) {
    return boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

// A typed error as peers-idlc would generate it.
class TooBig : public Error {
 public:
  static constexpr std::string_view kTypeName = "test.TooBig";
  explicit TooBig(std::string message = "too big", std::uint32_t limit = 0)
      : Error(Errc::kApplication, std::string(kTypeName), std::move(message), {}), limit(limit) {}
  void encode_fields(std::string& out) const override {
    wire::Writer w(&out);
    w.field_varint(1, limit);
  }
  [[noreturn]] void rethrow() const override { throw *this; }
  std::uint32_t limit;
};

}  // namespace peers::rpc::testing
