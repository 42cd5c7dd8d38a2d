#include "lib/idl/type_kind.h"

#include <gtest/gtest.h>

namespace peers::idl {
namespace {

constexpr TypeKind kAll[] = {
    TypeKind::kBool,       TypeKind::kI8,    TypeKind::kI16,      TypeKind::kI32,
    TypeKind::kI64,        TypeKind::kU8,    TypeKind::kU16,      TypeKind::kU32,
    TypeKind::kU64,        TypeKind::kF64,   TypeKind::kString,   TypeKind::kBytes,
    TypeKind::kFixedBytes, TypeKind::kList,  TypeKind::kOptional, TypeKind::kMap,
    TypeKind::kVoid,       TypeKind::kNamed, TypeKind::kEnum,     TypeKind::kStruct,
};

TEST(TypeKind, BuiltinWordsRoundTrip) {
  for (TypeKind k : kAll) {
    std::string_view word = kind_name(k);
    if (word.empty() || k == TypeKind::kFixedBytes) continue;
    ASSERT_EQ(builtin_kind(word), k) << word;
  }
  EXPECT_EQ(builtin_kind("bytes"), TypeKind::kBytes);
  EXPECT_EQ(kind_name(TypeKind::kFixedBytes), "bytes");
  EXPECT_FALSE(builtin_kind("fixed_bytes"));
  EXPECT_FALSE(builtin_kind("enum"));
  EXPECT_FALSE(builtin_kind(""));
  EXPECT_FALSE(builtin_kind("U32"));
}

TEST(TypeKind, DescriptorNamesRoundTrip) {
  for (TypeKind k : kAll) {
    std::string_view name = descriptor_kind_name(k);
    if (name.empty()) continue;
    ASSERT_EQ(descriptor_kind(name), k) << name;
  }
  EXPECT_EQ(descriptor_kind("fixed_bytes"), TypeKind::kFixedBytes);
  EXPECT_EQ(descriptor_kind("enum"), TypeKind::kEnum);
  EXPECT_EQ(descriptor_kind("struct"), TypeKind::kStruct);
  EXPECT_FALSE(descriptor_kind("void"));
  EXPECT_FALSE(descriptor_kind(""));
  EXPECT_FALSE(descriptor_kind("named"));
}

TEST(TypeKind, IntegerProperties) {
  EXPECT_EQ(integer_bits(TypeKind::kI8), 8);
  EXPECT_EQ(integer_bits(TypeKind::kU16), 16);
  EXPECT_EQ(integer_bits(TypeKind::kI32), 32);
  EXPECT_EQ(integer_bits(TypeKind::kU64), 64);
  EXPECT_EQ(integer_bits(TypeKind::kF64), 0);
  EXPECT_TRUE(is_signed(TypeKind::kI64));
  EXPECT_FALSE(is_signed(TypeKind::kU64));
  EXPECT_TRUE(is_unsigned(TypeKind::kU8));
  EXPECT_FALSE(is_unsigned(TypeKind::kBool));
  EXPECT_FALSE(is_unsigned(TypeKind::kEnum));
  int integers = 0;
  for (TypeKind k : kAll) integers += is_integer(k) ? 1 : 0;
  EXPECT_EQ(integers, 8);
}

}  // namespace
}  // namespace peers::idl
