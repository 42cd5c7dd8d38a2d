// A live Node on loopback TCP, fed bad input by peers that speak the protocol
// badly on purpose (plain POSIX sockets, with lib/crypto's Handshake and
// RecordCipher where the attack needs a valid session first).
//
// Each test checks three things: the node closes the offending connection
// (the raw socket sees EOF or a reset before a generous deadline), it logs a
// typed reason for it ("reason=<errc name>"), and a well-behaved connection
// opened before the attack still completes calls afterwards.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>

#include "lib/crypto/session.h"
#include "lib/kernel/log.h"
#include "lib/rpc/rpc_test_util.h"
#include "lib/wire/codec.h"
#include "lib/wire/frame.h"

namespace peers::rpc {
namespace {

using namespace std::chrono_literals;
using testing::Kernel;
using Clock = std::chrono::steady_clock;

// How long the node gets to react to an attack. Generous: a pass never
// depends on it, only a failure does.
constexpr Clock::duration kDeadline = 10s;

enum : std::uint32_t {
  kEcho = 0x2001,
  kBlob = 0x2002,  // {1: u64 size} -> that many bytes
  kSum = 0x2003,   // {1: u64 a, 2: u64 b} -> {1: u64 a + b}
  kLeft = 0x2004,  // {} -> {1: u64 ms until the call's deadline}
};

std::string u64_body(std::uint64_t v) {
  std::string s;
  wire::Writer w(&s);
  w.field_varint(1, v);
  return s;
}

// Decodes {1: u64, 2: u64} strictly, as generated code does; bytes that are
// not that struct raise the Reader's typed error (Errc::kProtocol).
std::pair<std::uint64_t, std::uint64_t> decode_pair(std::string_view args) {
  wire::Reader r(args);
  std::uint64_t v[3] = {0, 0, 0};
  while (!r.at_end()) {
    auto key = r.key();
    if (!key) throw key.error();
    if (key->field == 1 || key->field == 2) {
      if (key->kind != wire::Kind::kVarint) {
        throw r.error("field " + std::to_string(key->field) + " is declared u64");
      }
      auto x = r.varint();
      if (!x) throw x.error();
      v[key->field] = *x;
    } else if (auto skipped = r.skip(key->kind); !skipped) {
      throw skipped.error();
    }
  }
  return {v[1], v[2]};
}

struct HostileService : Service {
  std::string_view name() const override { return "test.Hostile"; }
  std::vector<MethodInfo> methods() const override {
    return {{kEcho, "test.Hostile.echo"},
            {kBlob, "test.Hostile.blob"},
            {kSum, "test.Hostile.sum"},
            {kLeft, "test.Hostile.left"}};
  }
  Task<Answer<std::string>> call(CallContext& ctx, std::uint32_t m, std::string args) override {
    switch (m) {
      case kLeft: {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            ctx.deadline() - std::chrono::steady_clock::now());
        co_return u64_body(static_cast<std::uint64_t>(std::max<std::int64_t>(0, left.count())));
      }
      case kEcho:
        co_return args;
      case kBlob:
        co_return std::string(decode_pair(args).first, 'b');
      case kSum: {
        auto [a, b] = decode_pair(args);
        co_return u64_body(a + b);
      }
    }
    throw Error(Errc::kUnknownMethod, "no such method");
  }
  Task<void> event(CallContext&, std::uint32_t, std::string) override { co_return; }
};

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
    auto matches = [&](const std::string& line) {
      for (const auto& p : parts) {
        if (line.find(p) == std::string::npos) return false;
      }
      if (any_of.empty()) return true;
      for (const auto& p : any_of) {
        if (line.find(p) != std::string::npos) return true;
      }
      return false;
    };
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

  std::string all() {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& l : lines_) out += l;
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

// A plain TCP connection to the node under attack.
class RawPeer {
 public:
  // `rcvbuf` > 0 shrinks the receive buffer (set before connecting, so the
  // window the node sees is small from the start).
  explicit RawPeer(std::uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error("connect: " + std::string(std::strerror(errno)));
    }
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
    addr_ = "127.0.0.1:" + std::to_string(ntohs(local.sin_port));
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

std::string call_frame(std::uint64_t call_id, std::uint32_t method, std::string_view args,
                       std::uint64_t deadline_ms = 30000) {
  wire::CallHeader h;
  h.call_id = call_id;
  h.method_id = method;
  h.deadline_ms = deadline_ms;
  std::string out;
  wire::encode_call(out, h, args);
  return out;
}

std::string ping_frame() {
  std::string out;
  wire::encode_ping(out, wire::FrameType::kPing, 42);
  return out;
}

std::string be32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override { log_setup("hostile_test", LogFormat::kText, LogLevel::kDebug); }

