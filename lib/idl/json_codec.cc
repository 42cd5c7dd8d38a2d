#include "lib/idl/json_codec.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

#include "lib/idl/field_codec.h"
#include "lib/idl/type_kind.h"
#include "lib/kernel/hex.h"
#include "lib/wire/codec.h"

namespace peers::idl {
namespace {

using json = nlohmann::json;
using wire::Kind;

// Types nest at most this deep in a descriptor (peers-idlc allows 16).
constexpr int kMaxTypeDepth = 32;

using K = TypeKind;

std::string_view kind_text(K k) {
  std::string_view name = descriptor_kind_name(k);
  return name.empty() ? "?" : name;
}

struct Type {
  K k = K::kBool;
  std::uint64_t size = 0;  // kFixedBytes
  std::string name;        // kEnum, kStruct: full name
  std::vector<Type> args;  // kList, kOptional: element; kMap: key, value
};

std::uint64_t unsigned_max(K k) {
  switch (k) {
    case K::kU8:
      return 0xff;
    case K::kU16:
      return 0xffff;
    case K::kU32:
    case K::kEnum:
      return 0xffffffff;
    default:
      return std::numeric_limits<std::uint64_t>::max();
  }
}

int signed_bits(K k) { return integer_bits(k); }

Kind wire_kind(const Type& t) {
  switch (t.k) {
    case K::kF64:
      return Kind::kFixed64;
    case K::kString:
    case K::kBytes:
    case K::kFixedBytes:
    case K::kList:
    case K::kMap:
    case K::kStruct:
      return Kind::kBytes;
    case K::kOptional:
      return wire_kind(t.args[0]);
    default:
      return Kind::kVarint;
  }
}

std::size_t min_size(const Type& t) { return t.k == K::kF64 ? 8 : 1; }

struct FieldInfo {
  std::uint32_t number = 0;
  std::string name;
  Type type;
};

struct RecordInfo {
  std::string full_name;
  std::vector<FieldInfo> fields;  // by number
  std::map<std::string, std::size_t, std::less<>> by_name;
  std::map<std::uint32_t, std::size_t> by_number;
};

struct EnumInfo {
  std::map<std::string, std::uint32_t, std::less<>> by_name;
  std::map<std::uint32_t, std::string> by_number;
};

Error descriptor_error(const std::string& what) {
  return Error(Errc::kInvalidArgument, "malformed descriptor: " + what);
}

Result<Type> parse_type(const json& j, int depth) {
  if (depth > kMaxTypeDepth) return descriptor_error("types nested too deeply");
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) {
    return descriptor_error("a type must be an object with a \"kind\"");
  }
  std::string kind = j["kind"].get<std::string>();
  Type t;
  std::optional<K> known = descriptor_kind(kind);
  if (!known) return descriptor_error("unknown type kind \"" + kind + "\"");
  t.k = *known;
  switch (t.k) {
    case K::kFixedBytes:
      t.size = j.at("size").get<std::uint64_t>();
      if (t.size == 0 || t.size > (1u << 20)) return descriptor_error("bad fixed_bytes size");
      break;
    case K::kList:
    case K::kOptional: {
      auto of = parse_type(j.at("of"), depth + 1);
      if (!of) return of.error();
      t.args.push_back(std::move(*of));
      if (t.k == K::kOptional && t.args[0].k == K::kOptional) {
        return descriptor_error("optional<optional<...>>");
      }
      break;
    }
    case K::kMap: {
      auto key = parse_type(j.at("key"), depth + 1);
      if (!key) return key.error();
      auto value = parse_type(j.at("value"), depth + 1);
      if (!value) return value.error();
      K kk = key->k;
      if (!is_signed(kk) && !is_unsigned(kk) && kk != K::kString && kk != K::kBytes &&
          kk != K::kFixedBytes) {
        return descriptor_error("bad map key kind " + std::string(kind_text(kk)));
      }
      t.args.push_back(std::move(*key));
      t.args.push_back(std::move(*value));
      break;
    }
    case K::kEnum:
    case K::kStruct:
      t.name = j.at("name").get<std::string>();
      break;
    default:
      break;
  }
  for (const Type& a : t.args) {
    if (a.k == K::kOptional && t.k != K::kOptional) {
      return descriptor_error("optional inside " + std::string(kind_text(t.k)));
    }
  }
  return t;
}

// "at seqs[2]: what" (or just "what" at the top).
Error value_error(const std::string& path, const std::string& what) {
  return Error(Errc::kInvalidArgument, path.empty() ? what : "at " + path + ": " + what);
}

std::string got(const json& v) {
  if (v.is_number_float()) return "a fractional number";
  if (v.is_number()) return "number " + v.dump();
  return std::string(v.type_name());
}

std::string join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

}  // namespace

