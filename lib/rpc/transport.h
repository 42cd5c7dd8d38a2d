// The transport seam under rpc::Connection and rpc::Node: how a node dials,
// listens and moves bytes. TCP is the production transport and goes through
// no virtual call (Socket holds the Asio socket itself); a Network given in
// NodeOptions (vt-sim's simulated network, lib/sim) replaces it whole.
//
//   NodeOptions o;
//   o.network = sim_network.host("10.0.0.7");  // every dial and listen of this node
//   Node node(executor, identity, o);
//
// A Network reports failures as Error (kUnavailable for a refused or
// unreachable address, kTimeout for one that never answers), a stream's
// reads and writes as Asio error codes (eof when the peer closed), so the
// RPC layer above treats both transports alike.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "lib/kernel/error.h"
#include "lib/rpc/tcp_path.h"
#include "lib/rpc/types.h"

namespace peers::rpc {

// One byte stream of a non-TCP transport.
class StreamTransport {
 public:
  using IoHandler =
      boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
  virtual ~StreamTransport() = default;
  virtual std::string local_address() const = 0;   // host:port
  virtual std::string remote_address() const = 0;  // host:port, as this side sees it
  // As the TCP socket's: complete with what could be moved (at least one
  // byte), or an error; eof once the peer closed and everything was read.
  virtual void async_read_some(boost::asio::mutable_buffer b, IoHandler h) = 0;
  virtual void async_write_some(boost::asio::const_buffer b, IoHandler h) = 0;
  // What can be written without waiting; would_block when nothing can.
  virtual std::size_t write_some(boost::asio::const_buffer b, boost::system::error_code& ec) = 0;
  // The path as the transport measures it (acknowledged bytes, RTT, queue).
  virtual TcpPath path() const = 0;
  virtual bool is_open() const = 0;
  // Closes both directions; pending operations complete with operation_aborted,
  // the peer reads eof. abort: the peer sees a reset instead.
  virtual void close(bool abort) = 0;
};

// A listening endpoint of a non-TCP transport.
class ListenTransport {
 public:
  virtual ~ListenTransport() = default;
  virtual std::string host() const = 0;
  virtual std::uint16_t port() const = 0;
  // The next connection; throws Error(kCancelled) once closed.
  virtual Task<std::unique_ptr<StreamTransport>> accept() = 0;
  virtual void close() = 0;
};

// How one node reaches the others.
class Network {
 public:
  virtual ~Network() = default;
  virtual Task<std::unique_ptr<StreamTransport>> connect(std::string host_port) = 0;
  // host_port as Node::listen takes it; port 0 picks a free one.
  virtual Result<std::unique_ptr<ListenTransport>> listen(const std::string& host_port) = 0;
};

// A connection's byte stream: the TCP socket, or a StreamTransport. Models
// Asio's AsyncReadStream and AsyncWriteStream, so asio::async_read and
// async_write work on it; production pays one branch per operation.
class Socket {
 public:
  using executor_type = boost::asio::any_io_executor;
  using tcp = boost::asio::ip::tcp;

  explicit Socket(tcp::socket s) : tcp_(std::move(s)) {}
  // No tcp::socket is made for another transport: the first one would start
  // the io_context's reactor, which every poll() then asks epoll about.
  Socket(std::unique_ptr<StreamTransport> t, const executor_type& ex)
      : other_(std::move(t)), other_ex_(ex) {}

  executor_type get_executor() { return other_ ? other_ex_ : tcp_->get_executor(); }
  bool is_tcp() const { return !other_; }
  // TCP only (is_tcp()).
  tcp::socket& tcp_socket() { return *tcp_; }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (!other_) return tcp_->async_read_some(buffers, std::forward<Token>(token));
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [t = other_.get()](auto h, boost::asio::mutable_buffer b) {
          t->async_read_some(b, StreamTransport::IoHandler(std::move(h)));
        },
        token, boost::asio::mutable_buffer(*boost::asio::buffer_sequence_begin(buffers)));
  }
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    if (!other_) return tcp_->async_write_some(buffers, std::forward<Token>(token));
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [t = other_.get()](auto h, boost::asio::const_buffer b) {
          t->async_write_some(b, StreamTransport::IoHandler(std::move(h)));
        },
        token, boost::asio::const_buffer(*boost::asio::buffer_sequence_begin(buffers)));
  }
  std::size_t write_some(boost::asio::const_buffer b, boost::system::error_code& ec) {
    return other_ ? other_->write_some(b, ec) : tcp_->write_some(b, ec);
  }

  bool is_open() const { return other_ ? other_->is_open() : tcp_->is_open(); }
  // host:port of each end ("" when unknown).
  std::string local_address() const;
  std::string remote_address() const;
  TcpPath path() const;
  // Low latency and a non-blocking write_some (TCP only).
  void prepare();
  // FIN (or the transport's close); abort: a reset, no TIME_WAIT kept.
  void close(bool abort = false);

 private:
  std::optional<tcp::socket> tcp_;  // TCP, else other_
  std::unique_ptr<StreamTransport> other_;
  executor_type other_ex_;  // other_'s (empty for TCP)
};

}  // namespace peers::rpc
