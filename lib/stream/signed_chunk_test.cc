#include "lib/stream/signed_chunk.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <string>

#include "lib/crypto/crypto_model.h"

namespace vt {
namespace {

using namespace std::chrono_literals;

peers::Identity identity(std::uint8_t fill) {
  std::array<std::uint8_t, peers::kSeedSize> seed;
  seed.fill(fill);
  return peers::Identity::from_seed(seed).value();
}

Chunk sample(std::size_t payload_size = 1000) {
  Chunk c;
  c.seq = 0x0102030405060708;
  c.stripe = 3;
  c.random_access = true;
  c.timestamp = 1500ms;
  for (std::size_t i = 0; i < payload_size; ++i) c.payload.push_back(static_cast<char>(i * 31));
  return c;
}

void expect_error(const peers::Result<Chunk>& r, peers::Errc code, std::string_view text) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), code) << r.error().what();
  EXPECT_NE(r.error().message().find(text), std::string::npos) << r.error().message();
}

TEST(SignedChunk, RoundTrips) {
  peers::Identity source = identity(1);
  for (std::size_t size : {0, 1, 188, 16384}) {
    Chunk c = sample(size);
    std::string bytes = sign_chunk(source, c);
    EXPECT_EQ(bytes.size(), kChunkOverhead + size);
    peers::Result<Chunk> back = verify_chunk(bytes, source.public_key());
    ASSERT_TRUE(back.ok()) << back.error().what();
    EXPECT_EQ(*back, c);
  }
  Chunk end;
  end.seq = 77;
  end.stripe = 1;
  end.end_of_stream = true;
  peers::Result<Chunk> back = verify_chunk(sign_chunk(source, end), source.public_key());
  ASSERT_TRUE(back.ok()) << back.error().what();
  EXPECT_EQ(*back, end);
}

TEST(SignedChunk, HeaderLayoutIsFixed) {
  peers::Identity source = identity(1);
  Chunk c = sample(3);
  c.end_of_stream = false;
  std::string bytes = sign_chunk(source, c);
  const auto& key = source.public_key();
  std::string expected_header = std::string("\x01\x01\x00\x03", 4) +  // version, flags, stripe
                                std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8) +  // seq
                                std::string("\x00\x00\x00\x00\x00\x16\xE3\x60", 8) +  // 1500000 us
                                std::string(reinterpret_cast<const char*>(key.data()), 8) +
                                std::string("\x00\x00\x00\x03", 4);  // payload size
  EXPECT_EQ(bytes.substr(0, kChunkHeaderSize), expected_header);
  EXPECT_EQ(bytes.substr(kChunkHeaderSize, 3), c.payload);
  // The signature covers label, full key, header and payload.
  std::string message = std::string(kChunkSignatureLabel) +
                        std::string(reinterpret_cast<const char*>(key.data()), key.size()) +
                        bytes.substr(0, kChunkHeaderSize + 3);
  peers::Signature sig;
  std::copy_n(bytes.data() + kChunkHeaderSize + 3, sig.size(), reinterpret_cast<char*>(sig.data()));
  EXPECT_TRUE(peers::verify(key, message, sig));
  EXPECT_EQ(source.sign(message), sig);  // Ed25519 is deterministic
}

TEST(SignedChunk, ParseHeaderWithoutVerifying) {
  peers::Identity source = identity(1);
  Chunk c = sample(10);
  std::string bytes = sign_chunk(source, c);
  bytes[kChunkHeaderSize] ^= 1;  // the payload no longer matches the signature
  peers::Result<ChunkHeader> h = parse_chunk_header(bytes);
  ASSERT_TRUE(h.ok()) << h.error().what();
  EXPECT_EQ(h->seq, c.seq);
  EXPECT_EQ(h->stripe, c.stripe);
  EXPECT_TRUE(h->random_access);
  EXPECT_FALSE(h->end_of_stream);
  EXPECT_EQ(h->timestamp, c.timestamp);
  EXPECT_EQ(h->payload_size, 10u);
  EXPECT_EQ(h->stream_tag, stream_tag(source.public_key()));
}

