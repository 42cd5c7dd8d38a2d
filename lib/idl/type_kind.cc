#include "lib/idl/type_kind.h"

namespace peers::idl {
namespace {

struct KindInfo {
  TypeKind kind;
  std::string_view idl_word;    // how a .pidl file spells it
  bool builtin;                 // idl_word alone names this kind
  std::string_view descriptor;  // the JSON descriptor's "kind"
  int bits;                     // integers: width
  bool is_signed;
};

// The one table of type kinds. Order: the first row with a word wins a lookup
// (so "bytes" names kBytes, not kFixedBytes).
constexpr KindInfo kKinds[] = {
    {TypeKind::kBool, "bool", true, "bool", 0, false},
    {TypeKind::kI8, "i8", true, "i8", 8, true},
    {TypeKind::kI16, "i16", true, "i16", 16, true},
    {TypeKind::kI32, "i32", true, "i32", 32, true},
    {TypeKind::kI64, "i64", true, "i64", 64, true},
    {TypeKind::kU8, "u8", true, "u8", 8, false},
    {TypeKind::kU16, "u16", true, "u16", 16, false},
    {TypeKind::kU32, "u32", true, "u32", 32, false},
    {TypeKind::kU64, "u64", true, "u64", 64, false},
    {TypeKind::kF64, "f64", true, "f64", 0, false},
    {TypeKind::kString, "string", true, "string", 0, false},
    {TypeKind::kBytes, "bytes", true, "bytes", 0, false},
    {TypeKind::kFixedBytes, "bytes", false, "fixed_bytes", 0, false},
    {TypeKind::kList, "list", true, "list", 0, false},
    {TypeKind::kOptional, "optional", true, "optional", 0, false},
    {TypeKind::kMap, "map", true, "map", 0, false},
    {TypeKind::kVoid, "void", true, "", 0, false},
    {TypeKind::kNamed, "", false, "", 0, false},
    {TypeKind::kEnum, "", false, "enum", 0, false},
    {TypeKind::kStruct, "", false, "struct", 0, false},
};

const KindInfo* info(TypeKind kind) {
  for (const KindInfo& k : kKinds) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}

}  // namespace

std::optional<TypeKind> builtin_kind(std::string_view word) {
  for (const KindInfo& k : kKinds) {
    if (k.builtin && k.idl_word == word) return k.kind;
  }
  return std::nullopt;
}

std::string_view kind_name(TypeKind kind) {
  const KindInfo* k = info(kind);
  return k != nullptr ? k->idl_word : "";
}

std::optional<TypeKind> descriptor_kind(std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (const KindInfo& k : kKinds) {
    if (k.descriptor == name) return k.kind;
  }
  return std::nullopt;
}

std::string_view descriptor_kind_name(TypeKind kind) {
  const KindInfo* k = info(kind);
  return k != nullptr ? k->descriptor : "";
}

bool is_integer(TypeKind kind) { return integer_bits(kind) != 0; }

bool is_signed(TypeKind kind) {
  const KindInfo* k = info(kind);
  return k != nullptr && k->bits != 0 && k->is_signed;
}

bool is_unsigned(TypeKind kind) {
  const KindInfo* k = info(kind);
  return k != nullptr && k->bits != 0 && !k->is_signed;
}

int integer_bits(TypeKind kind) {
  const KindInfo* k = info(kind);
  return k != nullptr ? k->bits : 0;
}

}  // namespace peers::idl
