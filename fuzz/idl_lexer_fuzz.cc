// Fuzz target: the IDL lexer (idlc/lexer.h), the first reader of a .pidl
// file. Whatever the text, the tokens end with one kEof, in order of place,
// and a kError token comes with a diagnostic.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "idlc/diagnostics.h"
#include "idlc/lexer.h"

namespace {

bool before_or_at(peers::idl::Location a, peers::idl::Location b) {
  return a.line < b.line || (a.line == b.line && a.col <= b.col);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  peers::idl::Diagnostics diags;
  std::vector<peers::idl::Token> tokens = peers::idl::lex(in.rest(), "fuzz.pidl", diags);
  PEERS_FUZZ_CHECK(!tokens.empty() && tokens.back().kind == peers::idl::TokenKind::kEof,
                   "the tokens end with kEof");
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const peers::idl::Token& t = tokens[i];
    PEERS_FUZZ_CHECK(t.kind != peers::idl::TokenKind::kEof || i + 1 == tokens.size(), "one kEof");
    PEERS_FUZZ_CHECK(t.kind != peers::idl::TokenKind::kError || diags.has_errors(),
                     "an error token is reported");
    PEERS_FUZZ_CHECK(before_or_at(t.loc, t.end), "a token ends after it starts");
    if (i > 0) PEERS_FUZZ_CHECK(before_or_at(tokens[i - 1].end, t.loc), "tokens in order");
    (void)peers::idl::describe(t);
  }
  return 0;
}
