// The lexer of the IDL: source text to tokens.
//
// Tokens are identifiers (keywords are ordinary identifiers that the parser
// recognises by position, so "data" or "error" can still name a field),
// non-negative integers (decimal or 0x hex), strings (double quotes, no
// escapes, one line), and the punctuation { } ( ) < > ; : , = . ->
// Comments run from "//" to the end of the line. A comment starting with
// exactly "///" as the first thing on its line is a doc comment: the lines of
// doc comments before a token become that token's `doc`.
//
// Bad input never stops the lexer: each problem is reported into Diagnostics
// and becomes a kError token (already reported, so the parser stays quiet
// about it).
//
//   Diagnostics diags;
//   std::vector<Token> tokens = lex("package a;", "a.pidl", diags);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "idlc/diagnostics.h"

namespace peers::idl {

enum class TokenKind : std::uint8_t { kIdent, kInt, kString, kPunct, kError, kEof };

struct Token {
  TokenKind kind = TokenKind::kEof;
  // kIdent: the name; kString: the contents; kPunct: "{", "->", ...; kInt: the
  // digits as written.
  std::string text;
  std::uint64_t value = 0;  // kInt
  Location loc;             // first byte
  Location end;             // just past the last byte
  std::string doc;          // doc comment lines before the token, '\n'-joined

  bool is_punct(std::string_view p) const { return kind == TokenKind::kPunct && text == p; }
  bool is_word(std::string_view w) const { return kind == TokenKind::kIdent && text == w; }
};

// How a token appears in messages: "'foo'", "'{'", "number 12", "string
// \"a.pidl\"", "end of file".
std::string describe(const Token& t);

// The tokens of `text`, always ending with one kEof token. Problems are
// reported against `file`.
std::vector<Token> lex(std::string_view text, const std::string& file, Diagnostics& diags);

}  // namespace peers::idl
