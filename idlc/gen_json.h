// The JSON descriptor generator of peers-idlc: one checked File to a JSON
// document describing its declarations, for tools that handle IDL values
// without generated code (lib/idl/json_codec.h transcodes JSON to wire bytes with
// it; vt-inspect calls methods with it).
//
// The shape (docs/idl.md has the full description):
//   {"peers_idl_descriptor": 1, "file": "proto/overlay.pidl", "package": "vt.overlay",
//    "doc": "", "imports": ["proto/common.pidl"],
//    "enums": [{"name": "Role", "full_name": "vt.overlay.Role", "doc": "",
//               "values": [{"name": "SOURCE", "number": 0, "doc": ""}]}],
//    "structs": [{"name": ..., "full_name": ..., "doc": ...,
//                 "fields": [{"number": 4, "name": "seqs", "doc": "",
//                             "type": {"kind": "list", "of": {"kind": "u64"}}}]}],
//    "errors": [same shape as structs],
//    "interfaces": [{"name": ..., "full_name": ..., "doc": ...,
//                    "methods": [{"name": "join", "id": 3046661342,
//                                 "request": "vt.overlay.JoinRequest",
//                                 "response": "vt.overlay.JoinReply", "oneway": false,
//                                 "data": false, "throws": ["vt.overlay.Full"], "doc": ""}]}]}
//
//   std::string text = generate_json(*program.roots[0]);
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "idlc/ast.h"

namespace peers::idl {

// The format version in "peers_idl_descriptor"; bumped on incompatible change.
inline constexpr int kDescriptorVersion = 1;

// `file` must have passed the checker.
nlohmann::ordered_json describe_file(const File& file);
// describe_file() as indented text with a final newline.
std::string generate_json(const File& file);
// The "type" object of a type: {"kind": "u32"}, {"kind": "fixed_bytes", "size": 32},
// {"kind": "list", "of": T}, {"kind": "optional", "of": T},
// {"kind": "map", "key": K, "value": V}, {"kind": "enum", "name": "vt.overlay.Role"},
// {"kind": "struct", "name": "vt.overlay.PeerInfo"}.
nlohmann::ordered_json describe_type(const TypeExpr& t);

}  // namespace peers::idl
