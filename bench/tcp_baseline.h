// Raw TCP baselines: what the loopback and the kernel allow, without any RPC
// runtime. Plain blocking sockets, one connection, no event loop, so a
// benchmark of the RPC path can be read as a fraction of these. Ping-pong
// sets TCP_NODELAY (a 64-byte message must leave at once); bulk does not
// (nothing waits for a single write, and the kernel may coalesce), and
// leaves socket buffer sizes to the kernel's autotuning, as iperf3 does.
//
// Each baseline has a server side (runs inside a bench::ServerPeer, announces
// its port on ready_fd and serves one client) and a client side that drives
// it and returns a rate.
//
//   ServerPeer server = ServerPeer::start(layout, {"--serve", "tcp-echo"},
//                                         [](int fd) { return serve_tcp_echo(fd, 64); });
//   TcpPingPong client(server.port(), 64);
//   double round_trips_per_s = client.rate(timing);
#pragma once

#include <cstddef>
#include <cstdint>

#include "bench/harness.h"

namespace peers::bench {

// Echoes messages of exactly `message_size` bytes until the client closes.
int serve_tcp_echo(int ready_fd, std::size_t message_size);
// Sends `write_size`-byte writes until the client closes (no TCP_NODELAY).
int serve_tcp_bulk(int ready_fd, std::size_t write_size);

// A connected raw TCP client (127.0.0.1, TCP_NODELAY if asked); closes its
// socket.
class TcpClient {
 public:
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

 protected:
  TcpClient(std::uint16_t port, bool nodelay);
  ~TcpClient();
  int fd_;
};

// A client of serve_tcp_echo: round trips per second, sending `message_size`
// bytes and reading them back, one at a time. rate() may be called again and
// again on the same connection (the benchmarks take turns).
class TcpPingPong : public TcpClient {
 public:
  TcpPingPong(std::uint16_t port, std::size_t message_size)
      : TcpClient(port, true), message_size_(message_size) {}
  double rate(const Timing& timing);

 private:
  std::size_t message_size_;
};

// A client of serve_tcp_bulk: bytes per second received, one recv() of up
// to `read_size` bytes after another in a tight loop. Between calls of rate()
// the server blocks on a full socket buffer.
class TcpBulk : public TcpClient {
 public:
  TcpBulk(std::uint16_t port, std::size_t read_size)
      : TcpClient(port, false), read_size_(read_size) {}
  double rate(const Timing& timing);

 private:
  std::size_t read_size_;
};

}  // namespace peers::bench
