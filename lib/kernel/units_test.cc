#include "lib/kernel/units.h"

#include <gtest/gtest.h>

#include <string>

namespace peers {
namespace {

using namespace std::chrono_literals;

void expect_invalid_duration(std::string_view text, std::string_view why) {
  auto r = parse_duration(text);
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(r.error().message().find("'" + std::string(text) + "'"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
}

void expect_invalid_rate(std::string_view text, std::string_view why) {
  auto r = parse_rate(text);
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(r.error().message().find("'" + std::string(text) + "'"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
}

TEST(ParseDuration, AcceptsUnitsAndFractions) {
  EXPECT_EQ(*parse_duration("500ms"), 500ms);
  EXPECT_EQ(*parse_duration("3s"), 3s);
  EXPECT_EQ(*parse_duration("1m"), 60s);
  EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(*parse_duration("250us"), 250us);
  EXPECT_EQ(*parse_duration("2h"), 7200s);
  EXPECT_EQ(*parse_duration("0.25h"), 900s);
  EXPECT_EQ(*parse_duration("0.001ms"), 1us);
  EXPECT_EQ(*parse_duration(".5s"), 500ms);
  EXPECT_EQ(*parse_duration("007s"), 7s);
  EXPECT_EQ(*parse_duration("1.500000s"), 1500ms);
  EXPECT_EQ(*parse_duration("0"), 0us);
  EXPECT_EQ(*parse_duration("0s"), 0us);
  EXPECT_EQ(*parse_duration("0.0"), 0us);
}

TEST(ParseDuration, NamesWhatIsWrong) {
  expect_invalid_duration("", "empty");
  expect_invalid_duration("s", "expected a number");
  expect_invalid_duration("-1s", "expected a number");
  expect_invalid_duration("5", "missing unit");
  expect_invalid_duration("5x", "unknown unit 'x'");
  expect_invalid_duration("5 s", "unknown unit ' s'");
  expect_invalid_duration("5sec", "unknown unit 'sec'");
  expect_invalid_duration("1.", "expected a number");
  expect_invalid_duration("1.5us", "finer than a microsecond");
  expect_invalid_duration("0.0000000000000000001s", "finer than a microsecond");
  expect_invalid_duration("9223372036855s", "too large");
  expect_invalid_duration("99999999999999999999999h", "too large");
}

TEST(ParseDuration, LargestValue) {
  EXPECT_EQ(parse_duration("9223372036854775807us")->count(), INT64_MAX);
  expect_invalid_duration("9223372036854775808us", "too large");
}

TEST(ParseRate, AcceptsSuffixes) {
  EXPECT_EQ(*parse_rate("800k"), 800'000u);
  EXPECT_EQ(*parse_rate("800K"), 800'000u);
  EXPECT_EQ(*parse_rate("20M"), 20'000'000u);
  EXPECT_EQ(*parse_rate("1.5M"), 1'500'000u);
  EXPECT_EQ(*parse_rate("2.5G"), 2'500'000'000u);
  EXPECT_EQ(*parse_rate("0"), 0u);
  EXPECT_EQ(*parse_rate("12345"), 12345u);
  EXPECT_EQ(*parse_rate("0.001k"), 1u);
  EXPECT_EQ(*parse_rate("18446744073709551615"), UINT64_MAX);
}

TEST(ParseRate, NamesWhatIsWrong) {
  expect_invalid_rate("", "empty");
  expect_invalid_rate("M", "expected bits per second");
  expect_invalid_rate("20x", "unknown suffix 'x'");
  expect_invalid_rate("20m", "unknown suffix 'm'");
  expect_invalid_rate("20Mbps", "unknown suffix 'Mbps'");
  expect_invalid_rate("1.5", "a fraction of a bit");
  expect_invalid_rate("0.0001k", "a fraction of a bit");
  expect_invalid_rate("18446744073709551616", "too large");
  expect_invalid_rate("20000000000G", "too large");
}

TEST(FormatUnits, ShortestTextThatParsesBack) {
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(500ms), "500ms");
  EXPECT_EQ(format_duration(120s), "2m");
  EXPECT_EQ(format_duration(90s), "90s");  // shorter than "1.5m"
  EXPECT_EQ(format_duration(1us), "1us");
  EXPECT_EQ(format_duration(0us), "0");
  EXPECT_EQ(format_rate(1'500'000), "1.5M");
  EXPECT_EQ(format_rate(800'000), "800k");
  EXPECT_EQ(format_rate(999), "999");
  EXPECT_EQ(format_rate(0), "0");
  for (std::int64_t us : {1LL, 999LL, 1000LL, 1001LL, 123456789LL, 3600000000LL, 5400000000LL}) {
    EXPECT_EQ(parse_duration(format_duration(std::chrono::microseconds(us)))->count(), us);
  }
  for (std::uint64_t bps : {1ull, 1000ull, 1234567ull, 20000000ull, 18446744073709551615ull}) {
    EXPECT_EQ(*parse_rate(format_rate(bps)), bps);
  }
}

TEST(DurationFlag, ReturnsTheValueOrThrowsWithTheFlagName) {
  EXPECT_EQ(duration_flag("--buffer", "2s"), 2s);
  EXPECT_EQ(duration_flag("--timeout", "1ms", 1ms), 1ms);
  try {
    duration_flag("--buffer", "2x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kInvalidArgument);
    EXPECT_EQ(e.message(),
              "--buffer: invalid duration '2x': unknown unit 'x' (use us, ms, s, m or h)");
  }
  try {
    duration_flag("--timeout", "500us", 1ms);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kInvalidArgument);
    EXPECT_EQ(e.message(), "--timeout: must be at least 1ms");
  }
}

TEST(RateFlag, ReturnsTheValueOrThrowsWithTheFlagName) {
  EXPECT_EQ(rate_flag("--upload", "20M"), 20'000'000u);
  EXPECT_EQ(rate_flag("--upload", "0"), 0u);
  try {
    rate_flag("--upload", "20x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kInvalidArgument);
    EXPECT_EQ(e.message(), "--upload: invalid rate '20x': unknown suffix 'x' (use k, M or G)");
  }
  try {
    rate_flag("--rate", "0", 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "--rate: must be at least 1");
  }
}

TEST(FormatMeasured, ThreeDigitsAndTheUnit) {
  EXPECT_EQ(format_bit_rate(4342867), "4.34Mbit/s");
  EXPECT_EQ(format_bit_rate(800000), "800kbit/s");
  EXPECT_EQ(format_bit_rate(20e6), "20Mbit/s");
  EXPECT_EQ(format_bit_rate(999), "999bit/s");
  EXPECT_EQ(format_bit_rate(999700), "1Mbit/s");
  EXPECT_EQ(format_bit_rate(0), "0bit/s");
  EXPECT_EQ(format_bit_rate(-1), "0bit/s");
  EXPECT_EQ(format_bytes(512), "512B");
  EXPECT_EQ(format_bytes(6510000), "6.51MB");
  EXPECT_EQ(format_bytes(1.5e9), "1.5GB");
  EXPECT_EQ(format_millis(0.412), "0.41ms");
  EXPECT_EQ(format_millis(12.34), "12.3ms");
  EXPECT_EQ(format_millis(450), "450ms");
  EXPECT_EQ(format_millis(1234), "1.23s");
  EXPECT_EQ(format_millis(0), "0ms");
}

}  // namespace
}  // namespace peers