TEST(SignedChunk, EveryAlteredByteIsRejected) {
  peers::Identity source = identity(1);
  std::string bytes = sign_chunk(source, sample(40));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string altered = bytes;
    altered[i] ^= 0x10;
    peers::Result<Chunk> r = verify_chunk(altered, source.public_key());
    ASSERT_FALSE(r.ok()) << "byte " << i;
    // Framing bytes give kProtocol, the stream tag "another stream", all
    // else a bad signature.
    if (i >= 20 && i < 28) {
      expect_error(r, peers::Errc::kAuth, "another stream");
    } else if (i <= 2 || (i >= 28 && i < 32)) {  // version, flags, stripe 4099, size
      EXPECT_EQ(r.error().code(), peers::Errc::kProtocol) << "byte " << i;
    } else {
      expect_error(r, peers::Errc::kAuth, "bad chunk signature");
    }
  }
}

TEST(SignedChunk, ForgedChunkIsRejected) {
  peers::Identity source = identity(1);
  peers::Identity forger = identity(2);
  // The forger copies the source's stream tag, so the chunk passes as one of
  // this stream until the signature is checked.
  std::string forged = sign_chunk(forger, sample());
  const auto& key = source.public_key();
  std::copy_n(reinterpret_cast<const char*>(key.data()), kStreamTagSize, forged.data() + 20);
  expect_error(verify_chunk(forged, key), peers::Errc::kAuth, "bad chunk signature");
}

// vt-sim's modelled signatures keep what the signature is for: a forged,
// altered or moved chunk is still rejected, and each check is charged.
TEST(SignedChunk, ModelledSignaturesRejectForgeriesAndChargeTheirCost) {
  std::map<peers::PublicKey, std::chrono::nanoseconds> charged;
  peers::CryptoModel model(
      peers::CryptoCosts::measured(), 42,
      [&](const peers::PublicKey& who, std::chrono::nanoseconds c) { charged[who] += c; });
  peers::Identity source = identity(1), forger = identity(2), relay = identity(3);
  const auto& key = source.public_key();
  std::string good = sign_chunk(source, sample(16384));
  std::string forged = sign_chunk(forger, sample(16384));
  std::copy_n(reinterpret_cast<const char*>(key.data()), kStreamTagSize, forged.data() + 20);
  std::string altered = good;
  altered[kChunkHeaderSize + 5000] ^= 1;
  Chunk later = sample(16384);
  later.seq += 4;
  std::string moved = sign_chunk(source, later);
  // The signature of another seq under this chunk's header.
  std::copy_n(moved.end() - peers::kSignatureSize, peers::kSignatureSize,
              good.end() - peers::kSignatureSize);
  std::string replayed = good;
  good = sign_chunk(source, sample(16384));
  {
    peers::CryptoModel::Worker as(relay.public_key());
    EXPECT_TRUE(verify_chunk(good, key).ok());
    expect_error(verify_chunk(forged, key), peers::Errc::kAuth, "bad chunk signature");
    expect_error(verify_chunk(altered, key), peers::Errc::kAuth, "bad chunk signature");
    expect_error(verify_chunk(replayed, key), peers::Errc::kAuth, "bad chunk signature");
  }
  const auto& costs = model.costs();
  std::size_t signed_bytes = kChunkSignatureLabel.size() + 32 + kChunkHeaderSize + 16384;
  EXPECT_EQ(charged[relay.public_key()], 4 * costs.verify_cost(signed_bytes));
  EXPECT_EQ(charged[source.public_key()], 3 * costs.sign_cost(signed_bytes));
  EXPECT_GT(costs.verify_cost(signed_bytes), std::chrono::microseconds(100));
  EXPECT_EQ(model.unattributed(), 0u);
}

TEST(SignedChunk, ChunkOfAnotherStreamIsNamedAsSuch) {
  peers::Identity source = identity(1);
  peers::Identity other = identity(2);
  std::string bytes = sign_chunk(other, sample());
  expect_error(verify_chunk(bytes, source.public_key()), peers::Errc::kAuth,
               "chunk of another stream");
}

