#include "lib/wire/codec.h"

namespace peers::wire {

void Writer::end_nested(std::size_t at) {
  std::uint64_t len = out_->size() - at - kLenReserve;
  char* p = out_->data() + at;
  for (std::size_t i = 0; i < kLenReserve; ++i) {
    std::uint8_t b = static_cast<std::uint8_t>(len & 0x7f);
    len >>= 7;
    if (i + 1 < kLenReserve) b |= 0x80;
    p[i] = static_cast<char>(b);
  }
}

Error Reader::error(std::string what) const {
  return Error(Errc::kProtocol,
               "malformed value at byte " + std::to_string(offset()) + ": " + what);
}

Result<std::uint64_t> Reader::varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ >= end_) return error("truncated varint");
    std::uint8_t b = static_cast<std::uint8_t>(*p_++);
    if (shift == 63 && b > 1) return error("varint overflows 64 bits");
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return error("varint longer than 10 bytes");
}

Result<std::uint64_t> Reader::fixed64() {
  if (remaining() < 8) return error("truncated fixed64");
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(p_[i])) << (8 * i);
  p_ += 8;
  return v;
}

Result<double> Reader::f64() {
  auto v = fixed64();
  if (!v) return v.error();
  double d;
  std::uint64_t u = *v;
  std::memcpy(&d, &u, 8);
  return d;
}

Result<std::string_view> Reader::bytes() {
  auto n = varint();
  if (!n) return n.error();
  if (*n > remaining()) {
    return error("length " + std::to_string(*n) + " exceeds the " + std::to_string(remaining()) +
                 " bytes left");
  }
  std::string_view out(p_, static_cast<std::size_t>(*n));
  p_ += *n;
  return out;
}

Result<std::string_view> Reader::raw(std::size_t n) {
  if (n > remaining()) return error("truncated: want " + std::to_string(n) + " bytes");
  std::string_view out(p_, n);
  p_ += n;
  return out;
}

Result<Key> Reader::key() {
  auto v = varint();
  if (!v) return v.error();
  std::uint64_t kind = *v & 7;
  std::uint64_t field = *v >> 3;
  if (kind > 2) return error("unknown value kind " + std::to_string(kind));
  if (field == 0 || field > kMaxField) return error("bad field number " + std::to_string(field));
  return Key{static_cast<std::uint32_t>(field), static_cast<Kind>(kind)};
}

Result<void> Reader::skip(Kind kind) {
  switch (kind) {
    case Kind::kVarint: {
      auto v = varint();
      if (!v) return v.error();
      return {};
    }
    case Kind::kFixed64: {
      auto v = fixed64();
      if (!v) return v.error();
      return {};
    }
    case Kind::kBytes: {
      auto v = bytes();
      if (!v) return v.error();
      return {};
    }
  }
  return error("unknown value kind");
}

Result<std::uint64_t> Reader::count(std::size_t min_element_size) {
  auto n = varint();
  if (!n) return n.error();
  if (min_element_size == 0) min_element_size = 1;
  if (*n > remaining() / min_element_size) {
    return error("count " + std::to_string(*n) + " cannot fit in the " +
                 std::to_string(remaining()) + " bytes left");
  }
  return *n;
}

Result<bool> Reader::boolean() {
  auto v = varint();
  if (!v) return v.error();
  if (*v > 1) return error("bool must be 0 or 1, got " + std::to_string(*v));
  return *v == 1;
}

}  // namespace peers::wire
