// Test helpers: a hand-written service and an io_context running on threads.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
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

// A listening socket whose accept queue is full: the kernel drops further
// SYNs, as a firewall that drops them would. Closed on destruction.
class BlackHole {
 public:
  BlackHole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 0) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    // Fill the queue (never accepted): non-blocking connects, so the ones
    // past the queue's end do not wait here.
    for (int i = 0; i < 4; ++i) {
      int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      fillers_.push_back(c);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ~BlackHole() {
    for (int c : fillers_) ::close(c);
    if (fd_ >= 0) ::close(fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> fillers_;
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
