#include "lib/stream/chunker.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "lib/stream/test_util.h"

namespace vt {
namespace {

using namespace std::chrono_literals;
using testing::append;
using testing::join_payloads;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0 = Clock::time_point{} + 1000s;

Chunker make(ChunkerOptions options = {}) {
  auto c = Chunker::create(options);
  if (!c) throw c.error();
  return std::move(c).value();
}

// Pushes input in pieces of the given sizes (cycled), all at time t0, then
// finishes; returns every chunk.
std::vector<Chunk> chunk_all(std::string_view input, std::vector<std::size_t> pieces,
                             ChunkerOptions options = {}) {
  Chunker chunker = make(options);
  std::vector<Chunk> out;
  std::size_t i = 0, at = 0;
  while (at < input.size()) {
    std::size_t n = std::min(pieces[i++ % pieces.size()], input.size() - at);
    append(out, chunker.push(input.substr(at, n), t0));
    at += n;
  }
  append(out, chunker.finish(t0));
  return out;
}

void expect_well_formed(const std::vector<Chunk>& chunks, std::uint32_t stripes = 4) {
  ASSERT_FALSE(chunks.empty());
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].seq, i);
    EXPECT_EQ(chunks[i].stripe, i % stripes);
    EXPECT_EQ(chunks[i].end_of_stream, i + 1 == chunks.size());
    if (i + 1 < chunks.size()) {
      EXPECT_FALSE(chunks[i].payload.empty()) << i;
    }
  }
  EXPECT_TRUE(chunks.back().payload.empty());
}

TEST(Chunker, PlainInputIsCutAtTargetSize) {
  std::string input = testing::random_bytes(40000, 1);
  Chunker chunker = make();
  std::vector<Chunk> out = chunker.push(input, t0);
  EXPECT_EQ(chunker.mode(), ChunkerMode::kPlain);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].payload.size(), 16384u);
  EXPECT_EQ(out[1].payload.size(), 16384u);
  EXPECT_EQ(chunker.buffered_bytes(), 40000u - 2 * 16384);
  append(out, chunker.finish(t0));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2].payload.size(), 40000u - 2 * 16384);
  expect_well_formed(out);
  EXPECT_EQ(join_payloads(out), input);
  EXPECT_FALSE(out[0].random_access);
}

TEST(Chunker, TsChunksEndOnPacketBoundariesAndStayUnderTarget) {
  std::string input = testing::ts_stream({.packets = 1000});
  std::vector<Chunk> out = chunk_all(input, {input.size()});
  expect_well_formed(out);
  EXPECT_EQ(join_payloads(out), input);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    EXPECT_EQ(out[i].payload.size() % 188, 0u) << i;
    EXPECT_LE(out[i].payload.size(), 16384u);
    EXPECT_EQ(static_cast<std::uint8_t>(out[i].payload[0]), 0x47);
  }
  EXPECT_EQ(out[0].payload.size(), 87u * 188);  // 16 KiB holds 87 packets
}

TEST(Chunker, AnyPushSizesGiveTheSameChunks) {
  std::string input = testing::ts_stream({.packets = 700, .gop = 50, .audio_every = 7});
  std::vector<Chunk> whole = chunk_all(input, {input.size()});
  expect_well_formed(whole);
  EXPECT_EQ(join_payloads(whole), input);
  for (std::vector<std::size_t> pieces : std::vector<std::vector<std::size_t>>{
           {1}, {7}, {187}, {188}, {189}, {1000, 1, 3}, {65536}, {100000, 5}}) {
    EXPECT_EQ(chunk_all(input, pieces), whole) << "piece size " << pieces[0];
  }
}

TEST(Chunker, HugePushOfPlainBytes) {
  std::string input = testing::random_bytes(10 << 20, 3);
  std::vector<Chunk> out = chunk_all(input, {input.size()});
  expect_well_formed(out);
  EXPECT_EQ(out.size(), 640u + 1);
  EXPECT_EQ(join_payloads(out), input);
}

