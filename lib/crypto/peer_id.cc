#include "lib/crypto/peer_id.h"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ostream>

#include "lib/crypto/init.h"

namespace peers {
namespace {

constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t kChecksumSize = 4;
constexpr std::size_t kPayloadSize = kPublicKeySize + kChecksumSize;  // 36 bytes
constexpr std::size_t kBodySize = (kPayloadSize * 8 + 4) / 5;         // 58 characters
constexpr std::size_t kPadBits = kBodySize * 5 - kPayloadSize * 8;    // 2 bits
static_assert(PeerId::kTextSize == 3 + kBodySize);

using Payload = std::array<std::uint8_t, kPayloadSize>;

std::array<std::uint8_t, kChecksumSize> checksum(const PublicKey& key) {
  init_sodium();
  std::array<std::uint8_t, 3 + kPublicKeySize> input{};
  std::memcpy(input.data(), PeerId::kPrefix.data(), PeerId::kPrefix.size());
  std::memcpy(input.data() + PeerId::kPrefix.size(), key.data(), key.size());
  std::array<std::uint8_t, crypto_generichash_BYTES> hash{};
  crypto_generichash(hash.data(), hash.size(), input.data(), input.size(), nullptr, 0);
  std::array<std::uint8_t, kChecksumSize> out{};
  std::memcpy(out.data(), hash.data(), out.size());
  return out;
}

// The 5-bit value of a base32 character, or -1. Upper case means lower case.
int base32_value(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

std::string describe_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7f && c != '\'') return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", u);
  return buf;
}

Error invalid(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

}  // namespace

std::string PeerId::to_string() const {
  Payload payload{};
  std::memcpy(payload.data(), key_.data(), key_.size());
  auto sum = checksum(key_);
  std::memcpy(payload.data() + key_.size(), sum.data(), sum.size());

  std::string out(kPrefix);
  out.reserve(kTextSize);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : payload) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kAlphabet[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (5 - bits)) & 31];
  return out;
}

std::string PeerId::short_id() const { return to_string().substr(0, kShortSize); }

Result<PeerId> PeerId::parse(std::string_view text) {
  if (text.empty()) return invalid("empty peer id");
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  if (text.size() < kPrefix.size() || lower(text[0]) != kPrefix[0] ||
      lower(text[1]) != kPrefix[1] || text[2] != kPrefix[2]) {
    return invalid("not a peer id: it must start with 'vt1'");
  }
  std::string_view body = text.substr(kPrefix.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (base32_value(body[i]) < 0) {
      return invalid("bad character " + describe_char(body[i]) + " at position " +
                     std::to_string(kPrefix.size() + i + 1) + " (peer ids use only a-z and 2-7)");
    }
  }
  if (text.size() != kTextSize) {
    return invalid("wrong length: " + std::to_string(text.size()) + " characters, a peer id has " +
                   std::to_string(kTextSize));
  }
  // The last character's low bits are padding. Requiring them to be zero
  // keeps one text per id, so changing any character changes the decoded bytes.
  if ((base32_value(body.back()) & ((1 << kPadBits) - 1)) != 0) {
    return invalid("bad last character " + describe_char(body.back()) +
                   " (a peer id ends with one of a e i m q u y 4)");
  }

  Payload payload{};
  std::size_t n = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : body) {
    acc = (acc << 5) | static_cast<std::uint32_t>(base32_value(c));
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      payload[n++] = static_cast<std::uint8_t>(acc >> bits);
    }
  }
  PublicKey key{};
  std::memcpy(key.data(), payload.data(), key.size());
  auto sum = checksum(key);
  if (std::memcmp(sum.data(), payload.data() + key.size(), sum.size()) != 0) {
    return invalid("checksum mismatch: a character is mistyped");
  }
  return PeerId(key);
}

std::ostream& operator<<(std::ostream& out, const PeerId& id) { return out << id.to_string(); }

}  // namespace peers

std::size_t std::hash<peers::PeerId>::operator()(const peers::PeerId& id) const noexcept {
  static const std::array<std::uint8_t, crypto_shorthash_KEYBYTES> key = [] {
    peers::init_sodium();
    std::array<std::uint8_t, crypto_shorthash_KEYBYTES> k{};
    crypto_shorthash_keygen(k.data());
    return k;
  }();
  std::array<std::uint8_t, crypto_shorthash_BYTES> out{};
  crypto_shorthash(out.data(), id.public_key().data(), id.public_key().size(), key.data());
  std::size_t h = 0;
  std::memcpy(&h, out.data(), sizeof h < out.size() ? sizeof h : out.size());
  return h;
}
