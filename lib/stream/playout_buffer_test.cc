#include "lib/stream/playout_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace vt {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0 = Clock::time_point{} + 1000s;

Chunk chunk(ChunkSeq seq, bool random_access = false) {
  Chunk c;
  c.seq = seq;
  c.stripe = stripe_of(seq, 4);
  c.random_access = random_access;
  c.payload = "chunk " + std::to_string(seq) + ";";
  return c;
}

Chunk end_chunk(ChunkSeq seq) {
  Chunk c;
  c.seq = seq;
  c.stripe = stripe_of(seq, 4);
  c.end_of_stream = true;
  return c;
}

PlayoutBuffer make(PlayoutOptions options) {
  auto b = PlayoutBuffer::create(options);
  if (!b) throw b.error();
  return std::move(b).value();
}

PlayoutBuffer from_zero() { return make({.start = StartPolicy::kAtSeq, .start_seq = 0}); }

std::vector<ChunkSeq> seqs(const std::vector<Chunk>& chunks) {
  std::vector<ChunkSeq> out;
  for (const Chunk& c : chunks) out.push_back(c.seq);
  return out;
}

TEST(PlayoutBuffer, ReleasesInOrderAcrossFourStripes) {
  // Stripes delivered with different delays and shuffled within them.
  std::vector<Chunk> arrivals;
  for (ChunkSeq s = 0; s < 400; ++s) arrivals.push_back(chunk(s));
  std::mt19937 rng(7);
  std::stable_sort(arrivals.begin(), arrivals.end(), [](const Chunk& a, const Chunk& b) {
    return a.seq + 13 * a.stripe < b.seq + 13 * b.stripe;
  });
  for (std::size_t i = 0; i + 1 < arrivals.size(); ++i) {
    if (rng() % 3 == 0) std::swap(arrivals[i], arrivals[i + 1]);
  }
  PlayoutBuffer buffer = from_zero();
  std::vector<ChunkSeq> played;
  std::string bytes;
  auto now = t0;
  for (Chunk& c : arrivals) {
    now += 1ms;
    ASSERT_EQ(buffer.insert(std::move(c), now), InsertResult::kAccepted);
    for (Chunk& out : buffer.pop_ready(now)) {
      played.push_back(out.seq);
      bytes += out.payload;
    }
  }
  std::vector<ChunkSeq> expected(400);
  for (ChunkSeq s = 0; s < 400; ++s) expected[s] = s;
  EXPECT_EQ(played, expected);
  EXPECT_EQ(buffer.stats().gaps, 0u);
  EXPECT_EQ(buffer.stats().released_chunks, 400u);
  EXPECT_EQ(buffer.held_chunks(), 0u);
  EXPECT_EQ(buffer.held_bytes(), 0u);
  std::string expected_bytes;
  for (ChunkSeq s = 0; s < 400; ++s) expected_bytes += chunk(s).payload;
  EXPECT_EQ(bytes, expected_bytes);
}

TEST(PlayoutBuffer, DuplicatesAndReplaysAreRefused) {
  PlayoutBuffer buffer = from_zero();
  EXPECT_EQ(buffer.insert(chunk(1), t0), InsertResult::kAccepted);
  EXPECT_EQ(buffer.insert(chunk(1), t0), InsertResult::kDuplicate);
  EXPECT_EQ(buffer.insert(chunk(0), t0), InsertResult::kAccepted);
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), (std::vector<ChunkSeq>{0, 1}));
  EXPECT_EQ(buffer.insert(chunk(0), t0), InsertResult::kTooOld);  // replayed
  EXPECT_EQ(buffer.insert(chunk(1), t0), InsertResult::kTooOld);
  EXPECT_EQ(buffer.stats().duplicates, 1u);
  EXPECT_EQ(buffer.stats().too_old, 2u);
  EXPECT_EQ(buffer.stats().accepted, 2u);
}

