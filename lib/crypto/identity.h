// Identity: a node's Ed25519 key pair, the secret that makes it who it is.
//
// An Identity is made from a random seed (generate()) or a stored one
// (from_seed(), used when reading a key file). The secret half lives in
// SecretBytes, wiped when the Identity is destroyed. An Identity moves but
// does not copy; clone() makes an explicit second copy. A moved-from Identity
// may only be assigned to or destroyed.
//
// Identities are immutable after construction, so one may be used from
// several threads at once.
//
//   peers::Identity me = peers::Identity::generate();
//   std::cout << me.peer_id().to_string() << "\n";   // vt1...
//   peers::Signature sig = me.sign("hello");
//   assert(peers::verify(me.public_key(), "hello", sig));
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "lib/crypto/keys.h"
#include "lib/crypto/peer_id.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/kernel/error.h"

namespace peers {

class Identity {
 public:
  // A new identity from kSeedSize bytes of system randomness (randombytes).
  static Identity generate();
  // The identity whose seed is seed (crypto_sign_seed_keypair): the same seed
  // always gives the same key pair. Fails with kInvalidArgument unless seed
  // has exactly kSeedSize bytes. The caller still owns (and wipes) seed.
  static Result<Identity> from_seed(std::span<const std::uint8_t> seed);

  Identity(Identity&&) noexcept = default;
  Identity& operator=(Identity&&) noexcept = default;
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;

  // A second, independent copy of this identity (and of its secret).
  Identity clone() const;

  const PublicKey& public_key() const noexcept { return public_key_; }
  PeerId peer_id() const { return PeerId(public_key_); }

  // A detached Ed25519 signature of message; verify() with public_key()
  // accepts it.
  Signature sign(std::string_view message) const;

  // A copy of the 32-byte seed, for writing a key file (lib/crypto/key_file.h)
  // only: nothing else needs the secret itself.
  SecretBytes seed() const;

 private:
  Identity(SecretBytes secret_key, const PublicKey& public_key)
      : secret_key_(std::move(secret_key)), public_key_(public_key) {}

  // Throws Error(kInternal) when this Identity was moved from.
  void check_usable() const;

  // libsodium's 64-byte secret key: the seed followed by the public key.
  SecretBytes secret_key_;
  PublicKey public_key_{};
};

}  // namespace peers
