#include "lib/kernel/hex.h"

#include <gtest/gtest.h>

#include <array>

namespace peers {
namespace {

TEST(Hex, LowerCaseTwoDigitsPerByte) {
  const std::array<std::uint8_t, 4> bytes = {0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(to_hex(bytes), "000fa0ff");
  EXPECT_EQ(to_hex(std::span<const std::uint8_t>{}), "");
  EXPECT_EQ(to_hex(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(to_hex(std::string_view{}), "");
}

TEST(Hex, DecodesEitherCase) {
  EXPECT_EQ(from_hex("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(from_hex("00ff10"), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(from_hex(""), "");
}

TEST(Hex, RejectsOddLengthAndNonDigits) {
  EXPECT_FALSE(from_hex("0"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_FALSE(from_hex("0g"));
  EXPECT_FALSE(from_hex("  "));
}

TEST(Hex, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(from_hex(to_hex(all)), all);
}

}  // namespace
}  // namespace peers