TEST(PlayoutBuffer, SkipsGapAfterDeadlineExactlyAtTheBoundary) {
  PlayoutBuffer buffer = from_zero();
  ASSERT_EQ(buffer.insert(chunk(1), t0), InsertResult::kAccepted);
  EXPECT_TRUE(buffer.pop_ready(t0).empty());
  ASSERT_TRUE(buffer.next_deadline().has_value());
  EXPECT_EQ(*buffer.next_deadline(), t0 + 2s);
  EXPECT_TRUE(buffer.pop_ready(t0 + 2s - 1us).empty());
  EXPECT_EQ(buffer.stats().gaps, 0u);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 2s)), std::vector<ChunkSeq>{1});
  EXPECT_EQ(buffer.stats().gaps, 1u);
  EXPECT_EQ(buffer.stats().skipped_chunks, 1u);
  EXPECT_EQ(*buffer.next_seq(), 2u);
  EXPECT_FALSE(buffer.next_deadline().has_value());
  // The skipped chunk arriving now is late.
  EXPECT_EQ(buffer.insert(chunk(0), t0 + 2s), InsertResult::kTooOld);
}

TEST(PlayoutBuffer, MissingRunIsOneGap) {
  PlayoutBuffer buffer = from_zero();
  (void)buffer.insert(chunk(0), t0);
  (void)buffer.insert(chunk(5), t0 + 10ms);
  (void)buffer.insert(chunk(6), t0 + 20ms);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 20ms)), std::vector<ChunkSeq>{0});
  EXPECT_EQ(*buffer.next_deadline(), t0 + 10ms + 2s);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 10ms + 2s)), (std::vector<ChunkSeq>{5, 6}));
  EXPECT_EQ(buffer.stats().gaps, 1u);
  EXPECT_EQ(buffer.stats().skipped_chunks, 4u);
}

TEST(PlayoutBuffer, HoleIsDatedByTheEarliestLaterArrival) {
  PlayoutBuffer buffer = from_zero();
  (void)buffer.insert(chunk(3), t0 + 1s);
  (void)buffer.insert(chunk(1), t0 + 1500ms);
  // The hole at 0 has been known since chunk 3 came (t0 + 1 s).
  EXPECT_EQ(*buffer.next_deadline(), t0 + 3s);
  EXPECT_TRUE(buffer.pop_ready(t0 + 3s - 1us).empty());
  // The hole at 2 has also been known since chunk 3 came: both go at once.
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 3s)), (std::vector<ChunkSeq>{1, 3}));
  EXPECT_EQ(buffer.stats().gaps, 2u);
  EXPECT_EQ(buffer.stats().skipped_chunks, 2u);
}

TEST(PlayoutBuffer, ChunkArrivingBeforeDeadlineFillsTheHole) {
  PlayoutBuffer buffer = from_zero();
  (void)buffer.insert(chunk(1), t0);
  EXPECT_TRUE(buffer.pop_ready(t0 + 1s).empty());
  EXPECT_EQ(buffer.insert(chunk(0), t0 + 2s - 1us), InsertResult::kAccepted);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 2s)), (std::vector<ChunkSeq>{0, 1}));
  EXPECT_EQ(buffer.stats().gaps, 0u);
}

TEST(PlayoutBuffer, StalledStreamIsNotSkipped) {
  PlayoutBuffer buffer = from_zero();
  (void)buffer.insert(chunk(0), t0);
  EXPECT_EQ(buffer.pop_ready(t0).size(), 1u);
  EXPECT_TRUE(buffer.pop_ready(t0 + 1h).empty());
  EXPECT_FALSE(buffer.next_deadline().has_value());
  EXPECT_EQ(buffer.stats().gaps, 0u);
}

PlayoutBuffer striped() {
  return make({.start = StartPolicy::kAtSeq, .start_seq = 0, .stripes = 4, .late_limit = 8s});
}

