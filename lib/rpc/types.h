// Shared vocabulary of the Peers RPC runtime: tasks, options, answers.
//
// Every asynchronous operation is a Task<T> (a Boost.Asio awaitable): a C++20
// coroutine that runs on the kernel's io_context and is resumed as a
// continuation when the event it waits for arrives.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

namespace peers::rpc {

template <typename T>
using Task = boost::asio::awaitable<T>;

using Executor = boost::asio::any_io_executor;
using Duration = std::chrono::steady_clock::duration;

class Connection;
class DataChannel;
class Node;
class CallContext;

struct CallOptions {
  // Time the caller waits; it travels with the call so the callee can stop
  // working when it passes. Zero means the node's default (30 s).
  Duration timeout{0};
};

// A tail call: instead of answering, a handler hands the call to another node;
// the final answer goes straight to the original caller.
struct Forward {
  std::shared_ptr<Connection> to;
  std::uint32_t method_id = 0;
  std::string args;  // encoded request
};

// What a request/response handler produces: a value, or a Forward.
template <typename T>
class Answer {
 public:
  Answer(T value) : v_(std::move(value)) {}    // NOLINT: implicit on purpose
  Answer(Forward fwd) : v_(std::move(fwd)) {}  // NOLINT
  bool forwarded() const { return v_.index() == 1; }
  T& value() { return std::get<0>(v_); }
  Forward& forward() { return std::get<1>(v_); }

 private:
  std::variant<T, Forward> v_;
};

}  // namespace peers::rpc
