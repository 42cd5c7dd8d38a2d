// The plain pieces behind a node's limits on strangers: which connection is
// admitted, which log line is written, how much a read buffer holds.
#include <gtest/gtest.h>

#include "lib/rpc/internal/admission.h"
#include "lib/rpc/internal/log_throttle.h"
#include "lib/rpc/internal/read_buffer.h"

namespace peers::rpc::internal {
namespace {

using namespace std::chrono_literals;

NodeOptions options_with(std::size_t handshakes, std::size_t connections, std::size_t per_address) {
  NodeOptions o;
  o.max_handshakes = handshakes;
  o.max_connections = connections;
  o.max_connections_per_address = per_address;
  return o;
}

TEST(Admission, DecidesByTheFirstLimitReached) {
  const NodeOptions limits = options_with(/*handshakes=*/2, /*connections=*/10,
                                          /*per_address=*/3);
  struct Case {
    AdmissionCounts counts;
    std::size_t from_address;
    bool loopback;
    Refusal want;
  } cases[] = {
      {{0, 0}, 0, false, Refusal::kNone},
      {{1, 9}, 2, false, Refusal::kNone},
      {{2, 5}, 0, false, Refusal::kHandshakes},
      {{0, 10}, 0, false, Refusal::kConnections},
      {{2, 10}, 3, false, Refusal::kConnections},
      {{0, 5}, 3, false, Refusal::kAddress},
      {{2, 5}, 3, false, Refusal::kAddress},
      {{0, 5}, 3, true, Refusal::kNone},  // loopback: not counted per address
      {{2, 5}, 3, true, Refusal::kHandshakes},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "handshakes " << c.counts.handshakes << ", connections " << c.counts.connections
                 << ", from address " << c.from_address << (c.loopback ? ", loopback" : ""));
    EXPECT_EQ(decide_admission(c.counts, c.from_address, c.loopback, limits), c.want);
  }
  NodeOptions strict = limits;
  strict.limit_loopback_per_address = true;
  EXPECT_EQ(decide_admission({0, 5}, 3, true, strict), Refusal::kAddress);
}

TEST(Admission, GivesPlacesBackWhenHandshakesEndAndConnectionsClose) {
  Admission a(options_with(/*handshakes=*/1, /*connections=*/2, /*per_address=*/1));
  EXPECT_EQ(a.admit("192.0.2.1", false), Refusal::kNone);
  EXPECT_EQ(a.admit("192.0.2.2", false), Refusal::kHandshakes);
  a.handshake_done();
  EXPECT_EQ(a.admit("192.0.2.1", false), Refusal::kAddress);
  EXPECT_EQ(a.admit("192.0.2.2", false), Refusal::kNone);
  EXPECT_EQ(a.admit("192.0.2.3", false), Refusal::kConnections);
  EXPECT_EQ(a.counts().connections, 2u);
  EXPECT_EQ(a.counts().handshakes, 1u);
  a.handshake_done();
  a.release("192.0.2.1");
  EXPECT_EQ(a.admit("192.0.2.1", false), Refusal::kNone);
  EXPECT_EQ(a.counts().connections, 2u);
}

TEST(LogThrottle, WritesOneLineASecondPerKindAndCountsTheRest) {
  LogThrottle t(1s);
  LogThrottle::Clock::time_point t0{};
  t0 += 100s;
  EXPECT_EQ(t.admit("a", t0), 0u);
  EXPECT_EQ(t.admit("b", t0), 0u);  // another kind is not held back
  EXPECT_EQ(t.admit("a", t0 + 10ms), std::nullopt);
  EXPECT_EQ(t.admit("a", t0 + 999ms), std::nullopt);
  EXPECT_EQ(t.next_due(), t0 + 1s);
  EXPECT_EQ(t.admit("a", t0 + 1s), 2u);  // says how many it held back
  EXPECT_EQ(t.next_due(), std::nullopt);
  EXPECT_EQ(t.admit("a", t0 + 1500ms), std::nullopt);
  EXPECT_TRUE(t.due(t0 + 1900ms).empty());
  auto due = t.due(t0 + 2s);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, "a");
  EXPECT_EQ(due[0].held_back, 1u);
  // The summary was that second's line.
  EXPECT_EQ(t.admit("a", t0 + 2500ms), std::nullopt);
  EXPECT_EQ(t.admit("a", t0 + 3s), 1u);
}

