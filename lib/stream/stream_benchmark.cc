// Cost of the data plane per chunk: signing and verifying (Ed25519 over the
// whole chunk), chunking MPEG-TS, and the playout buffer. Run with
//   bazel run //lib/stream:stream_benchmark   (.bazelrc builds with -O2)
// The 0-byte rows give the fixed Ed25519 cost; the difference to the 16 KiB
// rows is the hashing of the payload (SHA-512 inside Ed25519), which is what
// signing a batch of chunks at once would save.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/stream/chunker.h"
#include "lib/stream/playout_buffer.h"
#include "lib/stream/signed_chunk.h"
#include "lib/stream/test_util.h"

namespace vt {
namespace {

Chunk chunk_of(std::size_t size) {
  Chunk c;
  c.seq = 12345;
  c.stripe = 1;
  c.payload = testing::random_bytes(size, 5);
  return c;
}

void BM_SignChunk(benchmark::State& state) {
  peers::Identity source = peers::Identity::generate();
  Chunk c = chunk_of(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(sign_chunk(source, c));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SignChunk)->Arg(0)->Arg(1024)->Arg(16 * 1024)->Arg(64 * 1024);

void BM_VerifyChunk(benchmark::State& state) {
  peers::Identity source = peers::Identity::generate();
  std::string bytes = sign_chunk(source, chunk_of(static_cast<std::size_t>(state.range(0))));
  for (auto _ : state) {
    peers::Result<Chunk> c = verify_chunk(bytes, source.public_key());
    if (!c) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_VerifyChunk)->Arg(0)->Arg(1024)->Arg(16 * 1024)->Arg(64 * 1024);

// Header checks only: what a relay pays to drop a duplicate.
void BM_ParseChunkHeader(benchmark::State& state) {
  peers::Identity source = peers::Identity::generate();
  std::string bytes = sign_chunk(source, chunk_of(16 * 1024));
  for (auto _ : state) benchmark::DoNotOptimize(parse_chunk_header(bytes));
}
BENCHMARK(BM_ParseChunkHeader);

void BM_ChunkTs(benchmark::State& state) {
  std::string input = testing::ts_stream({.packets = 20000, .gop = 200, .audio_every = 5});
  auto now = std::chrono::steady_clock::time_point{};
  for (auto _ : state) {
    Chunker chunker = Chunker::create({}).value();
    for (std::size_t at = 0; at < input.size(); at += 65536) {
      benchmark::DoNotOptimize(chunker.push(std::string_view(input).substr(at, 65536), now));
    }
    benchmark::DoNotOptimize(chunker.finish(now));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_ChunkTs);

void BM_PlayoutInsertPop(benchmark::State& state) {
  auto now = std::chrono::steady_clock::time_point{};
  PlayoutBuffer buffer =
      PlayoutBuffer::create({.start = StartPolicy::kAtSeq, .start_seq = 0}).value();
  Chunk c = chunk_of(16 * 1024);
  ChunkSeq seq = 0;
  for (auto _ : state) {
    // Pairs arrive swapped (stripes out of step).
    Chunk a = c, b = c;
    a.seq = seq + 1;
    b.seq = seq;
    seq += 2;
    (void)buffer.insert(std::move(a), now);
    (void)buffer.insert(std::move(b), now);
    benchmark::DoNotOptimize(buffer.pop_ready(now));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 2);
}
BENCHMARK(BM_PlayoutInsertPop);

}  // namespace
}  // namespace vt

BENCHMARK_MAIN();
