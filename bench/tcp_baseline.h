// Raw TCP baselines: what the loopback and the kernel allow, without any RPC
// runtime. Plain blocking sockets, TCP_NODELAY, one connection, no event loop,
// so a benchmark of the RPC path can be read as a fraction of these.
//
// Each baseline has a server side (runs inside a bench::ServerPeer, announces
// its port on ready_fd and serves one client) and a client side that drives
// it and returns a rate.
//
//   ServerPeer server = ServerPeer::start(layout, {"--serve", "tcp-echo"},
//                                         [](int fd) { return serve_tcp_echo(fd, 64); });
//   double round_trips_per_s = tcp_pingpong_rate(server.port(), 64, timing);
#pragma once

#include <cstddef>
#include <cstdint>

#include "bench/harness.h"

namespace peers::bench {

// Echoes messages of exactly `message_size` bytes until the client closes.
int serve_tcp_echo(int ready_fd, std::size_t message_size);
// Sends `write_size`-byte writes until the client closes.
int serve_tcp_bulk(int ready_fd, std::size_t write_size);

// Round trips per second: send `message_size` bytes, read them back, repeat.
double tcp_pingpong_rate(std::uint16_t port, std::size_t message_size, const Timing& timing);
// Bytes per second received from serve_tcp_bulk (read into `read_size` buffers).
double tcp_bulk_rate(std::uint16_t port, std::size_t read_size, const Timing& timing);

}  // namespace peers::bench