struct Descriptors::Tables {
  std::map<std::string, RecordInfo, std::less<>> records;
  std::map<std::string, EnumInfo, std::less<>> enums;
  std::map<std::string, std::map<std::string, Method, std::less<>>, std::less<>> interfaces;

  const RecordInfo* record(std::string_view name) const {
    auto it = records.find(name);
    return it == records.end() ? nullptr : &it->second;
  }
  const EnumInfo* enumeration(std::string_view name) const {
    auto it = enums.find(name);
    return it == enums.end() ? nullptr : &it->second;
  }
};

namespace {

Error missing_type(const std::string& name) {
  return Error(Errc::kInvalidArgument,
               "type " + name + " is not in the descriptors (load the file that declares it)");
}

// --- JSON -> wire ----------------------------------------------------------------

// A scalar ready to write: a varint, the bits of an f64, or bytes.
struct Scalar {
  Kind kind = Kind::kVarint;
  std::uint64_t u = 0;
  std::string b;
  bool fixed = false;  // bytes<N>: written even when all zero
  bool is_default() const { return kind == Kind::kBytes ? (!fixed && b.empty()) : u == 0; }
};

void write_scalar(wire::Writer& w, const Scalar& s) {
  switch (s.kind) {
    case Kind::kVarint:
      w.varint(s.u);
      break;
    case Kind::kFixed64:
      w.fixed64(s.u);
      break;
    case Kind::kBytes:
      w.bytes(s.b);
      break;
  }
}

class Encoder {
 public:
  explicit Encoder(const Descriptors::Tables& t) : t_(t) {}