TEST(Chunker, TinyPushesOfPlainBytes) {
  std::string input = testing::random_bytes(5000, 4);
  std::vector<Chunk> out = chunk_all(input, {1}, {.target_size = 1000});
  expect_well_formed(out);
  EXPECT_EQ(out.size(), 6u);
  EXPECT_EQ(join_payloads(out), input);
}

TEST(Chunker, StreamStartingMidPacketSendsTheFragmentAlone) {
  std::string ts = testing::ts_stream({.packets = 300, .gop = 100});
  std::string input = ts.substr(188 - 100);  // starts 100 bytes before packet 1
  std::vector<Chunk> out = chunk_all(input, {333});
  expect_well_formed(out);
  EXPECT_EQ(join_payloads(out), input);
  EXPECT_EQ(out[0].payload.size(), 100u);
  EXPECT_FALSE(out[0].random_access);
  for (std::size_t i = 1; i + 1 < out.size(); ++i) {
    EXPECT_EQ(static_cast<std::uint8_t>(out[i].payload[0]), 0x47) << i;
    EXPECT_EQ(out[i].payload.size() % 188, 0u) << i;
  }
  Chunker chunker = make();
  (void)chunker.push(input, t0);
  EXPECT_EQ(chunker.mode(), ChunkerMode::kTs);
  EXPECT_EQ(chunker.stats().misaligned_bytes, 100u);
  EXPECT_EQ(chunker.stats().resyncs, 0u);
}

TEST(Chunker, CutsBeforeTheTablesOfEachRandomAccessPoint) {
  // PAT, PMT, key frame every 40 packets (7520 bytes, under 16 KiB).
  std::string input = testing::ts_stream({.packets = 400, .gop = 40, .audio_every = 5});
  Chunker chunker = make();
  std::vector<Chunk> out = chunker.push(input, t0);
  append(out, chunker.finish(t0));
  expect_well_formed(out);
  EXPECT_EQ(join_payloads(out), input);
  ASSERT_EQ(out.size(), 11u);  // one chunk per GOP, and the end marker
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_TRUE(out[i].random_access) << i;
    EXPECT_EQ(out[i].payload.size(), 40u * 188) << i;
    EXPECT_EQ(out[i].payload.substr(0, 188), testing::pat_packet()) << i;
    EXPECT_TRUE(is_random_access_point(out[i].payload.substr(2 * 188, 188))) << i;
  }
  EXPECT_EQ(chunker.stats().random_access_points, 10u);
  EXPECT_EQ(chunker.stats().random_access_chunks, 10u);
  EXPECT_EQ(chunker.stats().random_access_cuts, 9u);
}

TEST(Chunker, TablesHeldBackWhenChunkFillsJustBeforeKeyFrame) {
  // Target 10 packets: 8 video packets, PAT, PMT fill the chunk just before
  // a key frame; the tables wait for it in the next chunk.
  std::string input;
  std::string stream = testing::ts_stream({.packets = 24, .gop = 12});
  // Packets 3..10 (video), 12 (PAT), 13 (PMT), 14 (key frame), 15.. (video).
  for (int i : {3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16}) input += stream.substr(i * 188, 188);
  std::vector<Chunk> out =
      chunk_all(input, {input.size()}, {.target_size = 10 * 188, .min_cut_size = 10 * 188});
  expect_well_formed(out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].payload.size(), 8u * 188);
  EXPECT_FALSE(out[0].random_access);
  EXPECT_EQ(out[1].payload.substr(0, 188), testing::pat_packet());
  EXPECT_TRUE(out[1].random_access);
  EXPECT_EQ(join_payloads(out), input);
}

