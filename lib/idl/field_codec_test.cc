#include "lib/idl/field_codec.h"

#include <gtest/gtest.h>

namespace peers::idl {
namespace {

using wire::Kind;
using wire::Reader;
using wire::Writer;

const FieldRef kRef{"t.T", 3, "x"};

template <typename Tag>
std::string field_bytes(const typename Codec<Tag>::Value& v) {
  Writer w;
  write_field<Tag>(w, 3, v);
  return w.take();
}

template <typename Tag>
Result<typename Codec<Tag>::Value> read_back(std::string_view bytes) {
  Reader r(bytes);
  typename Codec<Tag>::Value out{};
  while (!r.at_end()) {
    auto key = r.key();
    if (!key) return key.error();
    auto ok = read_field<Tag>(r, key->kind, out, 0, kRef);
    if (!ok) return ok.error();
  }
  return out;
}

TEST(FieldCodec, ScalarsOmitDefaults) {
  EXPECT_EQ(field_bytes<U32>(0), "");
  EXPECT_EQ(field_bytes<U32>(300), "\x18\xac\x02");
  EXPECT_EQ(field_bytes<I32>(-1), "\x18\x01");
  EXPECT_EQ(field_bytes<Bool>(false), "");
  EXPECT_EQ(field_bytes<Bool>(true), "\x18\x01");
  EXPECT_EQ(field_bytes<F64>(0.0), "");
  EXPECT_EQ(field_bytes<F64>(-0.0), std::string("\x19\0\0\0\0\0\0\0\x80", 9));
  EXPECT_EQ(field_bytes<String>(""), "");
  EXPECT_EQ(field_bytes<String>("hi"), "\x1a\x02hi");
  EXPECT_EQ((field_bytes<FixedBytes<2>>({0, 0})), std::string("\x1a\x02\0\0", 4));
  EXPECT_EQ((field_bytes<Optional<U32>>(std::nullopt)), "");
  EXPECT_EQ((field_bytes<Optional<U32>>(0)), std::string("\x18\0", 2));
  EXPECT_EQ((field_bytes<List<U32>>({})), "");
}

TEST(FieldCodec, ListsAndMapsUseFixedWidthNestedLengths) {
  // Nested bodies get a 5-byte length (codec.h), then a count, then elements.
  EXPECT_EQ((field_bytes<List<U32>>({1, 2})),
            std::string("\x1a\x83\x80\x80\x80\x00\x02\x01\x02", 9));
  EXPECT_EQ((field_bytes<Map<String, Bool>>({{"a", true}})),
            std::string("\x1a\x84\x80\x80\x80\x00\x01\x01"
                        "a\x01",
                        10));
  auto back =
      read_back<Map<String, Bool>>(field_bytes<Map<String, Bool>>({{"a", true}, {"b", false}}));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), 2u);
}

TEST(FieldCodec, KindMismatchNamesTheField) {
  auto r = read_back<U32>("\x1a\x01x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "field 3 (x) of t.T: expected varint, got bytes");
  EXPECT_EQ(r.error().code(), Errc::kProtocol);
}

TEST(FieldCodec, PrimitiveErrorsNameTheFieldAndOffset) {
  auto r = read_back<U8>("\x18\x80\x02");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "field 3 (x) of t.T: malformed value at byte 3: value 256 does not fit in 8 bits");
}

TEST(FieldCodec, SkipFieldNamesTheRecord) {
  Reader r(std::string_view("\x05", 1));
  auto ok = skip_field(r, Kind::kBytes, "t.T");
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message(),
            "t.T: malformed value at byte 1: length 5 exceeds the 0 bytes left");
}

TEST(FieldCodec, Utf8) {
  EXPECT_TRUE(is_utf8(""));
  EXPECT_TRUE(is_utf8("plain"));
  EXPECT_TRUE(is_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_utf8("\xff"));
  EXPECT_TRUE(is_utf8(std::string("\0", 1)));
}

TEST(CodecAdditions, EndNestedOrDropRemovesEmptyFields) {
  Writer w;
  w.varint(7);
  std::size_t mark = w.size();
  w.key(1, Kind::kBytes);
  std::size_t at = w.begin_nested();
  EXPECT_FALSE(w.end_nested_or_drop(at, mark));
  EXPECT_EQ(w.data(), "\x07");
  mark = w.size();
  w.key(1, Kind::kBytes);
  at = w.begin_nested();
  w.varint(5);
  EXPECT_TRUE(w.end_nested_or_drop(at, mark));
  EXPECT_EQ(w.data(), std::string("\x07\x0a\x81\x80\x80\x80\x00\x05", 8));
}

TEST(CodecAdditions, SubReaderCountsOffsetsFromTheWhole) {
  std::string bytes = std::string("\x03\x80\x80\x80", 4);  // a body whose varint is truncated
  Reader r(bytes);
  auto body = r.bytes();
  ASSERT_TRUE(body);
  Reader sub = r.sub(*body);
  auto v = sub.varint();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message(), "malformed value at byte 4: truncated varint");
  EXPECT_TRUE(sub.at_end());
}

TEST(Box, ValueSemantics) {
  Box<std::string> a;
  EXPECT_FALSE(a);
  EXPECT_THROW(a.value(), std::bad_optional_access);
  a = std::string("x");
  Box<std::string> b = a;
  *b += "y";
  EXPECT_EQ(*a, "x");
  EXPECT_EQ(*b, "xy");
  EXPECT_FALSE(a == b);
  b = a;
  EXPECT_TRUE(a == b);
  b.reset();
  EXPECT_TRUE(b == std::nullopt);
  EXPECT_EQ(b.emplace(3, 'z'), "zzz");
  Box<std::string> moved = std::move(b);
  EXPECT_EQ(moved->size(), 3u);
}

}  // namespace
}  // namespace peers::idl