  Result<void> record(wire::Writer& w, const RecordInfo& r, const json& v, int depth,
                      const std::string& path) {
    if (depth > kMaxDepth) {
      return value_error(path, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    if (!v.is_object()) {
      return value_error(path, "expected an object for " + r.full_name + ", got " + got(v));
    }
    for (const auto& item : v.items()) {
      if (r.by_name.find(item.key()) == r.by_name.end()) {
        return value_error(path, "unknown field \"" + item.key() + "\" in " + r.full_name);
      }
    }
    for (const FieldInfo& f : r.fields) {
      auto it = v.find(f.name);
      if (it == v.end()) {
        // Absent: the default, which is not written, except bytes<N> (zeros).
        if (f.type.k == K::kFixedBytes) w.field_bytes(f.number, std::string(f.type.size, '\0'));
        continue;
      }
      auto ok = field(w, f, *it, depth, join(path, f.name));
      if (!ok) return ok;
    }
    return {};
  }

 private:
  Result<void> field(wire::Writer& w, const FieldInfo& f, const json& v, int depth,
                     const std::string& path) {
    const Type& t = f.type;
    switch (t.k) {
      case K::kOptional:
        if (v.is_null()) return {};
        w.key(f.number, wire_kind(t.args[0]));
        return bare(w, t.args[0], v, depth, path);
      case K::kStruct: {
        const RecordInfo* r = t_.record(t.name);
        if (r == nullptr) return missing_type(t.name);
        std::size_t mark = w.size();
        w.key(f.number, Kind::kBytes);
        std::size_t at = w.begin_nested();
        auto ok = record(w, *r, v, depth + 1, path);
        if (!ok) return ok;
        w.end_nested_or_drop(at, mark);
        return {};
      }
      case K::kList:
        if (!v.is_array()) return value_error(path, "expected an array, got " + got(v));
        if (v.empty()) return {};
        w.key(f.number, Kind::kBytes);
        return bare(w, t, v, depth, path);
      case K::kMap:
        if (!v.is_object()) return value_error(path, "expected an object, got " + got(v));
        if (v.empty()) return {};
        w.key(f.number, Kind::kBytes);
        return bare(w, t, v, depth, path);
      default: {
        auto s = scalar(t, v, path);
        if (!s) return s.error();
        if (s->is_default()) return {};
        w.key(f.number, s->kind);
        write_scalar(w, *s);
        return {};
      }
    }
  }

  Result<void> bare(wire::Writer& w, const Type& t, const json& v, int depth,
                    const std::string& path) {
    switch (t.k) {
      case K::kStruct: {
        const RecordInfo* r = t_.record(t.name);
        if (r == nullptr) return missing_type(t.name);
        std::size_t at = w.begin_nested();
        auto ok = record(w, *r, v, depth + 1, path);
        if (!ok) return ok;
        w.end_nested(at);
        return {};
      }
      case K::kList: {
        if (!v.is_array()) return value_error(path, "expected an array, got " + got(v));
        std::size_t at = w.begin_nested();
        w.varint(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
          auto ok = bare(w, t.args[0], v[i], depth, path + "[" + std::to_string(i) + "]");
          if (!ok) return ok;
        }
        w.end_nested(at);
        return {};
      }
      case K::kMap:
        return map(w, t, v, depth, path);
      case K::kOptional:
        return value_error(path, "optional<> cannot be an element");
      default: {
        auto s = scalar(t, v, path);
        if (!s) return s.error();
        write_scalar(w, *s);
        return {};
      }
    }
  }

  // Entries are written in the order std::map keeps them in C++: integers by
  // value, strings and bytes bytewise.
  Result<void> map(wire::Writer& w, const Type& t, const json& v, int depth,
                   const std::string& path) {
    if (!v.is_object()) return value_error(path, "expected an object, got " + got(v));
    struct Entry {
      std::int64_t i = 0;
      std::uint64_t u = 0;
      std::string b;
      Scalar key;
      const json* value;
      std::string path;
    };
    const Type& kt = t.args[0];
    std::vector<Entry> entries;
    for (const auto& item : v.items()) {
      Entry e;
      e.value = &item.value();
      e.path = path + "[" + json(item.key()).dump() + "]";
      const std::string& text = item.key();
      if (is_signed(kt.k) || is_unsigned(kt.k)) {
        bool neg = !text.empty() && text[0] == '-';
        const char* first = text.data();
        const char* last = text.data() + text.size();
        std::from_chars_result res;
        if (is_signed(kt.k)) {
          res = std::from_chars(first, last, e.i);
        } else {
          res = neg ? std::from_chars_result{first, std::errc::invalid_argument}
                    : std::from_chars(first, last, e.u);
        }
        if (res.ec != std::errc() || res.ptr != last || text.empty()) {
          return value_error(e.path,
                             "map key \"" + text + "\" is not a " + std::string(kind_text(kt.k)));
        }
        auto s = is_signed(kt.k) ? scalar(kt, json(e.i), e.path) : scalar(kt, json(e.u), e.path);
        if (!s) return s.error();
        e.key = std::move(*s);
      } else {
        auto s = scalar(kt, json(text), e.path);
        if (!s) return s.error();
        e.b = s->b;
        e.key = std::move(*s);
      }
      entries.push_back(std::move(e));
    }
    std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
      if (is_signed(kt.k)) return a.i < b.i;
      if (is_unsigned(kt.k)) return a.u < b.u;
      return a.b < b.b;
    });
    for (std::size_t i = 1; i < entries.size(); ++i) {
      const Entry& a = entries[i - 1];
      const Entry& b = entries[i];
      if (a.i == b.i && a.u == b.u && a.b == b.b) {
        return value_error(b.path, "duplicate map key");
      }
    }
    std::size_t at = w.begin_nested();
    w.varint(entries.size());
    for (const Entry& e : entries) {
      write_scalar(w, e.key);
      auto ok = bare(w, t.args[1], *e.value, depth, e.path);
      if (!ok) return ok;
    }
    w.end_nested(at);
    return {};
  }

