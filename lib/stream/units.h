// Durations and bit rates as people type them on command lines.
//
// Tools take `--buffer 2s`, `--stats-interval 500ms`, `--upload 20M`. These
// parse that text exactly (decimal, no floating point) and say what is wrong
// with it, naming the text, so a tool can print the message and exit 2.
//
//   durations: a decimal number and a unit: us, ms, s, m (minutes), h.
//              "500ms", "3s", "1m", "1.5s", "0.25h"; "0" alone is zero.
//              Negative values and values finer than a microsecond are errors.
//   rates:     a decimal number of bits per second, optionally followed by
//              k or K (10^3), M (10^6), G (10^9). "800k", "20M", "1.5M", "0".
//              Fractions of a bit per second are errors.
//
//   peers::Result<std::chrono::microseconds> d = vt::parse_duration("1.5s");
//   peers::Result<std::uint64_t> bps = vt::parse_rate("20M");
//   if (!bps) { std::cerr << "vt-relay: " << bps.error().what() << "\n"; return 2; }
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/kernel/error.h"

namespace vt {

// Fails with kInvalidArgument: "invalid duration '5x': unknown unit 'x' (use
// us, ms, s, m or h)", and likewise for an empty text, a missing number or
// unit, a fraction finer than 1 us, or a value beyond int64 microseconds.
peers::Result<std::chrono::microseconds> parse_duration(std::string_view text);

// Bits per second. Fails with kInvalidArgument: "invalid rate '20x': unknown
// suffix 'x' (use k, M or G)", and likewise for an empty text, a missing
// number, a fraction of a bit, or a value beyond 2^64 - 1.
peers::Result<std::uint64_t> parse_rate(std::string_view text);

// The shortest text parse_duration() reads back as d (d >= 0): "1.5s",
// "500ms", "2m", "0".
std::string format_duration(std::chrono::microseconds d);

// The shortest text parse_rate() reads back as bits_per_second: "1.5M",
// "800k", "0".
std::string format_rate(std::uint64_t bits_per_second);

}  // namespace vt