  // A node under attack and a well-behaved client connected to it.
  void start(NodeOptions opts = {}) {
    server_ = std::make_unique<Node>(k_.executor(), Identity::generate(), opts);
    server_->add_service(std::make_shared<HostileService>());
    port_ = server_->listen("127.0.0.1:0").value();
    client_ = std::make_unique<Node>(k_.executor(), Identity::generate(), opts);
    good_ = k_.run(client_->connect("127.0.0.1:" + std::to_string(port_), server_->id()));
    ASSERT_EQ(k_.run(good_->call(kEcho, "before")), "before");
  }

  // The node hung up on `peer` and logged `event` with `reason`.
  void expect_dropped(RawPeer& peer, const std::string& event,
                      const std::vector<std::string>& reasons) {
    EXPECT_TRUE(peer.wait_closed()) << "the node kept the connection open";
    std::vector<std::string> any_of;
    for (const auto& r : reasons) any_of.push_back("reason=" + r + " ");
    std::string line = logs_.wait_for({event, "addr=" + peer.addr() + " "}, any_of);
    EXPECT_FALSE(line.empty()) << "no '" << event << "' line with reason " << reasons[0] << " for "
                               << peer.addr() << "; the log was:\n"
                               << logs_.all();
  }

  // The connection opened before the attack still completes calls.
  void expect_good_connection_unaffected() {
    EXPECT_TRUE(good_->is_open());
    EXPECT_EQ(k_.run(good_->call(kEcho, "after")), "after");
    auto sum = k_.run(good_->call(kSum, [] {
      std::string s;
      wire::Writer w(&s);
      w.field_varint(1, 40);
      w.field_varint(2, 2);
      return s;
    }()));
    EXPECT_EQ(sum, u64_body(42));
  }

  LogCapture logs_;
  Kernel k_;
  std::unique_ptr<Node> server_, client_;
  std::shared_ptr<Connection> good_;
  std::uint16_t port_ = 0;
};

TEST_F(Hostile, GarbageInsteadOfHelloIsAProtocolError) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawPeer peer(port_);
  peer.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hostile\r\n\r\n");
  expect_dropped(peer, "handshake failed", {"protocol"});
  expect_good_connection_unaffected();
}

TEST_F(Hostile, HelloWithWrongVersionIsAProtocolError) {
  ASSERT_NO_FATAL_FAILURE(start());
  Identity me = Identity::generate();
  Handshake hs(me, true, {});
  std::string hello = hs.hello();
  hello[6] = 9;  // the version byte
  RawPeer peer(port_);
  peer.send(hello);
  expect_dropped(peer, "handshake failed", {"protocol"});
  EXPECT_NE(logs_.wait_for({"unsupported protocol version 9"}), "");
  expect_good_connection_unaffected();
}

TEST_F(Hostile, BadAuthSignatureFailsTheHandshake) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  peer.handshake([](std::string& auth) { auth[32 + 7] ^= 0x20; });
  expect_dropped(peer.raw, "handshake failed", {"auth"});
  expect_good_connection_unaffected();
}

TEST_F(Hostile, TruncatedRecordEndsAsConnectionLostWithoutHanging) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  // Half a record: a length of 100, 10 bytes, then the end of the stream.
  peer.raw.send(be32(100) + std::string(10, 'x'));
  peer.raw.shutdown_write();
  expect_dropped(peer.raw, "connection closed", {"connection_lost"});
  EXPECT_NE(logs_.wait_for({"addr=" + peer.raw.addr() + " ", "in the middle of a record"}), "");
  expect_good_connection_unaffected();
}

TEST_F(Hostile, RecordLengthOverTheLimitIsAProtocolError) {
  ASSERT_NO_FATAL_FAILURE(start());
  for (std::uint32_t len : {static_cast<std::uint32_t>(wire::kMaxFrameSize + 17), 0xffffffffu}) {
    SCOPED_TRACE("record length " + std::to_string(len));
    SecurePeer peer(port_, server_->id());
    ASSERT_NO_FATAL_FAILURE(peer.handshake());
    peer.raw.send(be32(len));
    expect_dropped(peer.raw, "connection closed", {"protocol"});
  }
  expect_good_connection_unaffected();
}

