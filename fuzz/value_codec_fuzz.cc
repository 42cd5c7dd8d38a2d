// Fuzz target: the value codec (lib/wire/codec.h) and the generated decoders
// on top of it (lib/idl/field_codec.h, code from peers-idlc), what every CALL
// argument and REPLY result goes through. The input's first byte picks what
// reads the rest:
//   0: a generic walk with wire::Reader (keys, skips, nested bodies, counts,
//      typed conversions), which must never read past its input;
//   1..3: the generated decoder of a message of testdata/idl/every_type.pidl
//      (Everything, Node, Ping), whose result must encode to bytes that
//      decode and encode again to the same bytes (encoding is canonical).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "lib/wire/codec.h"
#include "testdata/idl/every_type.pidl.h"

namespace {

using peers::wire::Kind;
using peers::wire::Reader;

// Reads a struct body as far as it is well-formed; a bytes field is also read
// as a nested struct and as a list of varints, as generated decoders would.
void walk(Reader r, int depth) {
  while (!r.at_end()) {
    std::size_t before = r.remaining();
    auto key = r.key();
    if (!key) return;
    PEERS_FUZZ_CHECK(key->field >= 1 && key->field <= peers::wire::kMaxField, "field in range");
    switch (key->kind) {
      case Kind::kVarint: {
        Reader copy = r;
        (void)copy.boolean();
        copy = r;
        (void)copy.signed_int<std::int8_t>();
        copy = r;
        (void)copy.unsigned_int<std::uint16_t>();
        if (!r.varint()) return;
        break;
      }
      case Kind::kFixed64:
        if (!r.f64()) return;
        break;
      case Kind::kBytes: {
        auto body = r.bytes();
        if (!body) return;
        PEERS_FUZZ_CHECK(body->size() < before, "a body lies inside its input");
        if (depth < 8) walk(r.sub(*body), depth + 1);
        Reader list = r.sub(*body);
        auto n = list.count();
        if (n) {
          PEERS_FUZZ_CHECK(*n <= body->size(), "a count is bounded by the bytes");
          for (std::uint64_t i = 0; i < *n && list.varint(); ++i) {
          }
        }
        break;
      }
      default:
        PEERS_FUZZ_CHECK(!r.skip(key->kind), "an unknown kind cannot be skipped");
        return;
    }
    PEERS_FUZZ_CHECK(r.remaining() < before, "every field consumes bytes");
  }
}

template <typename Message>
void round_trip(std::string_view bytes) {
  auto first = Message::decode(bytes);
  if (!first) {
    PEERS_FUZZ_CHECK(first.error().code() == peers::Errc::kProtocol, "bad bytes are kProtocol");
    return;
  }
  std::string encoded = first->encode();
  auto second = Message::decode(encoded);
  PEERS_FUZZ_CHECK(second.ok(), "an encoded value decodes");
  PEERS_FUZZ_CHECK(second->encode() == encoded, "and encodes to the same bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  std::uint8_t which = in.byte() % 4;
  std::string_view bytes = in.rest();
  switch (which) {
    case 0:
      walk(Reader(bytes), 0);
      break;
    case 1:
      round_trip<peers::idltest::Everything>(bytes);
      break;
    case 2:
      round_trip<peers::idltest::Node>(bytes);
      break;
    case 3:
      round_trip<peers::idltest::Ping>(bytes);
      break;
  }
  return 0;
}