  Result<Scalar> scalar(const Type& t, const json& v, const std::string& path) const {
    Scalar s;
    switch (t.k) {
      case K::kBool:
        if (!v.is_boolean()) return value_error(path, "expected true or false, got " + got(v));
        s.u = v.get<bool>() ? 1 : 0;
        return s;
      case K::kF64: {
        double d;
        if (v.is_number()) {
          d = v.get<double>();
        } else if (v.is_string() && v.get<std::string>() == "NaN") {
          d = std::numeric_limits<double>::quiet_NaN();
        } else if (v.is_string() && v.get<std::string>() == "Infinity") {
          d = std::numeric_limits<double>::infinity();
        } else if (v.is_string() && v.get<std::string>() == "-Infinity") {
          d = -std::numeric_limits<double>::infinity();
        } else {
          return value_error(path, "expected a number, got " + got(v));
        }
        s.kind = Kind::kFixed64;
        s.u = std::bit_cast<std::uint64_t>(d);
        return s;
      }
      case K::kString:
        if (!v.is_string()) return value_error(path, "expected a string, got " + got(v));
        s.kind = Kind::kBytes;
        s.b = v.get<std::string>();
        if (!is_utf8(s.b)) return value_error(path, "the string is not UTF-8");
        return s;
      case K::kBytes:
      case K::kFixedBytes: {
        if (!v.is_string()) return value_error(path, "expected a hex string, got " + got(v));
        auto b = from_hex(v.get<std::string>());
        if (!b) return value_error(path, "expected a hex string (pairs of hex digits)");
        if (t.k == K::kFixedBytes && b->size() != t.size) {
          return value_error(path, "expected " + std::to_string(t.size) + " bytes, got " +
                                       std::to_string(b->size()));
        }
        s.kind = Kind::kBytes;
        s.b = std::move(*b);
        s.fixed = t.k == K::kFixedBytes;
        return s;
      }
      case K::kEnum: {
        const EnumInfo* e = t_.enumeration(t.name);
        if (e == nullptr) return missing_type(t.name);
        if (v.is_string()) {
          auto it = e->by_name.find(v.get<std::string>());
          if (it == e->by_name.end()) {
            return value_error(path,
                               "\"" + v.get<std::string>() + "\" is not a value of enum " + t.name);
          }
          s.u = it->second;
          return s;
        }
        auto u = to_unsigned(v, unsigned_max(K::kEnum), "an enum value name or number", path);
        if (!u) return u.error();
        s.u = *u;
        return s;
      }
      default:
        break;
    }
    if (is_unsigned(t.k)) {
      auto u = to_unsigned(v, unsigned_max(t.k), "an unsigned integer", path);
      if (!u) return u.error();
      s.u = *u;
      return s;
    }
    if (is_signed(t.k)) {
      std::int64_t i;
      if (v.is_number_integer() && !v.is_number_unsigned()) {
        i = v.get<std::int64_t>();
      } else if (v.is_number_unsigned() &&
                 v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)) {
        i = static_cast<std::int64_t>(v.get<std::uint64_t>());
      } else if (v.is_number_unsigned()) {
        return value_error(path, v.dump() + " is out of range for " + std::string(kind_text(t.k)));
      } else {
        return value_error(path, "expected an integer, got " + got(v));
      }
      int bits = signed_bits(t.k);
      if (bits < 64) {
        std::int64_t lo = -(std::int64_t{1} << (bits - 1));
        std::int64_t hi = (std::int64_t{1} << (bits - 1)) - 1;
        if (i < lo || i > hi) {
          return value_error(
              path, std::to_string(i) + " is out of range for " + std::string(kind_text(t.k)));
        }
      }
      s.u = wire::zigzag(i);
      return s;
    }
    return value_error(path, "cannot encode a " + std::string(kind_text(t.k)) + " here");
  }

  static Result<std::uint64_t> to_unsigned(const json& v, std::uint64_t max, const char* what,
                                           const std::string& path) {
    std::uint64_t u;
    if (v.is_number_unsigned()) {
      u = v.get<std::uint64_t>();
    } else if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
      u = static_cast<std::uint64_t>(v.get<std::int64_t>());  // built in C++ from an int
    } else if (v.is_number_integer()) {
      return value_error(path, v.dump() + " is negative; expected " + what);
    } else {
      return value_error(path, std::string("expected ") + what + ", got " + got(v));
    }
    if (u > max)
      return value_error(
          path, std::to_string(u) + " is out of range (at most " + std::to_string(max) + ")");
    return u;
  }

  const Descriptors::Tables& t_;
};

// --- wire -> JSON ----------------------------------------------------------------

class Decoder {
 public:
  explicit Decoder(const Descriptors::Tables& t) : t_(t) {}

