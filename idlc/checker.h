// The checker of peers-idlc: the meaning of a loaded Program.
//
// It resolves every type and error name, enforces the rules of docs/idl.md
// (name styles, unique and in-range field numbers, map keys, where optional
// and void may appear, oneway methods, no struct containing itself by value,
// method ids without collisions, ...), and annotates the tree: TypeExpr::decl,
// NameRef::decl and Method::id. It reports every problem it finds.
//
// Name lookup: a plain name ("PeerInfo") means the declaration of that name in
// the same file, else the one declaration of that name among the files the
// file imports directly (two are ambiguous). A qualified name
// ("common.PeerInfo", "vt.common.PeerInfo") means the declaration whose
// package is the qualifier or ends with "." + qualifier, among the file and
// its direct imports.
//
//   Program p = load(...);
//   check(p, diags);
//   if (diags.has_errors()) return 2;
#pragma once

#include <cstdint>

#include "idlc/diagnostics.h"
#include "idlc/loader.h"

namespace peers::idl {

// Largest N of bytes<N>.
inline constexpr std::uint64_t kMaxFixedBytes = 1024;

// Checks every file of the program (imported ones too).
void check(Program& program, Diagnostics& diags);

}  // namespace peers::idl
