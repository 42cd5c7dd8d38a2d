// What the fuzz targets share: a cursor over the fuzzer's bytes, for targets
// that take a few parameters before their input proper, and the check that
// stops a run when a property does not hold.
//
//   peers::fuzz::FuzzInput in(data, size);
//   int stripes = 1 + in.byte() % 16;   // 0 when the input has run out
//   std::string_view body = in.rest();
//   PEERS_FUZZ_CHECK(decode(encode(x)) == x, "round trip");
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace peers::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : bytes_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return bytes_.empty(); }
  std::size_t size() const { return bytes_.size(); }
  // The next byte, or 0 once the input has run out.
  std::uint8_t byte() {
    if (bytes_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(bytes_[0]);
    bytes_.remove_prefix(1);
    return b;
  }
  // The next two bytes, little-endian (missing bytes are 0).
  std::uint16_t u16() {
    std::uint16_t lo = byte();
    return static_cast<std::uint16_t>(lo | (std::uint16_t{byte()} << 8));
  }
  // The next n bytes, fewer when the input runs out first.
  std::string_view take(std::size_t n) {
    std::string_view part = bytes_.substr(0, n);
    bytes_.remove_prefix(part.size());
    return part;
  }
  // Everything not yet taken.
  std::string_view rest() { return take(bytes_.size()); }

 private:
  std::string_view bytes_;
};

[[noreturn]] inline void check_failed(const char* file, int line, const char* what,
                                      const char* message) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s (%s)\n", file, line, what, message);
  std::abort();
}

}  // namespace peers::fuzz

// Aborts (a crash libFuzzer reports and saves) when cond does not hold.
#define PEERS_FUZZ_CHECK(cond, message) \
  ((cond) ? (void)0 : ::peers::fuzz::check_failed(__FILE__, __LINE__, #cond, message))