TEST(ReadBuffer, GrowsWithWhatArrivesNotWithWhatIsDeclared) {
  ReadBuffer b;
  auto t = ReadBuffer::Clock::now();
  constexpr std::size_t kRecord = 1 << 20;
  auto room = b.prepare(kRecord, t);
  EXPECT_EQ(b.capacity(), ReadBuffer::kInitial);
  std::size_t got = 0;
  while (got < kRecord) {
    room = b.prepare(kRecord, t);
    std::size_t n = std::min(room.size(), kRecord - got);
    std::fill_n(room.data(), n, 'r');
    b.commit(n);
    got += n;
    // Never more than twice what arrived (and the initial size).
    EXPECT_LE(b.capacity(), std::max(ReadBuffer::kInitial, 2 * got));
  }
  EXPECT_EQ(b.capacity(), kRecord);
  EXPECT_EQ(b.size(), kRecord);
  EXPECT_EQ(b.data()[kRecord - 1], 'r');
  b.consume(kRecord);
  // Empty, but a large record was needed a moment ago: kept.
  b.prepare(4, t + 500ms);
  EXPECT_EQ(b.capacity(), kRecord);
  // Empty, and nothing large for a while: back to the initial size.
  b.prepare(4, t + 1500ms);
  EXPECT_EQ(b.capacity(), ReadBuffer::kInitial);
}

TEST(ReadBuffer, KeepsWaitingBytesWhenItMovesOrGrows) {
  ReadBuffer b;
  auto t = ReadBuffer::Clock::now();
  auto room = b.prepare(6, t);
  std::memcpy(room.data(), "abcdef", 6);
  b.commit(6);
  b.consume(4);  // "ef" waits
  room = b.prepare(3 * ReadBuffer::kInitial, t);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(std::string(b.data(), 2), "ef");
  std::fill_n(room.data(), room.size(), 'x');
  b.commit(room.size());
  EXPECT_EQ(b.size(), ReadBuffer::kInitial);
  room = b.prepare(3 * ReadBuffer::kInitial, t);  // full: grows
  EXPECT_EQ(b.capacity(), 2 * ReadBuffer::kInitial);
  EXPECT_EQ(std::string(b.data(), 3), "efx");
  EXPECT_EQ(room.size(), ReadBuffer::kInitial);
}

TEST(ReadBuffer, ReadsAheadOnlyWhenAllowedAndReadsFillIt) {
  auto t = ReadBuffer::Clock::now();
  constexpr std::size_t kRecord = 16 * 1024 + 20;
  // Reads that fill the room: a stranger's buffer stays at one record.
  auto stream_through = [&](ReadBuffer& b) {
    for (int i = 0; i < 64; ++i) {
      auto room = b.prepare(kRecord, t);
      std::fill_n(room.data(), room.size(), 'd');
      b.commit(room.size());
      while (b.size() >= kRecord) b.consume(kRecord);
    }
  };
  ReadBuffer stranger;
  stream_through(stranger);
  EXPECT_EQ(stranger.capacity(), kRecord);
  ReadBuffer proven;
  proven.set_read_ahead(256 * 1024);
  stream_through(proven);
  EXPECT_EQ(proven.capacity(), 256 * 1024u);
  // A read that does not fill its room does not grow the buffer.
  ReadBuffer trickle;
  trickle.set_read_ahead(256 * 1024);
  for (int i = 0; i < 64; ++i) {
    auto room = trickle.prepare(100, t);
    ASSERT_GT(room.size(), 100u);
    std::fill_n(room.data(), 100, 'p');
    trickle.commit(100);
    trickle.consume(100);
  }
  EXPECT_EQ(trickle.capacity(), ReadBuffer::kInitial);
  // Grown by reading ahead, it shrinks once idle like one grown for a record.
  proven.consume(proven.size());
  proven.prepare(4, t + 1500ms);
  EXPECT_EQ(proven.capacity(), ReadBuffer::kInitial);
}

}  // namespace
}  // namespace peers::rpc::internal