TEST(SignedChunk, KeyWithTheSameTagIsStillAnotherStream) {
  peers::Identity source = identity(1);
  std::string bytes = sign_chunk(source, sample());
  peers::PublicKey lookalike = source.public_key();
  lookalike[31] ^= 1;  // same 8-byte tag, different key
  expect_error(verify_chunk(bytes, lookalike), peers::Errc::kAuth, "bad chunk signature");
}

TEST(SignedChunk, ReplayUnderAnotherSeqIsRejected) {
  peers::Identity source = identity(1);
  std::string bytes = sign_chunk(source, sample());
  bytes[11] ^= 0x01;  // seq + 1 (last byte of the big-endian seq)
  expect_error(verify_chunk(bytes, source.public_key()), peers::Errc::kAuth, "bad chunk signature");
}

TEST(SignedChunk, TruncatedAtEveryLengthIsProtocolError) {
  peers::Identity source = identity(1);
  std::string bytes = sign_chunk(source, sample(20));
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    peers::Result<Chunk> r =
        verify_chunk(std::string_view(bytes).substr(0, size), source.public_key());
    ASSERT_FALSE(r.ok()) << size;
    EXPECT_EQ(r.error().code(), peers::Errc::kProtocol) << size;
    EXPECT_NE(r.error().message().find("truncated"), std::string::npos) << r.error().message();
  }
}

TEST(SignedChunk, TrailingBytesAreProtocolError) {
  peers::Identity source = identity(1);
  std::string bytes = sign_chunk(source, sample(20)) + "x";
  expect_error(verify_chunk(bytes, source.public_key()), peers::Errc::kProtocol,
               "1 trailing bytes");
}

TEST(SignedChunk, OversizedPayloadIsProtocolError) {
  peers::Identity source = identity(1);
  std::string bytes = sign_chunk(source, sample(101));
  expect_error(verify_chunk(bytes, source.public_key(), 100), peers::Errc::kProtocol,
               "payload of 101 bytes exceeds the limit 100");
  EXPECT_TRUE(verify_chunk(bytes, source.public_key(), 101).ok());
  // A header announcing 4 GiB is refused before anything is read or
  // allocated.
  std::string huge = bytes;
  huge.replace(28, 4, "\xFF\xFF\xFF\xFF", 4);
  expect_error(verify_chunk(huge, source.public_key()), peers::Errc::kProtocol, "exceeds");
}

TEST(SignedChunk, UnknownVersionAndFlagsAreProtocolErrors) {
  peers::Identity source = identity(1);
  std::string bytes = sign_chunk(source, sample(5));
  std::string v2 = bytes;
  v2[0] = 2;
  expect_error(verify_chunk(v2, source.public_key()), peers::Errc::kProtocol, "version 2");
  std::string flags = bytes;
  flags[1] = static_cast<char>(0x81);
  expect_error(verify_chunk(flags, source.public_key()), peers::Errc::kProtocol, "unknown flags");
  std::string eos = bytes;
  eos[1] = 0x02;
  expect_error(verify_chunk(eos, source.public_key()), peers::Errc::kProtocol,
               "end-of-stream chunk with payload");
}

TEST(SignedChunk, SignRefusesChunksThatCannotBeEncoded) {
  peers::Identity source = identity(1);
  Chunk end = sample(1);
  end.end_of_stream = true;
  EXPECT_THROW((void)sign_chunk(source, end), peers::Error);
  Chunk stripe = sample(1);
  stripe.stripe = kMaxStripes;
  EXPECT_THROW((void)sign_chunk(source, stripe), peers::Error);
  Chunk big = sample(0);
  big.payload.resize(kMaxChunkPayload + 1);
  EXPECT_THROW((void)sign_chunk(source, big), peers::Error);
}

TEST(SignedChunk, NegativeTimestampRoundTrips) {
  peers::Identity source = identity(1);
  Chunk c = sample(1);
  c.timestamp = -5us;
  EXPECT_EQ(verify_chunk(sign_chunk(source, c), source.public_key())->timestamp, -5us);
}

}  // namespace
}  // namespace vt
