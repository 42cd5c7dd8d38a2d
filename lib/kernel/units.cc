#include "lib/kernel/units.h"

#include <cstddef>
#include <cstdio>
#include <limits>
#include <optional>

namespace peers {
namespace {

using u128 = unsigned __int128;

Error invalid(std::string_view kind, std::string_view text, const std::string& why) {
  return Error(Errc::kInvalidArgument,
               "invalid " + std::string(kind) + " '" + std::string(text) + "': " + why);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct Decimal {
  std::string_view whole;     // digits before the point (maybe empty)
  std::string_view fraction;  // digits after it (maybe empty)
  std::string_view rest;      // what follows the number
};

// A decimal number at the start of text: digits, optionally '.' and digits.
std::optional<Decimal> read_decimal(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  Decimal d{text.substr(0, i), {}, {}};
  if (i < text.size() && text[i] == '.') {
    std::size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    d.fraction = text.substr(start, i - start);
    if (d.fraction.empty()) return std::nullopt;  // "1." has no fraction
  }
  if (d.whole.empty() && d.fraction.empty()) return std::nullopt;
  d.rest = text.substr(i);
  return d;
}

// The value of d times unit as an exact integer; nullopt when it is not an
// integer (a fraction too fine) or not below limit. *too_fine tells which.
std::optional<std::uint64_t> scale(const Decimal& d, std::uint64_t unit, std::uint64_t limit,
                                   bool* too_fine) {
  *too_fine = false;
  // Leading zeros are harmless; a long run of digits is simply too large.
  std::string_view whole = d.whole;
  while (whole.size() > 1 && whole[0] == '0') whole.remove_prefix(1);
  std::string_view fraction = d.fraction;
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  // With at most 20 whole digits, 18 fraction digits and units below 2^32,
  // every product below fits in 128 bits. A fraction whose last nonzero digit
  // lies past the 18th place is never a whole number of any unit here (no
  // unit is divisible by 2^19 or 5^19).
  if (fraction.size() > 18) {
    *too_fine = true;
    return std::nullopt;
  }
  if (whole.size() > 20) return std::nullopt;
  u128 value = 0;
  for (char c : whole) value = value * 10 + static_cast<unsigned>(c - '0');
  value *= unit;
  if (!fraction.empty()) {
    // fraction f of n digits: f * unit / 10^n must be a whole number.
    u128 f = 0, pow = 1;
    for (char c : fraction) {
      f = f * 10 + static_cast<unsigned>(c - '0');
      pow *= 10;
    }
    if ((f * unit) % pow != 0) {
      *too_fine = true;
      return std::nullopt;
    }
    value += f * unit / pow;
  }
  if (value > limit) return std::nullopt;
  return static_cast<std::uint64_t>(value);
}

}  // namespace

Result<std::chrono::microseconds> parse_duration(std::string_view text) {
  constexpr std::string_view kKind = "duration";
  if (text.empty()) return invalid(kKind, text, "empty");
  std::optional<Decimal> d = read_decimal(text);
  if (!d) return invalid(kKind, text, "expected a number and a unit, e.g. 500ms or 1.5s");
  std::uint64_t unit = 0;
  if (d->rest == "us") {
    unit = 1;
  } else if (d->rest == "ms") {
    unit = 1'000;
  } else if (d->rest == "s") {
    unit = 1'000'000;
  } else if (d->rest == "m") {
    unit = 60'000'000;
  } else if (d->rest == "h") {
    unit = 3'600'000'000;
  } else if (d->rest.empty()) {
    bool zero = d->whole.find_first_not_of('0') == std::string_view::npos &&
                d->fraction.find_first_not_of('0') == std::string_view::npos;
    if (zero) return std::chrono::microseconds(0);
    return invalid(kKind, text,
                   "missing unit (us, ms, s, m or h), e.g. " + std::string(text) + "s");
  } else {
    return invalid(kKind, text,
                   "unknown unit '" + std::string(d->rest) + "' (use us, ms, s, m or h)");
  }
  bool too_fine = false;
  std::optional<std::uint64_t> us = scale(
      *d, unit, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()), &too_fine);
  if (!us) return invalid(kKind, text, too_fine ? "finer than a microsecond" : "too large");
  return std::chrono::microseconds(static_cast<std::int64_t>(*us));
}

Result<std::uint64_t> parse_rate(std::string_view text) {
  constexpr std::string_view kKind = "rate";
  if (text.empty()) return invalid(kKind, text, "empty");
  std::optional<Decimal> d = read_decimal(text);
  if (!d) return invalid(kKind, text, "expected bits per second, e.g. 800k, 20M or 1.5G");
  std::uint64_t unit = 0;
  if (d->rest.empty()) {
    unit = 1;
  } else if (d->rest == "k" || d->rest == "K") {
    unit = 1'000;
  } else if (d->rest == "M") {
    unit = 1'000'000;
  } else if (d->rest == "G") {
    unit = 1'000'000'000;
  } else {
    return invalid(kKind, text, "unknown suffix '" + std::string(d->rest) + "' (use k, M or G)");
  }
  bool too_fine = false;
  std::optional<std::uint64_t> bps =
      scale(*d, unit, std::numeric_limits<std::uint64_t>::max(), &too_fine);
  if (!bps) return invalid(kKind, text, too_fine ? "a fraction of a bit per second" : "too large");
  return *bps;
}

namespace {

// value / unit as a decimal without trailing zeros ("1.5", "2"), or nothing
// when the fraction does not end within 18 digits (1/3 of a minute).
std::optional<std::string> decimal(std::uint64_t value, std::uint64_t unit) {
  std::string out = std::to_string(value / unit);
  u128 rest = value % unit;
  if (rest == 0) return out;
  out.push_back('.');
  for (int digits = 0; rest != 0; ++digits) {
    if (digits == 18) return std::nullopt;
    rest *= 10;
    out.push_back(static_cast<char>('0' + static_cast<int>(rest / unit)));
    rest %= unit;
  }
  return out;
}

// Of the given units (largest first), the one that gives the shortest text.
template <std::size_t N>
std::string shortest(std::uint64_t value, const std::pair<std::uint64_t, const char*> (&units)[N]) {
  std::string best;
  for (const auto& [unit, suffix] : units) {
    if (value < unit && unit != 1) continue;  // "0.5s" is longer than "500ms"
    std::optional<std::string> d = decimal(value, unit);
    if (!d) continue;
    std::string s = *d + suffix;
    if (best.empty() || s.size() < best.size()) best = s;
  }
  return best;
}

}  // namespace

std::string format_duration(std::chrono::microseconds d) {
  if (d.count() <= 0) return "0";
  static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {3'600'000'000, "h"}, {60'000'000, "m"}, {1'000'000, "s"}, {1'000, "ms"}, {1, "us"}};
  return shortest(static_cast<std::uint64_t>(d.count()), kUnits);
}