TEST_F(Hostile, RecordShorterThanItsTagIsAProtocolError) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  peer.raw.send(be32(3) + "abc");
  expect_dropped(peer.raw, "connection closed", {"protocol"});
  expect_good_connection_unaffected();
}

TEST_F(Hostile, UnknownFrameTypeIsAProtocolError) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  peer.send_frame(std::string("\x7f", 1) + "from the future");
  expect_dropped(peer.raw, "connection closed", {"protocol"});
  expect_good_connection_unaffected();
}

TEST_F(Hostile, MalformedCallFrameIsAProtocolError) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  peer.send_frame(std::string("\x01\xff", 2));  // CALL whose call id is a cut-off varint
  expect_dropped(peer.raw, "connection closed", {"protocol"});
  expect_good_connection_unaffected();
}

// Deliberate: a call to a method this node does not serve is answered with a
// typed kUnknownMethod error and the connection stays up, because peers of
// different versions share connections and a newer peer may call methods an
// older one lacks.
TEST_F(Hostile, UnknownMethodGetsATypedErrorAndTheConnectionStaysUsable) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  ASSERT_TRUE(peer.send_frame(call_frame(1, 0x7777, "")));
  wire::Frame f = peer.read_frame();
  ASSERT_EQ(f.type, wire::FrameType::kError);
  EXPECT_EQ(f.id, 1u);
  EXPECT_EQ(f.error.code, Errc::kUnknownMethod);
  EXPECT_EQ(f.error.message, "unknown method 0x00007777");
  EXPECT_EQ(f.error.origin, server_->id().to_string());
  EXPECT_NE(logs_.wait_for({"call to unknown method", "method=0x00007777"}), "");

  ASSERT_TRUE(peer.send_frame(call_frame(2, kEcho, "still here")));
  f = peer.read_frame();
  ASSERT_EQ(f.type, wire::FrameType::kReply);
  EXPECT_EQ(f.id, 2u);
  EXPECT_EQ(f.payload, "still here");
  expect_good_connection_unaffected();
}

TEST_F(Hostile, ValueOfTheWrongTypeGetsATypedProtocolError) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string wrong_kind;  // field 1 sent as bytes where the method declares u64
  wire::Writer(&wrong_kind).field_bytes(1, "forty");
  std::string cut_off("\x08\xff", 2);  // field 1, a varint that never ends
  for (const std::string& args : {wrong_kind, cut_off}) {
    try {
      k_.run(good_->call(kSum, args));
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::kProtocol) << e.what();
      EXPECT_EQ(e.origin(), server_->id().to_string());
      EXPECT_EQ(e.call_path(), "test.Hostile.sum");
      EXPECT_NE(e.message().find("malformed value"), std::string::npos) << e.message();
    }
  }
  // A bad value fails one call, not the connection or the node.
  expect_good_connection_unaffected();
  EXPECT_EQ(server_->connections().size(), 1u);
}

TEST_F(Hostile, ReplayedRecordIsAnAuthError) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  std::string rec = peer.seal(ping_frame());
  peer.raw.send(rec);
  peer.raw.send(rec);
  expect_dropped(peer.raw, "connection closed", {"auth"});
  expect_good_connection_unaffected();
}

TEST_F(Hostile, TamperedRecordIsAnAuthError) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  std::string rec = peer.seal(call_frame(1, kEcho, "pay 10"));
  rec[4 + 3] ^= 0x01;  // one ciphertext bit
  peer.raw.send(rec);
  expect_dropped(peer.raw, "connection closed", {"auth"});
  expect_good_connection_unaffected();
}

NodeOptions tight_options() {
  NodeOptions o;
  o.idle_timeout = 1s;
  o.keepalive_interval = 200ms;  // the good client pings well within idle_timeout
  o.max_write_buffer = 1u << 20;
  return o;
}

