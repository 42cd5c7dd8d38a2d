// The RPC stub generator of peers-idlc: one checked File to the header and
// source of its RPC stubs.
//
// For "proto/overlay.pidl" (package vt.overlay) it makes the contents of
// proto/overlay.pidl.rpc.h and proto/overlay.pidl.rpc.cc: for each interface
// X, a client class XClient (typed calls on a peers::rpc::Connection) and a
// server base class XServer (a peers::rpc::Service whose typed pure virtual
// methods a node implements). They are kept apart from the types of
// <file>.pidl.h, which do not depend on Boost. A file without interfaces
// still gets both files (nearly empty), so build rules can name them.
// docs/idl.md ("Generated RPC code") shows the shapes.
//
//   CppOutput out = generate_rpc(*program.roots[0]);
//   write(path + ".rpc.h", out.header); write(path + ".rpc.cc", out.source);
#pragma once

#include "idlc/ast.h"
#include "idlc/gen_cpp.h"

namespace peers::idl {

// `file` must have passed the checker.
CppOutput generate_rpc(const File& file);

}  // namespace peers::idl
