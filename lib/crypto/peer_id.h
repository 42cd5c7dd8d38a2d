// PeerId: a node's public key written for people ("vt1" + 58 characters).
//
// The text form is the prefix "vt1" followed by the lowercase base32 (RFC 4648
// alphabet a-z 2-7, no padding) of 36 bytes: the 32-byte Ed25519 public key,
// then a 4-byte checksum, the first 4 bytes of BLAKE2b-256 ("vt1" || key).
// The 288 bits take 58 characters, the last one carrying 3 bits followed by 2
// zero bits, so an id is always 61 characters long. parse() rejects any id
// whose checksum does not match, so a mistyped or mis-pasted id is reported,
// not silently taken for another node. docs/keyfile.md has the details.
//
// PeerIds compare and hash by their public key, so they work as keys of
// std::map and std::unordered_map.
//
//   peers::Result<peers::PeerId> id = peers::PeerId::parse(argv[1]);
//   if (!id) { std::cerr << id.error().what() << "\n"; return 2; }
//   std::cout << id->short_id() << "\n";   // vt1abcdefgh
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "lib/crypto/keys.h"
#include "lib/kernel/error.h"

namespace peers {

class PeerId {
 public:
  static constexpr std::string_view kPrefix = "vt1";
  // Characters of the text form, prefix included.
  static constexpr std::size_t kTextSize = 61;
  // Characters of the short form, prefix included.
  static constexpr std::size_t kShortSize = 11;

  explicit PeerId(const PublicKey& key) noexcept : key_(key) {}

  // Parses the text form. Upper-case letters are accepted and mean the same
  // as lower-case ones; nothing else is forgiven (no spaces, no padding).
  // Errors (all kInvalidArgument), checked in this order:
  //   "empty peer id"
  //   "not a peer id: it must start with 'vt1'"
  //   "bad character '0' at position 12 (peer ids use only a-z and 2-7)"
  //   "wrong length: 60 characters, a peer id has 61"
  //   "bad last character 'b' (a peer id ends with one of a e i m q u y 4)"
  //   "checksum mismatch: a character is mistyped"
  // Positions count characters from 1, the prefix included.
  static Result<PeerId> parse(std::string_view text);

  const PublicKey& public_key() const noexcept { return key_; }

  // The full text form, 61 characters, lower-case.
  std::string to_string() const;
  // "vt1" and the next 8 characters of the text form, for display only: it
  // names a node for people, it does not identify it safely.
  std::string short_id() const;

  friend auto operator<=>(const PeerId&, const PeerId&) = default;
  friend bool operator==(const PeerId&, const PeerId&) = default;

 private:
  PublicKey key_;
};

// Writes to_string().
std::ostream& operator<<(std::ostream& out, const PeerId& id);

}  // namespace peers

// Keyed (SipHash, random key per process), so ids chosen by other peers
// cannot be crafted to collide in a hash table.
template <>
struct std::hash<peers::PeerId> {
  std::size_t operator()(const peers::PeerId& id) const noexcept;
};
