// Tests of the descriptor-driven JSON codec against the generated C++ code:
// the same value gives the same bytes, and bytes give the same value back.
#include "lib/idl/json_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "lib/wire/codec.h"
#include "testdata/idl/every_type.pidl.h"
#include "testdata/idl/every_type_sample.h"

namespace peers::idl {
namespace {

using nlohmann::json;
using peers::idltest::Everything;
using peers::idltest::Inner;
using peers::idltest::Node;

json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

// The descriptors of every_type.pidl and of common.pidl, which it imports (in
// runfiles, from the library's _descriptor filegroup).
json descriptor_docs() {
  return json::array(
      {read_json("testdata/idl/every_type.pidl.json"), read_json("testdata/idl/common.pidl.json")});
}

const Descriptors& descriptors() {
  static const Descriptors* d = [] {
    auto loaded = Descriptors::load(descriptor_docs());
    EXPECT_TRUE(loaded) << loaded.error().what();
    return new Descriptors(std::move(*loaded));
  }();
  return *d;
}

// full_everything() (testdata/every_type_sample.h), spelled in JSON.
const char kEverythingJson[] = R"({
  "flag": true, "tiny": -128, "small": -300, "medium": -70000,
  "large": -9223372036854775808, "utiny": 255, "usmall": 65535, "umedium": 4000000000,
  "ularge": 18446744073709551615, "ratio": -2.5, "name": "h\u00e9llo", "blob": "00ff01",
  "tag": "01020304", "seqs": [0, 1, 1099511627776], "names": ["", "a", "bc"],
  "samples": [0.0, -0.0, 1e300],
  "inners": [{"label": "", "value": 0}, {"label": "x", "value": -1}],
  "grid": [[], [1, -2], [3]], "pairs": ["0000", "0908"], "bits": [true, false, true],
  "roles": ["SINK", "SOURCE", 99], "maybe": 0, "maybe_inner": {"label": "", "value": 0},
  "maybe_name": "", "maybe_list": [], "rates": {"a": 1.5, "b": -0.25},
  "by_id": {"7": {"label": "", "value": 0}, "-5": {"label": "neg", "value": 5}},
  "by_key": {"0001": "zero-one", "6b": ""}, "groups": {"1": ["a", "b"], "2": []},
  "by_tag": {"0102": true, "0000": false}, "role": "NOT_READY_YET",
  "inner": {"label": "in", "value": 42}, "origin": {"x": -1, "y": 1}, "color": "GREEN",
  "maybe_ratio": 0.0, "signed_map": {"127": 9223372036854775807, "-128": -1},
  "far": -1000, "last": 7
})";

TEST(JsonCodec, EncodesExactlyLikeGeneratedCode) {
  auto bytes = descriptors().json_to_wire("peers.idltest.Everything", json::parse(kEverythingJson));
  ASSERT_TRUE(bytes) << bytes.error().what();
  EXPECT_EQ(*bytes, idltest::full_everything().encode());
}

TEST(JsonCodec, DecodesGeneratedBytesToTheSameJson) {
  auto value =
      descriptors().wire_to_json("peers.idltest.Everything", idltest::full_everything().encode());
  ASSERT_TRUE(value) << value.error().what();
  EXPECT_EQ(*value, json::parse(kEverythingJson)) << value->dump(1);
  EXPECT_TRUE(std::signbit((*value)["samples"][1].get<double>()));
}

TEST(JsonCodec, GeneratedCodeDecodesItsBytes) {
  auto bytes = descriptors().json_to_wire("peers.idltest.Everything", json::parse(kEverythingJson));
  ASSERT_TRUE(bytes);
  auto e = Everything::decode(*bytes);
  ASSERT_TRUE(e) << e.error().what();
  EXPECT_EQ(*e, idltest::full_everything());
}

TEST(JsonCodec, AbsentFieldsAreDefaults) {
  auto bytes = descriptors().json_to_wire("peers.idltest.Everything", json::object());
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, Everything{}.encode());  // bytes<4> is written as zeros
  auto value = descriptors().wire_to_json("peers.idltest.Everything", "");
  ASSERT_TRUE(value);
  EXPECT_EQ((*value)["role"], "SOURCE");
  EXPECT_EQ((*value)["tag"], "00000000");
  EXPECT_EQ((*value)["maybe"], nullptr);
  EXPECT_EQ((*value)["inner"], json::parse(R"({"label": "", "value": 0})"));
  EXPECT_EQ((*value)["color"], "NONE");
  // null means absent for an optional.
  auto with_null = descriptors().json_to_wire("peers.idltest.Everything", {{"maybe", nullptr}});
  ASSERT_TRUE(with_null);
  EXPECT_EQ(*with_null, Everything{}.encode());
}

