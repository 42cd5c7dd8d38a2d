// Test helpers for hostile peers: plain sockets that speak the protocol badly
// on purpose, and a capture of the node's log lines.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/crypto/session.h"
#include "lib/kernel/log.h"
#include "lib/wire/frame.h"

namespace peers::rpc::testing {

using Clock = std::chrono::steady_clock;

// How long the node gets to react to an attack. Generous: a pass never
// depends on it, only a failure does.
constexpr Clock::duration kDeadline = std::chrono::seconds(10);

// Collects the node's log lines (lib/kernel/log.h sink) for the life of the
// object.
class LogCapture {
 public:
  LogCapture() {
    log_set_sink([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
      cv_.notify_all();
    });
  }
  ~LogCapture() { log_set_sink(nullptr); }

  // The first line that contains every one of `parts` and one of `any_of`
  // (if given), waiting up to `limit` for it; "" if none came.
  std::string wait_for(const std::vector<std::string>& parts,
                       const std::vector<std::string>& any_of = {},
                       Clock::duration limit = kDeadline) {
    auto matches = [&](const std::string& line) { return contains(line, parts, any_of); };
    std::unique_lock lock(mu_);
    std::string found;
    cv_.wait_until(lock, Clock::now() + limit, [&] {
      for (const auto& l : lines_) {
        if (matches(l)) {
          found = l;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  // Every line so far that contains all of `parts`.
  std::vector<std::string> matching(const std::vector<std::string>& parts) {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& l : lines_) {
      if (contains(l, parts, {})) out.push_back(l);
    }
    return out;
  }

  std::string all() {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& l : lines_) out += l;
    return out;
  }

 private:
  static bool contains(const std::string& line, const std::vector<std::string>& parts,
                       const std::vector<std::string>& any_of) {
    for (const auto& p : parts) {
      if (line.find(p) == std::string::npos) return false;
    }
    if (any_of.empty()) return true;
    for (const auto& p : any_of) {
      if (line.find(p) != std::string::npos) return true;
    }
    return false;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

// A plain TCP connection to the node under attack.
class RawPeer {
 public:
  // `rcvbuf` > 0 shrinks the receive buffer (set before connecting, so the
  // window the node sees is small from the start). `from` is the local
  // address to connect from (another loopback address, say).
  explicit RawPeer(std::uint16_t port, int rcvbuf = 0, const char* from = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (from != nullptr) {
      sockaddr_in bind_to{};
      bind_to.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &bind_to.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to) != 0) {
        ::close(fd_);
        throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
      }
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect: " + std::string(std::strerror(errno)));
    }
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
    char ip[INET_ADDRSTRLEN] = "";
    ::inet_ntop(AF_INET, &local.sin_addr, ip, sizeof ip);
    addr_ = std::string(ip) + ":" + std::to_string(ntohs(local.sin_port));
  }
  ~RawPeer() { ::close(fd_); }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  // This end as the node logs it ("addr=127.0.0.1:54012").
  const std::string& addr() const { return addr_; }

  // Writes everything; false if the node has closed the connection already.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Exactly n bytes; throws if the connection ends or the deadline passes.
  std::string read_exact(std::size_t n) {
    std::string out;
    auto deadline = Clock::now() + kDeadline;
    char buf[65536];
    while (out.size() < n) {
      if (!wait_readable(deadline)) throw std::runtime_error("read timed out");
      ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) throw std::runtime_error("connection ended while reading");
      out.append(buf, static_cast<std::size_t>(got));
    }
    return out;
  }

  // Reads and drops whatever comes until the node closes the connection (EOF
  // or reset). False if it is still open at the deadline.
  bool wait_closed() {
    auto deadline = Clock::now() + kDeadline;
    char buf[65536];
    for (;;) {
      if (!wait_readable(deadline)) return false;
      ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return true;
    }
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

 private:
  bool wait_readable(Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      return r > 0;
    }
  }

  int fd_ = -1;
  std::string addr_;
};

// A RawPeer that runs the real handshake (as the dialing side) and then
// seals its own records, so it can send well-formed or broken ones at will.
class SecurePeer {
 public:
  SecurePeer(std::uint16_t port, const PeerId& node, int rcvbuf = 0)
      : raw(port, rcvbuf), me_(Identity::generate()), hs_(me_, true, options(node)) {}

  // Sends HELLO and AUTH. `tamper` may change the AUTH message before it is
  // sealed; then the node's AUTH is not read (the node is expected to hang up).
  void handshake(const std::function<void(std::string&)>& tamper = nullptr) {
    ASSERT_TRUE(raw.send(hs_.hello()));
    std::string theirs = raw.read_exact(kHelloSize);
    ASSERT_TRUE(hs_.on_hello(theirs));
    std::tie(tx_, rx_) = hs_.ciphers();
    std::string auth = hs_.auth();
    if (tamper) tamper(auth);
    ASSERT_TRUE(raw.send(seal(auth)));
    if (tamper) return;
    auto id = hs_.on_auth(read_record());
    ASSERT_TRUE(id) << id.error().what();
  }

  // One record: 4-byte big-endian length, then the sealed bytes (AD = length).
  std::string seal(std::string_view plain) {
    std::string rec(4, '\0');
    auto len = static_cast<std::uint32_t>(plain.size() + tx_.overhead());
    for (int i = 0; i < 4; ++i) rec[i] = static_cast<char>(len >> (24 - 8 * i));
    rec.append(plain);
    std::string header = rec.substr(0, 4);
    tx_.seal(rec, 4, header);
    return rec;
  }

  bool send_frame(std::string_view frame) { return raw.send(seal(frame)); }

  // The next frame other than PING/PONG; views stay valid until the next read.
  wire::Frame read_frame() {
    for (;;) {
      frame_ = read_record();
      auto f = wire::decode_frame(frame_);
      if (!f) throw f.error();
      if (f->type != wire::FrameType::kPing && f->type != wire::FrameType::kPong) return *f;
    }
  }

  RawPeer raw;

 private:
  static HandshakeOptions options(const PeerId& node) {
    HandshakeOptions o;
    o.expected_peer = node;
    return o;
  }

  std::string read_record() {
    std::string header = raw.read_exact(4);
    std::uint32_t len = 0;
    for (char c : header) len = (len << 8) | static_cast<unsigned char>(c);
    std::string body = raw.read_exact(len);
    auto n = rx_.open(body.data(), body.size(), header);
    if (!n) throw n.error();
    body.resize(*n);
    return body;
  }

  Identity me_;
  Handshake hs_;
  RecordCipher tx_, rx_;
  std::string frame_;
};

}  // namespace peers::rpc::testing
