// Field codecs: what the code peers-idlc generates calls to encode and decode
// each field of a struct or error (lib/wire/codec.h has the byte format).
//
// Each IDL type has a tag type here (U32, String, List<U64>, Map<String, F64>,
// Struct<PeerInfo>, ...) and Codec<Tag> knows its C++ type, its wire kind and
// how to write and read it "bare" (as a list element or map entry). The field
// functions add the field rules:
//   - a field equal to its default is not written (0, false, "", empty list or
//     map, absent optional, enum value 0, f64 +0.0, a struct whose body is
//     empty); bytes<N> is always written; a present optional always is;
//   - reading a field whose kind differs from its type's is an error; a field
//     that appears again replaces the earlier value, except that list elements
//     are appended and map entries merged;
//   - errors say which field failed: "field 3 (rtt_us) of vt.overlay.PeerInfo:
//     expected varint, got bytes".
//
// Generated code looks like
//   peers::idl::write_field<peers::idl::List<peers::idl::U64>>(w, 4, seqs);
//   got = peers::idl::read_field<peers::idl::List<peers::idl::U64>>(
//       r, key->kind, v.seqs, depth, {kTypeName, 4, "seqs"});
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/idl/box.h"
#include "lib/kernel/error.h"
#include "lib/wire/codec.h"

