#include "lib/crypto/keys.h"

#include <sodium.h>

#include "lib/crypto/init.h"

namespace peers {

static_assert(kPublicKeySize == crypto_sign_PUBLICKEYBYTES);
static_assert(kSeedSize == crypto_sign_SEEDBYTES);
static_assert(kSignatureSize == crypto_sign_BYTES);

bool verify(const PublicKey& key, std::string_view message, const Signature& sig) {
  init_sodium();
  return crypto_sign_verify_detached(sig.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0f];
  }
  return out;
}

}  // namespace peers
