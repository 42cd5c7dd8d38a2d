#include "idlc/ast.h"

namespace peers::idl {

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