TEST(PlayoutBuffer, LateChunkIsWaitedForUpToTheLateLimit) {
  // Stripe 1 lags: chunk 1 has not come, and nothing later of stripe 1 either.
  PlayoutBuffer buffer = striped();
  (void)buffer.insert(chunk(0), t0);
  (void)buffer.insert(chunk(2), t0);
  (void)buffer.insert(chunk(3), t0);
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), std::vector<ChunkSeq>{0});
  EXPECT_EQ(*buffer.next_deadline(), t0 + 8s);
  EXPECT_TRUE(buffer.pop_ready(t0 + 5s).empty());
  EXPECT_EQ(buffer.insert(chunk(1), t0 + 5s), InsertResult::kAccepted);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 5s)), (std::vector<ChunkSeq>{1, 2, 3}));
  EXPECT_EQ(buffer.stats().gaps, 0u);
}

TEST(PlayoutBuffer, LostChunkIsSkippedAfterTheBuffer) {
  // Stripe 1 delivered 5 but never 1: 1 is lost, skipped after 2 s.
  PlayoutBuffer buffer = striped();
  (void)buffer.insert(chunk(0), t0);
  (void)buffer.insert(chunk(2), t0);
  (void)buffer.insert(chunk(5), t0 + 100ms);
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), std::vector<ChunkSeq>{0});
  EXPECT_EQ(*buffer.next_deadline(), t0 + 2s);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 2s)), std::vector<ChunkSeq>{2});
  EXPECT_EQ(buffer.stats().gaps, 1u);
  EXPECT_EQ(buffer.stats().skipped_chunks, 1u);
  EXPECT_EQ(buffer.stats().late_skipped, 0u);
  // 3 (stripe 3) and 4 (stripe 0) have not been passed by their stripes:
  // late, waited for from chunk 5's arrival.
  EXPECT_EQ(*buffer.next_deadline(), t0 + 100ms + 8s);
}

// Stripe 1's new parent began at 5, and a fill is bringing 1.
PlayoutBuffer filling_one() {
  PlayoutBuffer buffer = striped();
  (void)buffer.insert(chunk(0), t0);
  (void)buffer.insert(chunk(2), t0);
  (void)buffer.insert(chunk(5), t0 + 100ms);
  buffer.expect(1, 5);
  return buffer;
}

TEST(PlayoutBuffer, AChunkAFillIsBringingIsLateNotLost) {
  // 1 looks lost (its stripe went past it), but it is waited for up to the
  // late limit; it comes and plays.
  PlayoutBuffer buffer = filling_one();
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), std::vector<ChunkSeq>{0});
  EXPECT_EQ(*buffer.next_deadline(), t0 + 8s);
  EXPECT_TRUE(buffer.pop_ready(t0 + 3s).empty());
  EXPECT_EQ(buffer.insert(chunk(1), t0 + 3s), InsertResult::kAccepted);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 3s)), (std::vector<ChunkSeq>{1, 2}));
  EXPECT_EQ(buffer.stats().gaps, 0u);
}

TEST(PlayoutBuffer, AFillThatEndsWithoutTheChunkLeavesItLost) {
  PlayoutBuffer buffer = filling_one();
  EXPECT_TRUE(buffer.pop_ready(t0 + 3s).size() == 1);  // 0 only
  buffer.forget_expected(1);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 3s)), std::vector<ChunkSeq>{2});
  EXPECT_EQ(buffer.stats().skipped_chunks, 1u);
  // A range below the play point is nothing to wait for.
  buffer.expect(0, 2);
  EXPECT_EQ(*buffer.next_deadline(), t0 + 100ms + 8s);
}

TEST(PlayoutBuffer, LostChunkDoesNotTakeALateOneWithIt) {
  PlayoutBuffer buffer = striped();
  (void)buffer.insert(chunk(0), t0);
  (void)buffer.insert(chunk(5), t0);  // stripe 1 passed 1
  (void)buffer.insert(chunk(3), t0);
  (void)buffer.insert(chunk(4), t0);
  // 1 lost (skipped at 2 s), 2 late (stripe 2 has nothing yet).
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 2s)), std::vector<ChunkSeq>{0});
  EXPECT_EQ(*buffer.next_seq(), 2u);
  EXPECT_EQ(buffer.insert(chunk(2), t0 + 3s), InsertResult::kAccepted);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 3s)), (std::vector<ChunkSeq>{2, 3, 4, 5}));
  EXPECT_EQ(buffer.stats().gaps, 1u);
  EXPECT_EQ(buffer.stats().skipped_chunks, 1u);
}