std::string format_rate(std::uint64_t bits_per_second) {
  if (bits_per_second == 0) return "0";
  static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1'000'000'000, "G"}, {1'000'000, "M"}, {1'000, "k"}, {1, ""}};
  return shortest(bits_per_second, kUnits);
}

namespace {

// Three significant digits: "4.34", "43.4", "434".
std::string three_digits(double v) {
  char buf[32];
  const char* format = v < 9.995 ? "%.2f" : v < 99.95 ? "%.1f" : "%.0f";
  std::snprintf(buf, sizeof buf, format, v);
  std::string s = buf;
  // "4.00" reads better as "4", "4.50" as "4.5".
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string with_prefix(double v, const char* unit) {
  if (!(v > 0)) return std::string("0") + unit;
  static constexpr std::pair<double, const char*> kPrefixes[] = {
      {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  for (const auto& [scale, prefix] : kPrefixes) {
    // 999.6k rounds to "1000k": such values take the next prefix.
    if (v >= scale * 0.9995) return three_digits(v / scale) + prefix + unit;
  }
  return three_digits(v) + unit;
}

}  // namespace

std::string format_bit_rate(double bits_per_second) {
  return with_prefix(bits_per_second, "bit/s");
}

std::string format_bytes(double bytes) {
  if (bytes < 1000) return std::to_string(bytes > 0 ? static_cast<long long>(bytes) : 0) + "B";
  return with_prefix(bytes, "B");
}

std::string format_millis(double ms) {
  if (!(ms > 0)) return "0ms";
  if (ms >= 999.5) return three_digits(ms / 1000) + "s";
  return three_digits(ms) + "ms";
}

std::chrono::microseconds duration_flag(std::string_view flag, std::string_view text,
                                        std::chrono::microseconds at_least) {
  Result<std::chrono::microseconds> d = parse_duration(text);
  if (!d) throw Error(Errc::kInvalidArgument, std::string(flag) + ": " + d.error().message());
  if (*d < at_least) {
    throw Error(Errc::kInvalidArgument,
                std::string(flag) + ": must be at least " + format_duration(at_least));
  }
  return *d;
}

std::uint64_t rate_flag(std::string_view flag, std::string_view text, std::uint64_t at_least) {
  Result<std::uint64_t> r = parse_rate(text);
  if (!r) throw Error(Errc::kInvalidArgument, std::string(flag) + ": " + r.error().message());
  if (*r < at_least) {
    throw Error(Errc::kInvalidArgument,
                std::string(flag) + ": must be at least " + format_rate(at_least));
  }
  return *r;
}

}  // namespace peers
