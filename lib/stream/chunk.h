// Chunk: the unit of the VidTorrent data plane.
//
// The source cuts its input into chunks (lib/stream/chunker.h), numbers them
// from 0 and sends chunk `seq` on stripe `seq % K`, each stripe over its own
// tree. A chunk travels signed (lib/stream/signed_chunk.h); relays keep recent
// ones (lib/stream/history.h); sinks put them back in order
// (lib/stream/playout_buffer.h). Concatenating the payloads of chunks 0, 1, 2,
// ... gives back the source's input byte for byte.
//
//   vt::Chunk c{.seq = 9, .stripe = vt::stripe_of(9, 4), .payload = "..."};
//   assert(c.stripe == 1);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vt {

// Position of a chunk in the stream, from 0.
using ChunkSeq = std::uint64_t;

// Largest payload any chunk may carry; the chunker's target size is at most
// this, and verify_chunk()'s default limit is this.
inline constexpr std::size_t kMaxChunkPayload = std::size_t{1} << 20;
// Number of stripes (K) unless configured otherwise.
inline constexpr std::uint32_t kDefaultStripes = 4;
// Most stripes a stream may have (the wire carries the stripe in 16 bits).
inline constexpr std::uint32_t kMaxStripes = 256;

struct Chunk {
  ChunkSeq seq = 0;
  // seq % K, where K is the stream's number of stripes.
  std::uint32_t stripe = 0;
  // The payload starts with a random-access point (MPEG-TS only): a sink that
  // joins late may start playing here.
  bool random_access = false;
  // The end-of-stream marker: the last chunk of the stream, with no payload.
  bool end_of_stream = false;
  // Source time of the chunk's first byte: microseconds since the source's
  // first input, on the source's monotonic clock. Only differences between
  // chunks of one stream mean anything.
  std::chrono::microseconds timestamp{0};
  std::string payload;

  friend bool operator==(const Chunk&, const Chunk&) = default;
};

// The stripe that carries chunk seq when the stream has `stripes` stripes
// (stripes > 0).
inline std::uint32_t stripe_of(ChunkSeq seq, std::uint32_t stripes) {
  return static_cast<std::uint32_t>(seq % stripes);
}

}  // namespace vt
