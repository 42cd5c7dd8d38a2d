#include "lib/wire/codec.h"

#include <gtest/gtest.h>

#include <limits>

namespace peers::wire {
namespace {

TEST(Codec, VarintRoundTripsEdgeValues) {
  for (std::uint64_t v : std::initializer_list<std::uint64_t>{
           0, 1, 127, 128, 300, 1ull << 35, std::numeric_limits<std::uint64_t>::max()}) {
    Writer w;
    w.varint(v);
    Reader r(w.view());
    auto got = r.varint();
    ASSERT_TRUE(got) << v;
    EXPECT_EQ(*got, v);
    EXPECT_TRUE(r.at_end());
  }
}

TEST(Codec, ZigzagMapsSmallMagnitudesToSmallNumbers) {
  EXPECT_EQ(zigzag(0), 0u);
  EXPECT_EQ(zigzag(-1), 1u);
  EXPECT_EQ(zigzag(1), 2u);
  for (std::int64_t v :
       {std::int64_t{0}, std::int64_t{-5}, std::numeric_limits<std::int64_t>::min(),
        std::numeric_limits<std::int64_t>::max()}) {
    EXPECT_EQ(unzigzag(zigzag(v)), v);
  }
}

TEST(Codec, TruncatedVarintIsAnError) {
  Reader r(std::string_view("\x80\x80", 2));
  auto v = r.varint();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), Errc::kProtocol);
  EXPECT_NE(v.error().message().find("truncated varint"), std::string::npos);
}

TEST(Codec, OverlongVarintIsAnError) {
  std::string s(11, '\xff');
  Reader r(s);
  EXPECT_FALSE(r.varint());
  std::string over = std::string(9, '\xff') + "\x02";  // bit 64 set
  Reader r2(over);
  EXPECT_FALSE(r2.varint());
}

TEST(Codec, LengthBeyondInputIsRejectedBeforeAllocation) {
  Writer w;
  w.varint(1ull << 40);  // claims a terabyte
  w.raw("abc");
  Reader r(w.view());
  auto b = r.bytes();
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message().find("exceeds"), std::string::npos);
}

TEST(Codec, CountIsBoundedByRemainingBytes) {
  Writer w;
  w.varint(1000);
  w.raw(std::string(999, 'x'));
  Reader r(w.view());
  EXPECT_FALSE(r.count(1));
  Reader r2(w.view());
  EXPECT_FALSE(r2.count(2));
}

TEST(Codec, FieldsRoundTripAndUnknownOnesSkip) {
  Writer w;
  w.field_varint(1, 42);
  w.field_f64(7, 2.5);
  w.field_bytes(3, "hello");
  w.field_sint(2, -9);
  Reader r(w.view());
  std::uint64_t one = 0;
  std::int64_t two = 0;
  std::string three;
  while (!r.at_end()) {
    auto k = r.key();
    ASSERT_TRUE(k);
    if (k->field == 1) {
      one = *r.varint();
    } else if (k->field == 2) {
      two = unzigzag(*r.varint());
    } else if (k->field == 3) {
      three = std::string(*r.bytes());
    } else {
      ASSERT_TRUE(r.skip(k->kind));  // field 7 is unknown to this reader
    }
  }
  EXPECT_EQ(one, 42u);
  EXPECT_EQ(two, -9);
  EXPECT_EQ(three, "hello");
}

TEST(Codec, NestedBodiesGetTheirLength) {
  Writer w;
  w.key(5, Kind::kBytes);
  auto at = w.begin_nested();
  w.field_bytes(1, std::string(200, 'z'));
  w.end_nested(at);
  w.field_varint(6, 1);
  Reader r(w.view());
  auto k = r.key();
  ASSERT_TRUE(k);
  EXPECT_EQ(k->field, 5u);
  auto body = r.bytes();
  ASSERT_TRUE(body);
  Reader inner(*body);
  EXPECT_EQ(inner.key()->field, 1u);
  EXPECT_EQ(inner.bytes()->size(), 200u);
  EXPECT_EQ(r.key()->field, 6u);
}

TEST(Codec, BadKeysAreErrors) {
  Writer w;
  w.varint((1 << 3) | 5);  // kind 5 does not exist
  Reader r(w.view());
  EXPECT_FALSE(r.key());
  Writer w0;
  w0.varint(0);  // field 0
  Reader r0(w0.view());
  EXPECT_FALSE(r0.key());
}

TEST(Codec, RangeChecksForNarrowIntegers) {
  Writer w;
  w.varint(256);
  w.varint(zigzag(-129));
  w.varint(2);
  Reader r(w.view());
  EXPECT_FALSE(r.unsigned_int<std::uint8_t>());
  EXPECT_FALSE(r.signed_int<std::int8_t>());
  EXPECT_FALSE(r.boolean());
}

}  // namespace
}  // namespace peers::wire