TEST(JsonCodec, RecursiveStructs) {
  Node root;
  root.name = "r";
  root.children = {Node{"c", {}, {}, {}}};
  root.next = Node{"n", {}, {}, {}};
  root.named["k"] = Node{"v", {}, {}, {}};
  json j = json::parse(R"({"name": "r",
      "children": [{"name": "c", "children": [], "next": null, "named": {}}],
      "next": {"name": "n", "children": [], "next": null, "named": {}},
      "named": {"k": {"name": "v", "children": [], "next": null, "named": {}}}})");
  auto bytes = descriptors().json_to_wire("peers.idltest.Node", j);
  ASSERT_TRUE(bytes) << bytes.error().what();
  EXPECT_EQ(*bytes, root.encode());
  auto back = descriptors().wire_to_json("peers.idltest.Node", root.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, j);
}

TEST(JsonCodec, FloatsThatJsonCannotSpell) {
  Everything e;
  e.samples = {std::nan(""), INFINITY, -INFINITY};
  auto value = descriptors().wire_to_json("peers.idltest.Everything", e.encode());
  ASSERT_TRUE(value);
  EXPECT_EQ((*value)["samples"], json::parse(R"(["NaN", "Infinity", "-Infinity"])"));
  auto bytes = descriptors().json_to_wire("peers.idltest.Everything",
                                          {{"samples", {"NaN", "Infinity", "-Infinity"}}});
  ASSERT_TRUE(bytes);
  auto back = Everything::decode(*bytes);
  ASSERT_TRUE(back);
  EXPECT_TRUE(std::isnan(back->samples[0]));
  EXPECT_EQ(back->samples[1], INFINITY);
  EXPECT_EQ(back->samples[2], -INFINITY);
}

TEST(JsonCodec, EnumsByNameOrNumber) {
  auto by_number = descriptors().json_to_wire("peers.idltest.Everything", {{"role", 2}});
  auto by_name = descriptors().json_to_wire("peers.idltest.Everything", {{"role", "SINK"}});
  ASSERT_TRUE(by_number);
  ASSERT_TRUE(by_name);
  EXPECT_EQ(*by_number, *by_name);
  Everything e;
  e.role = static_cast<idltest::Role>(12345);
  auto value = descriptors().wire_to_json("peers.idltest.Everything", e.encode());
  ASSERT_TRUE(value);
  EXPECT_EQ((*value)["role"], 12345);
}

TEST(JsonCodec, VoidIsAnEmptyBody) {
  auto bytes = descriptors().json_to_wire("void", json::object());
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, "");
  EXPECT_TRUE(descriptors().json_to_wire("void", nullptr));
  EXPECT_FALSE(descriptors().json_to_wire("void", {{"x", 1}}));
  auto value = descriptors().wire_to_json("void", Inner{"skipped", 1}.encode());
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, json::object());
}

TEST(JsonCodec, TypedErrorsToo) {
  idltest::Full full("m", 9, {"w"}, Inner{"d", 2});
  std::string fields;
  full.encode_fields(fields);
  auto value = descriptors().wire_to_json("peers.idltest.Full", fields);
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, json::parse(R"({"capacity": 9, "waiting": ["w"],
                                    "detail": {"label": "d", "value": 2}})"));
  auto bytes = descriptors().json_to_wire("peers.idltest.Full", *value);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, fields);
}

TEST(JsonCodec, MethodsAreDescribed) {
  const Descriptors::Method* join = descriptors().method("peers.idltest.Tester", "join");
  ASSERT_NE(join, nullptr);
  EXPECT_EQ(join->id, idltest::Tester::Join::kId);
  EXPECT_EQ(join->request, "peers.idltest.Everything");
  EXPECT_EQ(join->response, "peers.idltest.Inner");
  EXPECT_EQ(join->throws, (std::vector<std::string>{"peers.idltest.Full", "peers.idltest.NotReady",
                                                    "peers.idltest.common.Busy"}));
  const Descriptors::Method* heartbeat = descriptors().method("peers.idltest.Tester", "heartbeat");
  ASSERT_NE(heartbeat, nullptr);
  EXPECT_TRUE(heartbeat->oneway);
  EXPECT_FALSE(heartbeat->response.has_value());
  const Descriptors::Method* ping = descriptors().method("peers.idltest.Tester", "ping");
  ASSERT_NE(ping, nullptr);
  EXPECT_EQ(ping->request, "void");
  EXPECT_EQ(ping->response, "void");
  EXPECT_TRUE(descriptors().method("peers.idltest.Tester", "feed")->data);
  EXPECT_EQ(descriptors().method("peers.idltest.Tester", "nope"), nullptr);
  EXPECT_TRUE(descriptors().has_message("peers.idltest.common.Point"));
  EXPECT_FALSE(descriptors().has_message("peers.idltest.Role"));
}

struct BadJson {
  const char* json_text;
  const char* message;
};