TEST(PlayoutBuffer, LateChunkIsSkippedAtTheLateLimit) {
  PlayoutBuffer buffer = striped();
  (void)buffer.insert(chunk(0), t0);
  (void)buffer.insert(chunk(2), t0 + 1s);
  (void)buffer.insert(chunk(3), t0 + 1s);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 1s)), std::vector<ChunkSeq>{0});
  EXPECT_TRUE(buffer.pop_ready(t0 + 9s - 1us).empty());
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 9s)), (std::vector<ChunkSeq>{2, 3}));
  EXPECT_EQ(buffer.stats().gaps, 1u);
  EXPECT_EQ(buffer.stats().late_skipped, 1u);
}

TEST(PlayoutBuffer, FlushReleasesWhatIsHeldAndFinishes) {
  PlayoutBuffer buffer = striped();
  (void)buffer.insert(chunk(0), t0);
  (void)buffer.insert(chunk(2), t0);
  (void)buffer.insert(chunk(3), t0);
  (void)buffer.insert(chunk(6), t0);
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), std::vector<ChunkSeq>{0});
  EXPECT_EQ(seqs(buffer.flush()), (std::vector<ChunkSeq>{2, 3, 6}));
  EXPECT_TRUE(buffer.finished());
  EXPECT_EQ(buffer.stats().gaps, 2u);
  EXPECT_EQ(buffer.stats().skipped_chunks, 3u);
  EXPECT_EQ(buffer.held_chunks(), 0u);
  EXPECT_EQ(buffer.held_bytes(), 0u);
  EXPECT_EQ(buffer.insert(chunk(7), t0), InsertResult::kTooOld);
}

TEST(PlayoutBuffer, LateLimitBelowTheBufferIsRefused) {
  EXPECT_FALSE(PlayoutBuffer::create({.buffer = 2s, .late_limit = 1s}).ok());
}

TEST(PlayoutBuffer, WindowOverflowIsRefused) {
  PlayoutBuffer buffer = make({.window = 8, .start = StartPolicy::kAtSeq, .start_seq = 100});
  EXPECT_EQ(buffer.insert(chunk(108), t0), InsertResult::kTooFarAhead);
  EXPECT_EQ(buffer.insert(chunk(107), t0), InsertResult::kAccepted);
  EXPECT_EQ(buffer.insert(chunk(99), t0), InsertResult::kTooOld);
  EXPECT_EQ(buffer.insert(chunk(1'000'000), t0), InsertResult::kTooFarAhead);
  EXPECT_EQ(buffer.stats().too_far_ahead, 2u);
  for (ChunkSeq s = 100; s < 107; ++s) {
    EXPECT_EQ(buffer.insert(chunk(s), t0), InsertResult::kAccepted);
  }
  EXPECT_EQ(buffer.held_chunks(), 8u);
  EXPECT_EQ(buffer.pop_ready(t0).size(), 8u);
  EXPECT_EQ(buffer.insert(chunk(115), t0), InsertResult::kAccepted);  // the window moved on
}

TEST(PlayoutBuffer, LateJoinerStartsAtRandomAccessChunk) {
  PlayoutBuffer buffer = make({});
  EXPECT_EQ(buffer.insert(chunk(41), t0), InsertResult::kAccepted);
  EXPECT_EQ(buffer.insert(chunk(43), t0), InsertResult::kAccepted);
  EXPECT_FALSE(buffer.started());
  EXPECT_TRUE(buffer.pop_ready(t0 + 1h).empty());
  EXPECT_FALSE(buffer.next_deadline().has_value());
  EXPECT_EQ(buffer.insert(chunk(42, true), t0), InsertResult::kAccepted);
  EXPECT_TRUE(buffer.started());
  EXPECT_EQ(*buffer.next_seq(), 42u);
  EXPECT_EQ(buffer.stats().dropped_before_start, 1u);  // 41
  EXPECT_EQ(buffer.insert(chunk(41), t0), InsertResult::kTooOld);
  EXPECT_EQ(buffer.insert(chunk(44), t0), InsertResult::kAccepted);
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), (std::vector<ChunkSeq>{42, 43, 44}));
}

