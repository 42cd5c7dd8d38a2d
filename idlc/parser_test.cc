#include "idlc/parser.h"

#include <gtest/gtest.h>

namespace peers::idl {
namespace {

std::unique_ptr<File> parse_ok(std::string_view text) {
  Diagnostics diags;
  auto f = parse(text, "t.pidl", diags);
  EXPECT_FALSE(diags.has_errors()) << diags.all()[0].str();
  return f;
}

std::vector<std::string> errors(std::string_view text) {
  Diagnostics diags;
  parse(text, "t.pidl", diags);
  std::vector<std::string> out;
  for (const Diagnostic& d : diags.all()) out.push_back(d.str());
  return out;
}

TEST(Parser, AWholeFile) {
  auto f = parse_ok(R"(/// The overlay.
package vt.overlay;
import "proto/common.pidl";

enum Role { SOURCE = 0; RELAY = 1; }

/// A peer.
struct PeerInfo {
  /// Its key.
  1: bytes<32> key;
  2: optional<u32> rtt_us;
  3: map<string, list<f64>> rates;
  4: common.Thing thing;
  reserved 5, 6;
}

error Full { 1: u32 capacity; };

interface Overlay {
  /// Joins.
  join(JoinRequest) -> JoinReply throws Full, vt.x.NotReady;
  oneway heartbeat(Heartbeat);
  feed(FeedRequest) -> FeedReply data;
  ping(void) -> void;
}
)");
  EXPECT_EQ(f->path, "t.pidl");
  EXPECT_EQ(f->package, "vt.overlay");
  EXPECT_EQ(f->doc, "The overlay.");
  ASSERT_EQ(f->imports.size(), 1u);
  EXPECT_EQ(f->imports[0].path, "proto/common.pidl");
  EXPECT_EQ(f->imports[0].loc.line, 3);
  ASSERT_EQ(f->decls.size(), 4u);

  const Enum* role = as_enum(*f->decls[0]);
  ASSERT_NE(role, nullptr);
  ASSERT_EQ(role->values.size(), 2u);
  EXPECT_EQ(role->values[1].name, "RELAY");
  EXPECT_EQ(role->values[1].number, 1u);

  const Record* peer = as_record(*f->decls[1]);
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->kind, DeclKind::kStruct);
  EXPECT_EQ(peer->doc, "A peer.");
  EXPECT_EQ(peer->full_name(), "vt.overlay.PeerInfo");
  ASSERT_EQ(peer->fields.size(), 4u);
  EXPECT_EQ(peer->fields[0].doc, "Its key.");
  EXPECT_EQ(peer->fields[0].type.kind, TypeKind::kFixedBytes);
  EXPECT_EQ(peer->fields[0].type.size, 32u);
  EXPECT_EQ(peer->fields[1].type.spelling(), "optional<u32>");
  EXPECT_EQ(peer->fields[2].type.spelling(), "map<string, list<f64>>");
  EXPECT_EQ(peer->fields[3].type.kind, TypeKind::kNamed);
  EXPECT_EQ(peer->fields[3].type.name, "common.Thing");
  EXPECT_EQ(peer->fields[3].name_loc.line, 13);
  EXPECT_EQ(peer->fields[3].name_loc.col, 19);
  ASSERT_EQ(peer->reserved.size(), 2u);
  EXPECT_EQ(peer->reserved[1].number, 6u);

  EXPECT_EQ(f->decls[2]->kind, DeclKind::kError);

