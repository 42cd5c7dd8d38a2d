#include "bench/tcp_baseline.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lib/kernel/error.h"

namespace peers::bench {

namespace {

// Owns a socket descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

void set_nodelay(int fd) {
  int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    throw_errno("setsockopt(TCP_NODELAY)");
  }
}

// Listens on 127.0.0.1 (port 0), announces the port, accepts one client.
// Socket buffer sizes are left to the kernel: setting SO_SNDBUF/SO_RCVBUF
// would turn off its autotuning, which grows them past what a fixed size
// would be on loopback.
Fd accept_one(int ready_fd, bool nodelay) {
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (listener.get() < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw_errno("bind");
  }
  if (::listen(listener.get(), 1) != 0) throw_errno("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw_errno("getsockname");
  }
  announce_port(ready_fd, ntohs(addr.sin_port));
  Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (conn.get() < 0) throw_errno("accept");
  if (nodelay) set_nodelay(conn.get());
  return conn;
}

Fd connect_to(std::uint16_t port, bool nodelay) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw_errno("connect");
  }
  if (nodelay) set_nodelay(fd.get());
  return fd;
}

// Reads exactly n bytes; false on end of stream or error.
bool read_full(int fd, char* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool write_full(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// Runs `loop` on a worker thread while the calling thread samples `counter`;
// then asks the worker to stop and waits for it.
template <typename Loop>
double run_sampled(const Timing& timing, Loop loop) {
  std::atomic<std::uint64_t> counter{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::thread worker([&] {
    if (!loop(counter, stop)) failed = true;
  });
  double rate = sample_rate(counter, timing);
  stop = true;
  worker.join();
  if (failed) throw Error(Errc::kConnectionLost, "raw TCP baseline: the server went away");
  return rate;
}

}  // namespace

int serve_tcp_echo(int ready_fd, std::size_t message_size) {
  Fd conn = accept_one(ready_fd, true);
  std::vector<char> buf(message_size);
  while (read_full(conn.get(), buf.data(), buf.size())) {
    if (!write_full(conn.get(), buf.data(), buf.size())) break;
  }
  return 0;
}

int serve_tcp_bulk(int ready_fd, std::size_t write_size) {
  // No TCP_NODELAY: with it every 16 KiB send leaves as a segment of its own;
  // without it the kernel coalesces what queues behind unacknowledged data
  // into segments of up to 64 KiB (loopback's MTU), as iperf3 lets it.
  Fd conn = accept_one(ready_fd, false);
  std::vector<char> buf(write_size, 'b');
  while (write_full(conn.get(), buf.data(), buf.size())) {
  }
  return 0;
}

TcpClient::TcpClient(std::uint16_t port, bool nodelay) : fd_(connect_to(port, nodelay).release()) {}

TcpClient::~TcpClient() { ::close(fd_); }

double TcpPingPong::rate(const Timing& timing) {
  return run_sampled(timing, [&](std::atomic<std::uint64_t>& done, std::atomic<bool>& stop) {
    std::vector<char> out(message_size_, 'p'), in(message_size_);
    while (!stop.load(std::memory_order_relaxed)) {
      if (!write_full(fd_, out.data(), out.size())) return false;
      if (!read_full(fd_, in.data(), in.size())) return false;
      done.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
  });
}

double TcpBulk::rate(const Timing& timing) {
  return run_sampled(timing, [&](std::atomic<std::uint64_t>& bytes, std::atomic<bool>& stop) {
    std::vector<char> buf(read_size_);
    while (!stop.load(std::memory_order_relaxed)) {
      ssize_t r = ::recv(fd_, buf.data(), buf.size(), 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      bytes.fetch_add(static_cast<std::uint64_t>(r), std::memory_order_relaxed);
    }
    return true;
  });
}

}  // namespace peers::bench
