#include "lib/kernel/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace peers {
namespace {

// Captures what log() writes to stderr.
std::string capture(LogFormat format, LogLevel threshold, LogLevel level, std::string_view msg,
                    LogFields fields) {
  log_setup("test-tool", format, threshold);
  std::fflush(stderr);
  int saved = ::dup(STDERR_FILENO);
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  ::dup2(fds[1], STDERR_FILENO);
  log(level, msg, fields);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  return out;
}

TEST(Log, TextLineNamesToolLevelAndFields) {
  std::string line = capture(LogFormat::kText, LogLevel::kInfo, LogLevel::kWarn, "parent lost",
                             {{"stripe", "2"}, {"why", "no heartbeat"}});
  EXPECT_EQ(line, "test-tool: warn: parent lost stripe=2 why=\"no heartbeat\"\n");
}

TEST(Log, JsonLineIsOneObject) {
  std::string line =
      capture(LogFormat::kJson, LogLevel::kInfo, LogLevel::kInfo, "say \"hi\"", {{"k", "v\n"}});
  EXPECT_EQ(line.rfind("{\"event\":\"log\",\"time\":", 0), 0u);
  EXPECT_NE(line.find("\"level\":\"info\""), std::string::npos);
  EXPECT_NE(line.find("\"msg\":\"say \\\"hi\\\"\""), std::string::npos);
  EXPECT_NE(line.find("\"k\":\"v\\n\""), std::string::npos);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(Log, JsonFieldsThatAreNumbersAreNumbers) {
  std::string line = capture(LogFormat::kJson, LogLevel::kInfo, LogLevel::kInfo, "joined",
                             {{"first_seq", "0"},
                              {"rtt", "1.25"},
                              {"peer", "vt1abc"},
                              {"hex", "0a"},
                              {"addr", "127.0.0.1:7000"},
                              {"neg", "-3"}});
  EXPECT_NE(line.find("\"first_seq\":0,"), std::string::npos) << line;
  EXPECT_NE(line.find("\"rtt\":1.25,"), std::string::npos) << line;
  EXPECT_NE(line.find("\"peer\":\"vt1abc\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"hex\":\"0a\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"addr\":\"127.0.0.1:7000\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"neg\":-3}"), std::string::npos) << line;
}

TEST(Log, IsJsonNumberTakesOnlyPlainDecimals) {
  for (const char* yes : {"0", "7", "-12", "3.25", "0.5", "18446744073709551615"}) {
    EXPECT_TRUE(is_json_number(yes)) << yes;
  }
  for (const char* no : {"", "-", "01", "1.", ".5", "1e5", "1.2.3", "+1", "0x10", "12ab", " 1",
                         "nan", "123456789012345678901"}) {
    EXPECT_FALSE(is_json_number(no)) << no;
  }
}

TEST(Log, BelowThresholdIsSilent) {
  EXPECT_EQ(capture(LogFormat::kText, LogLevel::kWarn, LogLevel::kInfo, "quiet", {}), "");
  EXPECT_EQ(capture(LogFormat::kText, LogLevel::kOff, LogLevel::kError, "quiet", {}), "");
}

TEST(Log, SinkSeesEveryWrittenLineUntilRemoved) {
  std::vector<std::string> seen;
  log_set_sink([&](std::string_view line) { seen.emplace_back(line); });
  std::string written =
      capture(LogFormat::kText, LogLevel::kInfo, LogLevel::kWarn, "to sink", {{"n", "1"}});
  capture(LogFormat::kText, LogLevel::kInfo, LogLevel::kDebug, "below threshold", {});
  log_set_sink(nullptr);
  capture(LogFormat::kText, LogLevel::kInfo, LogLevel::kWarn, "after removal", {});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], written);
}

TEST(Log, AClockSetForTheLogStampsItsLinesUntilRemoved) {
  log_set_clock([] { return 12.5; });
  std::string text = capture(LogFormat::kText, LogLevel::kInfo, LogLevel::kWarn, "late", {});
  std::string json = capture(LogFormat::kJson, LogLevel::kInfo, LogLevel::kWarn, "late", {});
  log_set_clock(nullptr);
  std::string plain = capture(LogFormat::kText, LogLevel::kInfo, LogLevel::kWarn, "late", {});
  EXPECT_EQ(text, "test-tool: t=12.500 warn: late\n");
  EXPECT_NE(json.find("\"time\":12.500,"), std::string::npos) << json;
  EXPECT_EQ(plain, "test-tool: warn: late\n");
}

TEST(Log, ParsesLevelsAndFormats) {
  EXPECT_EQ(*parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(*parse_log_format("json"), LogFormat::kJson);
  auto bad = parse_log_level("loud");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(parse_log_format("xml"));
}

TEST(Log, JsonQuoteEscapesControlCharacters) {
  EXPECT_EQ(json_quote(std::string_view("a\x01z", 3)), "\"a\\u0001z\"");
  EXPECT_EQ(json_quote("back\\slash"), "\"back\\\\slash\"");
}

}  // namespace
}  // namespace peers