  const Interface* overlay = as_interface(*f->decls[3]);
  ASSERT_NE(overlay, nullptr);
  ASSERT_EQ(overlay->methods.size(), 4u);
  const Method& join = overlay->methods[0];
  EXPECT_EQ(join.doc, "Joins.");
  EXPECT_EQ(join.request.name, "JoinRequest");
  ASSERT_TRUE(join.response);
  EXPECT_EQ(join.response->name, "JoinReply");
  ASSERT_EQ(join.throws.size(), 2u);
  EXPECT_EQ(join.throws[1].name, "vt.x.NotReady");
  EXPECT_TRUE(overlay->methods[1].oneway);
  EXPECT_FALSE(overlay->methods[1].response);
  EXPECT_TRUE(overlay->methods[2].data);
  EXPECT_EQ(overlay->methods[3].request.kind, TypeKind::kVoid);
  EXPECT_EQ(overlay->methods[3].response->kind, TypeKind::kVoid);
}

TEST(Parser, KeywordsAreOnlyKeywordsWherePlaced) {
  auto f = parse_ok(
      "package p;\n"
      "struct A { 1: bytes data; 2: string error; 3: u32 oneway; 4: u8 throws; }\n"
      "interface I { oneway(A) -> A; data(A) -> A data; }\n");
  const Record* a = as_record(*f->decls[0]);
  EXPECT_EQ(a->fields[0].name, "data");
  const Interface* i = as_interface(*f->decls[1]);
  EXPECT_EQ(i->methods[0].name, "oneway");
  EXPECT_FALSE(i->methods[0].oneway);
  EXPECT_EQ(i->methods[1].name, "data");
  EXPECT_TRUE(i->methods[1].data);
}

TEST(Parser, MissingSemicolonAtEndOfLineIsAssumed) {
  EXPECT_EQ(errors("package p;\nstruct A {\n  1: u32 x\n  2: u32 y;\n}\n"),
            (std::vector<std::string>{"t.pidl:3:11: error: expected ';' after field x"}));
  EXPECT_EQ(errors("package p\nstruct A {}\n"),
            (std::vector<std::string>{"t.pidl:1:10: error: expected ';' after the package name"}));
}

TEST(Parser, MissingSemicolonMidLineIsAnError) {
  EXPECT_EQ(
      errors("package p;\nstruct A { 1: u32 x y; 2: u32 z; }\n"),
      (std::vector<std::string>{"t.pidl:2:21: error: expected ';' after field x, found 'y'"}));
}

TEST(Parser, RecoversAndReportsEveryIndependentError) {
  auto e = errors(
      "package p;\n"
      "struct A {\n"
      "  1 u32 x;\n"
      "  2: u32 y;\n"
      "  : u32 z;\n"
      "}\n"
      "enum E { A = ; B = 1; }\n"
      "interface I { m() -> void; n(A) -> A throws; }\n"
      "garbage here;\n"
      "struct B {}\n");
  EXPECT_EQ(e, (std::vector<std::string>{
                   "t.pidl:3:5: error: expected ':' after field number 1, found 'u32'",
                   "t.pidl:5:3: error: expected a field number, found ':'",
                   "t.pidl:7:14: error: expected the number of A, found ';'",
                   "t.pidl:8:17: error: expected the request type of m (a struct, or void), found "
                   "')'",
                   "t.pidl:8:44: error: expected an error name, found ';'",
                   "t.pidl:9:1: error: expected a declaration (enum, struct, error or interface), "
                   "found 'garbage'",
               }));
}

TEST(Parser, PackageRules) {
  EXPECT_EQ(errors("struct A {}\n"),
            (std::vector<std::string>{
                "t.pidl:1:1: error: missing package declaration: a file starts with 'package "
                "<name>;'"}));
  EXPECT_EQ(errors(""), (std::vector<std::string>{
                            "t.pidl:1:1: error: missing package declaration: a file starts with "
                            "'package <name>;'"}));
  EXPECT_EQ(errors("package a;\npackage b;\n"),
            (std::vector<std::string>{"t.pidl:2:1: error: package is already declared at 1:9"}));
  EXPECT_EQ(
      errors("package a;\nstruct A {}\nimport \"x.pidl\";\n"),
      (std::vector<std::string>{"t.pidl:3:1: error: imports must come before the declarations"}));
}

TEST(Parser, TypeErrors) {
  EXPECT_EQ(errors("package p;\nstruct A { 1: map<u32> m; }\n"),
            (std::vector<std::string>{
                "t.pidl:2:22: error: expected ',' between the key and value types of map, found "
                "'>'"}));
  EXPECT_EQ(
      errors("package p;\nstruct A { 1: list<u32 m; }\n"),
      (std::vector<std::string>{"t.pidl:2:24: error: expected '>' to close list<, found 'm'"}));
  EXPECT_EQ(
      errors("package p;\nstruct A { 1: bytes<N> m; }\n"),
      (std::vector<std::string>{"t.pidl:2:21: error: expected the size of bytes<N>, found 'N'"}));
}

TEST(Parser, DeepTypesAreRejectedWithoutDeepRecursion) {
  std::string deep = "package p;\nstruct A { 1: ";
  for (int i = 0; i < 100000; ++i) deep += "list<";
  deep += "u8";
  auto e = errors(deep);
  ASSERT_FALSE(e.empty());
  EXPECT_NE(e[0].find("type is nested too deeply (more than 16 levels)"), std::string::npos);
}

TEST(Parser, ToleratesSemicolonAfterDeclaration) {
  parse_ok("package p;\nstruct A {};\nenum E { NONE = 0; };\n");
}

}  // namespace
}  // namespace peers::idl
