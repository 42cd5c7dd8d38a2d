// Fuzz target: the chunker (lib/stream/chunker.h), which cuts the source's
// input. The input's first bytes set the options; then come pushes, each a
// byte of timing (how far the clock moves, whether to poll) and a byte of
// length, then that many bytes of input. Whatever the input, the chunks come
// out numbered 0, 1, 2, ... on stripe seq % K, none larger than the target
// size, and their payloads concatenate to the input byte for byte.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "lib/stream/chunker.h"

namespace {

struct Expect {
  vt::ChunkerOptions options;
  vt::ChunkSeq next = 0;
  std::string output = {};
  bool ended = false;

  void take(const std::vector<vt::Chunk>& chunks) {
    for (const vt::Chunk& c : chunks) {
      PEERS_FUZZ_CHECK(!ended, "nothing after the end-of-stream marker");
      PEERS_FUZZ_CHECK(c.seq == next, "chunks in seq order");
      PEERS_FUZZ_CHECK(c.stripe == c.seq % options.stripes, "chunk seq on stripe seq % K");
      PEERS_FUZZ_CHECK(c.payload.size() <= options.target_size, "no chunk over target_size");
      PEERS_FUZZ_CHECK(!c.end_of_stream || c.payload.empty(), "the marker is empty");
      PEERS_FUZZ_CHECK(c.end_of_stream || !c.payload.empty(), "no empty chunk");
      ended = c.end_of_stream;
      ++next;
      output += c.payload;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  vt::ChunkerOptions options;
  options.stripes = 1 + in.byte() % 8;
  options.target_size = vt::kTsPacketSize + in.u16() % (8 * 1024);
  options.min_cut_size = in.u16() % (10 * 1024);
  options.max_delay = std::chrono::milliseconds(1 + in.byte());
  std::uint8_t flags = in.byte();
  options.detect_ts = !(flags & 1);
  options.detect_packets = 2 + (flags >> 1) % 8;
  auto chunker = vt::Chunker::create(options);
  PEERS_FUZZ_CHECK(chunker.ok(), "the options are in range");

  Expect expect{.options = options};
  std::string input;
  vt::Chunker::TimePoint now{};
  while (!in.empty()) {
    std::uint8_t timing = in.byte();
    now += std::chrono::milliseconds(timing & 0x3f);
    std::size_t length = std::size_t{in.byte()} * ((timing & 0x40) ? 16 : 1);
    std::string_view bytes = in.take(length);
    input += bytes;
    expect.take(chunker->push(bytes, now));
    if (timing & 0x80) {
      auto deadline = chunker->next_deadline();
      if (deadline) now = std::max(now, *deadline);
      expect.take(chunker->poll(now));
    }
    PEERS_FUZZ_CHECK(expect.output.size() + chunker->buffered_bytes() == input.size(),
                     "every byte is in a chunk or waiting");
  }
  expect.take(chunker->finish(now));
  PEERS_FUZZ_CHECK(expect.ended, "finish() ends with the marker");
  PEERS_FUZZ_CHECK(expect.output == input, "chunks concatenate to the input");
  PEERS_FUZZ_CHECK(chunker->finish(now).empty(), "finish() once");
  return 0;
}
