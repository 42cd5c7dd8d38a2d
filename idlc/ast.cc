#include "idlc/ast.h"

namespace peers::idl {
namespace {

struct Builtin {
  std::string_view word;
  TypeKind kind;
};

constexpr Builtin kBuiltins[] = {
    {"bool", TypeKind::kBool},     {"i8", TypeKind::kI8},
    {"i16", TypeKind::kI16},       {"i32", TypeKind::kI32},
    {"i64", TypeKind::kI64},       {"u8", TypeKind::kU8},
    {"u16", TypeKind::kU16},       {"u32", TypeKind::kU32},
    {"u64", TypeKind::kU64},       {"f64", TypeKind::kF64},
    {"string", TypeKind::kString}, {"bytes", TypeKind::kBytes},
    {"list", TypeKind::kList},     {"optional", TypeKind::kOptional},
    {"map", TypeKind::kMap},       {"void", TypeKind::kVoid},
};

}  // namespace

std::optional<TypeKind> builtin_kind(std::string_view word) {
  for (const Builtin& b : kBuiltins) {
    if (b.word == word) return b.kind;
  }
  return std::nullopt;
}

std::string_view kind_name(TypeKind kind) {
  if (kind == TypeKind::kFixedBytes) return "bytes";
  for (const Builtin& b : kBuiltins) {
    if (b.kind == kind) return b.word;
  }
  return "";
}

bool is_integer(TypeKind kind) {
  switch (kind) {
    case TypeKind::kI8:
    case TypeKind::kI16:
    case TypeKind::kI32:
    case TypeKind::kI64:
    case TypeKind::kU8:
    case TypeKind::kU16:
    case TypeKind::kU32:
    case TypeKind::kU64:
      return true;
    default:
      return false;
  }
}

bool is_signed(TypeKind kind) {
  return kind == TypeKind::kI8 || kind == TypeKind::kI16 || kind == TypeKind::kI32 ||
         kind == TypeKind::kI64;
}

std::string TypeExpr::spelling() const {
  switch (kind) {
    case TypeKind::kNamed:
      return name;
    case TypeKind::kFixedBytes:
      return "bytes<" + std::to_string(size) + ">";
    case TypeKind::kList:
    case TypeKind::kOptional:
      return std::string(kind_name(kind)) + "<" + (args.empty() ? "" : args[0].spelling()) + ">";
    case TypeKind::kMap:
      return args.size() == 2 ? "map<" + args[0].spelling() + ", " + args[1].spelling() + ">"
                              : "map<>";
    default:
      return std::string(kind_name(kind));
  }
}

std::string_view decl_kind_name(DeclKind kind) {
  switch (kind) {
    case DeclKind::kEnum:
      return "enum";
    case DeclKind::kStruct:
      return "struct";
    case DeclKind::kError:
      return "error";
    case DeclKind::kInterface:
      return "interface";
  }
  return "declaration";
}

std::string Decl::full_name() const {
  if (file == nullptr || file->package.empty()) return name;
  return file->package + "." + name;
}

const Record* as_record(const Decl& d) {
  return d.kind == DeclKind::kStruct || d.kind == DeclKind::kError ? static_cast<const Record*>(&d)
                                                                   : nullptr;
}
const Enum* as_enum(const Decl& d) {
  return d.kind == DeclKind::kEnum ? static_cast<const Enum*>(&d) : nullptr;
}
const Interface* as_interface(const Decl& d) {
  return d.kind == DeclKind::kInterface ? static_cast<const Interface*>(&d) : nullptr;
}
Record* as_record(Decl& d) {
  return d.kind == DeclKind::kStruct || d.kind == DeclKind::kError ? static_cast<Record*>(&d)
                                                                   : nullptr;
}
Enum* as_enum(Decl& d) { return d.kind == DeclKind::kEnum ? static_cast<Enum*>(&d) : nullptr; }
Interface* as_interface(Decl& d) {
  return d.kind == DeclKind::kInterface ? static_cast<Interface*>(&d) : nullptr;
}

}  // namespace peers::idl
