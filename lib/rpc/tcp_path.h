// What the kernel knows of a connection's TCP path (Linux TCP_INFO): what
// the other side has acknowledged, what waits in the socket, and how the
// round trip grew over its minimum (queueing at the bottleneck).
//
// No Asio here: <linux/tcp.h>, which has the fields this needs, clashes with
// glibc's <netinet/tcp.h>, which Asio includes, so tcp_path.cc reads it in a
// file of its own.
//
//   TcpPath p = conn->tcp_path();  // Connection::tcp_path()
//   if (p.ok) queue_ms = p.srtt_ms - p.min_rtt_ms;
#pragma once

#include <cstdint>

namespace peers::rpc {

struct TcpPath {
  bool ok = false;                  // false: closed, or not readable here
  std::uint64_t bytes_acked = 0;    // bytes the peer acknowledged, all time
  std::uint32_t notsent_bytes = 0;  // written by us, not yet sent
  double srtt_ms = 0, min_rtt_ms = 0;
  double delivery_rate_bps = 0;  // the kernel's recent delivery rate
};

// TCP_INFO of a socket; ok = false when it cannot be read.
TcpPath read_tcp_path(int fd);

}  // namespace peers::rpc