TEST(JsonCodec, RejectsBadValuesSayingWhere) {
  const BadJson cases[] = {
      {R"({"nope": 1})", "unknown field \"nope\" in peers.idltest.Everything"},
      {R"({"utiny": 256})", "at utiny: 256 is out of range (at most 255)"},
      {R"({"utiny": -1})", "at utiny: -1 is negative; expected an unsigned integer"},
      {R"({"tiny": 128})", "at tiny: 128 is out of range for i8"},
      {R"({"umedium": 1.5})", "at umedium: expected an unsigned integer, got a fractional number"},
      {R"({"large": "5"})", "at large: expected an integer, got string"},
      {R"({"flag": 1})", "at flag: expected true or false, got number 1"},
      {R"({"tag": "0102"})", "at tag: expected 4 bytes, got 2"},
      {R"({"blob": "abc"})", "at blob: expected a hex string (pairs of hex digits)"},
      {R"({"seqs": [1, "x"]})", "at seqs[1]: expected an unsigned integer, got string"},
      {R"({"inners": [{"label": 3}]})", "at inners[0].label: expected a string, got number 3"},
      {R"({"role": "BOSS"})", "at role: \"BOSS\" is not a value of enum peers.idltest.Role"},
      {R"({"by_id": {"x": {}}})", "at by_id[\"x\"]: map key \"x\" is not a i32"},
      {R"({"by_id": {"1": {}, "01": {}}})", "at by_id[\"1\"]: duplicate map key"},
      {R"({"inner": null})", "at inner: expected an object for peers.idltest.Inner, got null"},
      {R"({"seqs": {}})", "at seqs: expected an array, got object"},
      {R"([])", "expected an object for peers.idltest.Everything, got array"},
  };
  for (const BadJson& c : cases) {
    auto r = descriptors().json_to_wire("peers.idltest.Everything", json::parse(c.json_text));
    ASSERT_FALSE(r) << c.json_text;
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(r.error().message(), c.message) << c.json_text;
  }
  auto unknown = descriptors().json_to_wire("peers.idltest.Nope", json::object());
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("peers.idltest.Nope is not in the descriptors"),
            std::string::npos);
}

TEST(JsonCodec, RejectsBadBytesLikeGeneratedCode) {
  auto field = [](std::uint32_t number, wire::Kind kind, std::string_view raw) {
    wire::Writer w;
    w.key(number, kind);
    w.raw(raw);
    return w.take();
  };
  const std::string cases[] = {
      field(8, wire::Kind::kBytes, std::string("\x01x", 2)),  // wrong kind
      field(13, wire::Kind::kBytes,
            std::string("\x03"
                        "abc",
                        4)),                                              // bytes<4> of 3
      field(11, wire::Kind::kBytes, std::string("\x02\xc3\x28", 3)),      // bad UTF-8
      field(14, wire::Kind::kBytes, std::string("\x02\x7f\x01", 3)),      // count too big
      field(6, wire::Kind::kVarint, std::string("\x80\x02", 2)),          // 256 in a u8
      field(17, wire::Kind::kBytes, std::string("\x03\x01\x01\x10", 4)),  // bad Inner
      std::string("\x82", 1),                                             // truncated key
  };
  for (const std::string& bytes : cases) {
    auto generated = Everything::decode(bytes);
    auto transcoded = descriptors().wire_to_json("peers.idltest.Everything", bytes);
    ASSERT_FALSE(generated);
    ASSERT_FALSE(transcoded);
    EXPECT_EQ(transcoded.error().code(), Errc::kProtocol);
    EXPECT_EQ(transcoded.error().message(), generated.error().message());
  }
}

TEST(JsonCodec, NestingIsLimitedBothWays) {
  json deep = json::object();
  for (int i = 0; i < 100; ++i) deep = json{{"next", deep}};
  auto bytes = descriptors().json_to_wire("peers.idltest.Node", deep);
  ASSERT_FALSE(bytes);
  EXPECT_NE(bytes.error().message().find("nested deeper than 64 levels"), std::string::npos);

  wire::Writer w;
  std::vector<std::size_t> open;
  for (int i = 0; i < 100; ++i) {
    w.key(3, wire::Kind::kBytes);
    open.push_back(w.begin_nested());
  }
  while (!open.empty()) {
    w.end_nested(open.back());
    open.pop_back();
  }
  auto value = descriptors().wire_to_json("peers.idltest.Node", w.view());
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().message(), "peers.idltest.Node: nested deeper than 64 levels");
}

TEST(JsonCodec, OneShotFunctionsLoadDescriptorsThemselves) {
  auto bytes =
      json_to_wire(descriptor_docs(), "peers.idltest.Inner", {{"label", "a"}, {"value", 3}});
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, (Inner{"a", 3}.encode()));
  auto value = wire_to_json(descriptor_docs(), "peers.idltest.Inner", *bytes);
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, json::parse(R"({"label": "a", "value": 3})"));
}

TEST(JsonCodec, MalformedDescriptorsAreErrors) {
  EXPECT_FALSE(Descriptors::load(json::parse("{}")));
  EXPECT_FALSE(Descriptors::load(json::parse(R"({"peers_idl_descriptor": 1, "structs": 3})")));
  json bad = read_json("testdata/idl/every_type.pidl.json");
  bad["structs"][0]["fields"][0]["type"]["kind"] = "u128";
  auto r = Descriptors::load(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("unknown type kind \"u128\""), std::string::npos);
}

}  // namespace
}  // namespace peers::idl
