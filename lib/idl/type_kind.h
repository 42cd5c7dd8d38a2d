// The kinds of IDL types: one table shared by the compiler (idlc: the words a
// .pidl file spells) and the runtime (the JSON codec: the names a JSON
// descriptor uses), with the properties both need (integer width, sign).
//
//   builtin_kind("u32")              -> TypeKind::kU32   (a word in a .pidl file)
//   kind_name(TypeKind::kFixedBytes) -> "bytes"          (spelled bytes<N>)
//   descriptor_kind("fixed_bytes")   -> TypeKind::kFixedBytes
//   integer_bits(TypeKind::kI16)     -> 16
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace peers::idl {

enum class TypeKind : std::uint8_t {
  kBool,
  kI8,
  kI16,
  kI32,
  kI64,
  kU8,
  kU16,
  kU32,
  kU64,
  kF64,
  kString,
  kBytes,
  kFixedBytes,  // bytes<N>
  kList,
  kOptional,
  kMap,
  kVoid,    // only as a method's request or result
  kNamed,   // the compiler's name of an enum or struct, before it is resolved
  kEnum,    // a descriptor's enum type (the compiler resolves kNamed to a decl)
  kStruct,  // a descriptor's struct or error type
};

// The built-in type a word names in a .pidl file ("u32", "list", "void", ...),
// if any. "bytes" gives kBytes; the parser turns "bytes<N>" into kFixedBytes.
std::optional<TypeKind> builtin_kind(std::string_view word);
// How a .pidl file spells the kind: "u32", "list", "bytes" (also for bytes<N>);
// "" for kNamed, kEnum and kStruct, which are spelled by the type's name.
std::string_view kind_name(TypeKind kind);

// The kind a JSON descriptor's "kind" names ("u32", "fixed_bytes", "enum",
// "struct", ...); nullopt for anything else ("void" is a type name there, not
// a kind).
std::optional<TypeKind> descriptor_kind(std::string_view name);
// The descriptor's name of a kind; "" for kVoid and kNamed.
std::string_view descriptor_kind_name(TypeKind kind);

bool is_integer(TypeKind kind);
bool is_signed(TypeKind kind);
bool is_unsigned(TypeKind kind);
// 8, 16, 32 or 64 for integer kinds; 0 for the rest.
int integer_bits(TypeKind kind);

}  // namespace peers::idl
