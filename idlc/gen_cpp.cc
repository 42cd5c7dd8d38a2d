#include "idlc/gen_cpp.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "idlc/names.h"

namespace peers::idl {
namespace {

// --- struct layout ------------------------------------------------------------

// Structs of one file and which of them each one refers to.
struct Graph {
  std::vector<const Record*> structs;
  std::map<const Decl*, std::size_t> index;
  // For each struct: (struct it refers to, held directly by value?).
  std::vector<std::vector<std::pair<std::size_t, bool>>> refs;
  std::vector<std::size_t> component;  // strongly connected component of each struct
};

void collect_refs(const Graph& g, const TypeExpr& t, bool top,
                  std::vector<std::pair<std::size_t, bool>>& out) {
  if (t.kind == TypeKind::kNamed) {
    auto it = g.index.find(t.decl);
    if (it != g.index.end()) out.push_back({it->second, top});
    return;
  }
  for (const TypeExpr& a : t.args) collect_refs(g, a, false, out);
}

Graph build_graph(const File& file) {
  Graph g;
  for (const auto& d : file.decls) {
    if (d->kind == DeclKind::kStruct) {
      g.index[d.get()] = g.structs.size();
      g.structs.push_back(static_cast<const Record*>(d.get()));
    }
  }
  g.refs.resize(g.structs.size());
  for (std::size_t i = 0; i < g.structs.size(); ++i) {
    for (const Field& f : g.structs[i]->fields) collect_refs(g, f.type, true, g.refs[i]);
  }
  // Tarjan's strongly connected components.
  std::size_t n = g.structs.size();
  std::vector<int> order(n, -1), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<std::size_t> stack;
  g.component.assign(n, 0);
  int counter = 0;
  std::size_t components = 0;
  std::function<void(std::size_t)> visit = [&](std::size_t v) {
    order[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    for (const auto& [w, direct] : g.refs[v]) {
      if (order[w] < 0) {
        visit(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on_stack[w]) {
        low[v] = std::min(low[v], order[w]);
      }
    }
    if (low[v] == order[v]) {
      while (true) {
        std::size_t w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        g.component[w] = components;
        if (w == v) break;
      }
      ++components;
    }
  };
  for (std::size_t v = 0; v < n; ++v) {
    if (order[v] < 0) visit(v);
  }
  return g;
}

bool boxed_in(const Graph& g, const Record& holder, const Field& field) {
  if (field.type.kind != TypeKind::kOptional) return false;
  const TypeExpr& inner = field.type.args[0];
  if (inner.kind != TypeKind::kNamed) return false;
  auto s = g.index.find(inner.decl);
  auto h = g.index.find(&holder);
  if (s == g.index.end() || h == g.index.end()) return false;
  return g.component[s->second] == g.component[h->second];
}

std::vector<const Record*> order_of(const Graph& g) {
  // S must come before R when R refers to S from another component (those
  // form a DAG), or holds S by value within the same component (acyclic, as
  // the checker made sure). Within a component, lists and maps may hold
  // structs that are still incomplete, and optionals are boxed.
  std::size_t n = g.structs.size();
  std::vector<std::set<std::size_t>> before(n);
  for (std::size_t r = 0; r < n; ++r) {
    for (const auto& [s, direct] : g.refs[r]) {
      if (s == r) continue;
      if (g.component[s] != g.component[r] || direct) before[r].insert(s);
    }
  }
  std::vector<const Record*> out;
  std::vector<bool> done(n, false);
  for (std::size_t emitted = 0; emitted < n; ++emitted) {
    std::size_t pick = n;
    for (std::size_t r = 0; r < n && pick == n; ++r) {
      if (done[r]) continue;
      bool ready =
          std::all_of(before[r].begin(), before[r].end(), [&](std::size_t s) { return done[s]; });
      if (ready) pick = r;
    }
    if (pick == n) {  // cannot happen after the checker; keep declaration order
      for (std::size_t r = 0; r < n; ++r) {
        if (!done[r]) pick = r;
      }
    }
    done[pick] = true;
    out.push_back(g.structs[pick]);
  }
  return out;
}

// --- C++ spelling -------------------------------------------------------------

class Gen {
 public:
  explicit Gen(const File& file) : file_(file), graph_(build_graph(file)) {}

  CppOutput run() {
    header();
    source();
    return {h_.str(), cc_.str()};
  }

 private:
  std::string ns() const { return package_namespace(file_.package); }

  // A declared type's name as written in this file's namespace.
  std::string name_of(const Decl& d) const {
    if (d.file->package == file_.package) return d.name;
    return "::" + package_namespace(d.file->package) + "::" + d.name;
  }

  std::string cpp_type(const TypeExpr& t, bool boxed = false) const {
    switch (t.kind) {
      case TypeKind::kBool:
        return "bool";
      case TypeKind::kI8:
        return "std::int8_t";
      case TypeKind::kI16:
        return "std::int16_t";
      case TypeKind::kI32:
        return "std::int32_t";
      case TypeKind::kI64:
        return "std::int64_t";
      case TypeKind::kU8:
        return "std::uint8_t";
      case TypeKind::kU16:
        return "std::uint16_t";
      case TypeKind::kU32:
        return "std::uint32_t";
      case TypeKind::kU64:
        return "std::uint64_t";
      case TypeKind::kF64:
        return "double";
      case TypeKind::kString:
      case TypeKind::kBytes:
        return "std::string";
      case TypeKind::kFixedBytes:
        return "std::array<std::uint8_t, " + std::to_string(t.size) + ">";
      case TypeKind::kList:
        return "std::vector<" + cpp_type(t.args[0]) + ">";
      case TypeKind::kOptional:
        return boxed ? "::peers::idl::Box<" + cpp_type(t.args[0]) + ">"
                     : "std::optional<" + cpp_type(t.args[0]) + ">";
      case TypeKind::kMap:
        return "std::map<" + cpp_type(t.args[0]) + ", " + cpp_type(t.args[1]) + ">";
      case TypeKind::kNamed:
        return name_of(*t.decl);
      case TypeKind::kVoid:
        return "void";
      case TypeKind::kEnum:    // descriptor kinds; the compiler's named
      case TypeKind::kStruct:  // types are kNamed
        break;
    }
    return "void";
  }

  // The field codec tag (lib/idl/field_codec.h) of a type.
  std::string tag(const TypeExpr& t, bool boxed = false) const {
    const std::string p = "::peers::idl::";
    switch (t.kind) {
      case TypeKind::kBool:
        return p + "Bool";
      case TypeKind::kI8:
        return p + "I8";
      case TypeKind::kI16:
        return p + "I16";
      case TypeKind::kI32:
        return p + "I32";
      case TypeKind::kI64:
        return p + "I64";
      case TypeKind::kU8:
        return p + "U8";
      case TypeKind::kU16:
        return p + "U16";
      case TypeKind::kU32:
        return p + "U32";
      case TypeKind::kU64:
        return p + "U64";
      case TypeKind::kF64:
        return p + "F64";
      case TypeKind::kString:
        return p + "String";
      case TypeKind::kBytes:
        return p + "Bytes";
      case TypeKind::kFixedBytes:
        return p + "FixedBytes<" + std::to_string(t.size) + ">";
      case TypeKind::kList:
        return p + "List<" + tag(t.args[0]) + ">";
      case TypeKind::kOptional:
        return boxed ? p + "Boxed<" + cpp_type(t.args[0]) + ">"
                     : p + "Optional<" + tag(t.args[0]) + ">";
      case TypeKind::kMap:
        return p + "Map<" + tag(t.args[0]) + ", " + tag(t.args[1]) + ">";
      case TypeKind::kNamed:
        return p + (t.decl->kind == DeclKind::kEnum ? "Enum<" : "Struct<") + name_of(*t.decl) + ">";
      case TypeKind::kVoid:
        return p + "Void";
      case TypeKind::kEnum:    // descriptor kinds; the compiler's named
      case TypeKind::kStruct:  // types are kNamed
        break;
    }
    return "";
  }

  // " = 0", " = Role::kSource", "" (for types whose default constructor is
  // their default).
  std::string initializer(const TypeExpr& t) const {
    switch (t.kind) {
      case TypeKind::kBool:
        return " = false";
      case TypeKind::kF64:
        return " = 0.0";
      case TypeKind::kFixedBytes:
        return " = {}";
      case TypeKind::kNamed:
        if (const Enum* e = as_enum(*t.decl)) {
          for (const EnumValue& v : e->values) {
            if (v.number == 0) return " = " + name_of(*e) + "::" + enum_constant(v.name);
          }
          return " = {}";
        }
        return "";
      default:
        return is_integer(t.kind) ? " = 0" : "";
    }
  }

  bool boxed(const Record& r, const Field& f) const { return boxed_in(graph_, r, f); }

  static std::vector<const Field*> by_number(const Record& r) {
    std::vector<const Field*> out;
    for (const Field& f : r.fields) out.push_back(&f);
    std::stable_sort(out.begin(), out.end(),
                     [](const Field* a, const Field* b) { return a->number < b->number; });
    return out;
  }

  static void doc(std::ostringstream& out, const std::string& text, const std::string& indent) {
    out << doc_comment(text, indent);
  }

  static std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

  bool any(DeclKind k) const {
    return std::any_of(file_.decls.begin(), file_.decls.end(),
                       [k](const auto& d) { return d->kind == k; });
  }

  bool needs_box() const {
    for (const auto& d : file_.decls) {
      if (d->kind != DeclKind::kStruct) continue;
      const auto& r = static_cast<const Record&>(*d);
      for (const Field& f : r.fields) {
        if (boxed(r, f)) return true;
      }
    }
    return false;
  }

  // --- header -----------------------------------------------------------------

  void header() {
    auto& o = h_;
    o << "// Generated by peers-idlc from " << printable(file_.path) << ". Do not edit.\n";
    if (!file_.doc.empty()) {
      o << "//\n";
      doc(o, file_.doc, "");
    }
    o << "#pragma once\n\n";
    for (const char* inc :
         {"array", "cstdint", "map", "optional", "string", "string_view", "tuple", "vector"}) {
      o << "#include <" << inc << ">\n";
    }
    o << "\n";
    if (needs_box()) o << "#include \"lib/idl/box.h\"\n";
    o << "#include \"lib/kernel/error.h\"\n";
    o << "#include \"lib/wire/codec.h\"\n";
    for (const Import& imp : file_.imports) {
      if (imp.file != nullptr) o << "#include \"" << printable(imp.file->include_path) << ".h\"\n";
    }
    o << "\nnamespace " << ns() << " {\n";
    for (const auto& d : file_.decls) {
      if (const Enum* e = as_enum(*d)) enum_decl(*e);
    }
    std::vector<const Record*> structs = order_of(graph_);
    if (structs.size() > 1) {
      o << "\n";
      for (const auto& d : file_.decls) {
        if (d->kind == DeclKind::kStruct) o << "struct " << d->name << ";\n";
      }
    }
    for (const Record* r : structs) struct_decl(*r);
    for (const auto& d : file_.decls) {
      if (d->kind == DeclKind::kError) error_decl(static_cast<const Record&>(*d));
    }
    for (const auto& d : file_.decls) {
      if (const Interface* i = as_interface(*d)) interface_decl(*i);
    }
    o << "\n}  // namespace " << ns() << "\n";
  }

  void enum_decl(const Enum& e) {
    auto& o = h_;
    o << "\n";
    doc(o, e.doc, "");
    o << "enum class " << e.name << " : std::uint32_t {\n";
    for (const EnumValue& v : e.values) {
      doc(o, v.doc, "  ");
      o << "  " << enum_constant(v.name) << " = " << v.number << ",\n";
    }
    o << "};\n";
    o << "// The IDL name of a value (\"" << (e.values.empty() ? "" : e.values[0].name)
      << "\"); \"\" for a number this version does not name.\n";
    o << "std::string_view to_string(" << e.name << " value);\n";
    o << "// Sets *out to the value with IDL name `name`; false if there is none.\n";
    o << "bool from_string(std::string_view name, " << e.name << "* out);\n";
  }

  void fields_decl(const Record& r) {
    auto& o = h_;
    for (const Field& f : r.fields) {
      doc(o, f.doc, "  ");
      o << "  " << cpp_type(f.type, boxed(r, f)) << " " << f.name << initializer(f.type) << ";\n";
    }
  }

  void struct_decl(const Record& r) {
    auto& o = h_;
    o << "\n";
    doc(o, r.doc, "");
    o << "struct " << r.name << " {\n";
    o << "  static constexpr std::string_view kTypeName = " << quoted(r.full_name()) << ";\n";
    if (!r.fields.empty()) o << "\n";
    fields_decl(r);
    o << "\n";
    o << "  bool operator==(const " << r.name << "&) const = default;\n\n";
    o << "  // Appends the encoded body to w.\n";
    o << "  void encode(::peers::wire::Writer& w) const;\n";
    o << "  // The encoded body.\n";
    o << "  std::string encode() const;\n";
    o << "  // Decodes a body: unknown fields are skipped, absent ones keep their defaults.\n";
    o << "  static ::peers::Result<" << r.name << "> decode(std::string_view body);\n";
    o << "  // Decodes the rest of r as a body nested `depth` structs deep.\n";
    o << "  static ::peers::Result<" << r.name
      << "> decode(::peers::wire::Reader& r, int depth);\n";
    o << "};\n";
  }

  std::string default_message(const Record& r) const { return quoted(camel_to_words(r.name)); }

  void error_decl(const Record& r) {
    auto& o = h_;
    o << "\n";
    doc(o, r.doc, "");
    o << "class " << r.name << " : public ::peers::Error {\n";
    o << " public:\n";
    o << "  static constexpr std::string_view kTypeName = " << quoted(r.full_name()) << ";\n\n";
    o << "  explicit " << r.name << "(std::string message = " << default_message(r);
    for (const Field& f : r.fields) o << ", " << cpp_type(f.type) << " " << f.name << " = {}";
    o << ");\n";
    if (!r.fields.empty()) o << "\n";
    fields_decl(r);
    o << "\n";
    o << "  void encode_fields(std::string& out) const override;\n";
    o << "  [[noreturn]] void rethrow() const override { throw *this; }\n\n";
    o << "  // Appends the fields' body to w (what encode_fields appends).\n";
    o << "  void encode(::peers::wire::Writer& w) const;\n";
    o << "  // Decodes the fields' body into an error carrying `message`.\n";
    o << "  static ::peers::Result<" << r.name
      << "> decode(std::string_view fields, std::string message = " << default_message(r) << ");\n";
    o << "};\n";
  }

  std::string message_type(const std::optional<TypeExpr>& t) const {
    if (!t || t->kind == TypeKind::kVoid || t->decl == nullptr) return "void";
    return "::" + package_namespace(t->decl->file->package) + "::" + t->decl->name;
  }

  void interface_decl(const Interface& it) {
    auto& o = h_;
    o << "\n";
    doc(o, it.doc, "");
    o << "struct " << it.name << " {\n";
    o << "  static constexpr std::string_view kName = " << quoted(it.full_name()) << ";\n";
    for (const Method& m : it.methods) {
      char id[16];
      std::snprintf(id, sizeof id, "0x%08xu", m.id);
      o << "\n";
      doc(o, m.doc, "  ");
      o << "  struct " << snake_to_camel(m.name) << " {\n";
      o << "    using Request = " << message_type(m.request) << ";\n";
      o << "    using Response = " << message_type(m.response) << ";\n";
      o << "    using Throws = std::tuple<";
      for (std::size_t i = 0; i < m.throws.size(); ++i) {
        o << (i ? ", " : "") << "::" << package_namespace(m.throws[i].decl->file->package)
          << "::" << m.throws[i].decl->name;
      }
      o << ">;\n";
      o << "    static constexpr std::uint32_t kId = " << id << ";\n";
      o << "    static constexpr std::string_view kName = " << quoted(m.name) << ";\n";
      o << "    static constexpr std::string_view kFullName = "
        << quoted(it.full_name() + "." + m.name) << ";\n";
      o << "    static constexpr bool kOneway = " << (m.oneway ? "true" : "false") << ";\n";
      o << "    static constexpr bool kData = " << (m.data ? "true" : "false") << ";\n";
      o << "  };\n";
    }
    o << "};\n";
  }

  // --- source -----------------------------------------------------------------

  void source() {
    auto& o = cc_;
    o << "// Generated by peers-idlc from " << printable(file_.path) << ". Do not edit.\n";
    o << "#include \"" << printable(file_.include_path) << ".h\"\n\n";
    o << "#include <utility>\n\n";
    o << "#include \"lib/idl/field_codec.h\"\n";
    if (any(DeclKind::kError)) o << "#include \"lib/wire/error_registry.h\"\n";
    o << "\nnamespace " << ns() << " {\n";
    for (const auto& d : file_.decls) {
      if (const Enum* e = as_enum(*d)) enum_def(*e);
    }
    for (const auto& d : file_.decls) {
      if (d->kind == DeclKind::kStruct) struct_def(static_cast<const Record&>(*d));
    }
    for (const auto& d : file_.decls) {
      if (d->kind == DeclKind::kError) error_def(static_cast<const Record&>(*d));
    }
    if (any(DeclKind::kError)) {
      o << "\nnamespace {\n\n";
      o << "// Lets the RPC layer rebuild these errors from ERROR frames.\n";
      o << "[[maybe_unused]] const bool kErrorsRegistered = [] {\n";
      for (const auto& d : file_.decls) {
        if (d->kind != DeclKind::kError) continue;
        o << "  ::peers::wire::register_error_type(" << d->name
          << "::kTypeName, &::peers::idl::error_factory<" << d->name << ">);\n";
      }
      o << "  return true;\n";
      o << "}();\n\n";
      o << "}  // namespace\n";
    }
    o << "\n}  // namespace " << ns() << "\n";
  }

  void enum_def(const Enum& e) {
    auto& o = cc_;
    o << "\nstd::string_view to_string(" << e.name << " value) {\n";
    o << "  switch (value) {\n";
    for (const EnumValue& v : e.values) {
      o << "    case " << e.name << "::" << enum_constant(v.name) << ":\n";
      o << "      return " << quoted(v.name) << ";\n";
    }
    o << "  }\n";
    o << "  return \"\";\n";
    o << "}\n";
    o << "\nbool from_string(std::string_view name, " << e.name << "* out) {\n";
    for (const EnumValue& v : e.values) {
      o << "  if (name == " << quoted(v.name) << ") {\n";
      o << "    *out = " << e.name << "::" << enum_constant(v.name) << ";\n";
      o << "    return true;\n";
      o << "  }\n";
    }
    o << "  return false;\n";
    o << "}\n";
  }

  void encode_def(const Record& r) {
    auto& o = cc_;
    auto fields = by_number(r);
    o << "\nvoid " << r.name << "::encode(::peers::wire::Writer&" << (fields.empty() ? "" : " w")
      << ") const {\n";
    for (const Field* f : fields) {
      o << "  ::peers::idl::write_field<" << tag(f->type, boxed(r, *f)) << ">(w, " << f->number
        << ", this->" << f->name << ");\n";
    }
    o << "}\n";
  }

  void decode_loop(const Record& r) {
    auto& o = cc_;
    o << "  while (!r.at_end()) {\n";
    o << "    auto key = r.key();\n";
    o << "    if (!key) return ::peers::idl::record_error(kTypeName, key.error());\n";
    o << "    ::peers::Result<void> got;\n";
    auto fields = by_number(r);
    if (fields.empty()) {
      o << "    got = ::peers::idl::skip_field(r, key->kind, kTypeName);\n";
    } else {
      o << "    switch (key->field) {\n";
      for (const Field* f : fields) {
        o << "      case " << f->number << ":\n";
        o << "        got = ::peers::idl::read_field<" << tag(f->type, boxed(r, *f))
          << ">(r, key->kind, v." << f->name << ", depth, {kTypeName, " << f->number << ", "
          << quoted(f->name) << "});\n";
        o << "        break;\n";
      }
      o << "      default:\n";
      o << "        got = ::peers::idl::skip_field(r, key->kind, kTypeName);\n";
      o << "        break;\n";
      o << "    }\n";
    }
    o << "    if (!got) return got.error();\n";
    o << "  }\n";
    o << "  return v;\n";
  }

  void struct_def(const Record& r) {
    auto& o = cc_;
    encode_def(r);
    o << "\nstd::string " << r.name << "::encode() const {\n";
    o << "  std::string out;\n";
    o << "  ::peers::wire::Writer w(&out);\n";
    o << "  encode(w);\n";
    o << "  return out;\n";
    o << "}\n";
    o << "\n::peers::Result<" << r.name << "> " << r.name << "::decode(std::string_view body) {\n";
    o << "  ::peers::wire::Reader r(body);\n";
    o << "  return decode(r, 0);\n";
    o << "}\n";
    o << "\n::peers::Result<" << r.name << "> " << r.name
      << "::decode(::peers::wire::Reader& r, int depth) {\n";
    o << "  if (depth > ::peers::idl::kMaxDepth) return ::peers::idl::depth_error(kTypeName);\n";
    o << "  " << r.name << " v;\n";
    decode_loop(r);
    o << "}\n";
  }

  void error_def(const Record& r) {
    auto& o = cc_;
    // Parameters get a trailing '_' (which no field name has), so they do not
    // shadow the members they initialise.
    o << "\n" << r.name << "::" << r.name << "(std::string message";
    for (const Field& f : r.fields) o << ", " << cpp_type(f.type) << " " << f.name << "_";
    o << ")\n";
    o << "    : ::peers::Error(::peers::Errc::kApplication, std::string(kTypeName), "
         "std::move(message), {})";
    for (const Field& f : r.fields) o << ",\n      " << f.name << "(std::move(" << f.name << "_))";
    o << " {}\n";
    o << "\nvoid " << r.name << "::encode_fields(std::string& out) const {\n";
    o << "  ::peers::wire::Writer w(&out);\n";
    o << "  encode(w);\n";
    o << "}\n";
    encode_def(r);
    o << "\n::peers::Result<" << r.name << "> " << r.name
      << "::decode(std::string_view fields, std::string message) {\n";
    o << "  ::peers::wire::Reader r(fields);\n";
    o << "  [[maybe_unused]] const int depth = 0;\n";
    o << "  " << r.name << " v(std::move(message));\n";
    decode_loop(r);
    o << "}\n";
  }

  const File& file_;
  Graph graph_;
  std::ostringstream h_;
  std::ostringstream cc_;
};

}  // namespace

CppOutput generate_cpp(const File& file) { return Gen(file).run(); }

std::vector<const Record*> struct_order(const File& file) { return order_of(build_graph(file)); }

bool is_boxed(const File& file, const Record& holder, const Field& field) {
  return boxed_in(build_graph(file), holder, field);
}

// A line ending in '\' would continue the comment onto the next line of code,
// so it gets a '.' after it.
std::string doc_comment(const std::string& text, const std::string& indent) {
  std::string out;
  if (text.empty()) return out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    for (char& c : line) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = ' ';
    }
    if (!line.empty() && line.back() == '\\') line += '.';
    out += indent + "///" + (line.empty() ? "" : " ") + line + "\n";
  }
  return out;
}

std::string printable(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return out;
}

}  // namespace peers::idl
