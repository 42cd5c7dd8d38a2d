// SignedChunk: a chunk as it travels, signed by the stream's source.
//
// Every chunk is signed once, by the source, with its Ed25519 identity; the
// source's public key names the stream ("stream key"). Relays and sinks check
// the signature before they forward or play a chunk, so a relay can neither
// forge nor alter one, nor move it to another seq, stripe or stream.
//
// Wire form (docs/stream.md has the byte layout): a 32-byte header, the
// payload, a 64-byte signature. The header carries an 8-byte stream tag (the
// first bytes of the stream key) so a chunk of another stream is reported as
// such, not as a forgery; the signature covers the full 32-byte key, so the
// tag needs no strength of its own. The signed message is
//   "vt-v1-chunk" || stream key (32) || header (32) || payload
// Ed25519 hashes its message internally, so the payload is signed directly.
//
//   std::string bytes = vt::sign_chunk(source_identity, chunk);
//   peers::Result<vt::Chunk> back = vt::verify_chunk(bytes, source_key);
//   if (!back) penalize(sender, back.error());   // kAuth or kProtocol
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/crypto/identity.h"
#include "lib/crypto/keys.h"
#include "lib/kernel/error.h"
#include "lib/stream/chunk.h"

namespace vt {

inline constexpr std::uint8_t kChunkFormatVersion = 1;
inline constexpr std::size_t kChunkHeaderSize = 32;
inline constexpr std::size_t kStreamTagSize = 8;
inline constexpr std::size_t kChunkOverhead = kChunkHeaderSize + peers::kSignatureSize;
// Domain separation: no other signature of a VidTorrent key covers a message
// that starts like this.
inline constexpr std::string_view kChunkSignatureLabel = "vt-v1-chunk";

using StreamTag = std::array<std::uint8_t, kStreamTagSize>;

// The first kStreamTagSize bytes of the stream key.
StreamTag stream_tag(const peers::PublicKey& stream_key);

// What the header of a signed chunk says, before its signature is checked.
struct ChunkHeader {
  ChunkSeq seq = 0;
  std::uint32_t stripe = 0;
  bool random_access = false;
  bool end_of_stream = false;
  std::chrono::microseconds timestamp{0};
  std::uint32_t payload_size = 0;
  StreamTag stream_tag{};
};

// Reads the header of a signed chunk and checks the framing: version, known
// flags, payload size <= max_payload, total size = header + payload +
// signature, no payload on an end-of-stream chunk. Does not check the
// signature: a relay may use it to drop a duplicate before paying for
// verification. Fails with kProtocol, naming the reason.
peers::Result<ChunkHeader> parse_chunk_header(std::string_view bytes,
                                              std::size_t max_payload = kMaxChunkPayload);

// The wire form of chunk, signed by source. Throws
// peers::Error(kInvalidArgument) for a chunk that cannot be encoded: payload
// larger than kMaxChunkPayload, stripe >= kMaxStripes, an end-of-stream chunk
// with a payload.
std::string sign_chunk(const peers::Identity& source, const Chunk& chunk);

// Checks bytes against the stream key and returns the chunk. Errors:
//   kProtocol: malformed (see parse_chunk_header): truncated, trailing bytes,
//              payload over max_payload, unknown version or flags;
//   kAuth "chunk of another stream": the stream tag is not stream_key's;
//   kAuth "bad chunk signature": anything else about it is not what the
//              source signed (forged, altered, replayed under another seq).
peers::Result<Chunk> verify_chunk(std::string_view bytes, const peers::PublicKey& stream_key,
                                  std::size_t max_payload = kMaxChunkPayload);

}  // namespace vt
