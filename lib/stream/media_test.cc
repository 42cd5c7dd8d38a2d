// End to end through the data plane with real MPEG-TS from ffmpeg: chunk,
// sign, deliver over four stripes out of order, verify, reorder, compare
// bytes; and a late joiner whose output ffprobe must decode cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/kernel/subprocess.h"
#include "lib/stream/chunker.h"
#include "lib/stream/playout_buffer.h"
#include "lib/stream/signed_chunk.h"
#include "lib/stream/ts.h"

namespace vt {
namespace {

using namespace std::chrono_literals;
using peers::Output;
using peers::Subprocess;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0 = Clock::time_point{} + 1000s;

// "a b c" -> {"a", "b", "c"}
std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = std::min(text.find(' ', at), text.size());
    if (end > at) out.emplace_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// 3 s of 320x240 MPEG-2 video (a key frame every 25 frames, i.e. every
// second) and MP2 audio, muxed to MPEG-TS on stdout. kNotFound when ffmpeg
// is not installed.
peers::Result<std::string> make_clip() {
  const std::vector<std::string> args = words(
      "-nostdin -hide_banner -loglevel error "
      "-f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 "
      "-t 3 -c:v mpeg2video -g 25 -c:a mp2 -f mpegts -");
  peers::Result<Output> out = Subprocess::run("ffmpeg", args);
  if (!out) return out.error();
  if (!out->status.success()) {
    return peers::Error(peers::Errc::kInternal,
                        "ffmpeg: " + out->status.to_string() + ": " + out->err);
  }
  return std::move(out->out);
}

#define MAKE_CLIP_OR_SKIP(clip)                                               \
  peers::Result<std::string> clip##_made = make_clip();                       \
  if (!clip##_made && clip##_made.error().code() == peers::Errc::kNotFound) { \
    GTEST_SKIP() << "ffmpeg not installed: " << clip##_made.error().what();   \
  }                                                                           \
  ASSERT_TRUE(clip##_made.ok()) << clip##_made.error().what();                \
  const std::string clip = std::move(clip##_made).value()

// Chunks input as the source would: reads of random sizes, a few ms apart.
std::vector<Chunk> chunk_like_a_source(const std::string& input, std::mt19937& rng) {
  Chunker chunker = Chunker::create({}).value();
  std::vector<Chunk> chunks;
  auto take = [&](std::vector<Chunk> more) {
    for (Chunk& c : more) chunks.push_back(std::move(c));
  };
  Clock::time_point now = t0;
  std::size_t at = 0;
  while (at < input.size()) {
    std::size_t n = std::min<std::size_t>(1 + rng() % 20000, input.size() - at);
    take(chunker.push(std::string_view(input).substr(at, n), now));
    at += n;
    now += std::chrono::milliseconds(rng() % 20);
    take(chunker.poll(now));
  }
  take(chunker.finish(now));
  EXPECT_EQ(chunker.mode(), ChunkerMode::kTs);
  return chunks;
}

struct Delivery {
  Clock::time_point at;
  std::string bytes;
};

// Each stripe has its own tree, hence its own delay; within a stripe chunks
// jitter a little, and some arrive twice (a resend after a parent change).
std::vector<Delivery> deliver_over_stripes(const std::vector<std::string>& signed_chunks,
                                           const std::vector<Chunk>& chunks, std::mt19937& rng) {
  const std::chrono::milliseconds stripe_delay[] = {5ms, 180ms, 40ms, 95ms};
  std::vector<Delivery> out;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    Clock::time_point sent = t0 + chunks[i].timestamp;
    Clock::time_point at =
        sent + stripe_delay[chunks[i].stripe] + std::chrono::milliseconds(rng() % 30);
    out.push_back({at, signed_chunks[i]});
    if (rng() % 8 == 0)
      out.push_back({at + std::chrono::milliseconds(rng() % 400), signed_chunks[i]});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Delivery& a, const Delivery& b) { return a.at < b.at; });
  return out;
}

TEST(Media, RealClipSurvivesFourStripesOutOfOrder) {
  MAKE_CLIP_OR_SKIP(clip);
  ASSERT_EQ(clip.size() % kTsPacketSize, 0u);
  std::mt19937 rng(2024);
  std::vector<Chunk> chunks = chunk_like_a_source(clip, rng);
  ASSERT_GT(chunks.size(), 10u);

  std::size_t random_access_chunks = 0;
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].payload.size() % kTsPacketSize, 0u) << i;
    EXPECT_LE(chunks[i].payload.size(), 16384u);
    if (chunks[i].random_access) ++random_access_chunks;
  }
  EXPECT_TRUE(chunks[0].random_access);
  EXPECT_EQ(random_access_chunks, 3u);  // one key frame per second

  peers::Identity source = peers::Identity::generate();
  std::vector<std::string> signed_chunks;
  for (const Chunk& c : chunks) signed_chunks.push_back(sign_chunk(source, c));

  PlayoutBuffer sink =
      PlayoutBuffer::create({.start = StartPolicy::kAtSeq, .start_seq = 0}).value();
  std::string played;
  Clock::time_point last = t0;
  for (const Delivery& d : deliver_over_stripes(signed_chunks, chunks, rng)) {
    peers::Result<Chunk> c = verify_chunk(d.bytes, source.public_key());
    ASSERT_TRUE(c.ok()) << c.error().what();
    InsertResult r = sink.insert(std::move(c).value(), d.at);
    EXPECT_TRUE(r == InsertResult::kAccepted || r == InsertResult::kDuplicate ||
                r == InsertResult::kTooOld)
        << to_string(r);
    for (Chunk& out : sink.pop_ready(d.at)) played += out.payload;
    last = d.at;
  }
  for (Chunk& out : sink.pop_ready(last + 10s)) played += out.payload;
  EXPECT_TRUE(sink.finished());
  EXPECT_EQ(sink.stats().gaps, 0u);
  EXPECT_EQ(sink.stats().released_chunks, chunks.size());
  EXPECT_TRUE(played == clip) << "played " << played.size() << " bytes of " << clip.size();
}