TEST(Chunker, RandomAccessPointInSmallChunkStaysInside) {
  std::string input = testing::ts_stream({.packets = 60, .gop = 30});
  // The tables before the second key frame start 30 packets (5640 bytes)
  // in: below min_cut_size 8000 the chunk does not cut.
  std::vector<Chunk> out = chunk_all(input, {input.size()}, {.min_cut_size = 8000});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].random_access);
  EXPECT_EQ(out[0].payload, input);
}

TEST(Chunker, AudioRandomAccessIndicatorsDoNotCut) {
  std::string input = testing::ts_stream({.packets = 80, .audio_every = 3});
  std::vector<Chunk> out = chunk_all(input, {input.size()}, {.min_cut_size = 0});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].random_access);
}

TEST(Chunker, TimeFlushAtExactlyMaxDelay) {
  std::string input = testing::ts_stream({.packets = 10});
  Chunker chunker = make();
  EXPECT_FALSE(chunker.next_deadline().has_value());
  EXPECT_TRUE(chunker.push(input, t0).empty());
  EXPECT_EQ(chunker.mode(), ChunkerMode::kTs);
  ASSERT_TRUE(chunker.next_deadline().has_value());
  EXPECT_EQ(*chunker.next_deadline(), t0 + 100ms);
  EXPECT_TRUE(chunker.poll(t0 + 100ms - 1us).empty());
  std::vector<Chunk> out = chunker.poll(t0 + 100ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, input);
  EXPECT_EQ(chunker.stats().time_flushes, 1u);
  EXPECT_FALSE(chunker.next_deadline().has_value());
}

TEST(Chunker, TimeFlushKeepsAnIncompletePacket) {
  std::string input = testing::ts_stream({.packets = 10});
  Chunker chunker = make();
  EXPECT_TRUE(chunker.push(std::string_view(input).substr(0, 6 * 188 + 94), t0).empty());
  std::vector<Chunk> out = chunker.poll(t0 + 100ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload.size(), 6u * 188);
  EXPECT_EQ(chunker.buffered_bytes(), 94u);
  EXPECT_FALSE(chunker.next_deadline().has_value());  // waits for the rest of the packet
  // The rest of the packet arrives later; its first byte has waited since
  // t0, so the chunk it starts is due at once.
  out = chunker.push(std::string_view(input).substr(6 * 188 + 94, 94), t0 + 300ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, input.substr(6 * 188, 188));
  EXPECT_EQ(out[0].timestamp, 0us);
}

TEST(Chunker, PushEmitsAnOverdueChunk) {
  std::string input = testing::random_bytes(3000, 5);
  Chunker chunker = make();
  EXPECT_TRUE(chunker.push(std::string_view(input).substr(0, 1000), t0).empty());
  std::vector<Chunk> out = chunker.push(std::string_view(input).substr(1000, 1000), t0 + 150ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, input.substr(0, 2000));  // plain mode: all buffered bytes
  EXPECT_EQ(out[0].timestamp, 0us);
  out = chunker.push(std::string_view(input).substr(2000), t0 + 200ms);
  EXPECT_TRUE(out.empty());
  out = chunker.finish(t0 + 210ms);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].timestamp, 200ms);
  EXPECT_EQ(out[1].timestamp, 210ms);
  EXPECT_TRUE(out[1].end_of_stream);
}

TEST(Chunker, SlowTsIsDetectedWhenDetectionTimesOut) {
  std::string input = testing::ts_stream({.packets = 3});
  Chunker chunker = make();
  EXPECT_TRUE(chunker.push(std::string_view(input).substr(0, 2 * 188), t0).empty());
  EXPECT_EQ(chunker.mode(), ChunkerMode::kDetecting);
  EXPECT_EQ(*chunker.next_deadline(), t0 + 100ms);
  std::vector<Chunk> out = chunker.poll(t0 + 100ms);
  EXPECT_EQ(chunker.mode(), ChunkerMode::kTs);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload.size(), 2u * 188);
}

TEST(Chunker, SlowPlainInputIsNotHeldBack) {
  Chunker chunker = make();
  EXPECT_TRUE(chunker.push("hello", t0).empty());
  std::vector<Chunk> out = chunker.poll(t0 + 100ms);
  EXPECT_EQ(chunker.mode(), ChunkerMode::kPlain);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, "hello");
}