TEST(PlayoutBuffer, WithoutRandomAccessStartsAtLowestAfterSearchLimit) {
  PlayoutBuffer buffer = make({.rap_search_chunks = 4});
  for (ChunkSeq s : {12, 10, 13}) EXPECT_EQ(buffer.insert(chunk(s), t0), InsertResult::kAccepted);
  EXPECT_FALSE(buffer.started());
  EXPECT_EQ(buffer.insert(chunk(11), t0), InsertResult::kAccepted);
  EXPECT_TRUE(buffer.started());
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), (std::vector<ChunkSeq>{10, 11, 12, 13}));
}

TEST(PlayoutBuffer, EndOfStreamBeforeAnyRandomAccessStarts) {
  PlayoutBuffer buffer = make({});
  (void)buffer.insert(chunk(5), t0);
  (void)buffer.insert(end_chunk(6), t0);
  EXPECT_TRUE(buffer.started());
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), (std::vector<ChunkSeq>{5, 6}));
  EXPECT_TRUE(buffer.finished());
}

TEST(PlayoutBuffer, FirstChunkPolicyStartsAtOnce) {
  PlayoutBuffer buffer = make({.start = StartPolicy::kFirstChunk});
  (void)buffer.insert(chunk(20), t0);
  EXPECT_TRUE(buffer.started());
  EXPECT_EQ(buffer.insert(chunk(19), t0), InsertResult::kTooOld);
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), std::vector<ChunkSeq>{20});
}

TEST(PlayoutBuffer, BeforeStartTheWindowFollowsTheChunksHeld) {
  PlayoutBuffer buffer = make({.window = 4, .rap_search_chunks = 4});
  EXPECT_EQ(buffer.insert(chunk(10), t0), InsertResult::kAccepted);
  EXPECT_EQ(buffer.insert(chunk(14), t0), InsertResult::kTooFarAhead);
  EXPECT_EQ(buffer.insert(chunk(6), t0), InsertResult::kTooOld);
  EXPECT_EQ(buffer.insert(chunk(7), t0), InsertResult::kAccepted);
  EXPECT_EQ(buffer.insert(chunk(11), t0), InsertResult::kTooFarAhead);
  EXPECT_EQ(buffer.insert(chunk(7), t0), InsertResult::kDuplicate);
}

TEST(PlayoutBuffer, EndOfStreamFinishes) {
  PlayoutBuffer buffer = from_zero();
  (void)buffer.insert(end_chunk(3), t0);
  (void)buffer.insert(chunk(1), t0);
  (void)buffer.insert(chunk(0), t0);
  EXPECT_EQ(buffer.insert(chunk(4), t0), InsertResult::kAfterEnd);
  EXPECT_EQ(seqs(buffer.pop_ready(t0)), (std::vector<ChunkSeq>{0, 1}));
  EXPECT_FALSE(buffer.finished());
  (void)buffer.insert(chunk(2), t0);
  std::vector<Chunk> out = buffer.pop_ready(t0);
  EXPECT_EQ(seqs(out), (std::vector<ChunkSeq>{2, 3}));
  EXPECT_TRUE(out.back().end_of_stream);
  EXPECT_TRUE(buffer.finished());
  EXPECT_EQ(buffer.insert(chunk(2), t0), InsertResult::kTooOld);
  EXPECT_EQ(buffer.insert(chunk(9), t0), InsertResult::kAfterEnd);
  EXPECT_TRUE(buffer.pop_ready(t0 + 1h).empty());
}

