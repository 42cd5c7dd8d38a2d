// The parser of the IDL: one file's text to its syntax tree.
//
// It checks the grammar only (docs/idl.md): names are resolved and meaning is
// checked later by the checker, imports are read by the loader. After a
// syntax error the parser skips to the end of the member or declaration and
// goes on, so one run reports every independent mistake; a missing ';' at the
// end of a line is reported and then assumed, so it costs one message.
//
//   Diagnostics diags;
//   std::unique_ptr<File> f = parse(text, "proto/overlay.pidl", diags);
//   if (diags.has_errors()) ...  // f holds what could be parsed
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "idlc/ast.h"
#include "idlc/diagnostics.h"

namespace peers::idl {

// How deeply types may nest (list<list<...>>); deeper is a syntax error, so a
// hostile file cannot exhaust the stack.
inline constexpr int kMaxTypeNesting = 16;

// Never null. File::path is `path`; include_path and imports' files are left
// for the loader.
std::unique_ptr<File> parse(std::string_view text, const std::string& path, Diagnostics& diags);

}  // namespace peers::idl