TEST(Media, LateJoinerStartsAtRandomAccessPointAndDecodes) {
  MAKE_CLIP_OR_SKIP(clip);
  std::mt19937 rng(7);
  std::vector<Chunk> chunks = chunk_like_a_source(clip, rng);
  // Join a little after the first second: the first chunks received are in
  // the middle of a GOP.
  std::size_t second_rap = 0;
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    if (chunks[i].random_access) {
      second_rap = i;
      break;
    }
  }
  ASSERT_GT(second_rap, 2u);
  std::size_t join = second_rap - 2;
  ASSERT_FALSE(chunks[join].random_access);
  std::vector<Chunk> received(chunks.begin() + static_cast<std::ptrdiff_t>(join), chunks.end());
  // Out of order, but the random-access chunk comes after its predecessors.
  std::swap(received[0], received[1]);

  PlayoutBuffer sink = PlayoutBuffer::create({}).value();
  std::string played;
  for (Chunk& c : received) {
    (void)sink.insert(std::move(c), t0);
    for (Chunk& out : sink.pop_ready(t0)) played += out.payload;
  }
  EXPECT_TRUE(sink.finished());
  EXPECT_EQ(sink.stats().dropped_before_start, 2u);
  std::string expected;
  for (std::size_t i = second_rap; i < chunks.size(); ++i) expected += chunks[i].payload;
  ASSERT_TRUE(played == expected);

  // It starts with whole packets: tables, then the key frame.
  ASSERT_GE(played.size(), 3 * kTsPacketSize);
  EXPECT_EQ(static_cast<std::uint8_t>(played[0]), kTsSyncByte);
  std::size_t first_es = 0;
  while (is_psi_packet(std::string_view(played).substr(first_es, kTsPacketSize))) {
    first_es += kTsPacketSize;
  }
  EXPECT_GT(first_es, 0u);  // PAT and PMT came along
  EXPECT_EQ(random_access_kind(std::string_view(played).substr(first_es, kTsPacketSize)),
            RandomAccessKind::kIndicator);

  // A decoder that starts here decodes every remaining video frame (the
  // clip has 75; the joiner missed the first second's 25) without errors.
  peers::Result<Output> probe =
      Subprocess::run("ffprobe",
                      words("-hide_banner -v error -count_frames -select_streams v:0 "
                            "-show_entries stream=nb_read_frames -of csv=p=0 -i pipe:0"),
                      played);
  if (!probe.ok() && probe.error().code() == peers::Errc::kNotFound) {
    GTEST_SKIP() << "ffprobe not installed";
  }
  ASSERT_TRUE(probe.ok()) << probe.error().what();
  EXPECT_TRUE(probe->status.success()) << probe->err;
  EXPECT_EQ(probe->err, "");
  EXPECT_EQ(std::stoi(probe->out), 50) << probe->out;
}

}  // namespace
}  // namespace vt
