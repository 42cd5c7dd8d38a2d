// The syntax tree of an IDL file, as the parser builds it and the checker
// annotates it (resolved type references, method ids).
//
// A File owns its declarations; a TypeExpr that names a declared type points
// at it (TypeExpr::decl) once the checker has run, possibly into another File
// of the same Program. docs/idl.md describes the language.
//
//   for (const auto& d : file.decls)
//     if (const Record* r = as_record(*d)) for (const Field& f : r->fields) ...
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "idlc/diagnostics.h"
#include "lib/idl/type_kind.h"

namespace peers::idl {

// TypeKind, builtin_kind(), kind_name(), is_integer(), is_signed() come from
// lib/idl/type_kind.h: the one table of type kinds, shared with the runtime's
// JSON codec.

struct Decl;

struct TypeExpr {
  TypeKind kind = TypeKind::kVoid;
  Location loc;
  std::string name;            // kNamed: as written, e.g. "common.PeerInfo"
  std::uint64_t size = 0;      // kFixedBytes: N
  std::vector<TypeExpr> args;  // kList, kOptional: the element; kMap: key, value
  const Decl* decl = nullptr;  // kNamed, set by the checker: the enum or struct

  // The IDL spelling: "map<string, f64>", "bytes<32>", named types as written.
  std::string spelling() const;
};

enum class DeclKind : std::uint8_t { kEnum, kStruct, kError, kInterface };
// "enum", "struct", "error", "interface".
std::string_view decl_kind_name(DeclKind kind);

struct File;

struct Decl {
  virtual ~Decl() = default;

  DeclKind kind;
  std::string name;
  Location loc;  // of the name
  std::string doc;
  const File* file = nullptr;

  // "vt.overlay.PeerInfo".
  std::string full_name() const;

 protected:
  explicit Decl(DeclKind k) : kind(k) {}
};

struct Field {
  std::uint64_t number = 0;
  Location number_loc;
  std::string name;
  Location name_loc;
  TypeExpr type;
  std::string doc;
};

struct Reserved {
  std::uint64_t number = 0;
  Location loc;
};

// A struct or an error: numbered fields.
struct Record : Decl {
  explicit Record(DeclKind k) : Decl(k) {}
  std::vector<Field> fields;
  std::vector<Reserved> reserved;
};

struct EnumValue {
  std::string name;
  Location loc;
  std::uint64_t number = 0;
  Location number_loc;
  std::string doc;
};

struct Enum : Decl {
  Enum() : Decl(DeclKind::kEnum) {}
  std::vector<EnumValue> values;
};

struct NameRef {
  std::string name;  // as written
  Location loc;
  const Decl* decl = nullptr;  // set by the checker
};

struct Method {
  std::string name;
  Location loc;
  std::string doc;
  bool oneway = false;
  TypeExpr request;
  std::optional<TypeExpr> response;  // absent when there is no "->"
  Location arrow_loc;
  bool data = false;
  Location data_loc;
  bool has_throws = false;
  Location throws_loc;
  std::vector<NameRef> throws;
  std::uint32_t id = 0;  // set by the checker
};

struct Interface : Decl {
  Interface() : Decl(DeclKind::kInterface) {}
  std::vector<Method> methods;
};

struct Import {
  std::string path;  // as written
  Location loc;
  const File* file = nullptr;  // set by the loader
};

struct File {
  // As given on the command line or found for an import; diagnostics use it.
  std::string path;
  // The path below an include root ("proto/common.pidl"): generated code
  // includes "<include_path>.h".
  std::string include_path;
  std::string package;
  Location package_loc;
  std::string doc;  // doc comment before "package"
  std::vector<Import> imports;
  std::vector<std::unique_ptr<Decl>> decls;  // in declaration order
};

// Downcasts; null when the declaration is of another kind.
const Record* as_record(const Decl& d);  // struct or error
const Enum* as_enum(const Decl& d);
const Interface* as_interface(const Decl& d);
Record* as_record(Decl& d);
Enum* as_enum(Decl& d);
Interface* as_interface(Decl& d);

}  // namespace peers::idl
