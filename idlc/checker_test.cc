#include "idlc/checker.h"

#include <gtest/gtest.h>

namespace peers::idl {
namespace {

// Loads and checks in-memory files; returns every error, sorted.
std::vector<std::string> check_files(std::map<std::string, std::string> files,
                                     const std::string& root = "a.pidl") {
  MemoryReader reader;
  for (const auto& [path, text] : files) reader.add(path, text);
  Diagnostics diags;
  Program p = load({root}, {}, reader, diags);
  EXPECT_FALSE(diags.has_errors()) << diags.all()[0].str();
  check(p, diags);
  std::vector<std::string> out;
  for (const Diagnostic& d : diags.sorted()) out.push_back(d.str());
  return out;
}

std::vector<std::string> check_one(const std::string& text) {
  return check_files({{"a.pidl", text}});
}

TEST(Checker, AcceptsAGoodFileAndResolvesNames) {
  MemoryReader reader({
      {"a.pidl",
       "package vt.overlay;\nimport \"c.pidl\";\n"
       "struct S { 1: common.P p; 2: vt.common.P q; 3: P r; 4: list<Local> l; 5: E e; }\n"
       "struct Local {}\n"
       "enum E { NONE = 0; }\n"
       "error Full { 1: S s; }\n"
       "interface I { m(S) -> void throws Full, common.Busy; }\n"},
      {"c.pidl", "package vt.common;\nstruct P {}\nerror Busy {}\n"},
  });
  Diagnostics diags;
  Program p = load({"a.pidl"}, {}, reader, diags);
  check(p, diags);
  ASSERT_FALSE(diags.has_errors()) << diags.all()[0].str();
  const File& a = *p.roots[0];
  const Record& s = *as_record(*a.decls[0]);
  EXPECT_EQ(s.fields[0].type.decl->full_name(), "vt.common.P");
  EXPECT_EQ(s.fields[1].type.decl, s.fields[0].type.decl);
  EXPECT_EQ(s.fields[2].type.decl, s.fields[0].type.decl);
  EXPECT_EQ(s.fields[3].type.args[0].decl, a.decls[1].get());
  EXPECT_EQ(s.fields[4].type.decl->kind, DeclKind::kEnum);
  const Method& m = as_interface(*a.decls[4])->methods[0];
  EXPECT_EQ(m.request.decl, &s);
  EXPECT_EQ(m.throws[0].decl, a.decls[3].get());
  EXPECT_EQ(m.throws[1].decl->full_name(), "vt.common.Busy");
}

TEST(Checker, MethodIdsAreFnv1aOfTheFullName) {
  MemoryReader reader(
      {{"a.pidl", "package vt.overlay;\ninterface Overlay { join(void) -> void; }\n"}});
  Diagnostics diags;
  Program p = load({"a.pidl"}, {}, reader, diags);
  check(p, diags);
  ASSERT_FALSE(diags.has_errors());
  std::uint32_t h = 2166136261u;
  for (char c : std::string("vt.overlay.Overlay.join")) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  EXPECT_EQ(as_interface(*p.roots[0]->decls[0])->methods[0].id, h);
}

TEST(Checker, LocalNamesShadowImportedOnes) {
  EXPECT_TRUE(check_files({
                              {"a.pidl",
                               "package a;\nimport \"b.pidl\";\nstruct P {}\n"
                               "struct S { 1: P p; 2: b.P q; }\n"},
                              {"b.pidl", "package b;\nstruct P {}\n"},
                          })
                  .empty());
}

TEST(Checker, AmbiguousAndInvisibleNames) {
  auto e = check_files({
      {"a.pidl",
       "package a;\nimport \"b.pidl\";\nimport \"c.pidl\";\n"
       "struct S { 1: P p; 2: x.P q; 3: d.D d; }\n"},
      {"b.pidl", "package one.x;\nstruct P {}\n"},
      {"c.pidl", "package two.x;\nimport \"d.pidl\";\nstruct P {}\n"},
      {"d.pidl", "package d;\nstruct D {}\n"},
  });
  EXPECT_EQ(e, (std::vector<std::string>{
                   "a.pidl:4:15: error: P is ambiguous: one.x.P or two.x.P; qualify it with its "
                   "package",
                   "a.pidl:4:23: error: x.P is ambiguous: one.x.P or two.x.P; qualify it with its "
                   "package",
                   "a.pidl:4:33: error: unknown type d.D (d.D is declared in d.pidl, which this "
                   "file does not import)",
               }));
}

TEST(Checker, QualifierMustMatchWholePackageParts) {
  auto e = check_files({
      {"a.pidl", "package a;\nimport \"b.pidl\";\nstruct S { 1: mmon.P p; 2: common.P q; }\n"},
      {"b.pidl", "package vt.common;\nstruct P {}\n"},
  });
  EXPECT_EQ(e, (std::vector<std::string>{"a.pidl:3:15: error: unknown type mmon.P"}));
}

TEST(Checker, SameNameInTwoFilesOfOnePackage) {
  auto e = check_files({
      {"a.pidl", "package p;\nimport \"b.pidl\";\nstruct S {}\n"},
      {"b.pidl", "package p;\nstruct S {}\n"},
  });
  EXPECT_EQ(e,
            (std::vector<std::string>{"a.pidl:3:8: error: p.S is already declared at b.pidl:2:8"}));
}

TEST(Checker, FieldRules) {
  auto e = check_one(
      "package p;\n"
      "struct S {\n"
      "  reserved 9, 0;\n"
      "  1: u32 a;\n"
      "  1: u32 b;\n"
      "  2: u32 a;\n"
      "  9: u32 c;\n"
      "  3: u32 encode;\n"
      "  4: u32 Bad;\n"
      "  5: u32 errno;\n"
      "  6: map<S, u32> m;\n"
      "  7: map<bool, u32> m2;\n"
      "  8: optional<optional<u32>> o;\n"
      "  10: bytes<1025> big;\n"
      "  11: map<u32, optional<u32>> mo;\n"
      "  12: list<void> lv;\n"
      "}\n");
  EXPECT_EQ(e,
            (std::vector<std::string>{
                "a.pidl:3:15: error: field number 0 is out of range (1 to 536870911)",
                "a.pidl:5:3: error: field number 1 is used twice in struct S (first used at 4:3)",
                "a.pidl:6:10: error: field name a is used twice in struct S (first used at 4:10)",
                "a.pidl:7:3: error: field number 9 is reserved in struct S (at 3:12)",
                "a.pidl:8:10: error: field name encode is reserved (it names a generated "
                "member function)",
                "a.pidl:9:10: error: field name Bad must be lower_snake_case",
                "a.pidl:10:10: error: field name errno is reserved in C++",
                "a.pidl:11:10: error: map key must be an integer, string or bytes type, not "
                "struct S",
                "a.pidl:12:10: error: map key must be an integer, string or bytes type, not bool",
                "a.pidl:13:15: error: optional<> is only allowed as the whole type of a field",
                "a.pidl:14:7: error: bytes<1025> has a bad size: N must be 1 to 1024 (use bytes "
                "for longer values)",
                "a.pidl:15:16: error: optional<> is only allowed as the whole type of a field",
                "a.pidl:16:12: error: void is only allowed as a method's request or result",
            }));
}

TEST(Checker, ErrorFieldsMayNotHideErrorMembers) {
  auto e =
      check_one("package p;\nerror E { 1: u32 code; 2: u32 origin; 3: u32 what; 4: u32 ok; }\n");
  EXPECT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0],
            "a.pidl:2:18: error: field name code is reserved in errors (it names a member of "
            "the error class)");
}