TEST(PlayoutBuffer, EndOfStreamAfterAGapStillFinishes) {
  PlayoutBuffer buffer = from_zero();
  (void)buffer.insert(chunk(0), t0);
  (void)buffer.insert(end_chunk(2), t0 + 1s);
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 1s)), std::vector<ChunkSeq>{0});
  EXPECT_FALSE(buffer.finished());
  EXPECT_EQ(seqs(buffer.pop_ready(t0 + 3s)), std::vector<ChunkSeq>{2});
  EXPECT_TRUE(buffer.finished());
  EXPECT_EQ(buffer.stats().skipped_chunks, 1u);
}

TEST(PlayoutBuffer, ChunksHeldPastTheEndAreDropped) {
  PlayoutBuffer buffer = from_zero();
  (void)buffer.insert(chunk(5), t0);
  (void)buffer.insert(end_chunk(3), t0);
  EXPECT_EQ(buffer.held_chunks(), 1u);
  EXPECT_EQ(buffer.stats().after_end, 1u);
}

TEST(PlayoutBuffer, RejectsInvalidOptions) {
  EXPECT_FALSE(PlayoutBuffer::create({.buffer = 0s}).ok());
  EXPECT_FALSE(PlayoutBuffer::create({.window = 0}).ok());
  EXPECT_FALSE(PlayoutBuffer::create({.window = 10, .rap_search_chunks = 11}).ok());
  EXPECT_FALSE(PlayoutBuffer::create({.rap_search_chunks = 0}).ok());
  auto bad = PlayoutBuffer::create({.window = 0});
  EXPECT_EQ(bad.error().code(), peers::Errc::kInvalidArgument);
  EXPECT_TRUE(PlayoutBuffer::create({.window = 1, .start = StartPolicy::kFirstChunk}).ok());
}

TEST(PlayoutBuffer, InsertResultNames) {
  EXPECT_EQ(to_string(InsertResult::kAccepted), "accepted");
  EXPECT_EQ(to_string(InsertResult::kTooFarAhead), "too_far_ahead");
}

TEST(PlayoutBuffer, RandomLossReorderAndDuplicationPlaysEverythingElseInOrder) {
  std::mt19937 rng(99);
  const ChunkSeq n = 3000;
  struct Arrival {
    Clock::time_point at;
    Chunk chunk;
  };
  std::vector<Arrival> arrivals;
  std::vector<bool> lost(n, false);
  for (ChunkSeq s = 0; s < n; ++s) {
    if (rng() % 50 == 0) {
      lost[s] = true;
      continue;
    }
    auto at = t0 + std::chrono::milliseconds(10 * s) + std::chrono::milliseconds(rng() % 500);
    arrivals.push_back({at, chunk(s)});
    if (rng() % 10 == 0)
      arrivals.push_back({at + std::chrono::milliseconds(rng() % 3000), chunk(s)});
  }
  arrivals.push_back({t0 + std::chrono::milliseconds(10 * n), end_chunk(n)});
  std::stable_sort(arrivals.begin(), arrivals.end(),
                   [](const Arrival& a, const Arrival& b) { return a.at < b.at; });
  PlayoutBuffer buffer = from_zero();
  std::vector<ChunkSeq> played;
  for (Arrival& a : arrivals) {
    (void)buffer.insert(std::move(a.chunk), a.at);
    for (Chunk& c : buffer.pop_ready(a.at)) played.push_back(c.seq);
  }
  for (Chunk& c : buffer.pop_ready(t0 + std::chrono::milliseconds(10 * n) + 10s)) {
    played.push_back(c.seq);
  }
  EXPECT_TRUE(buffer.finished());
  std::vector<ChunkSeq> expected;
  for (ChunkSeq s = 0; s <= n; ++s) {
    if (s == n || !lost[s]) expected.push_back(s);
  }
  EXPECT_EQ(played, expected);
  std::uint64_t lost_count = std::count(lost.begin(), lost.end(), true);
  EXPECT_EQ(buffer.stats().skipped_chunks, lost_count);
}

}  // namespace
}  // namespace vt