TEST_F(Hostile, PeerThatStopsReadingIsDisconnected) {
  ASSERT_NO_FATAL_FAILURE(start(tight_options()));
  SecurePeer peer(port_, server_->id(), /*rcvbuf=*/4096);
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  // 32 calls whose replies are 512 KiB each, and never a read.
  for (std::uint64_t i = 1; i <= 32; ++i) {
    if (!peer.send_frame(call_frame(i, kBlob, u64_body(512 * 1024)))) break;
  }
  auto sent = Clock::now();
  std::string line = logs_.wait_for({"connection closed", "addr=" + peer.raw.addr() + " "},
                                    {"reason=overloaded ", "reason=timeout "});
  EXPECT_FALSE(line.empty()) << logs_.all();
  EXPECT_LT(Clock::now() - sent, kDeadline);
  // The good connection lived through it, pinging now and then.
  expect_good_connection_unaffected();
  EXPECT_TRUE(peer.raw.wait_closed());
}

TEST_F(Hostile, PeerThatKeepsTalkingButNeverReadsIsCaughtByTheWriteStall) {
  NodeOptions o = tight_options();
  o.max_write_buffer = 64u << 20;  // the buffer limit alone would not catch it
  ASSERT_NO_FATAL_FAILURE(start(o));
  SecurePeer peer(port_, server_->id(), /*rcvbuf=*/4096);
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  for (std::uint64_t i = 1; i <= 8; ++i) {
    ASSERT_TRUE(peer.send_frame(call_frame(i, kBlob, u64_body(512 * 1024))));
  }
  // Pings keep the connection from looking idle; only the stalled write
  // shows that this peer does not read.
  std::vector<std::string> where = {"connection closed", "addr=" + peer.raw.addr() + " ",
                                    "reason=timeout "};
  std::string line;
  auto deadline = Clock::now() + kDeadline;
  while (line.empty() && Clock::now() < deadline) {
    if (!peer.send_frame(ping_frame())) break;
    line = logs_.wait_for(where, {}, 100ms);
  }
  if (line.empty()) line = logs_.wait_for(where);
  EXPECT_NE(line.find("write stalled"), std::string::npos) << logs_.all();
  expect_good_connection_unaffected();
  EXPECT_TRUE(peer.raw.wait_closed());
}

TEST_F(Hostile, SilenceBeforeHelloTimesOutTheHandshake) {
  NodeOptions o;
  o.handshake_timeout = 500ms;
  ASSERT_NO_FATAL_FAILURE(start(o));
  RawPeer peer(port_);
  peer.send(std::string("PEERS\0", 6));  // the start of a HELLO, and no more
  auto since = Clock::now();
  expect_dropped(peer, "handshake failed", {"timeout"});
  EXPECT_GE(Clock::now() - since, 400ms);
  expect_good_connection_unaffected();
}

TEST_F(Hostile, FrozenPeerIsClosedAfterIdleTimeout) {
  ASSERT_NO_FATAL_FAILURE(start(tight_options()));
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  auto silent_since = Clock::now();
  // Silence: no frames, not even an answer to the node's pings.
  std::string line =
      logs_.wait_for({"connection closed", "addr=" + peer.raw.addr() + " ", "reason=timeout "});
  EXPECT_FALSE(line.empty()) << logs_.all();
  auto waited = Clock::now() - silent_since;
  EXPECT_GE(waited, 900ms) << "closed before idle_timeout";
  EXPECT_LT(waited, kDeadline);
  EXPECT_TRUE(peer.raw.wait_closed());
  expect_good_connection_unaffected();
}

// The deadline travels as milliseconds from the caller; a number past what
// steady_clock can add is held to a day instead of wrapping into the past.
TEST_F(Hostile, HugeDeadlineFromTheWireIsHeldToADay) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  std::uint64_t id = 1;
  for (std::uint64_t deadline_ms : {~std::uint64_t{0}, std::uint64_t{1} << 63,
                                    std::uint64_t{1} << 53, std::uint64_t{1} << 44}) {
    SCOPED_TRACE("deadline_ms " + std::to_string(deadline_ms));
    ASSERT_TRUE(peer.send_frame(call_frame(id, kLeft, "", deadline_ms)));
    wire::Frame f = peer.read_frame();
    ASSERT_EQ(f.type, wire::FrameType::kReply);
    EXPECT_EQ(f.id, id++);
    wire::Reader r(f.payload);
    ASSERT_TRUE(r.key());
    auto left_ms = r.varint();
    ASSERT_TRUE(left_ms);
    EXPECT_GT(*left_ms, 23 * 3600 * 1000u);
    EXPECT_LE(*left_ms, 24 * 3600 * 1000u);
  }
  expect_good_connection_unaffected();
}

}  // namespace
}  // namespace peers::rpc
