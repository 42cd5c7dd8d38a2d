#include "idlc/checker.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string_view>

#include "idlc/names.h"
#include "lib/wire/codec.h"

namespace peers::idl {
namespace {

// Members of peers::Error (and of the generated error class) that an error's
// field would hide.
constexpr std::string_view kErrorMembers[] = {
    "code",          "message",    "origin",        "type_name",   "call_path",
    "what",          "set_origin", "set_call_path", "encode",      "decode",
    "encode_fields", "rethrow",    "refresh_what",  "system_code", "set_system_code",
};
// Members every generated struct has.
constexpr std::string_view kStructMembers[] = {"encode", "decode"};
// Members of the generated RPC classes (XClient, XServer and its base
// peers::rpc::Service) that a method would collide with.
constexpr std::string_view kRpcMembers[] = {"connection", "name", "methods", "call", "event"};

template <typename Range>
bool contains(const Range& r, std::string_view s) {
  return std::find(std::begin(r), std::end(r), s) != std::end(r);
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

enum class Place { kField, kElement, kMapKey };

class Checker {
 public:
  Checker(Program& program, Diagnostics& diags) : program_(program), diags_(diags) {}

  void run() {
    for (auto& f : program_.files) declare(*f);
    for (auto& f : program_.files) {
      file_ = f.get();
      for (auto& d : f->decls) {
        if (Record* r = as_record(*d)) check_record(*r);
        if (Enum* e = as_enum(*d)) check_enum(*e);
        if (Interface* i = as_interface(*d)) check_interface(*i);
      }
      check_by_value_cycles(*f);
    }
  }

 private:
  void error(Location loc, std::string message) {
    diags_.error(file_->path, loc, std::move(message));
  }

  // --- declarations -------------------------------------------------------
  void declare(File& f) {
    file_ = &f;
    check_package(f);
    std::map<std::string, const Decl*> here;
    for (auto& d : f.decls) {
      if (!is_camel(d->name)) {
        error(d->loc, std::string(decl_kind_name(d->kind)) + " name " + d->name +
                          " must be CamelCase (letters and digits, starting with a capital)");
      }
      if (auto [it, fresh] = here.emplace(d->name, d.get()); !fresh) {
        error(d->loc, "type name " + d->name + " is already used at " + to_string(it->second->loc));
        continue;
      }
      if (auto [it, fresh] = global_.emplace(d->full_name(), d.get()); !fresh) {
        error(d->loc, d->full_name() + " is already declared at " + it->second->file->path + ":" +
                          to_string(it->second->loc));
      }
    }
  }

  void check_package(const File& f) {
    // Generated code lives in the package's namespace; these are the
    // namespaces it relies on.
    for (const char* taken : {"peers", "peers.idl", "peers.rpc", "peers.wire"}) {
      if (f.package == taken) {
        error(f.package_loc, "package " + f.package + " is reserved for the Peers runtime");
        return;
      }
    }
    std::string_view rest = f.package;
    while (true) {
      std::size_t dot = rest.find('.');
      std::string part(rest.substr(0, dot));
      if (!is_lower_snake(part)) {
        error(f.package_loc,
              "package name " + f.package + " must be dotted lower_snake_case names (vt.overlay)");
        return;
      }
      if (is_cpp_reserved(part)) {
        error(f.package_loc, "package name part " + part + " is reserved in C++");
        return;
      }
      if (part == "std") {
        error(f.package_loc, "package name part std would hide namespace std in generated code");
        return;
      }
      if (dot == std::string_view::npos) return;
      rest.remove_prefix(dot + 1);
    }
  }

  // --- name lookup --------------------------------------------------------
  std::vector<const File*> visible(const File& f) const {
    std::vector<const File*> out{&f};
    for (const Import& imp : f.imports) {
      if (imp.file != nullptr && std::find(out.begin(), out.end(), imp.file) == out.end()) {
        out.push_back(imp.file);
      }
    }
    return out;
  }

  // The declaration `name` means in the current file; null (reported) if none.
  const Decl* resolve(const std::string& name, Location loc) {
    std::vector<const Decl*> found;
    std::size_t dot = name.rfind('.');
    if (dot == std::string::npos) {
      for (const auto& d : file_->decls) {
        if (d->name == name) return d.get();
      }
      for (const File* f : visible(*file_)) {
        if (f == file_) continue;
        for (const auto& d : f->decls) {
          if (d->name == name) found.push_back(d.get());
        }
      }
    } else {
      std::string qual = name.substr(0, dot);
      std::string simple = name.substr(dot + 1);
      for (const File* f : visible(*file_)) {
        bool match = f->package == qual ||
                     (f->package.size() > qual.size() &&
                      f->package.compare(f->package.size() - qual.size(), qual.size(), qual) == 0 &&
                      f->package[f->package.size() - qual.size() - 1] == '.');
        if (!match) continue;
        for (const auto& d : f->decls) {
          if (d->name == simple) found.push_back(d.get());
        }
      }
    }
    if (found.size() == 1) return found[0];
    if (found.empty()) {
      std::string hint;
      for (const auto& [full, d] : global_) {
        bool same = full == name || (dot == std::string::npos && d->name == name);
        if (same) {
          hint = " (" + full + " is declared in " + d->file->path +
                 ", which this file does not import)";
          break;
        }
      }
      error(loc, "unknown type " + name + hint);
      return nullptr;
    }
    std::string names;
    for (const Decl* d : found) names += (names.empty() ? "" : " or ") + d->full_name();
    error(loc, name + " is ambiguous: " + names + "; qualify it with its package");
    return nullptr;
  }

  // --- types --------------------------------------------------------------
  void check_type(TypeExpr& t, Place place) {
    if (place == Place::kMapKey) {
      bool ok = is_integer(t.kind) || t.kind == TypeKind::kString || t.kind == TypeKind::kBytes ||
                t.kind == TypeKind::kFixedBytes;
      if (!ok) {
        if (t.kind == TypeKind::kNamed) resolve_named(t);
        error(t.loc, "map key must be an integer, string or bytes type, not " + describe_type(t));
        return;
      }
    }
    switch (t.kind) {
      case TypeKind::kVoid:
        error(t.loc, "void is only allowed as a method's request or result");
        return;
      case TypeKind::kOptional:
        if (place != Place::kField) {
          error(t.loc, "optional<> is only allowed as the whole type of a field");
          return;
        }
        check_type(t.args[0], Place::kElement);
        return;
      case TypeKind::kList:
        check_type(t.args[0], Place::kElement);
        return;
      case TypeKind::kMap:
        check_type(t.args[0], Place::kMapKey);
        check_type(t.args[1], Place::kElement);
        return;
      case TypeKind::kFixedBytes:
        if (t.size < 1 || t.size > kMaxFixedBytes) {
          error(t.loc, "bytes<" + std::to_string(t.size) + "> has a bad size: N must be 1 to " +
                           std::to_string(kMaxFixedBytes) + " (use bytes for longer values)");
        }
        return;
      case TypeKind::kNamed: {
        const Decl* d = resolve_named(t);
        if (d == nullptr) return;
        if (d->kind == DeclKind::kInterface) {
          error(t.loc, t.name + " is an interface, not a type a field can hold");
          t.decl = nullptr;
        } else if (d->kind == DeclKind::kError) {
          error(t.loc, t.name + " is an error; fields cannot hold errors");
          t.decl = nullptr;
        }
        return;
      }
      default:
        return;
    }
  }

  const Decl* resolve_named(TypeExpr& t) {
    if (t.decl == nullptr) t.decl = resolve(t.name, t.loc);
    return t.decl;
  }

  // "u32", "enum vt.overlay.Role", "list<u32>".
  static std::string describe_type(const TypeExpr& t) {
    if (t.kind == TypeKind::kNamed && t.decl != nullptr) {
      return std::string(decl_kind_name(t.decl->kind)) + " " + t.name;
    }
    return t.spelling();
  }

  // --- records ------------------------------------------------------------
  void check_record(Record& r) {
    std::string what = std::string(decl_kind_name(r.kind)) + " " + r.name;
    bool is_error = r.kind == DeclKind::kError;
    std::map<std::uint64_t, Location> numbers;
    std::map<std::uint64_t, Location> reserved;
    std::map<std::string, Location> names;
    for (const Reserved& res : r.reserved) {
      if (res.number < 1 || res.number > wire::kMaxField) {
        error(res.loc, "field number " + std::to_string(res.number) + " is out of range (1 to " +
                           std::to_string(wire::kMaxField) + ")");
      }
      reserved.emplace(res.number, res.loc);
    }
    for (Field& f : r.fields) {
      if (!is_lower_snake(f.name)) {
        error(f.name_loc, "field name " + f.name + " must be lower_snake_case");
      } else if (is_cpp_reserved(f.name)) {
        error(f.name_loc, "field name " + f.name + " is reserved in C++");
      } else if (is_error && contains(kErrorMembers, f.name)) {
        error(f.name_loc, "field name " + f.name +
                              " is reserved in errors (it names a member of the error class)");
      } else if (!is_error && contains(kStructMembers, f.name)) {
        error(f.name_loc,
              "field name " + f.name + " is reserved (it names a generated member function)");
      }
      if (auto [it, fresh] = names.emplace(f.name, f.name_loc); !fresh) {
        error(f.name_loc, "field name " + f.name + " is used twice in " + what +
                              " (first used at " + to_string(it->second) + ")");
      }
      if (f.number < 1 || f.number > wire::kMaxField) {
        error(f.number_loc, "field number " + std::to_string(f.number) + " is out of range (1 to " +
                                std::to_string(wire::kMaxField) + ")");
      } else if (auto [it, fresh] = numbers.emplace(f.number, f.number_loc); !fresh) {
        error(f.number_loc, "field number " + std::to_string(f.number) + " is used twice in " +
                                what + " (first used at " + to_string(it->second) + ")");
      } else if (auto res = reserved.find(f.number); res != reserved.end()) {
        error(f.number_loc, "field number " + std::to_string(f.number) + " is reserved in " + what +
                                " (at " + to_string(res->second) + ")");
      }
      check_type(f.type, Place::kField);
    }
  }

  // --- enums --------------------------------------------------------------
  void check_enum(Enum& e) {
    std::map<std::string, Location> names;
    std::map<std::uint64_t, const EnumValue*> numbers;
    std::map<std::string, const EnumValue*> constants;
    for (const EnumValue& v : e.values) {
      bool good_name = is_upper_snake(v.name);
      if (!good_name) error(v.loc, "enum value name " + v.name + " must be UPPER_SNAKE_CASE");
      if (auto [it, fresh] = names.emplace(v.name, v.loc); !fresh) {
        error(v.loc, "enum value name " + v.name + " is used twice in enum " + e.name +
                         " (first used at " + to_string(it->second) + ")");
      } else if (good_name) {
        if (auto [c, cfresh] = constants.emplace(enum_constant(v.name), &v); !cfresh) {
          error(v.loc, "enum values " + c->second->name + " and " + v.name + " both become " +
                           c->first + " in C++");
        }
      }
      if (v.number > 0xffffffffu) {
        error(v.number_loc, "enum value number " + std::to_string(v.number) +
                                " is out of range (0 to 4294967295)");
      } else if (auto [it, fresh] = numbers.emplace(v.number, &v); !fresh) {
        error(v.number_loc, "enum value number " + std::to_string(v.number) +
                                " is used twice in enum " + e.name + " (first used by " +
                                it->second->name + " at " + to_string(it->second->loc) + ")");
      }
    }
    if (numbers.find(0) == numbers.end()) {
      error(e.loc, "enum " + e.name +
                       " has no value numbered 0 (every enum needs one: it is the default)");
    }
  }

  // --- interfaces ---------------------------------------------------------
  void check_interface(Interface& it) {
    std::map<std::string, Location> names;
    std::map<std::string, const Method*> structs;
    std::map<std::uint32_t, const Method*> ids;
    std::string full = it.full_name();
    for (const char* suffix : {"Client", "Server"}) {
      auto other = global_.find(full + suffix);
      if (other == global_.end()) continue;
      const Decl& d = *other->second;
      error(it.loc, "interface " + it.name + " makes the class " + it.name + suffix +
                        " of its RPC stubs, which " + std::string(decl_kind_name(d.kind)) + " " +
                        d.full_name() + " (" + d.file->path + ":" + to_string(d.loc) +
                        ") already names");
    }
    for (Method& m : it.methods) {
      bool good_name = is_lower_snake(m.name);
      if (!good_name) {
        error(m.loc, "method name " + m.name + " must be lower_snake_case");
      } else if (is_cpp_reserved(m.name)) {
        error(m.loc, "method name " + m.name + " is reserved in C++");
      } else if (contains(kRpcMembers, m.name)) {
        error(m.loc, "method name " + m.name +
                         " is reserved (it names a member of the generated RPC classes)");
      }
      if (auto [n, fresh] = names.emplace(m.name, m.loc); !fresh) {
        error(m.loc, "method " + m.name + " is declared twice in interface " + it.name +
                         " (first at " + to_string(n->second) + ")");
        continue;
      }
      if (good_name) {
        std::string cpp = snake_to_camel(m.name);
        if (cpp == it.name) {
          error(m.loc,
                "method " + m.name + " would become " + cpp + " in C++, the name of its interface");
        } else if (cpp == "Request" || cpp == "Response" || cpp == "Throws") {
          error(m.loc, "method " + m.name + " would become " + cpp +
                           " in C++, which names a member of its own metadata struct");
        } else if (auto [s, fresh] = structs.emplace(cpp, &m); !fresh) {
          error(m.loc, "methods " + s->second->name + " and " + m.name + " both become " + cpp +
                           " in C++");
        }
      }
      check_message(m.request, "request", m);
      if (m.oneway) {
        if (m.response) error(m.arrow_loc, "oneway method " + m.name + " cannot have a result");
        if (m.data) error(m.data_loc, "oneway method " + m.name + " cannot carry data");
        if (m.has_throws) error(m.throws_loc, "oneway method " + m.name + " cannot throw errors");
      } else if (!m.response) {
        error(m.loc, "method " + m.name + " has no result: write '-> void', or declare it oneway");
      }
      if (m.response) check_message(*m.response, "result", m);
      std::set<const Decl*> thrown;
      for (NameRef& ref : m.throws) {
        ref.decl = resolve(ref.name, ref.loc);
        if (ref.decl == nullptr) continue;
        if (ref.decl->kind != DeclKind::kError) {
          error(ref.loc, "method " + m.name + " throws " + ref.name + ", which is " +
                             article(ref.decl->kind) + ", not an error");
          ref.decl = nullptr;
        } else if (!thrown.insert(ref.decl).second) {
          error(ref.loc, "method " + m.name + " throws " + ref.name + " twice");
        }
      }
      m.id = method_id(full + "." + m.name);
      if (auto [other, fresh] = ids.emplace(m.id, &m); !fresh) {
        error(m.loc, "methods " + other->second->name + " and " + m.name + " have the same id " +
                         hex32(m.id) + " (FNV-1a of " + full + ".<method>); rename one");
      }
    }
    // The client's blocking stub of a request/response method `m` is `m_sync`.
    const std::string_view sync = "_sync";
    for (const Method& m : it.methods) {
      std::string_view name = m.name;
      if (name.size() <= sync.size() || !name.ends_with(sync)) continue;
      std::string base(name.substr(0, name.size() - sync.size()));
      bool has_sync_stub = std::any_of(it.methods.begin(), it.methods.end(), [&](const Method& b) {
        return b.name == base && !b.oneway && !b.data;
      });
      if (has_sync_stub) {
        error(m.loc, "method " + m.name + " would collide with the blocking stub of method " +
                         base + " in the generated RPC client");
      }
    }
  }

  static std::string article(DeclKind k) {
    return k == DeclKind::kEnum || k == DeclKind::kError || k == DeclKind::kInterface
               ? "an " + std::string(decl_kind_name(k))
               : "a " + std::string(decl_kind_name(k));
  }

  void check_message(TypeExpr& t, const char* role, const Method& m) {
    if (t.kind == TypeKind::kVoid) return;
    if (t.kind == TypeKind::kNamed) {
      const Decl* d = resolve_named(t);
      if (d == nullptr || d->kind == DeclKind::kStruct) return;
      error(t.loc, std::string("the ") + role + " of method " + m.name +
                       " must be a struct or void, not " + article(d->kind) + " " + t.name);
      t.decl = nullptr;
      return;
    }
    error(t.loc, std::string("the ") + role + " of method " + m.name +
                     " must be a struct or void, not " + t.spelling());
  }

  // --- containment --------------------------------------------------------
  // A struct that holds a struct of its own cycle directly (not through
  // optional, list or map) would be infinitely large. Each cycle is reported
  // once, at the field of its first-declared struct.
  void check_by_value_cycles(const File& f) {
    std::vector<const Record*> structs;
    std::map<const Decl*, std::size_t> index;
    for (const auto& d : f.decls) {
      if (d->kind == DeclKind::kStruct) {
        index[d.get()] = structs.size();
        structs.push_back(static_cast<const Record*>(d.get()));
      }
    }
    // Direct edges: struct -> (field, struct held by value).
    std::vector<std::vector<std::pair<const Field*, std::size_t>>> edges(structs.size());
    for (std::size_t i = 0; i < structs.size(); ++i) {
      for (const Field& fl : structs[i]->fields) {
        if (fl.type.kind != TypeKind::kNamed || fl.type.decl == nullptr) continue;
        auto it = index.find(fl.type.decl);
        if (it != index.end()) edges[i].push_back({&fl, it->second});
      }
    }
    std::vector<bool> reported(structs.size(), false);
    for (std::size_t start = 0; start < structs.size(); ++start) {
      if (reported[start]) continue;
      // Shortest way back to `start`, breadth first over direct edges.
      std::vector<std::pair<std::size_t, const Field*>> from(structs.size(), {SIZE_MAX, nullptr});
      std::vector<std::size_t> queue{start};
      bool closed = false;
      std::size_t last = 0;
      const Field* closing = nullptr;
      for (std::size_t q = 0; q < queue.size() && !closed; ++q) {
        std::size_t at = queue[q];
        for (const auto& [field, to] : edges[at]) {
          if (to == start) {
            closed = true;
            last = at;
            closing = field;
            break;
          }
          if (from[to].second == nullptr && to != start) {
            from[to] = {at, field};
            queue.push_back(to);
          }
        }
      }
      if (!closed) continue;
      std::vector<std::pair<std::size_t, const Field*>> path{{last, closing}};
      for (std::size_t at = last; at != start; at = from[at].first) {
        path.push_back({from[at].first, from[at].second});
      }
      std::reverse(path.begin(), path.end());
      std::string chain;
      for (const auto& [s, field] : path) {
        chain += structs[s]->name + "." + field->name + " -> ";
        reported[s] = true;
      }
      chain += structs[start]->name;
      error(path.front().second->name_loc, "struct " + structs[start]->name +
                                               " contains itself by value (" + chain +
                                               "); hold it through optional<>, list<> or map<>");
    }
  }

  Program& program_;
  Diagnostics& diags_;
  const File* file_ = nullptr;
  std::map<std::string, const Decl*> global_;
};

}  // namespace

void check(Program& program, Diagnostics& diags) { Checker(program, diags).run(); }

}  // namespace peers::idl
