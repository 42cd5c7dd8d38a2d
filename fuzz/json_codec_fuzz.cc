// Fuzz target: the JSON codec (lib/idl/json_codec.h), which decodes any
// message a tool receives (vt-inspect call) and encodes the JSON a user
// types. The input's first byte picks a message type of the embedded
// descriptors, the second the direction:
//   even: the rest is wire bytes; a body that decodes to JSON encodes back
//         to bytes that decode to the same JSON. For peers.idltest.Everything
//         the generated decoder (testdata/idl/every_type.pidl) must accept
//         exactly what the JSON codec accepts, both must encode the same
//         value, and the JSON codec's bytes must be what generated code
//         writes for them (NaN payloads aside: JSON has only "NaN").
//   odd:  the rest is JSON text; a value that encodes decodes back to JSON
//         that encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/embedded_descriptors.h"
#include "fuzz/fuzz_input.h"
#include "lib/idl/json_codec.h"
#include "lib/kernel/hex.h"
#include "testdata/idl/every_type.pidl.h"

namespace {

using nlohmann::json;

struct Codec {
  peers::idl::Descriptors descriptors;
  std::vector<std::string> types;  // every struct and error, and "void"
};

const Codec& codec() {
  static const Codec c = [] {
    Codec c;
    json docs = json::array();
    for (std::string_view text : peers::fuzz::embedded_descriptors()) {
      json doc = json::parse(text);
      for (const char* list : {"structs", "errors"}) {
        for (const json& t : doc.value(list, json::array())) c.types.push_back(t["full_name"]);
      }
      docs.push_back(std::move(doc));
    }
    c.types.push_back("void");
    c.descriptors = peers::idl::Descriptors::load(docs).value();
    return c;
  }();
  return c;
}

void from_wire(const Codec& c, const std::string& type, std::string_view bytes) {
  auto value = c.descriptors.wire_to_json(type, bytes);
  if (type == "peers.idltest.Everything") {
    auto generated = peers::idltest::Everything::decode(bytes);
    PEERS_FUZZ_CHECK(generated.ok() == value.ok(), "the generated decoder agrees");
    if (value) {
      // The two encoders agree up to what JSON can say: the generated one
      // keeps a NaN's sign and payload bits, JSON has only "NaN".
      auto again = c.descriptors.json_to_wire(type, *value);
      PEERS_FUZZ_CHECK(again.ok(), "decoded JSON encodes");
      auto generated_value = c.descriptors.wire_to_json(type, generated->encode());
      PEERS_FUZZ_CHECK(generated_value.ok() && *generated_value == *value,
                       "generated code encodes the same value");
      auto reread = peers::idltest::Everything::decode(*again);
      if (!reread || reread->encode() != *again) {
        std::fprintf(stderr, "value: %s\njson codec: %s\n", value->dump().c_str(),
                     peers::to_hex(*again).c_str());
      }
      PEERS_FUZZ_CHECK(reread.ok() && reread->encode() == *again,
                       "generated code reads the JSON codec's bytes and encodes the same bytes");
    }
  }
  if (!value) {
    PEERS_FUZZ_CHECK(value.error().code() == peers::Errc::kProtocol, "bad bytes are kProtocol");
    return;
  }
  auto bytes2 = c.descriptors.json_to_wire(type, *value);
  PEERS_FUZZ_CHECK(bytes2.ok(), "decoded JSON encodes");
  auto value2 = c.descriptors.wire_to_json(type, *bytes2);
  PEERS_FUZZ_CHECK(value2.ok() && *value2 == *value, "and decodes to the same JSON");
}

void from_json(const Codec& c, const std::string& type, std::string_view text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return;
  auto bytes = c.descriptors.json_to_wire(type, value);
  if (!bytes) {
    PEERS_FUZZ_CHECK(bytes.error().code() == peers::Errc::kInvalidArgument,
                     "a bad value is kInvalidArgument");
    return;
  }
  auto back = c.descriptors.wire_to_json(type, *bytes);
  PEERS_FUZZ_CHECK(back.ok(), "encoded JSON decodes");
  auto bytes2 = c.descriptors.json_to_wire(type, *back);
  PEERS_FUZZ_CHECK(bytes2.ok() && *bytes2 == *bytes, "and encodes to the same bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Codec& c = codec();
  peers::fuzz::FuzzInput in(data, size);
  const std::string& type = c.types[in.byte() % c.types.size()];
  bool text = in.byte() & 1;
  std::string_view rest = in.rest();
  if (text) {
    from_json(c, type, rest);
  } else {
    from_wire(c, type, rest);
  }
  return 0;
}