TEST(Checker, EnumRules) {
  auto e = check_one(
      "package p;\n"
      "enum E { NONE = 0; A = 1; A = 2; B = 1; lower = 3; C = 4294967296; A_1 = 5; A1 = 6; }\n"
      "enum NoZero { ONE = 1; }\n"
      "enum Max { ZERO = 0; TOP = 4294967295; }\n");
  EXPECT_EQ(e, (std::vector<std::string>{
                   "a.pidl:2:27: error: enum value name A is used twice in enum E (first used at "
                   "2:20)",
                   "a.pidl:2:38: error: enum value number 1 is used twice in enum E (first used by "
                   "A at 2:20)",
                   "a.pidl:2:41: error: enum value name lower must be UPPER_SNAKE_CASE",
                   "a.pidl:2:56: error: enum value number 4294967296 is out of range (0 to "
                   "4294967295)",
                   "a.pidl:2:77: error: enum values A_1 and A1 both become kA1 in C++",
                   "a.pidl:3:6: error: enum NoZero has no value numbered 0 (every enum needs one: "
                   "it is the default)",
               }));
}

TEST(Checker, InterfaceRules) {
  auto e = check_one(
      "package p;\n"
      "struct S {}\n"
      "enum E { NONE = 0; }\n"
      "error X {}\n"
      "interface Api {\n"
      "  a(S) -> E;\n"
      "  b(X) -> void;\n"
      "  c(list<S>) -> S throws S, X, X, Nope;\n"
      "  oneway d(S) -> S data throws X;\n"
      "  e(S);\n"
      "  a(S) -> S;\n"
      "  api(void) -> void;\n"
      "  f_1(void) -> void;\n"
      "  f1(void) -> void;\n"
      "  delete(void) -> void;\n"
      "}\n");
  EXPECT_EQ(e,
            (std::vector<std::string>{
                "a.pidl:6:11: error: the result of method a must be a struct or void, not an "
                "enum E",
                "a.pidl:7:5: error: the request of method b must be a struct or void, not an "
                "error X",
                "a.pidl:8:5: error: the request of method c must be a struct or void, not list<S>",
                "a.pidl:8:26: error: method c throws S, which is a struct, not an error",
                "a.pidl:8:32: error: method c throws X twice",
                "a.pidl:8:35: error: unknown type Nope",
                "a.pidl:9:15: error: oneway method d cannot have a result",
                "a.pidl:9:20: error: oneway method d cannot carry data",
                "a.pidl:9:25: error: oneway method d cannot throw errors",
                "a.pidl:10:3: error: method e has no result: write '-> void', or declare it "
                "oneway",
                "a.pidl:11:3: error: method a is declared twice in interface Api (first at 6:3)",
                "a.pidl:12:3: error: method api would become Api in C++, the name of its "
                "interface",
                "a.pidl:14:3: error: methods f_1 and f1 both become F1 in C++",
                "a.pidl:15:3: error: method name delete is reserved in C++",
            }));
}

