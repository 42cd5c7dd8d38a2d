#include "lib/idl/field_codec.h"

namespace peers::idl {
namespace {

std::string describe(const FieldRef& f) {
  return "field " + std::to_string(f.number) + " (" + std::string(f.name) + ") of " +
         std::string(f.type);
}

}  // namespace

std::string_view wire_kind_name(wire::Kind kind) {
  switch (kind) {
    case wire::Kind::kVarint:
      return "varint";
    case wire::Kind::kFixed64:
      return "fixed64";
    case wire::Kind::kBytes:
      return "bytes";
  }
  return "unknown";
}

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<std::uint8_t>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    std::uint32_t cp;
    if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      cp = b & 0x07;
    } else {
      return false;  // a continuation byte, an overlong lead (c0, c1) or f5..ff
    }
    if (s.size() - i - 1 < n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto c = static_cast<std::uint8_t>(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;  // overlong
    if (cp >= 0xd800 && cp <= 0xdfff) return false;                        // surrogate
    if (cp > 0x10ffff) return false;
    i += n + 1;
  }
  return true;
}

Error field_error(const FieldRef& f, std::string_view what) {
  return Error(Errc::kProtocol, describe(f) + ": " + std::string(what));
}

Error field_error(const FieldRef& f, const Error& cause) { return field_error(f, cause.message()); }

Error kind_error(const FieldRef& f, wire::Kind want, wire::Kind got) {
  return field_error(f, "expected " + std::string(wire_kind_name(want)) + ", got " +
                            std::string(wire_kind_name(got)));
}

Error record_error(std::string_view type, const Error& cause) {
  return Error(Errc::kProtocol, std::string(type) + ": " + cause.message());
}

Error depth_error(std::string_view type) {
  return Error(Errc::kProtocol,
               std::string(type) + ": nested deeper than " + std::to_string(kMaxDepth) + " levels");
}

Result<void> skip_field(wire::Reader& r, wire::Kind kind, std::string_view type) {
  auto ok = r.skip(kind);
  if (!ok) return record_error(type, ok.error());
  return {};
}

}  // namespace peers::idl