TEST(Chunker, ResyncsAfterGarbageBetweenPackets) {
  std::string ts = testing::ts_stream({.packets = 400});
  std::string garbage = testing::random_bytes(50, 9);
  std::string input = ts.substr(0, 100 * 188) + garbage + ts.substr(100 * 188);
  std::vector<Chunk> out = chunk_all(input, {4096});
  expect_well_formed(out);
  EXPECT_EQ(join_payloads(out), input);
  // The garbage ends a chunk; every other chunk starts on a packet.
  std::size_t offset = 0;
  bool cut_after_garbage = false;
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    EXPECT_EQ(static_cast<std::uint8_t>(out[i].payload[0]), 0x47) << i;
    offset += out[i].payload.size();
    if (offset == 100 * 188 + 50) cut_after_garbage = true;
  }
  EXPECT_TRUE(cut_after_garbage);
  Chunker chunker = make();
  (void)chunker.push(input, t0);
  EXPECT_EQ(chunker.stats().resyncs, 1u);
  EXPECT_EQ(chunker.stats().misaligned_bytes, 50u);
  EXPECT_EQ(chunker.mode(), ChunkerMode::kTs);
}

TEST(Chunker, CorruptSyncByteResyncsOnTheNextPacket) {
  std::string input = testing::ts_stream({.packets = 100});
  input[10 * 188] = 0x00;
  std::vector<Chunk> out = chunk_all(input, {input.size()});
  EXPECT_EQ(join_payloads(out), input);
  ASSERT_GE(out.size(), 3u);
  EXPECT_EQ(out[0].payload.size(), 11u * 188);  // ends with the bad packet
  EXPECT_EQ(static_cast<std::uint8_t>(out[1].payload[0]), 0x47);
}

TEST(Chunker, GarbageAtTheTailIsFlushedByTime) {
  std::string input = testing::ts_stream({.packets = 10}) + std::string(20, 'z');
  Chunker chunker = make();
  EXPECT_TRUE(chunker.push(input, t0).empty());
  // The ten packets wait for their time flush, the garbage for a decision.
  EXPECT_EQ(*chunker.next_deadline(), t0 + 100ms);
  std::vector<Chunk> out = chunker.poll(t0 + 100ms);
  EXPECT_EQ(join_payloads(out), input);
  EXPECT_EQ(chunker.mode(), ChunkerMode::kPlain);
  EXPECT_EQ(chunker.buffered_bytes(), 0u);
}

TEST(Chunker, LongLossOfSyncFallsBackToPlain) {
  std::string ts = testing::ts_stream({.packets = 50});
  std::string input = ts + testing::random_bytes(5000, 11);
  Chunker chunker = make();
  std::vector<Chunk> out = chunker.push(input, t0);
  EXPECT_EQ(chunker.mode(), ChunkerMode::kPlain);
  append(out, chunker.finish(t0));
  expect_well_formed(out);
  EXPECT_EQ(join_payloads(out), input);
}

TEST(Chunker, NonTsInputIsPlain) {
  // Half of the bytes are sync bytes, but never five of them 188 apart.
  std::string input;
  while (input.size() < 100000) input += "GGGGGxxxxx";
  Chunker chunker = make();
  (void)chunker.push(input, t0);
  EXPECT_EQ(chunker.mode(), ChunkerMode::kPlain);
}

TEST(Chunker, DetectionCanBeTurnedOff) {
  std::string input = testing::ts_stream({.packets = 200, .gop = 50});
  std::vector<Chunk> out = chunk_all(input, {input.size()}, {.detect_ts = false});
  EXPECT_EQ(out[0].payload.size(), 16384u);
  EXPECT_FALSE(out[0].random_access);
  EXPECT_EQ(join_payloads(out), input);
}

