#include "lib/stream/signed_chunk.h"

#include <algorithm>
#include <cstring>

#include "lib/kernel/hex.h"

namespace vt {
namespace {

constexpr std::uint8_t kFlagRandomAccess = 0x01;
constexpr std::uint8_t kFlagEndOfStream = 0x02;
constexpr std::uint8_t kKnownFlags = kFlagRandomAccess | kFlagEndOfStream;

// Header layout (big-endian):
//   0  u8   version
//   1  u8   flags
//   2  u16  stripe
//   4  u64  seq
//   12 i64  timestamp, microseconds
//   20 [8]  stream tag
//   28 u32  payload size
constexpr std::size_t kVersionAt = 0, kFlagsAt = 1, kStripeAt = 2, kSeqAt = 4, kTimestampAt = 12,
                      kTagAt = 20, kSizeAt = 28;

void put_be(char* out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
}

std::uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[at + i]);
  return v;
}

peers::Error malformed(const std::string& what) {
  return peers::Error(peers::Errc::kProtocol, "malformed chunk: " + what);
}

// label || stream key || header || payload
std::string signed_message(const peers::PublicKey& key, std::string_view header_and_payload) {
  std::string m;
  m.reserve(kChunkSignatureLabel.size() + key.size() + header_and_payload.size());
  m.append(kChunkSignatureLabel);
  m.append(reinterpret_cast<const char*>(key.data()), key.size());
  m.append(header_and_payload);
  return m;
}

}  // namespace

StreamTag stream_tag(const peers::PublicKey& stream_key) {
  StreamTag tag;
  std::copy_n(stream_key.begin(), tag.size(), tag.begin());
  return tag;
}

peers::Result<ChunkHeader> parse_chunk_header(std::string_view bytes, std::size_t max_payload) {
  if (bytes.size() < kChunkOverhead) {
    return malformed("truncated: " + std::to_string(bytes.size()) + " bytes, at least " +
                     std::to_string(kChunkOverhead) + " needed");
  }
  std::uint8_t version = static_cast<std::uint8_t>(bytes[kVersionAt]);
  if (version != kChunkFormatVersion) {
    return malformed("unsupported version " + std::to_string(version));
  }
  std::uint8_t flags = static_cast<std::uint8_t>(bytes[kFlagsAt]);
  if ((flags & ~kKnownFlags) != 0) return malformed("unknown flags " + std::to_string(flags));
  ChunkHeader h;
  h.random_access = (flags & kFlagRandomAccess) != 0;
  h.end_of_stream = (flags & kFlagEndOfStream) != 0;
  h.stripe = static_cast<std::uint32_t>(get_be(bytes, kStripeAt, 2));
  h.seq = get_be(bytes, kSeqAt, 8);
  h.timestamp =
      std::chrono::microseconds(static_cast<std::int64_t>(get_be(bytes, kTimestampAt, 8)));
  for (std::size_t i = 0; i < kStreamTagSize; ++i) {
    h.stream_tag[i] = static_cast<std::uint8_t>(bytes[kTagAt + i]);
  }
  h.payload_size = static_cast<std::uint32_t>(get_be(bytes, kSizeAt, 4));
  if (h.payload_size > max_payload) {
    return malformed("payload of " + std::to_string(h.payload_size) + " bytes exceeds the limit " +
                     std::to_string(max_payload));
  }
  std::size_t expected = kChunkOverhead + h.payload_size;
  if (bytes.size() < expected) {
    return malformed("truncated: " + std::to_string(bytes.size()) + " bytes, " +
                     std::to_string(expected) + " announced");
  }
  if (bytes.size() > expected) {
    return malformed(std::to_string(bytes.size() - expected) + " trailing bytes");
  }
  if (h.end_of_stream && h.payload_size != 0) return malformed("end-of-stream chunk with payload");
  if (h.stripe >= kMaxStripes) return malformed("stripe " + std::to_string(h.stripe));
  return h;
}

std::string sign_chunk(const peers::Identity& source, const Chunk& chunk) {
  if (chunk.payload.size() > kMaxChunkPayload) {
    throw peers::Error(peers::Errc::kInvalidArgument,
                       "chunk payload of " + std::to_string(chunk.payload.size()) +
                           " bytes exceeds " + std::to_string(kMaxChunkPayload));
  }
  if (chunk.stripe >= kMaxStripes) {
    throw peers::Error(peers::Errc::kInvalidArgument,
                       "chunk stripe " + std::to_string(chunk.stripe) + " out of range");
  }
  if (chunk.end_of_stream && !chunk.payload.empty()) {
    throw peers::Error(peers::Errc::kInvalidArgument, "end-of-stream chunk with payload");
  }
  const peers::PublicKey& key = source.public_key();
  // Build label || key || header || payload in one buffer, sign it, then
  // drop the prefix that is implied on the wire and append the signature.
  const std::size_t prefix = kChunkSignatureLabel.size() + key.size();
  std::string out;
  out.reserve(prefix + kChunkOverhead + chunk.payload.size());
  out.append(kChunkSignatureLabel);
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  out.resize(prefix + kChunkHeaderSize);
  char* h = out.data() + prefix;
  std::uint8_t flags =
      (chunk.random_access ? kFlagRandomAccess : 0) | (chunk.end_of_stream ? kFlagEndOfStream : 0);
  put_be(h + kVersionAt, kChunkFormatVersion, 1);
  put_be(h + kFlagsAt, flags, 1);
  put_be(h + kStripeAt, chunk.stripe, 2);
  put_be(h + kSeqAt, chunk.seq, 8);
  put_be(h + kTimestampAt, static_cast<std::uint64_t>(chunk.timestamp.count()), 8);
  std::memcpy(h + kTagAt, key.data(), kStreamTagSize);
  put_be(h + kSizeAt, chunk.payload.size(), 4);
  out.append(chunk.payload);
  peers::Signature sig = source.sign(out);
  out.erase(0, prefix);
  out.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return out;
}

peers::Result<Chunk> verify_chunk(std::string_view bytes, const peers::PublicKey& stream_key,
                                  std::size_t max_payload) {
  peers::Result<ChunkHeader> h = parse_chunk_header(bytes, max_payload);
  if (!h) return h.error();
  if (h->stream_tag != stream_tag(stream_key)) {
    return peers::Error(peers::Errc::kAuth, "chunk of another stream (seq " +
                                                std::to_string(h->seq) + ", stream tag " +
                                                peers::to_hex(h->stream_tag) + ", expected " +
                                                peers::to_hex(stream_tag(stream_key)) + ")");
  }
  std::size_t signed_size = kChunkHeaderSize + h->payload_size;
  peers::Signature sig;
  std::memcpy(sig.data(), bytes.data() + signed_size, sig.size());
  if (!peers::verify(stream_key, signed_message(stream_key, bytes.substr(0, signed_size)), sig)) {
    return peers::Error(peers::Errc::kAuth,
                        "bad chunk signature (seq " + std::to_string(h->seq) + ")");
  }
  Chunk c;
  c.seq = h->seq;
  c.stripe = h->stripe;
  c.random_access = h->random_access;
  c.end_of_stream = h->end_of_stream;
  c.timestamp = h->timestamp;
  c.payload.assign(bytes.substr(kChunkHeaderSize, h->payload_size));
  return c;
}

}  // namespace vt
