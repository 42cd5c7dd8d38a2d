#include "idlc/gen_json.h"

namespace peers::idl {
namespace {

using Json = nlohmann::ordered_json;

Json describe_record(const Record& r) {
  Json fields = Json::array();
  for (const Field& f : r.fields) {
    fields.push_back(Json{
        {"number", f.number}, {"name", f.name}, {"type", describe_type(f.type)}, {"doc", f.doc}});
  }
  return Json{{"name", r.name}, {"full_name", r.full_name()}, {"doc", r.doc}, {"fields", fields}};
}

Json describe_enum(const Enum& e) {
  Json values = Json::array();
  for (const EnumValue& v : e.values) {
    values.push_back(Json{{"name", v.name}, {"number", v.number}, {"doc", v.doc}});
  }
  return Json{{"name", e.name}, {"full_name", e.full_name()}, {"doc", e.doc}, {"values", values}};
}

// "vt.overlay.JoinRequest", "void", or null (no result: oneway).
Json message(const std::optional<TypeExpr>& t) {
  if (!t) return nullptr;
  if (t->kind == TypeKind::kVoid || t->decl == nullptr) return "void";
  return t->decl->full_name();
}

Json describe_interface(const Interface& it) {
  Json methods = Json::array();
  for (const Method& m : it.methods) {
    Json throws = Json::array();
    for (const NameRef& ref : m.throws) throws.push_back(ref.decl->full_name());
    methods.push_back(Json{{"name", m.name},
                           {"id", m.id},
                           {"request", message(m.request)},
                           {"response", message(m.response)},
                           {"oneway", m.oneway},
                           {"data", m.data},
                           {"throws", throws},
                           {"doc", m.doc}});
  }
  return Json{
      {"name", it.name}, {"full_name", it.full_name()}, {"doc", it.doc}, {"methods", methods}};
}

}  // namespace

// Kind names come from the shared table (lib/idl/type_kind.h), which the
// runtime's JSON codec reads them back with.
Json describe_type(const TypeExpr& t) {
  auto kind = [](TypeKind k) {
    std::string_view name = descriptor_kind_name(k);
    return std::string(name.empty() ? kind_name(k) : name);  // "void" has no descriptor kind
  };
  switch (t.kind) {
    case TypeKind::kFixedBytes:
      return Json{{"kind", kind(t.kind)}, {"size", t.size}};
    case TypeKind::kList:
    case TypeKind::kOptional:
      return Json{{"kind", kind(t.kind)}, {"of", describe_type(t.args[0])}};
    case TypeKind::kMap:
      return Json{{"kind", kind(t.kind)},
                  {"key", describe_type(t.args[0])},
                  {"value", describe_type(t.args[1])}};
    case TypeKind::kNamed: {
      bool is_enum = t.decl != nullptr && t.decl->kind == DeclKind::kEnum;
      return Json{{"kind", kind(is_enum ? TypeKind::kEnum : TypeKind::kStruct)},
                  {"name", t.decl != nullptr ? t.decl->full_name() : t.name}};
    }
    default:
      return Json{{"kind", kind(t.kind)}};
  }
}

Json describe_file(const File& file) {
  Json imports = Json::array();
  for (const Import& imp : file.imports) {
    if (imp.file != nullptr) imports.push_back(imp.file->include_path);
  }
  Json enums = Json::array();
  Json structs = Json::array();
  Json errors = Json::array();
  Json interfaces = Json::array();
  for (const auto& d : file.decls) {
    switch (d->kind) {
      case DeclKind::kEnum:
        enums.push_back(describe_enum(*as_enum(*d)));
        break;
      case DeclKind::kStruct:
        structs.push_back(describe_record(*as_record(*d)));
        break;
      case DeclKind::kError:
        errors.push_back(describe_record(*as_record(*d)));
        break;
      case DeclKind::kInterface:
        interfaces.push_back(describe_interface(*as_interface(*d)));
        break;
    }
  }
  return Json{{"peers_idl_descriptor", kDescriptorVersion},
              {"file", file.include_path},
              {"package", file.package},
              {"doc", file.doc},
              {"imports", imports},
              {"enums", enums},
              {"structs", structs},
              {"errors", errors},
              {"interfaces", interfaces}};
}

std::string generate_json(const File& file) {
  // Doc comments are the only free text; bytes that are not UTF-8 become U+FFFD.
  return describe_file(file).dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace peers::idl