namespace peers::idl {

// How many structs deep a value may nest; deeper input is rejected before it
// can exhaust the stack.
inline constexpr int kMaxDepth = 64;

// Names a field in decode errors.
struct FieldRef {
  std::string_view type;  // "vt.overlay.PeerInfo"
  std::uint32_t number;
  std::string_view name;
};

// "varint", "fixed64", "bytes".
std::string_view wire_kind_name(wire::Kind kind);
// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(std::string_view s);

// Decode errors (code kProtocol).
// "field 3 (rtt_us) of vt.overlay.PeerInfo: <what>"
Error field_error(const FieldRef& f, std::string_view what);
// "field 3 (rtt_us) of vt.overlay.PeerInfo: <cause's message>"
Error field_error(const FieldRef& f, const Error& cause);
// "field 3 (rtt_us) of vt.overlay.PeerInfo: expected varint, got bytes"
Error kind_error(const FieldRef& f, wire::Kind want, wire::Kind got);
// "vt.overlay.PeerInfo: <cause's message>"
Error record_error(std::string_view type, const Error& cause);
// "vt.overlay.PeerInfo: nested deeper than 64 levels"
Error depth_error(std::string_view type);

// Skips an unknown field's value; errors name the record.
Result<void> skip_field(wire::Reader& r, wire::Kind kind, std::string_view type);

// --- tags ------------------------------------------------------------------
struct Bool {};
struct I8 {};
struct I16 {};
struct I32 {};
struct I64 {};
struct U8 {};
struct U16 {};
struct U32 {};
struct U64 {};
struct F64 {};
struct String {};
struct Bytes {};
template <std::size_t N>
struct FixedBytes {};
template <typename T>
struct List {};
template <typename T>
struct Optional {};
template <typename K, typename V>
struct Map {};
template <typename E>
struct Enum {};
template <typename S>
struct Struct {};
// optional<S> held in a Box (S can contain the struct holding the field).
template <typename S>
struct Boxed {};

// Codec<Tag>: Value (the C++ type), kKind (wire kind), kMinSize (the fewest
// bytes a bare value takes, to bound counts), is_default(v), write(w, v)
// (bare), read(r, out, depth, field) (bare).
template <typename Tag>
struct Codec;

template <>
struct Codec<Bool> {
  using Value = bool;
  static constexpr wire::Kind kKind = wire::Kind::kVarint;
  static constexpr std::size_t kMinSize = 1;
  static bool is_default(bool v) { return !v; }
  static void write(wire::Writer& w, bool v) { w.varint(v ? 1 : 0); }
  static Result<void> read(wire::Reader& r, bool& out, int, const FieldRef& f) {
    auto v = r.boolean();
    if (!v) return field_error(f, v.error());
    out = *v;
    return {};
  }
};

template <typename U>
struct UnsignedCodec {
  using Value = U;
  static constexpr wire::Kind kKind = wire::Kind::kVarint;
  static constexpr std::size_t kMinSize = 1;
  static bool is_default(U v) { return v == 0; }
  static void write(wire::Writer& w, U v) { w.varint(v); }
  static Result<void> read(wire::Reader& r, U& out, int, const FieldRef& f) {
    auto v = r.unsigned_int<U>();
    if (!v) return field_error(f, v.error());
    out = *v;
    return {};
  }
};
template <>
struct Codec<U8> : UnsignedCodec<std::uint8_t> {};
template <>
struct Codec<U16> : UnsignedCodec<std::uint16_t> {};
template <>
struct Codec<U32> : UnsignedCodec<std::uint32_t> {};
template <>
struct Codec<U64> : UnsignedCodec<std::uint64_t> {};

template <typename S>
struct SignedCodec {
  using Value = S;
  static constexpr wire::Kind kKind = wire::Kind::kVarint;
  static constexpr std::size_t kMinSize = 1;
  static bool is_default(S v) { return v == 0; }
  static void write(wire::Writer& w, S v) { w.varint(wire::zigzag(v)); }
  static Result<void> read(wire::Reader& r, S& out, int, const FieldRef& f) {
    auto v = r.signed_int<S>();
    if (!v) return field_error(f, v.error());
    out = *v;
    return {};
  }
};
template <>
struct Codec<I8> : SignedCodec<std::int8_t> {};
template <>
struct Codec<I16> : SignedCodec<std::int16_t> {};
template <>
struct Codec<I32> : SignedCodec<std::int32_t> {};
template <>
struct Codec<I64> : SignedCodec<std::int64_t> {};

template <>
struct Codec<F64> {
  using Value = double;
  static constexpr wire::Kind kKind = wire::Kind::kFixed64;
  static constexpr std::size_t kMinSize = 8;
  // Only +0.0 is the default: -0.0 is written, so it survives a round trip.
  static bool is_default(double v) { return std::bit_cast<std::uint64_t>(v) == 0; }
  static void write(wire::Writer& w, double v) { w.f64(v); }
  static Result<void> read(wire::Reader& r, double& out, int, const FieldRef& f) {
    auto v = r.f64();
    if (!v) return field_error(f, v.error());
    out = *v;
    return {};
  }
};

template <>
struct Codec<Bytes> {
  using Value = std::string;
  static constexpr wire::Kind kKind = wire::Kind::kBytes;
  static constexpr std::size_t kMinSize = 1;
  static bool is_default(const std::string& v) { return v.empty(); }
  static void write(wire::Writer& w, const std::string& v) { w.bytes(v); }
  static Result<void> read(wire::Reader& r, std::string& out, int, const FieldRef& f) {
    auto v = r.bytes();
    if (!v) return field_error(f, v.error());
    out.assign(v->data(), v->size());
    return {};
  }
};

// Strings must be UTF-8; decoding rejects anything else (encoding trusts the
// program).
template <>
struct Codec<String> : Codec<Bytes> {
  static Result<void> read(wire::Reader& r, std::string& out, int, const FieldRef& f) {
    auto v = r.bytes();
    if (!v) return field_error(f, v.error());
    if (!is_utf8(*v)) return field_error(f, "invalid UTF-8 in a string");
    out.assign(v->data(), v->size());
    return {};
  }
};

template <std::size_t N>
struct Codec<FixedBytes<N>> {
  using Value = std::array<std::uint8_t, N>;
  static constexpr wire::Kind kKind = wire::Kind::kBytes;
  static constexpr std::size_t kMinSize = 1;
  static bool is_default(const Value&) { return false; }  // always written
  static void write(wire::Writer& w, const Value& v) {
    w.bytes(std::string_view(reinterpret_cast<const char*>(v.data()), N));
  }
  static Result<void> read(wire::Reader& r, Value& out, int, const FieldRef& f) {
    auto v = r.bytes();
    if (!v) return field_error(f, v.error());
    if (v->size() != N) {
      return field_error(
          f, "expected " + std::to_string(N) + " bytes, got " + std::to_string(v->size()));
    }
    std::memcpy(out.data(), v->data(), N);
    return {};
  }
};

// Unknown numbers are kept as they are (static_cast), so a newer peer's value
// survives a pass through an older one.
template <typename E>
struct Codec<Enum<E>> {
  using Value = E;
  static constexpr wire::Kind kKind = wire::Kind::kVarint;
  static constexpr std::size_t kMinSize = 1;
  static bool is_default(E v) { return static_cast<std::uint32_t>(v) == 0; }
  static void write(wire::Writer& w, E v) { w.varint(static_cast<std::uint32_t>(v)); }
  static Result<void> read(wire::Reader& r, E& out, int, const FieldRef& f) {
    auto v = r.unsigned_int<std::uint32_t>();
    if (!v) return field_error(f, v.error());
    out = static_cast<E>(*v);
    return {};
  }
};

namespace internal {

// Reads a nested struct body (a length-prefixed byte range of r).
template <typename S>
Result<void> read_struct(wire::Reader& r, S& out, int depth, const FieldRef& f) {
  auto body = r.bytes();
  if (!body) return field_error(f, body.error());
  wire::Reader sub = r.sub(*body);
  auto v = S::decode(sub, depth + 1);
  if (!v) return v.error();
  out = std::move(*v);
  return {};
}

template <typename S>
void write_struct(wire::Writer& w, const S& v) {
  std::size_t at = w.begin_nested();
  v.encode(w);
  w.end_nested(at);
}

// Elements read before a list's storage grows on demand: a count is bounded
// by the bytes left, but an element may be much larger in memory than on the
// wire.
inline constexpr std::uint64_t kMaxReserve = 1024;

}  // namespace internal

template <typename S>
struct Codec<Struct<S>> {
  using Value = S;
  static constexpr wire::Kind kKind = wire::Kind::kBytes;
  static constexpr std::size_t kMinSize = 1;
  static void write(wire::Writer& w, const S& v) { internal::write_struct(w, v); }
  static Result<void> read(wire::Reader& r, S& out, int depth, const FieldRef& f) {
    return internal::read_struct(r, out, depth, f);
  }
  // A struct field is left out when its body is empty (all fields default).
  static void write_field(wire::Writer& w, std::uint32_t number, const S& v) {
    std::size_t mark = w.size();
    w.key(number, kKind);
    std::size_t at = w.begin_nested();
    v.encode(w);
    w.end_nested_or_drop(at, mark);
  }
};

template <typename T>
struct Codec<Optional<T>> {
  using Element = Codec<T>;
  using Value = std::optional<typename Element::Value>;
  static constexpr wire::Kind kKind = Element::kKind;
  static constexpr std::size_t kMinSize = Element::kMinSize;
  static bool is_default(const Value& v) { return !v.has_value(); }
  static void write(wire::Writer& w, const Value& v) { Element::write(w, *v); }
  static Result<void> read(wire::Reader& r, Value& out, int depth, const FieldRef& f) {
    typename Element::Value v{};
    auto ok = Element::read(r, v, depth, f);
    if (!ok) return ok;
    out = std::move(v);
    return {};
  }
};

template <typename S>
struct Codec<Boxed<S>> {
  using Value = Box<S>;
  static constexpr wire::Kind kKind = wire::Kind::kBytes;
  static constexpr std::size_t kMinSize = 1;
  static bool is_default(const Value& v) { return !v.has_value(); }
  static void write(wire::Writer& w, const Value& v) { internal::write_struct(w, *v); }
  static Result<void> read(wire::Reader& r, Value& out, int depth, const FieldRef& f) {
    S v{};
    auto ok = internal::read_struct(r, v, depth, f);
    if (!ok) return ok;
    out = std::move(v);
    return {};
  }
};

// A list body: a count, then the elements bare.
template <typename T>
struct Codec<List<T>> {
  using Element = Codec<T>;
  using Value = std::vector<typename Element::Value>;
  static constexpr wire::Kind kKind = wire::Kind::kBytes;
  static constexpr std::size_t kMinSize = 1;
  static bool is_default(const Value& v) { return v.empty(); }
  static void write(wire::Writer& w, const Value& v) {
    std::size_t at = w.begin_nested();
    w.varint(v.size());
    for (const auto& e : v) Element::write(w, e);
    w.end_nested(at);
  }
  // Appends to `out`.
  static Result<void> read(wire::Reader& r, Value& out, int depth, const FieldRef& f) {
    auto body = r.bytes();
    if (!body) return field_error(f, body.error());
    wire::Reader sub = r.sub(*body);
    auto n = sub.count(Element::kMinSize);
    if (!n) return field_error(f, n.error());
    out.reserve(out.size() + static_cast<std::size_t>(std::min(*n, internal::kMaxReserve)));
    for (std::uint64_t i = 0; i < *n; ++i) {
      typename Element::Value e{};
      auto ok = Element::read(sub, e, depth, f);
      if (!ok) return ok;
      out.push_back(std::move(e));
    }
    if (!sub.at_end()) return field_error(f, sub.error("bytes after the last list element"));
    return {};
  }
};

// A map body: a count, then key and value pairs bare, in key order.
template <typename K, typename V>
struct Codec<Map<K, V>> {
  using Key = Codec<K>;
  using Mapped = Codec<V>;
  using Value = std::map<typename Key::Value, typename Mapped::Value>;
  static constexpr wire::Kind kKind = wire::Kind::kBytes;
  static constexpr std::size_t kMinSize = 1;
  static bool is_default(const Value& v) { return v.empty(); }
  static void write(wire::Writer& w, const Value& v) {
    std::size_t at = w.begin_nested();
    w.varint(v.size());
    for (const auto& [key, value] : v) {
      Key::write(w, key);
      Mapped::write(w, value);
    }
    w.end_nested(at);
  }
  // Merges into `out`; a later entry for a key replaces an earlier one.
  static Result<void> read(wire::Reader& r, Value& out, int depth, const FieldRef& f) {
    auto body = r.bytes();
    if (!body) return field_error(f, body.error());
    wire::Reader sub = r.sub(*body);
    auto n = sub.count(Key::kMinSize + Mapped::kMinSize);
    if (!n) return field_error(f, n.error());
    for (std::uint64_t i = 0; i < *n; ++i) {
      typename Key::Value key{};
      auto ok = Key::read(sub, key, depth, f);
      if (!ok) return ok;
      typename Mapped::Value value{};
      ok = Mapped::read(sub, value, depth, f);
      if (!ok) return ok;
      out.insert_or_assign(std::move(key), std::move(value));
    }
    if (!sub.at_end()) return field_error(f, sub.error("bytes after the last map entry"));
    return {};
  }
};

// --- fields ----------------------------------------------------------------

// Writes field `number` unless it holds its default.
template <typename Tag>
void write_field(wire::Writer& w, std::uint32_t number, const typename Codec<Tag>::Value& v) {
  using C = Codec<Tag>;
  if constexpr (requires { C::write_field(w, number, v); }) {
    C::write_field(w, number, v);
  } else {
    if (C::is_default(v)) return;
    w.key(number, C::kKind);
    C::write(w, v);
  }
}

// Reads field f's value, whose key said `kind`, into `out`.
template <typename Tag>
Result<void> read_field(wire::Reader& r, wire::Kind kind, typename Codec<Tag>::Value& out,
                        int depth, const FieldRef& f) {
  using C = Codec<Tag>;
  if (kind != C::kKind) return kind_error(f, C::kKind, kind);
  return C::read(r, out, depth, f);
}

// The factory peers::wire::register_error_type wants for a generated error
// class E: decodes E's fields and returns E (origin set), or the decode Error.
template <typename E>
std::exception_ptr error_factory(std::string_view fields, std::string message, std::string origin) {
  auto e = E::decode(fields, std::move(message));
  if (!e) {
    Error bad = e.error();
    bad.set_origin(std::move(origin));
    return std::make_exception_ptr(std::move(bad));
  }
  e->set_origin(std::move(origin));
  return std::make_exception_ptr(std::move(*e));
}

}  // namespace peers::idl
