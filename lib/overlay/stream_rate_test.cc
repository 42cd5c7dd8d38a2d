#include "lib/overlay/stream_rate.h"

#include <gtest/gtest.h>

namespace vt {
namespace {

using namespace std::chrono_literals;

// A 2 Mbit/s stream: 16 KiB chunks, 15.26 per second.
constexpr double kChunkBytes = 16384;
constexpr double kPerS = 2e6 / 8 / kChunkBytes;

std::chrono::microseconds at(ChunkSeq seq) {
  return std::chrono::microseconds(static_cast<std::int64_t>(seq / kPerS * 1e6));
}

TEST(StreamRate, UnknownUntilASecondOfStream) {
  StreamRate r;
  for (ChunkSeq q = 0; q < 10; ++q) r.add(q, at(q), 16384);
  EXPECT_EQ(r.bits_per_s(), 0);
  for (ChunkSeq q = 10; q < 40; ++q) r.add(q, at(q), 16384);
  EXPECT_NEAR(r.bits_per_s(), 2e6, 2e4);
  EXPECT_NEAR(r.chunks_per_s(), kPerS, 0.1);
}

TEST(StreamRate, ABurstOfHistoryDoesNotInflateIt) {
  // Ten seconds of stream arriving in one moment (a new parent's history):
  // arrival times would say 100 Mbit/s; the timestamps say 2.
  StreamRate r;
  for (ChunkSeq q = 0; q < 153; ++q) r.add(q, at(q), 16384);
  EXPECT_NEAR(r.bits_per_s(), 2e6, 2e4);
}

TEST(StreamRate, MissingChunksAndOneStripeDoNotDeflateIt) {
  // Only stripe 1 of 4 arrives (a node that is a leaf elsewhere and lost
  // three parents): seqs still tell how many chunks the source made.
  StreamRate r;
  for (ChunkSeq q = 1; q < 200; q += 4) r.add(q, at(q), 16384);
  EXPECT_NEAR(r.bits_per_s(), 2e6, 3e4);
}

TEST(StreamRate, ForgetsOldChunks) {
  StreamRate r(8s);
  for (ChunkSeq q = 0; q < 200; ++q) r.add(q, at(q), 4096);  // 0.5 Mbit/s
  for (ChunkSeq q = 200; q < 400; ++q) r.add(q, at(q), 16384);
  EXPECT_NEAR(r.bits_per_s(), 2e6, 3e4);
}

}  // namespace
}  // namespace vt
