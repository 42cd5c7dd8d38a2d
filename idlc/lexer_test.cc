#include "idlc/lexer.h"

#include <gtest/gtest.h>

namespace peers::idl {
namespace {

std::vector<Token> lex_ok(std::string_view text) {
  Diagnostics diags;
  auto tokens = lex(text, "t.pidl", diags);
  EXPECT_FALSE(diags.has_errors()) << diags.all()[0].str();
  return tokens;
}

std::string first_error(std::string_view text) {
  Diagnostics diags;
  lex(text, "t.pidl", diags);
  return diags.has_errors() ? diags.all()[0].str() : "";
}

TEST(Lexer, TokensWithPlaces) {
  auto t = lex_ok("package vt.overlay;\n  1: map<u32, bytes<32>> x -> y;");
  std::vector<std::string> texts;
  for (const Token& tok : t) texts.push_back(tok.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"package", "vt", ".",   "overlay", ";",     "1", ":",
                                             "map",     "<",  "u32", ",",       "bytes", "<", "32",
                                             ">",       ">",  "x",   "->",      "y",     ";", ""}));
  EXPECT_EQ(t[0].kind, TokenKind::kIdent);
  EXPECT_EQ(t[5].kind, TokenKind::kInt);
  EXPECT_EQ(t[5].value, 1u);
  EXPECT_EQ(t[5].loc.line, 2);
  EXPECT_EQ(t[5].loc.col, 3);
  EXPECT_EQ(t[3].end.col, 19);
  EXPECT_EQ(t.back().kind, TokenKind::kEof);
}

TEST(Lexer, Numbers) {
  auto t = lex_ok("0 42 0x1F 536870911 18446744073709551615");
  EXPECT_EQ(t[0].value, 0u);
  EXPECT_EQ(t[1].value, 42u);
  EXPECT_EQ(t[2].value, 31u);
  EXPECT_EQ(t[3].value, 536870911u);
  EXPECT_EQ(t[4].value, 18446744073709551615u);
  EXPECT_EQ(first_error("18446744073709551616"),
            "t.pidl:1:1: error: number 18446744073709551616 is too large");
  EXPECT_EQ(first_error("  12ab"), "t.pidl:1:3: error: malformed number '12ab'");
}

TEST(Lexer, Strings) {
  auto t = lex_ok("import \"a/b c.pidl\";");
  EXPECT_EQ(t[1].kind, TokenKind::kString);
  EXPECT_EQ(t[1].text, "a/b c.pidl");
  EXPECT_EQ(first_error("import \"a.pidl;\n"), "t.pidl:1:8: error: unterminated string");
  EXPECT_EQ(first_error("import \"a\\\"b\";"),
            "t.pidl:1:8: error: escape sequences are not supported in strings");
}

TEST(Lexer, CommentsAndDocComments) {
  auto t = lex_ok(
      "// plain\n"
      "/// First line.\n"
      "///   indented\n"
      "//// not a doc comment\n"
      "struct A { /// trailing, not a doc comment\n"
      "}\n");
  EXPECT_EQ(t[0].text, "struct");
  EXPECT_EQ(t[0].doc, "First line.\n  indented");
  EXPECT_EQ(t[1].doc, "");
  EXPECT_EQ(t[2].doc, "");
}

TEST(Lexer, BadCharactersAreReportedAndLexingGoesOn) {
  Diagnostics diags;
  auto t = lex("a $ b \x01 c \xc3\xa9 d - e /x", "t.pidl", diags);
  ASSERT_EQ(diags.count(), 5u);
  EXPECT_EQ(diags.all()[0].str(), "t.pidl:1:3: error: unexpected character '$'");
  EXPECT_EQ(diags.all()[1].str(), "t.pidl:1:7: error: unexpected byte 0x01");
  EXPECT_EQ(diags.all()[2].message,
            "unexpected byte 0xc3 (non-ASCII text is only allowed in comments and strings)");
  EXPECT_EQ(diags.all()[3].message, "unexpected character '-'");
  EXPECT_EQ(diags.all()[4].message, "unexpected character '/'");
  int idents = 0;
  int errors = 0;
  for (const Token& tok : t) {
    idents += tok.kind == TokenKind::kIdent;
    errors += tok.kind == TokenKind::kError;
  }
  EXPECT_EQ(idents, 6);
  EXPECT_EQ(errors, 5);
}

TEST(Lexer, NonAsciiInCommentsAndStringsIsFine) {
  auto t = lex_ok("/// caf\xc3\xa9\nimport \"d\xc3\xa9j\xc3\xa0.pidl\";");
  EXPECT_EQ(t[0].doc, "caf\xc3\xa9");
}

TEST(Lexer, Describe) {
  auto t = lex_ok("a { 3 \"s\"");
  EXPECT_EQ(describe(t[0]), "'a'");
  EXPECT_EQ(describe(t[1]), "'{'");
  EXPECT_EQ(describe(t[2]), "number 3");
  EXPECT_EQ(describe(t[3]), "string \"s\"");
  EXPECT_EQ(describe(t[4]), "end of file");
}

}  // namespace
}  // namespace peers::idl