TEST(Checker, NamesTheGeneratedCodeNeeds) {
  auto e = check_files({
      {"a.pidl",
       "package p;\nimport \"b.pidl\";\n"
       "interface Api {\n"
       "  name(void) -> void;\n"
       "  methods(void) -> void;\n"
       "  call(void) -> void;\n"
       "  oneway event(void);\n"
       "  connection(void) -> void;\n"
       "  get(void) -> void;\n"
       "  get_sync(void) -> void;\n"
       "  feed(void) -> void data;\n"
       "  feed_sync(void) -> void;\n"
       "  oneway tell(void);\n"
       "  tell_sync(void) -> void;\n"
       "  sync(void) -> void;\n"
       "  request(void) -> void;\n"
       "  oneway throws(void);\n"
       "}\n"
       "interface Other {}\n"},
      {"b.pidl", "package p;\nstruct OtherServer {}\n"},
  });
  EXPECT_EQ(e, (std::vector<std::string>{
                   "a.pidl:4:3: error: method name name is reserved (it names a member of the "
                   "generated RPC classes)",
                   "a.pidl:5:3: error: method name methods is reserved (it names a member of the "
                   "generated RPC classes)",
                   "a.pidl:6:3: error: method name call is reserved (it names a member of the "
                   "generated RPC classes)",
                   "a.pidl:7:10: error: method name event is reserved (it names a member of the "
                   "generated RPC classes)",
                   "a.pidl:8:3: error: method name connection is reserved (it names a member of "
                   "the generated RPC classes)",
                   "a.pidl:10:3: error: method get_sync would collide with the blocking stub of "
                   "method get in the generated RPC client",
                   "a.pidl:16:3: error: method request would become Request in C++, which names "
                   "a member of its own metadata struct",
                   "a.pidl:17:10: error: method throws would become Throws in C++, which names a "
                   "member of its own metadata struct",
                   "a.pidl:19:11: error: interface Other makes the class OtherServer of its RPC "
                   "stubs, which struct p.OtherServer (b.pidl:2:8) already names",
               }));
}

