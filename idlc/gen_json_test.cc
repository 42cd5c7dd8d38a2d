#include "idlc/gen_json.h"

#include <gtest/gtest.h>

#include "idlc/checker.h"
#include "idlc/names.h"

namespace peers::idl {
namespace {

TEST(GenJson, DescribesEveryDeclaration) {
  MemoryReader reader({
      {"proto/x.pidl",
       "/// File doc.\n"
       "package vt.x;\n"
       "import \"proto/c.pidl\";\n"
       "/// Roles.\n"
       "enum Role {\n  SOURCE = 0;\n  /// Relays.\n  RELAY = 1;\n}\n"
       "struct Req {\n"
       "  1: bytes<32> key;\n"
       "  2: list<u64> seqs;\n"
       "  3: optional<c.P> p;\n"
       "  4: map<string, Role> roles;\n"
       "}\n"
       "error Full { 1: u32 capacity; }\n"
       "interface Api {\n"
       "  /// Joins.\n"
       "  join(Req) -> void throws Full;\n"
       "  oneway beat(void);\n"
       "  feed(void) -> Req data;\n"
       "}\n"},
      {"proto/c.pidl", "package vt.c;\nstruct P {}\n"},
  });
  Diagnostics diags;
  Program p = load({"proto/x.pidl"}, {}, reader, diags);
  check(p, diags);
  ASSERT_FALSE(diags.has_errors()) << diags.all()[0].str();
  nlohmann::json got = nlohmann::json::parse(generate_json(*p.roots[0]));
  nlohmann::json want = nlohmann::json::parse(R"({
    "peers_idl_descriptor": 1,
    "file": "proto/x.pidl",
    "package": "vt.x",
    "doc": "File doc.",
    "imports": ["proto/c.pidl"],
    "enums": [{"name": "Role", "full_name": "vt.x.Role", "doc": "Roles.", "values": [
      {"name": "SOURCE", "number": 0, "doc": ""},
      {"name": "RELAY", "number": 1, "doc": "Relays."}]}],
    "structs": [{"name": "Req", "full_name": "vt.x.Req", "doc": "", "fields": [
      {"number": 1, "name": "key", "type": {"kind": "fixed_bytes", "size": 32}, "doc": ""},
      {"number": 2, "name": "seqs", "type": {"kind": "list", "of": {"kind": "u64"}}, "doc": ""},
      {"number": 3, "name": "p",
       "type": {"kind": "optional", "of": {"kind": "struct", "name": "vt.c.P"}}, "doc": ""},
      {"number": 4, "name": "roles", "type": {"kind": "map", "key": {"kind": "string"},
       "value": {"kind": "enum", "name": "vt.x.Role"}}, "doc": ""}]}],
    "errors": [{"name": "Full", "full_name": "vt.x.Full", "doc": "", "fields": [
      {"number": 1, "name": "capacity", "type": {"kind": "u32"}, "doc": ""}]}],
    "interfaces": [{"name": "Api", "full_name": "vt.x.Api", "doc": "", "methods": [
      {"name": "join", "id": 0, "request": "vt.x.Req", "response": "void", "oneway": false,
       "data": false, "throws": ["vt.x.Full"], "doc": "Joins."},
      {"name": "beat", "id": 0, "request": "void", "response": null, "oneway": true,
       "data": false, "throws": [], "doc": ""},
      {"name": "feed", "id": 0, "request": "void", "response": "vt.x.Req", "oneway": false,
       "data": true, "throws": [], "doc": ""}]}]
  })");
  auto& methods = want["interfaces"][0]["methods"];
  methods[0]["id"] = method_id("vt.x.Api.join");
  methods[1]["id"] = method_id("vt.x.Api.beat");
  methods[2]["id"] = method_id("vt.x.Api.feed");
  EXPECT_EQ(got, want) << got.dump(2);
}

TEST(GenJson, KeepsTheKeyOrderStable) {
  MemoryReader reader({{"a.pidl", "package a;\n"}});
  Diagnostics diags;
  Program p = load({"a.pidl"}, {}, reader, diags);
  check(p, diags);
  EXPECT_EQ(generate_json(*p.roots[0]),
            "{\n  \"peers_idl_descriptor\": 1,\n  \"file\": \"a.pidl\",\n  \"package\": \"a\",\n"
            "  \"doc\": \"\",\n  \"imports\": [],\n  \"enums\": [],\n  \"structs\": [],\n"
            "  \"errors\": [],\n  \"interfaces\": []\n}\n");
}

}  // namespace
}  // namespace peers::idl
