// Fuzz target: records (lib/crypto/session.h RecordCipher), the sealed
// envelope of every frame on an established connection. The input's first
// byte picks the cipher; the rest is a run of records, each a 2-byte length
// and that many bytes, as a peer would send them. Each is opened by a
// receiving cipher that never saw the sender's key: opening must fail
// cleanly (kAuth) for anything but a plain record, and must not advance the
// counter. Then the same bytes, sealed by a real sender, must open back to
// themselves and decode as a frame or fail with kProtocol.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "lib/crypto/session.h"
#include "lib/wire/frame.h"

namespace {

constexpr std::array<std::uint8_t, 32> kKey = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                               12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                               23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  auto cipher = static_cast<peers::Cipher>(in.byte() % 3);
  peers::RecordCipher stranger(cipher, kKey);
  peers::RecordCipher tx(cipher, kKey);
  peers::RecordCipher rx(cipher, kKey);
  std::string_view ad = in.take(in.byte() % 8);
  while (!in.empty()) {
    std::string_view record = in.take(in.u16());

    // What a stranger sends: almost surely not sealed under this key (the
    // sender below seals first, so a forgery would need the tag of a record
    // not yet sealed).
    std::string forged(record);
    std::uint64_t before = stranger.counter();
    auto opened = stranger.open(forged.data(), forged.size(), ad);
    if (cipher == peers::Cipher::kPlain) {
      PEERS_FUZZ_CHECK(opened.ok() && *opened == record.size(), "a plain record opens as is");
    } else if (!opened) {
      PEERS_FUZZ_CHECK(opened.error().code() == peers::Errc::kAuth, "a forged record is kAuth");
      PEERS_FUZZ_CHECK(stranger.counter() == before, "a failed open keeps the counter");
    }

    // What an honest sender sends: opens to the same bytes, in order.
    std::string sealed(record);
    tx.seal(sealed, 0, ad);
    PEERS_FUZZ_CHECK(sealed.size() == record.size() + tx.overhead(), "seal adds its overhead");
    auto len = rx.open(sealed.data(), sealed.size(), ad);
    PEERS_FUZZ_CHECK(len.ok(), "a sealed record opens");
    PEERS_FUZZ_CHECK(std::string_view(sealed.data(), *len) == record, "and gives back its bytes");
    auto frame = peers::wire::decode_frame(std::string_view(sealed.data(), *len));
    PEERS_FUZZ_CHECK(frame.ok() || frame.error().code() == peers::Errc::kProtocol,
                     "a bad frame is kProtocol");
  }
  return 0;
}