  Result<json> record(wire::Reader& r, const RecordInfo& rec, int depth) {
    if (depth > kMaxDepth) return depth_error(rec.full_name);
    json out = json::object();
    for (const FieldInfo& f : rec.fields) {
      auto d = default_value(f.type, 0);
      if (!d) return d.error();
      out[f.name] = std::move(*d);
    }
    while (!r.at_end()) {
      auto key = r.key();
      if (!key) return record_error(rec.full_name, key.error());
      auto it = rec.by_number.find(key->field);
      if (it == rec.by_number.end()) {
        auto ok = skip_field(r, key->kind, rec.full_name);
        if (!ok) return ok.error();
        continue;
      }
      const FieldInfo& f = rec.fields[it->second];
      FieldRef ref{rec.full_name, f.number, f.name};
      Kind want = wire_kind(f.type);
      if (key->kind != want) return kind_error(ref, want, key->kind);
      const Type& t = f.type.k == K::kOptional ? f.type.args[0] : f.type;
      auto v = bare(r, t, depth, ref);
      if (!v) return v.error();
      // As in generated code: lists append, maps merge, anything else
      // (optional<list<...>> too) is replaced by a later occurrence.
      json& slot = out[f.name];
      if (f.type.k == K::kList) {
        for (auto& e : *v) slot.push_back(std::move(e));
      } else if (f.type.k == K::kMap) {
        for (auto& [k, e] : v->items()) slot[k] = std::move(e);
      } else {
        slot = std::move(*v);
      }
    }
    return out;
  }

 private:
  Result<json> default_value(const Type& t, int depth) {
    if (depth > kMaxDepth) return Error(Errc::kInvalidArgument, "struct defaults nest too deeply");
    switch (t.k) {
      case K::kBool:
        return json(false);
      case K::kF64:
        return json(0.0);
      case K::kString:
      case K::kBytes:
        return json("");
      case K::kFixedBytes:
        return json(std::string(t.size * 2, '0'));
      case K::kList:
        return json::array();
      case K::kMap:
        return json::object();
      case K::kOptional:
        return json(nullptr);
      case K::kEnum:
        return enum_json(t, 0);
      case K::kStruct: {
        const RecordInfo* r = t_.record(t.name);
        if (r == nullptr) return missing_type(t.name);
        json out = json::object();
        for (const FieldInfo& f : r->fields) {
          auto d = default_value(f.type, depth + 1);
          if (!d) return d.error();
          out[f.name] = std::move(*d);
        }
        return out;
      }
      default:
        return is_signed(t.k) ? json(std::int64_t{0}) : json(std::uint64_t{0});
    }
  }

  Result<json> enum_json(const Type& t, std::uint32_t n) {
    const EnumInfo* e = t_.enumeration(t.name);
    if (e == nullptr) return missing_type(t.name);
    auto it = e->by_number.find(n);
    if (it == e->by_number.end()) return json(n);
    return json(it->second);
  }

  // A map key as an object key.
  static std::string key_text(const json& k) {
    return k.is_string() ? k.get<std::string>() : k.dump();
  }

  template <typename U>
  static Result<json> read_unsigned(wire::Reader& r, const FieldRef& ref) {
    auto v = r.unsigned_int<U>();
    if (!v) return field_error(ref, v.error());
    return json(static_cast<std::uint64_t>(*v));
  }
  template <typename S>
  static Result<json> read_signed(wire::Reader& r, const FieldRef& ref) {
    auto v = r.signed_int<S>();
    if (!v) return field_error(ref, v.error());
    return json(static_cast<std::int64_t>(*v));
  }

