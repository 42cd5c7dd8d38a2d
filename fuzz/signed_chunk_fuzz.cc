// Fuzz target: signed chunks (lib/stream/signed_chunk.h), what every relay
// and sink receives from its parents. The input's first byte sets the payload
// limit; the rest is a signed chunk, checked against a fixed stream key. Only
// chunks that key signed verify (the seeds hold some), and a chunk that
// verifies signs back to the same bytes (Ed25519 is deterministic).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "lib/crypto/identity.h"
#include "lib/stream/signed_chunk.h"

namespace {

// The seeds' stream: fuzz/make_seeds.cc signs with the same seed.
const peers::Identity& source() {
  static const peers::Identity identity = [] {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(0x5c);
    return peers::Identity::from_seed(seed).value();
  }();
  return identity;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  std::uint8_t limit = in.byte();
  std::size_t max_payload = limit == 0 ? vt::kMaxChunkPayload : std::size_t{limit} * 64;
  std::string_view bytes = in.rest();

  auto header = vt::parse_chunk_header(bytes, max_payload);
  auto chunk = vt::verify_chunk(bytes, source().public_key(), max_payload);
  if (!header) {
    PEERS_FUZZ_CHECK(header.error().code() == peers::Errc::kProtocol, "bad framing is kProtocol");
    PEERS_FUZZ_CHECK(!chunk && chunk.error().code() == peers::Errc::kProtocol,
                     "verify fails as the header does");
    return 0;
  }
  PEERS_FUZZ_CHECK(header->payload_size <= max_payload, "payload within the limit");
  PEERS_FUZZ_CHECK(bytes.size() == vt::kChunkOverhead + header->payload_size, "exact size");
  if (!chunk) {
    PEERS_FUZZ_CHECK(chunk.error().code() == peers::Errc::kAuth, "a good frame fails as kAuth");
    return 0;
  }
  PEERS_FUZZ_CHECK(chunk->seq == header->seq && chunk->stripe == header->stripe &&
                       chunk->payload.size() == header->payload_size,
                   "the chunk is what its header says");
  PEERS_FUZZ_CHECK(vt::sign_chunk(source(), *chunk) == bytes, "signs back to the same bytes");
  return 0;
}
