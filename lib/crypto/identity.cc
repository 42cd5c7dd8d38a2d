#include "lib/crypto/identity.h"

#include <sodium.h>

#include "lib/crypto/crypto_model.h"
#include "lib/crypto/init.h"

namespace peers {

Identity Identity::generate() {
  init_sodium();
  SecretBytes seed(kSeedSize);
  randombytes_buf(seed.data(), seed.size());
  return from_seed(seed.span()).value();
}

Result<Identity> Identity::from_seed(std::span<const std::uint8_t> seed) {
  if (seed.size() != kSeedSize) {
    return Error(Errc::kInvalidArgument, "secret key has " + std::to_string(seed.size()) +
                                             " bytes, expected " + std::to_string(kSeedSize));
  }
  init_sodium();
  SecretBytes secret_key(crypto_sign_SECRETKEYBYTES);
  PublicKey public_key{};
  if (crypto_sign_seed_keypair(public_key.data(), secret_key.data(), seed.data()) != 0) {
    return Error(Errc::kInternal, "cannot derive a key pair from the seed");
  }
  return Identity(std::move(secret_key), public_key);
}

Identity Identity::clone() const {
  check_usable();
  return Identity(secret_key_.clone(), public_key_);
}

Signature Identity::sign(std::string_view message) const {
  check_usable();
  if (auto* model = CryptoModel::current()) return model->sign(public_key_, message);
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_key_.data());
  return sig;
}

SecretBytes Identity::seed() const {
  check_usable();
  SecretBytes seed(kSeedSize);
  crypto_sign_ed25519_sk_to_seed(seed.data(), secret_key_.data());
  return seed;
}

void Identity::check_usable() const {
  if (secret_key_.size() != crypto_sign_SECRETKEYBYTES) {
    throw Error(Errc::kInternal, "use of a moved-from Identity");
  }
}

}  // namespace peers