  Result<json> bare(wire::Reader& r, const Type& t, int depth, const FieldRef& ref) {
    switch (t.k) {
      case K::kBool: {
        auto v = r.boolean();
        if (!v) return field_error(ref, v.error());
        return json(*v);
      }
      case K::kU8:
        return read_unsigned<std::uint8_t>(r, ref);
      case K::kU16:
        return read_unsigned<std::uint16_t>(r, ref);
      case K::kU32:
        return read_unsigned<std::uint32_t>(r, ref);
      case K::kU64:
        return read_unsigned<std::uint64_t>(r, ref);
      case K::kI8:
        return read_signed<std::int8_t>(r, ref);
      case K::kI16:
        return read_signed<std::int16_t>(r, ref);
      case K::kI32:
        return read_signed<std::int32_t>(r, ref);
      case K::kI64:
        return read_signed<std::int64_t>(r, ref);
      case K::kF64: {
        auto v = r.f64();
        if (!v) return field_error(ref, v.error());
        if (std::isnan(*v)) return json("NaN");
        if (std::isinf(*v)) return json(*v > 0 ? "Infinity" : "-Infinity");
        return json(*v);
      }
      case K::kString: {
        auto v = r.bytes();
        if (!v) return field_error(ref, v.error());
        if (!is_utf8(*v)) return field_error(ref, "invalid UTF-8 in a string");
        return json(std::string(*v));
      }
      case K::kBytes:
      case K::kFixedBytes: {
        auto v = r.bytes();
        if (!v) return field_error(ref, v.error());
        if (t.k == K::kFixedBytes && v->size() != t.size) {
          return field_error(ref, "expected " + std::to_string(t.size) + " bytes, got " +
                                      std::to_string(v->size()));
        }
        return json(to_hex(*v));
      }
      case K::kEnum: {
        auto v = r.unsigned_int<std::uint32_t>();
        if (!v) return field_error(ref, v.error());
        return enum_json(t, *v);
      }
      case K::kStruct: {
        const RecordInfo* rec = t_.record(t.name);
        if (rec == nullptr) return missing_type(t.name);
        auto body = r.bytes();
        if (!body) return field_error(ref, body.error());
        wire::Reader sub = r.sub(*body);
        return record(sub, *rec, depth + 1);
      }
      case K::kList: {
        auto body = r.bytes();
        if (!body) return field_error(ref, body.error());
        wire::Reader sub = r.sub(*body);
        auto n = sub.count(min_size(t.args[0]));
        if (!n) return field_error(ref, n.error());
        json out = json::array();
        for (std::uint64_t i = 0; i < *n; ++i) {
          auto e = bare(sub, t.args[0], depth, ref);
          if (!e) return e.error();
          out.push_back(std::move(*e));
        }
        if (!sub.at_end()) return field_error(ref, sub.error("bytes after the last list element"));
        return out;
      }
      case K::kMap: {
        auto body = r.bytes();
        if (!body) return field_error(ref, body.error());
        wire::Reader sub = r.sub(*body);
        auto n = sub.count(min_size(t.args[0]) + min_size(t.args[1]));
        if (!n) return field_error(ref, n.error());
        json out = json::object();
        for (std::uint64_t i = 0; i < *n; ++i) {
          auto k = bare(sub, t.args[0], depth, ref);
          if (!k) return k.error();
          auto v = bare(sub, t.args[1], depth, ref);
          if (!v) return v.error();
          out[key_text(*k)] = std::move(*v);
        }
        if (!sub.at_end()) return field_error(ref, sub.error("bytes after the last map entry"));
        return out;
      }
      case K::kOptional:
      case K::kVoid:   // descriptors have no void values and
      case K::kNamed:  // no unresolved names (parse_type)
        break;
    }
    return field_error(ref, "optional<> cannot be an element");
  }

  const Descriptors::Tables& t_;
};

}  // namespace

Descriptors::Descriptors() : t_(std::make_unique<Tables>()) {}
Descriptors::~Descriptors() = default;
Descriptors::Descriptors(Descriptors&&) noexcept = default;
Descriptors& Descriptors::operator=(Descriptors&&) noexcept = default;

Result<Descriptors> Descriptors::load(const json& docs) {
  Descriptors d;
  if (docs.is_array()) {
    for (const json& doc : docs) {
      auto ok = d.add(doc);
      if (!ok) return ok.error();
    }
  } else {
    auto ok = d.add(docs);
    if (!ok) return ok.error();
  }
  return d;
}

