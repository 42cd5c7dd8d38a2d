// Durations and bit rates as people type them on command lines.
//
// Tools take `--buffer 2s`, `--stats-interval 500ms`, `--upload 20M`. These
// parse that text exactly (decimal, no floating point) and say what is wrong
// with it, naming the text, so a tool can print the message and exit 2.
// duration_flag() and rate_flag() do that for a flag's value: they throw the
// error with the flag's name in front, which ToolCli turns into exit code 2.
//
//   durations: a decimal number and a unit: us, ms, s, m (minutes), h.
//              "500ms", "3s", "1m", "1.5s", "0.25h"; "0" alone is zero.
//              Negative values and values finer than a microsecond are errors.
//   rates:     a decimal number of bits per second, optionally followed by
//              k or K (10^3), M (10^6), G (10^9). "800k", "20M", "1.5M", "0".
//              Fractions of a bit per second are errors.
//
//   peers::Result<std::chrono::microseconds> d = peers::parse_duration("1.5s");
//   peers::Result<std::uint64_t> bps = peers::parse_rate("20M");
//   if (!bps) { std::cerr << "vt-relay: " << bps.error().what() << "\n"; return 2; }
//
//   auto buffer = peers::duration_flag("--buffer", options.buffer);   // throws on "2x"
//   auto timeout = peers::duration_flag("--timeout", text, 1ms);      // and on "0"
//   std::uint64_t upload = peers::rate_flag("--upload", options.upload);
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/kernel/error.h"

namespace peers {

// Fails with kInvalidArgument: "invalid duration '5x': unknown unit 'x' (use
// us, ms, s, m or h)", and likewise for an empty text, a missing number or
// unit, a fraction finer than 1 us, or a value beyond int64 microseconds.
Result<std::chrono::microseconds> parse_duration(std::string_view text);

// Bits per second. Fails with kInvalidArgument: "invalid rate '20x': unknown
// suffix 'x' (use k, M or G)", and likewise for an empty text, a missing
// number, a fraction of a bit, or a value beyond 2^64 - 1.
Result<std::uint64_t> parse_rate(std::string_view text);

// The shortest text parse_duration() reads back as d (d >= 0): "1.5s",
// "500ms", "2m", "0".
std::string format_duration(std::chrono::microseconds d);

// The shortest text parse_rate() reads back as bits_per_second: "1.5M",
// "800k", "0".
std::string format_rate(std::uint64_t bits_per_second);

// Measured quantities for people, the one style every tool's output uses
// (stats lines, summaries, vt-inspect): three significant digits and the
// unit written out, no space, so a text line stays `key=value` pairs.
//   format_bit_rate(4342867) == "4.34Mbit/s"    format_bit_rate(0) == "0bit/s"
//   format_bytes(6510000)    == "6.51MB"        format_bytes(512) == "512B"
//   format_millis(0.412)     == "0.41ms"        format_millis(1234) == "1.23s"
// Decimal prefixes (k = 1000), like the rates typed on command lines.
// Negative values print as 0.
std::string format_bit_rate(double bits_per_second);
std::string format_bytes(double bytes);
std::string format_millis(double milliseconds);

// The value of a command-line flag: parse_duration(text), at least at_least.
// Throws Error(kInvalidArgument, "--timeout: invalid duration '5x': unknown
// unit 'x' (...)") or "--timeout: must be at least 1ms"; a tool exits 2.
std::chrono::microseconds duration_flag(std::string_view flag, std::string_view text,
                                        std::chrono::microseconds at_least = {});

// The value of a command-line flag: parse_rate(text), at least at_least bits
// per second. Throws like duration_flag ("--rate: must be at least 1").
std::uint64_t rate_flag(std::string_view flag, std::string_view text, std::uint64_t at_least = 0);

}  // namespace peers
