// The value codec of Peers: how IDL values become bytes and back.
//
// A struct is a sequence of fields, each a key followed by a value. The key is
// a varint (field_number << 3 | kind); the kind says how to skip a value the
// reader does not know, so old and new peers interoperate:
//   kind 0 (kVarint): a LEB128 varint (bool, unsigned, zigzag signed, enum)
//   kind 1 (kFixed64): 8 bytes little-endian (f64)
//   kind 2 (kBytes): a varint length, then that many bytes (string, bytes,
//                    fixed-size bytes, struct, list, map)
// A list or map body is a varint count, then the elements "bare" (a varint, 8
// bytes, or a length-prefixed body for length-delimited types). Absent fields
// take their defaults; an optional is absent or present. docs/protocol.md has
// the full description and examples.
//
// Reader never reads past its end and never trusts a length or count: each is
// checked against the bytes that remain before anything is allocated. Errors
// are returned (Result) with the offset, never thrown.
//
//   peers::wire::Writer w;
//   w.field_varint(1, 42);
//   w.field_bytes(2, "hello");
//   peers::wire::Reader r(w.view());
//   while (!r.at_end()) { auto key = r.key(); ... }
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "lib/kernel/error.h"

namespace peers::wire {

enum class Kind : std::uint8_t { kVarint = 0, kFixed64 = 1, kBytes = 2 };

struct Key {
  std::uint32_t field;
  Kind kind;
};

// Highest field number a key may carry.
inline constexpr std::uint32_t kMaxField = (1u << 29) - 1;

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Appends encoded values to a growing byte buffer.
class Writer {
 public:
  Writer() = default;
  explicit Writer(std::string* out) : out_(out) {}

  void varint(std::uint64_t v) {
    char buf[10];
    std::size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_->append(buf, n);
  }
  void fixed64(std::uint64_t v) {
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
    out_->append(buf, 8);
  }
  void f64(double d) {
    std::uint64_t v;
    std::memcpy(&v, &d, 8);
    fixed64(v);
  }
  void bytes(std::string_view b) {
    varint(b.size());
    out_->append(b.data(), b.size());
  }
  void raw(std::string_view b) { out_->append(b.data(), b.size()); }
  void key(std::uint32_t field, Kind kind) {
    varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(kind));
  }

  void field_varint(std::uint32_t f, std::uint64_t v) { key(f, Kind::kVarint), varint(v); }
  void field_sint(std::uint32_t f, std::int64_t v) { key(f, Kind::kVarint), varint(zigzag(v)); }
  void field_f64(std::uint32_t f, double v) { key(f, Kind::kFixed64), f64(v); }
  void field_bytes(std::uint32_t f, std::string_view b) { key(f, Kind::kBytes), bytes(b); }

  // Length-delimited nested body: begin_nested() reserves room for the length,
  // end_nested() writes it. Nesting is allowed; calls must pair up.
  std::size_t begin_nested() {
    std::size_t at = out_->size();
    out_->append(kLenReserve, '\0');
    return at;
  }
  void end_nested(std::size_t at);
  // Ends a nested body like end_nested(), unless nothing was written into it:
  // then it removes everything back to `mark` (the size before the field's
  // key), so a field whose body is empty is not written at all. Returns
  // whether the field was kept.
  bool end_nested_or_drop(std::size_t at, std::size_t mark) {
    if (out_->size() == at + kLenReserve) {
      out_->resize(mark);
      return false;
    }
    end_nested(at);
    return true;
  }

  const std::string& data() const { return *out_; }
  std::string_view view() const { return *out_; }
  std::string take() { return std::move(*out_); }
  std::size_t size() const { return out_->size(); }

 private:
  // Nested lengths are written as fixed 5-byte varints (padded with 0x80
  // continuation bytes), so a body never has to be moved after it is written.
  static constexpr std::size_t kLenReserve = 5;
  std::string own_;
  std::string* out_ = &own_;
};

// Reads encoded values from a byte range it does not own.
class Reader {
 public:
  Reader() = default;
  explicit Reader(std::string_view in)
      : p_(in.data()), begin_(in.data()), end_(in.data() + in.size()) {}

  bool at_end() const { return p_ >= end_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }

  Result<std::uint64_t> varint();
  Result<std::uint64_t> fixed64();
  Result<double> f64();
  // A length-prefixed body; the view points into the input.
  Result<std::string_view> bytes();
  Result<std::string_view> raw(std::size_t n);
  Result<Key> key();
  // Skips one value of the given kind (for unknown fields).
  Result<void> skip(Kind kind);
  // A count that precedes `count` elements of at least min_size bytes each;
  // fails when they could not fit in what remains (bounded allocation).
  Result<std::uint64_t> count(std::size_t min_element_size = 1);

  // Typed conversions with range checks, for generated code.
  Result<bool> boolean();
  template <typename U>
  Result<U> unsigned_int();
  template <typename S>
  Result<S> signed_int();

  Error error(std::string what) const;

  // A reader over `part`, a view into this reader's input (as bytes() or raw()
  // return), whose offsets and errors still count from this reader's start.
  Reader sub(std::string_view part) const {
    Reader r;
    r.p_ = part.data();
    r.begin_ = begin_;
    r.end_ = part.data() + part.size();
    return r;
  }

 private:
  const char* p_ = nullptr;
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
};

template <typename U>
Result<U> Reader::unsigned_int() {
  auto v = varint();
  if (!v) return v.error();
  if (*v > static_cast<std::uint64_t>(static_cast<U>(~U{0}))) {
    return error("value " + std::to_string(*v) + " does not fit in " +
                 std::to_string(sizeof(U) * 8) + " bits");
  }
  return static_cast<U>(*v);
}

template <typename S>
Result<S> Reader::signed_int() {
  auto v = varint();
  if (!v) return v.error();
  std::int64_t s = unzigzag(*v);
  constexpr int kBits = static_cast<int>(sizeof(S) * 8);
  // Compiled only for narrower types: for 64 bits hi would overflow (clang
  // warns even in a branch that never runs).
  if constexpr (kBits < 64) {
    std::int64_t lo = std::numeric_limits<S>::min();
    std::int64_t hi = std::numeric_limits<S>::max();
    if (s < lo || s > hi) {
      return error("value " + std::to_string(s) + " does not fit in " + std::to_string(kBits) +
                   " bits");
    }
  }
  return static_cast<S>(s);
}

}  // namespace peers::wire