Result<void> Descriptors::add(const json& doc) {
  // Parse everything first, so a bad document changes nothing.
  Tables parsed;
  try {
    if (!doc.is_object()) return descriptor_error("expected a JSON object");
    if (!doc.contains("peers_idl_descriptor") || doc["peers_idl_descriptor"].get<int>() != 1) {
      return descriptor_error("not a version 1 peers-idlc descriptor");
    }
    for (const char* section : {"structs", "errors"}) {
      for (const json& r : doc.at(section)) {
        RecordInfo info;
        info.full_name = r.at("full_name").get<std::string>();
        for (const json& f : r.at("fields")) {
          FieldInfo fi;
          std::uint64_t number = f.at("number").get<std::uint64_t>();
          if (number < 1 || number > wire::kMaxField) return descriptor_error("bad field number");
          fi.number = static_cast<std::uint32_t>(number);
          fi.name = f.at("name").get<std::string>();
          auto type = parse_type(f.at("type"), 0);
          if (!type) return type.error();
          fi.type = std::move(*type);
          info.fields.push_back(std::move(fi));
        }
        std::stable_sort(
            info.fields.begin(), info.fields.end(),
            [](const FieldInfo& a, const FieldInfo& b) { return a.number < b.number; });
        for (std::size_t i = 0; i < info.fields.size(); ++i) {
          if (!info.by_name.emplace(info.fields[i].name, i).second ||
              !info.by_number.emplace(info.fields[i].number, i).second) {
            return descriptor_error("duplicate field in " + info.full_name);
          }
        }
        std::string name = info.full_name;
        parsed.records[name] = std::move(info);
      }
    }
    for (const json& e : doc.at("enums")) {
      EnumInfo info;
      for (const json& v : e.at("values")) {
        std::string name = v.at("name").get<std::string>();
        std::uint64_t number = v.at("number").get<std::uint64_t>();
        if (number > 0xffffffffu) return descriptor_error("enum value out of range");
        info.by_name[name] = static_cast<std::uint32_t>(number);
        info.by_number[static_cast<std::uint32_t>(number)] = name;
      }
      parsed.enums[e.at("full_name").get<std::string>()] = std::move(info);
    }
    for (const json& it : doc.at("interfaces")) {
      auto& methods = parsed.interfaces[it.at("full_name").get<std::string>()];
      for (const json& m : it.at("methods")) {
        Method md;
        md.name = m.at("name").get<std::string>();
        md.id = m.at("id").get<std::uint32_t>();
        md.request = m.at("request").get<std::string>();
        if (!m.at("response").is_null()) md.response = m.at("response").get<std::string>();
        md.oneway = m.at("oneway").get<bool>();
        md.data = m.at("data").get<bool>();
        for (const json& e : m.at("throws")) md.throws.push_back(e.get<std::string>());
        if (m.contains("doc")) md.doc = m["doc"].get<std::string>();
        methods[md.name] = std::move(md);
      }
    }
  } catch (const json::exception& e) {
    return descriptor_error(e.what());
  }
  for (auto& [k, v] : parsed.records) t_->records[k] = std::move(v);
  for (auto& [k, v] : parsed.enums) t_->enums[k] = std::move(v);
  for (auto& [k, v] : parsed.interfaces) {
    for (auto& [mk, mv] : v) t_->interfaces[k][mk] = std::move(mv);
  }
  return {};
}

bool Descriptors::has_message(std::string_view full_name) const {
  return full_name == "void" || t_->record(full_name) != nullptr;
}

const Descriptors::Method* Descriptors::method(std::string_view interface_name,
                                               std::string_view method_name) const {
  auto it = t_->interfaces.find(interface_name);
  if (it == t_->interfaces.end()) return nullptr;
  auto m = it->second.find(method_name);
  return m == it->second.end() ? nullptr : &m->second;
}

Result<std::string> Descriptors::json_to_wire(std::string_view type, const json& value) const {
  if (type == "void") {
    if (value.is_null() || (value.is_object() && value.empty())) return std::string();
    return value_error("", "void takes no fields: expected {} or null, got " + value.dump());
  }
  const RecordInfo* r = t_->record(type);
  if (r == nullptr) return missing_type(std::string(type));
  std::string out;
  wire::Writer w(&out);
  auto ok = Encoder(*t_).record(w, *r, value, 0, "");
  if (!ok) return ok.error();
  return out;
}

Result<json> Descriptors::wire_to_json(std::string_view type, std::string_view bytes) const {
  wire::Reader r(bytes);
  if (type == "void") {
    while (!r.at_end()) {
      auto key = r.key();
      if (!key) return record_error("void", key.error());
      auto ok = skip_field(r, key->kind, "void");
      if (!ok) return ok.error();
    }
    return json::object();
  }
  const RecordInfo* rec = t_->record(type);
  if (rec == nullptr) return missing_type(std::string(type));
  return Decoder(*t_).record(r, *rec, 0);
}

Result<std::string> json_to_wire(const json& descriptors, std::string_view type,
                                 const json& value) {
  auto d = Descriptors::load(descriptors);
  if (!d) return d.error();
  return d->json_to_wire(type, value);
}

Result<json> wire_to_json(const json& descriptors, std::string_view type, std::string_view bytes) {
  auto d = Descriptors::load(descriptors);
  if (!d) return d.error();
  return d->wire_to_json(type, bytes);
}

}  // namespace peers::idl
