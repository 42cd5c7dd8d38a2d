// A live Node on loopback TCP, fed bad input by peers that speak the protocol
// badly on purpose (plain POSIX sockets, with lib/crypto's Handshake and
// RecordCipher where the attack needs a valid session first).
//
// Each test checks three things: the node closes the offending connection
// (the raw socket sees EOF or a reset before a generous deadline), it logs a
// typed reason for it ("reason=<errc name>"), and a well-behaved connection
// opened before the attack still completes calls afterwards.
#include <gtest/gtest.h>

#include <thread>

#include "lib/crypto/session.h"
#include "lib/kernel/log.h"
#include "lib/rpc/hostile_peer.h"
#include "lib/rpc/rpc_test_util.h"
#include "lib/wire/codec.h"
#include "lib/wire/frame.h"

namespace peers::rpc {
namespace {

using namespace std::chrono_literals;
using testing::Clock;
using testing::kDeadline;
using testing::Kernel;
using testing::LogCapture;
using testing::RawPeer;
using testing::SecurePeer;

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

// Waits (up to kDeadline) until `done()` holds; false if it never did.
bool eventually(const std::function<bool()>& done) {
  auto deadline = Clock::now() + kDeadline;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// How many lines of one throttled kind ("<msg> ... reason=<reason>") the
// node accounted for: each line written counts itself (unless it is a
// summary, which has no `detail` field) and the lines it held back.
std::uint64_t lines_accounted(LogCapture& logs, const std::string& msg, const std::string& reason,
                              const std::string& detail_field) {
  std::uint64_t n = 0;
  for (const auto& line : logs.matching({msg + " ", "reason=" + reason + " ", "held_back="})) {
    if (line.find(" " + detail_field + "=") != std::string::npos) ++n;
    n += std::stoull(line.substr(line.find("held_back=") + 10));
  }
  return n;
}

// A HELLO that starts a real handshake, then the header of the longest
// record allowed (AUTH), and nothing more: a stranger that stalls.
std::unique_ptr<RawPeer> stalled_stranger(std::uint16_t port, const char* from = nullptr) {
  auto peer = std::make_unique<RawPeer>(port, 0, from);
  Identity me = Identity::generate();
  Handshake hs(me, true, {});
  peer->send(hs.hello() + be32(kMaxAuthSize + kRecordTagSize) + "x");
  return peer;
}

TEST_F(Hostile, StalledHandshakesOverTheLimitAreRefusedAtOnce) {
  NodeOptions o;
  o.max_handshakes = 4;
  o.handshake_timeout = 60s;  // they stay until the test closes them
  ASSERT_NO_FATAL_FAILURE(start(o));
  std::vector<std::unique_ptr<RawPeer>> stalled;
  for (int i = 0; i < 4; ++i) stalled.push_back(stalled_stranger(port_));
  ASSERT_TRUE(eventually([&] { return server_->stats().handshakes == 4; }));
  std::vector<std::unique_ptr<RawPeer>> refused;
  for (int i = 0; i < 6; ++i) refused.push_back(stalled_stranger(port_));
  for (auto& p : refused) EXPECT_TRUE(p->wait_closed()) << "not refused: " << p->addr();
  NodeStats st = server_->stats();
  EXPECT_EQ(st.refused, 6u);
  EXPECT_EQ(st.handshakes, 4u);
  EXPECT_EQ(st.accepted, 5u);  // the good client and the stalled four
  // A client that connected before goes on being served.
  expect_good_connection_unaffected();

  // Lines: six refusals accounted for, in at most two lines (one, and a
  // summary a second later).
  EXPECT_TRUE(eventually([&] {
    return lines_accounted(logs_, "connection refused", "too_many_handshakes", "addr") == 6;
  })) << logs_.all();
  EXPECT_LE(logs_.matching({"connection refused "}).size(), 2u) << logs_.all();

  // Once the strangers go, their places and memory are given back, and a new
  // client gets in.
  stalled.clear();
  refused.clear();
  ASSERT_TRUE(eventually([&] {
    auto s = server_->stats();
    return s.handshakes == 0 && s.accepted == 1 && s.connection_objects == 1;
  })) << "handshakes "
      << server_->stats().handshakes << ", accepted " << server_->stats().accepted
      << ", connection objects " << server_->stats().connection_objects;
  auto other = std::make_unique<Node>(k_.executor(), Identity::generate());
  auto conn = k_.run(other->connect("127.0.0.1:" + std::to_string(port_), server_->id()));
  EXPECT_EQ(k_.run(conn->call(kEcho, "in")), "in");
  other->close();
}

TEST_F(Hostile, ConnectionsOverTheTotalAreRefused) {
  NodeOptions o;
  o.max_connections = 3;
  ASSERT_NO_FATAL_FAILURE(start(o));
  std::vector<std::unique_ptr<SecurePeer>> peers;
  for (int i = 0; i < 2; ++i) {
    peers.push_back(std::make_unique<SecurePeer>(port_, server_->id()));
    ASSERT_NO_FATAL_FAILURE(peers.back()->handshake());
  }
  RawPeer over(port_);
  EXPECT_TRUE(over.wait_closed());
  EXPECT_NE(logs_.wait_for({"connection refused ", "addr=" + over.addr() + " ",
                            "reason=too_many_connections "}),
            "")
      << logs_.all();
  EXPECT_EQ(server_->stats().accepted, 3u);
  expect_good_connection_unaffected();
}

TEST_F(Hostile, ConnectionsFromOneAddressAreLimited) {
  NodeOptions o;
  o.max_connections_per_address = 3;
  o.limit_loopback_per_address = true;
  o.handshake_timeout = 60s;
  ASSERT_NO_FATAL_FAILURE(start(o));  // the good client comes from 127.0.0.1
  std::vector<std::unique_ptr<RawPeer>> stalled;
  for (int i = 0; i < 3; ++i) stalled.push_back(stalled_stranger(port_, "127.0.0.2"));
  ASSERT_TRUE(eventually([&] { return server_->stats().handshakes == 3; }));
  auto fourth = stalled_stranger(port_, "127.0.0.2");
  EXPECT_TRUE(fourth->wait_closed());
  EXPECT_NE(logs_.wait_for({"connection refused ", "addr=" + fourth->addr() + " ",
                            "reason=too_many_from_address "}),
            "")
      << logs_.all();
  // Another address still gets in.
  SecurePeer elsewhere(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(elsewhere.handshake());
  expect_good_connection_unaffected();
}

TEST_F(Hostile, DeclaredRecordLengthIsNotAllocatedBeforeTheBytesArrive) {
  ASSERT_NO_FATAL_FAILURE(start());
  SecurePeer peer(port_, server_->id());
  ASSERT_NO_FATAL_FAILURE(peer.handshake());
  std::shared_ptr<Connection> served;
  ASSERT_TRUE(eventually([&] {
    for (auto& c : server_->connections()) {
      if (c->remote_address() == peer.raw.addr()) served = c;
    }
    return served != nullptr;
  }));
  std::size_t initial = server_->stats().input_buffer_bytes;
  EXPECT_LE(initial, 2 * internal::ReadBuffer::kInitial);  // the good client's and this one's

  // One DATA frame of the largest size, for a channel that does not exist
  // (the node drops it), sent in three parts.
  std::string frame;
  wire::encode_data_header(frame, 99);
  frame.resize(wire::kMaxFrameSize, 'd');
  std::string record = peer.seal(frame);
  std::size_t sent = 0;
  auto received = [&](std::size_t n) {
    std::uint64_t before = served->stats().bytes_in;
    EXPECT_TRUE(peer.raw.send(std::string_view(record).substr(sent, n)));
    sent += n;
    return eventually([&] { return served->stats().bytes_in >= before + n; });
  };
  // The header and 10 bytes: no more than the initial buffer.
  ASSERT_TRUE(received(4 + 10));
  EXPECT_EQ(server_->stats().input_buffer_bytes, initial);
  // 100 KB of it: at most twice that.
  ASSERT_TRUE(received(100000));
  EXPECT_LE(server_->stats().input_buffer_bytes, initial + 2 * 100000);
  // The rest; then the node handles it and, a second later, gives the memory back.
  ASSERT_TRUE(received(record.size() - sent));
  EXPECT_TRUE(eventually([&] {
    peer.send_frame(ping_frame());
    return server_->stats().input_buffer_bytes == initial;
  })) << server_->stats().input_buffer_bytes
      << " bytes of input buffers";
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
