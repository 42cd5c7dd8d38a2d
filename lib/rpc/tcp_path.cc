// read_tcp_path(): TCP_INFO from <linux/tcp.h>, whose struct has the fields
// glibc's <netinet/tcp.h> lacks (bytes_acked, notsent_bytes, min_rtt,
// delivery_rate).
#include "lib/rpc/tcp_path.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace peers::rpc {

TcpPath read_tcp_path(int fd) {
  TcpPath p;
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (fd < 0 || ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return p;
  // Older kernels fill a shorter struct: use only what they wrote.
  auto has = [&](std::size_t offset, std::size_t size) { return offset + size <= len; };
  p.ok = true;
  p.srtt_ms = info.tcpi_rtt / 1000.0;
  if (has(offsetof(tcp_info, tcpi_bytes_acked), sizeof(info.tcpi_bytes_acked)))
    p.bytes_acked = info.tcpi_bytes_acked;
  if (has(offsetof(tcp_info, tcpi_notsent_bytes), sizeof(info.tcpi_notsent_bytes)))
    p.notsent_bytes = info.tcpi_notsent_bytes;
  if (has(offsetof(tcp_info, tcpi_min_rtt), sizeof(info.tcpi_min_rtt)))
    p.min_rtt_ms = info.tcpi_min_rtt / 1000.0;
  if (has(offsetof(tcp_info, tcpi_delivery_rate), sizeof(info.tcpi_delivery_rate)))
    p.delivery_rate_bps = static_cast<double>(info.tcpi_delivery_rate) * 8;
  return p;
}

}  // namespace peers::rpc
