// The C++ generator of peers-idlc: one checked File to a header and a source.
//
// For "proto/overlay.pidl" (package vt.overlay) it makes the contents of
// proto/overlay.pidl.h and proto/overlay.pidl.cc, in namespace vt::overlay:
// enums (enum class plus to_string/from_string), structs (aggregates with
// encode/decode), error classes (derived from peers::Error, registered with
// peers::wire::register_error_type at static initialisation) and interface
// metadata (method ids, request and response types). docs/idl.md shows the
// generated shapes; lib/idl/field_codec.h is what the source calls to encode.
//
//   CppOutput out = generate_cpp(*program.roots[0]);
//   write(path + ".h", out.header); write(path + ".cc", out.source);
#pragma once

#include <string>
#include <vector>

#include "idlc/ast.h"

namespace peers::idl {

struct CppOutput {
  std::string header;
  std::string source;
};

// `file` must have passed the checker.
CppOutput generate_cpp(const File& file);

// The order structs of `file` are defined in, so that each is complete where
// another holds it by value or in an optional; declaration order where free.
// Exposed for tests.
std::vector<const Record*> struct_order(const File& file);

// Whether `field` (of a struct of `file`) is an optional<S> that must be a
// peers::idl::Box<S>: S can contain, through its fields, the struct holding
// the field. Exposed for tests.
bool is_boxed(const File& file, const Record& holder, const Field& field);

// `text` (a doc comment's text, several lines) as "///" lines, each after
// `indent`: what generated headers carry. Shared with the RPC generator.
std::string doc_comment(const std::string& text, const std::string& indent);

// `s` with control characters replaced by '?': safe in a "//" comment or an
// #include line of generated code.
std::string printable(const std::string& s);

}  // namespace peers::idl
