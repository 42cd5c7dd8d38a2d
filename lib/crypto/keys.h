// Public keys and signatures: what anyone may hold and check.
//
// A node's identity is an Ed25519 key pair (lib/crypto/identity.h holds the
// secret half). The 32-byte public key is the node's name on the network
// (shown to people as a PeerId, lib/crypto/peer_id.h); a 64-byte detached
// Signature proves that the holder of the secret key signed a message.
//
//   peers::Signature sig = identity.sign("hello");
//   bool ok = peers::verify(identity.public_key(), "hello", sig);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace peers {

inline constexpr std::size_t kPublicKeySize = 32;
inline constexpr std::size_t kSeedSize = 32;
inline constexpr std::size_t kSignatureSize = 64;

// An Ed25519 public key.
using PublicKey = std::array<std::uint8_t, kPublicKeySize>;
// A detached Ed25519 signature.
using Signature = std::array<std::uint8_t, kSignatureSize>;

// True when sig is a valid signature of message by the holder of the secret
// key that belongs to key. Never throws; any malformed key or signature is
// simply not valid.
bool verify(const PublicKey& key, std::string_view message, const Signature& sig);

}  // namespace peers