TEST(Checker, MethodIdCollision) {
  auto e = check_one(
      "package bad;\ninterface Collide { m_imeg(void) -> void; m_cadaa(void) -> void; }\n");
  EXPECT_EQ(e, (std::vector<std::string>{
                   "a.pidl:2:43: error: methods m_imeg and m_cadaa have the same id 0x07b25294 "
                   "(FNV-1a of bad.Collide.<method>); rename one"}));
}

TEST(Checker, TypeKindsInFields) {
  auto e = check_one(
      "package p;\ninterface I {}\nerror X {}\nstruct S { 1: I i; 2: X x; 3: list<I> li; }\n");
  EXPECT_EQ(e, (std::vector<std::string>{
                   "a.pidl:4:15: error: I is an interface, not a type a field can hold",
                   "a.pidl:4:23: error: X is an error; fields cannot hold errors",
                   "a.pidl:4:36: error: I is an interface, not a type a field can hold",
               }));
}

TEST(Checker, ByValueCyclesAreErrorsButIndirectOnesAreFine) {
  EXPECT_TRUE(check_one("package p;\n"
                        "struct Node { 1: list<Node> kids; 2: optional<Node> next; "
                        "3: map<string, Node> named; }\n"
                        "struct A { 1: optional<B> b; }\nstruct B { 1: A a; }\n")
                  .empty());
  auto e = check_one(
      "package p;\n"
      "struct Self { 1: Self me; }\n"
      "struct A { 1: B b; }\n"
      "struct B { 1: C c; 2: u32 x; }\n"
      "struct C { 1: A a; 2: B b; }\n");
  EXPECT_EQ(e, (std::vector<std::string>{
                   "a.pidl:2:23: error: struct Self contains itself by value (Self.me -> Self); "
                   "hold it through optional<>, list<> or map<>",
                   "a.pidl:3:17: error: struct A contains itself by value (A.b -> B.c -> C.a -> "
                   "A); hold it through optional<>, list<> or map<>",
               }));
}

TEST(Checker, NameStyles) {
  auto e = check_one("package vt.Overlay;\nstruct lower {}\n");
  EXPECT_EQ(e, (std::vector<std::string>{
                   "a.pidl:1:9: error: package name vt.Overlay must be dotted lower_snake_case "
                   "names (vt.overlay)",
                   "a.pidl:2:8: error: struct name lower must be CamelCase (letters and digits, "
                   "starting with a capital)",
               }));
  EXPECT_EQ(check_one("package vt.std;\n"),
            (std::vector<std::string>{
                "a.pidl:1:9: error: package name part std would hide namespace std in generated "
                "code"}));
  EXPECT_EQ(check_one("package peers.idl;\n"),
            (std::vector<std::string>{
                "a.pidl:1:9: error: package peers.idl is reserved for the Peers runtime"}));
  EXPECT_TRUE(check_one("package peers.idl.x;\n").empty());
}

}  // namespace
}  // namespace peers::idl