TEST(Chunker, FinishEmitsIncompletePacketAndEndOfStream) {
  std::string input = testing::ts_stream({.packets = 20});
  input.resize(input.size() - 50);
  Chunker chunker = make({.stripes = 3});
  std::vector<Chunk> out = chunker.push(input, t0);
  EXPECT_TRUE(out.empty());
  out = chunker.finish(t0 + 5ms);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].payload, input);
  EXPECT_TRUE(out[1].end_of_stream);
  EXPECT_EQ(out[1].seq, 1u);
  EXPECT_EQ(out[1].stripe, 1u);
  EXPECT_EQ(out[1].timestamp, 5ms);
  EXPECT_TRUE(chunker.finished());
  EXPECT_TRUE(chunker.finish(t0).empty());
  EXPECT_TRUE(chunker.poll(t0 + 1s).empty());
  EXPECT_THROW((void)chunker.push("x", t0), peers::Error);
}

TEST(Chunker, EmptyStreamIsJustTheEndMarker) {
  Chunker chunker = make();
  std::vector<Chunk> out = chunker.finish(t0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].end_of_stream);
  EXPECT_EQ(out[0].seq, 0u);
}

TEST(Chunker, StripesFollowSeqModuloK) {
  std::string input = testing::random_bytes(20 * 1000, 12);
  std::vector<Chunk> out = chunk_all(input, {999}, {.stripes = 3, .target_size = 1000});
  expect_well_formed(out, 3);
}

TEST(Chunker, TimestampIsArrivalOfFirstByte) {
  Chunker chunker = make({.target_size = 200});
  (void)chunker.push(std::string(150, 'a'), t0);
  std::vector<Chunk> out = chunker.push(std::string(150, 'b'), t0 + 30ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].timestamp, 0ms);
  out = chunker.push(std::string(150, 'c'), t0 + 60ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].timestamp, 30ms);  // its first byte came with the second push
}

TEST(Chunker, RejectsInvalidOptions) {
  EXPECT_FALSE(Chunker::create({.stripes = 0}).ok());
  EXPECT_FALSE(Chunker::create({.stripes = kMaxStripes + 1}).ok());
  EXPECT_FALSE(Chunker::create({.target_size = 187}).ok());
  EXPECT_FALSE(Chunker::create({.target_size = kMaxChunkPayload + 1}).ok());
  EXPECT_FALSE(Chunker::create({.max_delay = 0us}).ok());
  EXPECT_FALSE(Chunker::create({.detect_packets = 1}).ok());
  auto bad = Chunker::create({.stripes = 0});
  EXPECT_EQ(bad.error().code(), peers::Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("stripes"), std::string::npos);
  EXPECT_TRUE(Chunker::create({.stripes = 1, .target_size = 188, .min_cut_size = 0}).ok());
}

TEST(Chunker, RandomizedPushesPreserveBytes) {
  std::mt19937 rng(42);
  std::string input = testing::ts_stream({.packets = 2000, .gop = 75, .audio_every = 4});
  input = testing::random_bytes(77, 13) + input;  // mid-packet start
  Chunker chunker = make();
  std::vector<Chunk> out;
  auto now = t0;
  std::size_t at = 0;
  while (at < input.size()) {
    std::size_t n = std::min<std::size_t>(rng() % 5000, input.size() - at);
    now += std::chrono::microseconds(rng() % 60000);
    append(out, chunker.push(std::string_view(input).substr(at, n), now));
    at += n;
    if (rng() % 3 == 0) append(out, chunker.poll(now));
  }
  append(out, chunker.finish(now));
  expect_well_formed(out);
  EXPECT_EQ(join_payloads(out), input);
  for (std::size_t i = 1; i + 1 < out.size(); ++i) {
    EXPECT_LE(out[i].payload.size(), 16384u);
    EXPECT_GE(out[i].timestamp, out[i - 1].timestamp);
  }
}

}  // namespace
}  // namespace vt
