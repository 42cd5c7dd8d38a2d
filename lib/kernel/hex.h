// Lowercase hexadecimal, and back: the one hex codec of the project (keys in
// `vt-keygen show --json`, bytes values in IDL JSON, log lines).
//
//   peers::to_hex(key)                  // std::array<uint8_t, 32> -> 64 digits
//   peers::to_hex(std::string("\xff"))  // "ff"
//   peers::from_hex("00FF")             // std::string{"\x00\xff", 2}
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace peers {

// Two lowercase digits per byte.
std::string to_hex(std::span<const std::uint8_t> bytes);
std::string to_hex(std::string_view bytes);

// The bytes of pairs of hex digits (either case); nullopt for an odd length
// or any other character.
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace peers
