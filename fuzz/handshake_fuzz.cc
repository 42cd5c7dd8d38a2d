// Fuzz target: the handshake (lib/crypto/session.h Handshake), the first
// bytes a stranger sends. The input's first byte sets the role and options;
// then the other side's HELLO (kHelloSize bytes) and its AUTH message (the
// rest, as opened from its first record). A HELLO or AUTH that is not right
// fails with kProtocol or kAuth, never more.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "lib/crypto/identity.h"
#include "lib/crypto/session.h"

namespace {

const peers::Identity& me() {
  static const peers::Identity identity = [] {
    std::array<std::uint8_t, 32> seed{};
    seed[0] = 7;
    return peers::Identity::from_seed(seed).value();
  }();
  return identity;
}

bool expected_failure(const peers::Error& e) {
  return e.code() == peers::Errc::kProtocol || e.code() == peers::Errc::kAuth;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  std::uint8_t flags = in.byte();
  peers::HandshakeOptions options;
  options.allow_plain = flags & 1;
  options.prefer_chacha = flags & 2;
  if (flags & 4) options.expected_peer = me().peer_id();
  if (flags & 8) options.listen_addr = "127.0.0.1:7000";
  peers::Handshake hs(me(), /*initiator=*/flags & 16, options);

  // AUTH before HELLO is refused.
  if (flags & 32) {
    auto early = hs.on_auth(in.take(in.byte()));
    PEERS_FUZZ_CHECK(!early && expected_failure(early.error()), "AUTH before HELLO fails");
  }
  auto hello = hs.on_hello(in.take(peers::kHelloSize));
  if (!hello) {
    PEERS_FUZZ_CHECK(expected_failure(hello.error()), "a bad HELLO is kProtocol");
    return 0;
  }
  auto [tx, rx] = hs.ciphers();
  PEERS_FUZZ_CHECK(tx.cipher() == hs.cipher() && rx.cipher() == hs.cipher(), "one cipher");
  PEERS_FUZZ_CHECK(hs.cipher() != peers::Cipher::kPlain || options.allow_plain,
                   "plain only when allowed");
  auto them = hs.on_auth(in.rest());
  if (!them) {
    PEERS_FUZZ_CHECK(expected_failure(them.error()), "a bad AUTH is kProtocol or kAuth");
    return 0;
  }
  // Only a signature over this handshake's fresh key verifies, which the
  // fuzzer cannot make: reaching here is a forged AUTH.
  PEERS_FUZZ_CHECK(false, "a forged AUTH was accepted");
  return 0;
}
